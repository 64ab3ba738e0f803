package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// note is a host's own collection: one Go type and one Declaration, with
// no edit to the store's schema, the api or blueprint.
type note struct {
	PK    uuid.UUID `json:"pk" af:"readonly"`
	Title string    `json:"title" af:"required"`
	Rank  int32     `json:"rank"`
	// Flow refers to a flow; deleting the flow deletes the note.
	Flow *uuid.UUID `json:"flow" af:"ref=flow,on_delete=cascade"`
}

var notes = store.NewColl[note, note]("acme_notes.note")

func noteDecl() store.Declaration[note, note] {
	return store.Declaration[note, note]{
		Model:    "acme_notes.note",
		Verbose:  "Note",
		Path:     "acme/notes",
		Defaults: func() note { return note{} },
		Unique:   []string{"title"},
		Ordered:  [][]string{{"rank"}},
		Search:   []string{"title"},
		Ordering: "rank",
	}
}

func openWithNotes(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "notes.db"), &store.Options{Collections: []store.Declarer{noteDecl()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if errs := s.Check(context.Background()); len(errs) > 0 {
			t.Errorf("check: %v", errs)
		}
		s.Close()
	})
	return s
}

func TestHostCollection(t *testing.T) {
	ctx := context.Background()
	s := openWithNotes(t)
	var f flow.Flow
	var first note
	err := s.Update(ctx, func(tx *store.Tx) error {
		var err error
		if f, err = store.Flows.Create(tx, flow.New("f", "f", "F", flow.DesignationAuthentication), nil); err != nil {
			return err
		}
		if first, err = notes.Create(tx, note{Title: "b", Rank: 2, Flow: &f.PK}, nil); err != nil {
			return err
		}
		_, err = notes.CreateJSON(tx, []byte(`{"title":"a","rank":1}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if first.PK == uuid.Nil {
		t.Fatal("create gave no pk")
	}

	// The declaration's rules: a unique title, a required one, an
	// existing flow; a rejected write writes nothing.
	err = s.Update(ctx, func(tx *store.Tx) error {
		_, err := notes.CreateJSON(tx, []byte(`{"title":"a","flow":"`+uuid.NewString()+`"}`), nil)
		return err
	})
	var ve *validate.Error
	if !errors.As(err, &ve) || len(ve.Fields["title"]) != 1 || len(ve.Fields["flow"]) != 1 {
		t.Fatalf("duplicate title and missing flow: got %v", err)
	}
	if got := ve.Fields["title"][0]; got != "Note with this title already exists." {
		t.Errorf("unique message: %q", got)
	}

	// Read back by pk and by the unique field; list in the declared
	// order (the rank index), and search.
	err = s.View(ctx, func(tx *store.Tx) error {
		n, err := notes.Get(tx, store.By("title", "b"))
		if err != nil || n.PK != first.PK || n.Rank != 2 {
			t.Errorf("get by title: %+v, %v", n, err)
		}
		p, err := notes.List(tx, store.Query{})
		if err != nil || p.Pagination.Count != 2 || p.Results[0].Title != "a" || p.Results[1].Title != "b" {
			t.Errorf("list: %+v, %v", p, err)
		}
		p, err = notes.List(tx, store.Query{Search: "B"})
		if err != nil || p.Pagination.Count != 1 || p.Results[0].PK != first.PK {
			t.Errorf("search: %+v, %v", p, err)
		}
		used, err := tx.UsedBy(store.ModelFlow, f.PK)
		if err != nil || len(used) != 1 || used[0].Name != "Note "+first.PK.String() {
			t.Errorf("used_by of the flow: %+v, %v", used, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cols := s.Collections()
	last := cols[len(cols)-1]
	if last.Model != "acme_notes.note" || last.Path != "acme/notes" || len(last.Unique) != 1 || last.Unique[0] != "title" {
		t.Errorf("Collections: %+v", last)
	}

	// Patch through the handle, then delete the flow: the cascade takes
	// the note with it.
	err = s.Update(ctx, func(tx *store.Tx) error {
		n, err := notes.Patch(tx, store.PK(first.PK), []byte(`{"rank":7}`), nil)
		if err != nil || n.Rank != 7 {
			t.Errorf("patch: %+v, %v", n, err)
		}
		return store.Flows.Delete(tx, store.By("slug", "f"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *store.Tx) error {
		_, err := notes.Get(tx, store.PK(first.PK))
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after the flow's delete: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestHostCollectionRefused(t *testing.T) {
	for name, d := range map[string]store.Declarer{
		"model without app": store.Declaration[note, note]{Model: "note", Defaults: func() note { return note{} }},
		"no defaults":       store.Declaration[note, note]{Model: "acme.note"},
		"taken model":       store.Declaration[note, note]{Model: store.ModelFlow, Defaults: func() note { return note{} }},
		"no pk": store.Declaration[struct {
			Title string `json:"title"`
		}, struct {
			Title string `json:"title"`
		}]{Model: "acme.nopk", Defaults: func() struct {
			Title string `json:"title"`
		} {
			return struct {
				Title string `json:"title"`
			}{}
		}},
		"view type without View": store.Declaration[note, flow.View]{Model: "acme.note", Defaults: func() note { return note{} }},
		"unique on no field":     store.Declaration[note, note]{Model: "acme.note", Defaults: func() note { return note{} }, Unique: []string{"nope"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := store.Open(filepath.Join(t.TempDir(), "x.db"), &store.Options{Collections: []store.Declarer{d}})
			if !errors.Is(err, store.ErrSchema) {
				t.Fatalf("got %v, want ErrSchema", err)
			}
		})
	}
}

// A host collection added to a file written without it (and removed
// again) is a change of declarations: a writable Open reindexes, and the
// collection starts empty, then keeps what was written to it.
func TestHostCollectionAddedLater(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "later.db")
	s, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx *store.Tx) error {
		_, err := store.Flows.Create(tx, flow.New("f", "f", "F", flow.DesignationAuthentication), nil)
		return err
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	open := func(opts *store.Options) *store.Store {
		t.Helper()
		s, err := store.Open(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		if errs := s.Check(ctx); len(errs) > 0 {
			t.Fatalf("check: %v", errs)
		}
		return s
	}
	withNotes := &store.Options{Collections: []store.Declarer{noteDecl()}}
	s = open(withNotes)
	err = s.Update(ctx, func(tx *store.Tx) error {
		p, err := notes.List(tx, store.Query{})
		if err != nil || p.Pagination.Count != 0 {
			t.Errorf("a new collection: %+v, %v", p.Pagination, err)
		}
		_, err = notes.CreateJSON(tx, []byte(`{"title":"kept"}`), nil)
		return err
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	s = open(nil)
	s.Close()
	s = open(withNotes)
	defer s.Close()
	err = s.View(ctx, func(tx *store.Tx) error {
		n, err := notes.Get(tx, store.By("title", "kept"))
		if err != nil || n.Title != "kept" {
			t.Errorf("after reopening: %+v, %v", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The conformance suite runs on a store with the host collection: its
// one sample is all the suite needs to generate the collection's checks
// (uniqueness, references, deletes, rejected writes writing nothing).
func TestHostCollectionConformance(t *testing.T) {
	note := func(name string, ref func(string) uuid.UUID) []byte {
		return fmt.Appendf(nil, `{"title":%q,"flow":"%s"}`, name, ref(store.ModelFlow))
	}
	storetest.Run(t, func(t *testing.T) *store.Store {
		s, err := store.Open(filepath.Join(t.TempDir(), "c.db"), &store.Options{NoSync: true, Collections: []store.Declarer{noteDecl()}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, &storetest.Options{Samples: map[string]storetest.Sample{"acme_notes.note": note}})
}

// Hostile declarations and types are ErrSchema at Open, never a panic or
// a collection that misbehaves later: each of these opened before, and
// then shadowed a built-in name or route, or indexed a field its index
// cannot hold.
type (
	wide struct {
		PK    uuid.UUID      `json:"pk" af:"readonly"`
		Title string         `json:"title"`
		Big   int64          `json:"big"`
		Tags  []string       `json:"tags"`
		Attrs map[string]any `json:"attrs"`
		Opt   *string        `json:"opt"`
		Share float64        `json:"share"`
	}
	writablePK struct {
		PK    uuid.UUID `json:"pk"`
		Title string    `json:"title"`
	}
	embeddedBase struct {
		PK uuid.UUID `json:"pk" af:"readonly"`
	}
	embeddedPK struct {
		embeddedBase
		Title string `json:"title"`
	}
	pointerPK struct {
		PK    *uuid.UUID `json:"pk" af:"readonly"`
		Title string     `json:"title"`
	}
	unexported struct {
		PK    uuid.UUID `json:"pk" af:"readonly"`
		Title string    `json:"title"`
		code  string
	}
)

func TestHostCollectionHostile(t *testing.T) {
	w := func(d store.Declaration[wide, wide]) store.Declarer {
		d.Defaults = func() wide { return wide{} }
		if d.Model == "" {
			d.Model = "acme.wide"
		}
		return d
	}
	n := func(model, path string) store.Declarer {
		d := noteDecl()
		d.Model, d.Path = model, path
		return d
	}
	for name, ds := range map[string][]store.Declarer{
		"model of a stage kind":          {n("authentik_stages_dummy.dummystage", "")},
		"model of policy binding models": {n(store.ModelPolicyBindingModel, "")},
		"alias of the pbm target":        {n("acme.pbm", "")},
		"model with a slash":             {n("acme/x.note", "")},
		"model with a NUL":               {n("acme.note\x00", "")},
		"model in upper case":            {n("Acme.Note", "")},
		"unique on an integer":           {w(store.Declaration[wide, wide]{Unique: []string{"big"}})},
		"unique on a list":               {w(store.Declaration[wide, wide]{Unique: []string{"tags"}})},
		"unique on a nullable text":      {w(store.Declaration[wide, wide]{Unique: []string{"opt"}})},
		"ordered on a list":              {w(store.Declaration[wide, wide]{Ordered: [][]string{{"tags"}}})},
		"ordered on a map":               {w(store.Declaration[wide, wide]{Ordered: [][]string{{"attrs"}}})},
		"ordered on a float":             {w(store.Declaration[wide, wide]{Ordered: [][]string{{"share"}}})},
		"ordered on a 64-bit integer":    {w(store.Declaration[wide, wide]{Ordered: [][]string{{"big"}}})},
		"ordered on no field":            {w(store.Declaration[wide, wide]{Ordered: [][]string{{"title", "nope"}}})},
		"together on a 64-bit integer":   {w(store.Declaration[wide, wide]{Together: []string{"title", "big"}})},
		"together on a list":             {w(store.Declaration[wide, wide]{Together: []string{"title", "tags"}})},
		"filter on no field":             {w(store.Declaration[wide, wide]{Filters: []string{"nope"}})},
		"search on no field":             {w(store.Declaration[wide, wide]{Search: []string{"nope"}})},
		"ordering on no field":           {w(store.Declaration[wide, wide]{Ordering: "title,-nope"})},
		"pk in an embedded struct":       {store.Declaration[embeddedPK, embeddedPK]{Model: "acme.e", Defaults: func() embeddedPK { return embeddedPK{} }}},
		"pointer pk":                     {store.Declaration[pointerPK, pointerPK]{Model: "acme.p", Defaults: func() pointerPK { return pointerPK{} }}},
		"unique on an unexported field":  {store.Declaration[unexported, unexported]{Model: "acme.u", Defaults: func() unexported { return unexported{} }, Unique: []string{"code"}}},
		"pk that a write may set":        {store.Declaration[writablePK, writablePK]{Model: "acme.w", Defaults: func() writablePK { return writablePK{} }}},
		"path of a built-in":             {n("acme.note", "flows/instances")},
		"path under a built-in root":     {n("acme.note", "stages/notes")},
		"path that is a built-in root":   {n("acme.note", "stages")},
		"path with slashes at the ends":  {n("acme.note", "/acme/notes/")},
		"path with an empty segment":     {n("acme.note", "acme//notes")},
		"two collections at one path":    {n("acme.note", "acme/notes"), n("other.page", "acme/notes")},
		"a path inside another's":        {n("acme.note", "acme"), n("other.page", "acme/notes")},
		"two collections, one alias":     {n("acme.note", ""), n("other.note", "")},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic: %v", r)
				}
			}()
			s, err := store.Open(filepath.Join(t.TempDir(), "x.db"), &store.Options{Collections: ds})
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, store.ErrSchema) {
				t.Fatalf("got %v, want ErrSchema", err)
			}
		})
	}
}
