package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Stage names are unbounded, as in authentik, although bbolt keys are not.
func TestStageNameLongerThanABboltKey(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	name := strings.Repeat("x", 40000)
	st, err := createIn(ctx, s, store.Stages, stage.Stage{Name: name, Config: stage.Invitation{}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	_, err = createIn(ctx, s, store.Stages, stage.Stage{Name: name, Config: stage.DefaultUserWrite()})
	var ve *validate.Error
	if !errors.As(err, &ve) || ve.Fields["name"][0] != "stage with this name already exists." {
		t.Fatalf("second create: %v", err)
	}
	if err := deleteIn(ctx, s, store.Stages, store.PK(st.PK)); err != nil {
		t.Fatal(err)
	}
	if _, err := createIn(ctx, s, store.Stages, stage.Stage{Name: name, Config: stage.Invitation{}}); err != nil {
		t.Fatalf("name not freed by delete: %v", err)
	}
}

// A NewID that repeats itself gets an error, never an overwrite.
func TestNewIDCollisionIsRefused(t *testing.T) {
	fixed := uuid.MustParse("01000000-0000-7000-8000-000000000001")
	s := openTestStore(t, filepath.Join(t.TempDir(), "a.db"), &store.Options{NewID: func() (uuid.UUID, error) { return fixed, nil }})
	ctx := context.Background()
	if _, err := createIn(ctx, s, store.Flows, flow.New("A", "a", "A", flow.DesignationAuthentication)); err != nil {
		t.Fatal(err)
	}
	_, err := createIn(ctx, s, store.Flows, flow.New("B", "b", "B", flow.DesignationAuthentication))
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("second create with a repeated id: %v", err)
	}
	if f, err := viewIn(ctx, s, store.Flows, store.PK(fixed)); err != nil || f.Slug != "a" {
		t.Fatalf("first flow was overwritten: %+v, %v", f.Flow, err)
	}
}

// Open refuses a bbolt file that holds something else, and leaves it alone.
func TestOpenRefusesForeignBboltFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("sessions")); return err }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, ro := range []bool{false, true} {
		if _, err := store.Open(path, &store.Options{ReadOnly: ro}); !errors.Is(err, store.ErrNotStore) {
			t.Errorf("ReadOnly=%v: Open = %v, want ErrNotStore", ro, err)
		}
	}
	db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if string(name) != "sessions" {
				t.Errorf("Open wrote bucket %q into a foreign file", name)
			}
			return nil
		})
	})
}

// `Invalid pk "<value>"` shows the reference as it was sent, as DRF does.
func TestInvalidPKEchoesInput(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	f, err := createIn(ctx, s, store.Flows, flow.New("A", "a", "A", flow.DesignationAuthentication))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"target":"` + f.PK.String() + `","stage":"3FA85F64-5717-4562-B3FC-2C963F66AFA6","order":1}`
	_, err = createJSONIn(ctx, s, store.Bindings, []byte(body))
	var ve *validate.Error
	if !errors.As(err, &ve) || len(ve.Fields["stage"]) != 1 || ve.Fields["stage"][0] != `Invalid pk "3FA85F64-5717-4562-B3FC-2C963F66AFA6" - object does not exist.` {
		t.Fatalf("uppercase pk: %v", err)
	}
	_, err = createJSONIn(ctx, s, store.Bindings, []byte(`{"target":123,"stage":"3fa85f64-5717-4562-b3fc-2c963f66afa6","order":1}`))
	if !errors.As(err, &ve) || ve.Fields["target"][0] != `Invalid pk "123" - object does not exist.` {
		t.Fatalf("integer pk: %v", err)
	}
	_, err = createJSONIn(ctx, s, store.Stages.Kind(string(stage.ModelAuthenticatorDuo)), []byte(`{"name":"d","client_id":"c","client_secret":"s","api_hostname":"h","configure_flow":"{3FA85F64-5717-4562-B3FC-2C963F66AFA6}"}`))
	if !errors.As(err, &ve) || ve.Fields["configure_flow"][0] != `Invalid pk "{3FA85F64-5717-4562-B3FC-2C963F66AFA6}" - object does not exist.` {
		t.Fatalf("configure_flow: %v", err)
	}
}
