package store_test

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"testing"

	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
)

// TestUserListing: the user list's filters that the store's listing
// machinery gained for them: a prefix filter, filters on a list-valued
// field and on a computed one (which the byte prefilter must not judge),
// and the attributes JSON filter with nested keys and array indexes.
func TestUserListing(t *testing.T) {
	s, _ := dirStore(t)
	ctx := context.Background()
	err := s.Update(ctx, func(tx *store.Tx) error {
		g := mkGroup(t, tx, `{"name": "ops"}`)
		mkUser(t, tx, `{"username": "u1", "name": "a", "path": "users/eng", "groups": ["`+g.PK.String()+`"],
			"attributes": {"tags": ["x", "y"], "deep": {"er": {"est": true}}}}`)
		mkUser(t, tx, `{"username": "u2", "name": "b", "path": "users", "attributes": {"tags": ["y"]}}`)
		mkUser(t, tx, `{"username": "u3", "name": "c", "path": "usersx"}`)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	names := func(query string) []string {
		t.Helper()
		v, _ := url.ParseQuery(query)
		q, err := store.QueryFromValues(v)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		err = s.View(ctx, func(tx *store.Tx) error {
			p, err := store.Users.List(tx, q)
			for _, u := range p.Results {
				out = append(out, u.Username)
			}
			return err
		})
		if err != nil {
			t.Fatalf("?%s: %v", query, err)
		}
		return out
	}
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"path_startswith=users", []string{"u1", "u2", "u3"}},
		{"path_startswith=users/", []string{"u1"}},
		{"path_startswith=users/eng", []string{"u1"}},
		{"groups_by_name=ops", []string{"u1"}},
		{"groups_by_name=ops&groups_by_name=ops", []string{"u1"}},
		{"attributes=" + url.QueryEscape(`{"tags__0": "x"}`), []string{"u1"}},
		{"attributes=" + url.QueryEscape(`{"tags__1": "y"}`), []string{"u1"}},
		{"attributes=" + url.QueryEscape(`{"tags__0": "y"}`), []string{"u2"}},
		{"attributes=" + url.QueryEscape(`{"tags__-1": "y"}`), nil},
		{"attributes=" + url.QueryEscape(`{"tags": ["y"]}`), []string{"u2"}},
		{"attributes=" + url.QueryEscape(`{"deep__er__est": true}`), []string{"u1"}},
		{"attributes=" + url.QueryEscape(`{"deep__er__est__exact": true}`), []string{"u1"}},
		{"attributes=" + url.QueryEscape(`{"deep__er": {"est": true}}`), []string{"u1"}},
		{"attributes=" + url.QueryEscape(`{"deep__er__est": "true"}`), nil},
	} {
		if got := names(tt.query); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("?%s: %v, want %v", tt.query, got, tt.want)
		}
	}
	// A name that no group has is refused, as authentik's
	// ModelMultipleChoiceFilter refuses it.
	err = s.View(ctx, func(tx *store.Tx) error {
		_, err := store.Users.List(tx, store.Query{Multi: map[string][]string{"groups_by_name": {"ops", "none"}}})
		return err
	})
	var ve *validate.Error
	if !errors.As(err, &ve) || !reflect.DeepEqual(ve.Fields["groups_by_name"], []string{"Select a valid choice. none is not one of the available choices."}) {
		t.Errorf("groups_by_name=ops&groups_by_name=none: %v", err)
	}
	var paths []string
	err = s.View(ctx, func(tx *store.Tx) error {
		var err error
		paths, err = tx.UserPaths(store.Query{Filters: map[string]string{"path_startswith": "users"}, Ordering: "-username", Page: 99})
		return err
	})
	if want := []string{"users", "users/eng", "usersx"}; err != nil || !reflect.DeepEqual(paths, want) {
		t.Errorf("UserPaths = %v, %v; want %v (ordering and page not read)", paths, err, want)
	}
	err = s.View(ctx, func(tx *store.Tx) error {
		_, err := tx.UserPaths(store.Query{Filters: map[string]string{"attributes": "[]"}})
		return err
	})
	var fe *store.FilterError
	if !errors.As(err, &fe) || !reflect.DeepEqual(fe.Messages, []string{store.MsgFilterMapping}) || !errors.Is(err, validate.ErrInvalid) {
		t.Errorf("attributes=[]: %v, want a FilterError %q matching validate.ErrInvalid", err, store.MsgFilterMapping)
	}
}
