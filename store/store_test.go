package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// within fails the test if fn does not return within a generous bound.
// It checks that fn returns at all, not how fast.
func within[T any](t *testing.T, fn func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- fn() }()
	select {
	case v := <-done:
		return v
	case <-time.After(30 * time.Second):
		t.Fatal("the call did not return")
		panic("unreachable")
	}
}

// The helpers below run one store call in a transaction of its own, as
// the Store-level wrappers that the collection handles replaced did, so
// that each test reads as before. A write returns the API view of the
// object it wrote, rendered in the same transaction, as those wrappers'
// did.

// readIn returns what fn returns, in one read transaction of s.
func readIn[T any](ctx context.Context, s *store.Store, fn func(*store.Tx) (T, error)) (T, error) {
	var v T
	err := s.View(ctx, func(tx *store.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	return v, err
}

// writeIn returns what fn returns, in one update transaction of s.
func writeIn[T any](ctx context.Context, s *store.Store, fn func(*store.Tx) (T, error)) (T, error) {
	var v T
	err := s.Update(ctx, func(tx *store.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	return v, err
}

// viewIn is c.View of k.
func viewIn[T, V any](ctx context.Context, s *store.Store, c store.Coll[T, V], k store.Key) (V, error) {
	return readIn(ctx, s, func(tx *store.Tx) (V, error) { return c.View(tx, k) })
}

// listIn is c.List of q.
func listIn[T, V any](ctx context.Context, s *store.Store, c store.Coll[T, V], q store.Query) (store.Page[V], error) {
	return readIn(ctx, s, func(tx *store.Tx) (store.Page[V], error) { return c.List(tx, q) })
}

// createIn is c.Create of v, and the new object's view.
func createIn[T, V any](ctx context.Context, s *store.Store, c store.Coll[T, V], v T) (V, error) {
	return writeIn(ctx, s, func(tx *store.Tx) (V, error) { return viewed(tx, c)(c.Create(tx, v, nil)) })
}

// createJSONIn is c.CreateJSON of body, and the new object's view.
func createJSONIn[T, V any](ctx context.Context, s *store.Store, c store.Coll[T, V], body []byte) (V, error) {
	return writeIn(ctx, s, func(tx *store.Tx) (V, error) { return viewed(tx, c)(c.CreateJSON(tx, body, nil)) })
}

// patchIn is c.Patch of k, and the patched object's view.
func patchIn[T, V any](ctx context.Context, s *store.Store, c store.Coll[T, V], k store.Key, patch []byte) (V, error) {
	return writeIn(ctx, s, func(tx *store.Tx) (V, error) { return viewed(tx, c)(c.Patch(tx, k, patch, nil)) })
}

// replaceIn is c.Replace of k, and the replaced object's view.
func replaceIn[T, V any](ctx context.Context, s *store.Store, c store.Coll[T, V], k store.Key, body []byte) (V, error) {
	return writeIn(ctx, s, func(tx *store.Tx) (V, error) { return viewed(tx, c)(c.Replace(tx, k, body, nil)) })
}

// deleteIn is c.Delete of k.
func deleteIn[T, V any](ctx context.Context, s *store.Store, c store.Coll[T, V], k store.Key) error {
	return s.Update(ctx, func(tx *store.Tx) error { return c.Delete(tx, k, nil) })
}

// flowBindingsIn is the views of the bindings of the flow id, in binding
// order.
func flowBindingsIn(ctx context.Context, s *store.Store, id uuid.UUID) ([]binding.View, error) {
	return readIn(ctx, s, func(tx *store.Tx) ([]binding.View, error) { return flowBindings(tx, id) })
}

// flowBindings is the views of the bindings of the flow id, in binding
// order.
func flowBindings(tx *store.Tx, id uuid.UUID) ([]binding.View, error) {
	bs, err := store.Bindings.ByRef(tx, "target", id)
	if err != nil {
		return nil, err
	}
	out := make([]binding.View, 0, len(bs))
	for _, b := range bs {
		v, err := store.Bindings.View(tx, store.PK(b.PK))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// stagesOf is the handle of the stages of kind model, or of every stage
// when model is "".
func stagesOf(model stage.ModelName) store.Coll[stage.Stage, stage.View] {
	if model == "" {
		return store.Stages
	}
	return store.Stages.Kind(string(model))
}

// viewed returns the function that turns a write's result into the view
// of the written object, read in tx.
func viewed[T, V any](tx *store.Tx, c store.Coll[T, V]) func(T, error) (V, error) {
	return func(t T, err error) (V, error) {
		if err != nil {
			var zero V
			return zero, err
		}
		return c.View(tx, store.PK(pkOf(t)))
	}
}

// pkOf is the pk of a record of a built-in collection.
func pkOf(record any) uuid.UUID {
	switch r := record.(type) {
	case flow.Flow:
		return r.PK
	case stage.Stage:
		return r.PK
	case binding.Binding:
		return r.PK
	case policy.Policy:
		return r.PK
	case policy.Binding:
		return r.PK
	case stage.Prompt:
		return r.PK
	case stage.Invite:
		return r.PK
	}
	panic(fmt.Sprintf("pkOf: %T is no record of a built-in collection", record))
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	first, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	mkFlow(t, first, "f")

	err = within(t, func() error {
		s, err := store.Open(path, &store.Options{Timeout: 100 * time.Millisecond})
		if err == nil {
			s.Close()
		}
		return err
	})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	// A read-only open needs a shared lock, which the writer's exclusive
	// lock excludes too.
	err = within(t, func() error {
		s, err := store.Open(path, &store.Options{Timeout: 100 * time.Millisecond, ReadOnly: true})
		if err == nil {
			s.Close()
		}
		return err
	})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("read-only Open = %v, want ErrLocked", err)
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second := openTestStore(t, path, &store.Options{Timeout: 100 * time.Millisecond})
	if _, err := viewIn(t.Context(), second, store.Flows, store.By("slug", "f")); err != nil {
		t.Errorf("after the first Close: %v", err)
	}
}

func TestOpenNewerVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "version.db")
	s, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	mkFlow(t, s, "f")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	setVersion := func(v []byte) {
		t.Helper()
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), v)
		}); err != nil {
			t.Fatal(err)
		}
	}
	v99 := binary.BigEndian.AppendUint64(nil, 99)
	setVersion(v99)
	before, _ := os.ReadFile(path)
	for _, ro := range []bool{false, true} {
		_, err := store.Open(path, &store.Options{ReadOnly: ro})
		if !errors.Is(err, store.ErrVersion) {
			t.Errorf("Open (read-only %v) of a version 99 file = %v, want ErrVersion", ro, err)
		}
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("a refused Open changed the file")
	}
	setVersion([]byte{1, 2, 3})
	if _, err := store.Open(path, nil); !errors.Is(err, store.ErrVersion) {
		t.Errorf("Open with a malformed version = %v, want ErrVersion", err)
	}
	// A version-2 file that claims to be version 1 fails its migration
	// cleanly and is left alone.
	setVersion(binary.BigEndian.AppendUint64(nil, 1))
	before, _ = os.ReadFile(path)
	if _, err := store.Open(path, nil); err == nil || !strings.Contains(err.Error(), "migrating from format 1") {
		t.Errorf("Open of a mislabelled file = %v, want a failed migration", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a failed migration changed the file")
	}
	// The current version opens, and the data is intact.
	setVersion(binary.BigEndian.AppendUint64(nil, 2))
	s = openTestStore(t, path, nil)
	if _, err := viewIn(t.Context(), s, store.Flows, store.By("slug", "f")); err != nil {
		t.Error(err)
	}
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a bbolt file "), 512), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := store.Open(path, nil); err == nil {
		s.Close()
		t.Fatal("Open of a junk file succeeded")
	}
	if _, err := store.Open(filepath.Join(t.TempDir(), "missing.db"), &store.Options{ReadOnly: true}); err == nil {
		t.Error("read-only Open of a missing file succeeded")
	}
}

func TestClosed(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	ops := map[string]func() error{
		"GetFlow":       func() error { _, err := viewIn(ctx, s, store.Flows, store.PK(f.PK)); return err },
		"GetFlowBySlug": func() error { _, err := viewIn(ctx, s, store.Flows, store.By("slug", "f")); return err },
		"ListFlows":     func() error { _, err := listIn(ctx, s, store.Flows, store.Query{}); return err },
		"CreateFlow":    func() error { _, err := createIn(ctx, s, store.Flows, newFlow("g")); return err },
		"PatchFlow":     func() error { _, err := patchIn(ctx, s, store.Flows, store.By("slug", "f"), []byte(`{}`)); return err },
		"DeleteFlow":    func() error { return deleteIn(ctx, s, store.Flows, store.By("slug", "f")) },
		"GetStage":      func() error { _, err := viewIn(ctx, s, store.Stages, store.PK(f.PK)); return err },
		"ListStages":    func() error { _, err := listIn(ctx, s, store.Stages, store.Query{}); return err },
		"GetBinding":    func() error { _, err := viewIn(ctx, s, store.Bindings, store.PK(f.PK)); return err },
		"ListBindings":  func() error { _, err := listIn(ctx, s, store.Bindings, store.Query{}); return err },
		"View":          func() error { return s.View(ctx, func(*store.Tx) error { return nil }) },
		"Update":        func() error { return s.Update(ctx, func(*store.Tx) error { return nil }) },
		"Backup":        func() error { _, err := s.Backup(ctx, &bytes.Buffer{}); return err },
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ro.db")
	w, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	f := mkFlow(t, w, "f")
	st := mkUserWrite(t, w, "st")
	b := mkBinding(t, w, f.PK, st.PK, 1)
	w.Close()

	ro := openTestStore(t, path, &store.Options{ReadOnly: true})
	ro2 := openTestStore(t, path, &store.Options{ReadOnly: true, Timeout: 100 * time.Millisecond}) // shared lock
	ctx := t.Context()
	for _, s := range []*store.Store{ro, ro2} {
		if _, err := viewIn(ctx, s, store.Flows, store.By("slug", "f")); err != nil {
			t.Errorf("read: %v", err)
		}
	}
	if _, err := viewIn(ctx, ro, store.Bindings, store.PK(b.PK)); err != nil {
		t.Errorf("read: %v", err)
	}
	before := backup(t, ro)
	writes := map[string]func() error{
		"CreateFlow":     func() error { _, err := createIn(ctx, ro, store.Flows, newFlow("g")); return err },
		"CreateFlowJSON": func() error { _, err := createJSONIn(ctx, ro, store.Flows, []byte(`{}`)); return err },
		"PatchFlow": func() error {
			_, err := patchIn(ctx, ro, store.Flows, store.By("slug", "f"), []byte(`{"title":"x"}`))
			return err
		},
		"ReplaceFlow": func() error {
			_, err := replaceIn(ctx, ro, store.Flows, store.By("slug", "f"), []byte(`{}`))
			return err
		},
		"SetBackground": func() error {
			_, err := writeIn(ctx, ro, func(tx *store.Tx) (flow.Flow, error) {
				return store.SetBackgroundURL(tx, store.By("slug", "f"), "x", nil)
			})
			return err
		},
		"DeleteFlow": func() error { return deleteIn(ctx, ro, store.Flows, store.By("slug", "f")) },
		"CreateStage": func() error {
			_, err := createIn(ctx, ro, store.Stages, stage.Stage{Name: "x", Config: stage.Invitation{}})
			return err
		},
		"PatchStage":    func() error { _, err := patchIn(ctx, ro, store.Stages, store.PK(st.PK), []byte(`{}`)); return err },
		"DeleteStage":   func() error { return deleteIn(ctx, ro, store.Stages, store.PK(st.PK)) },
		"CreateBinding": func() error { _, err := createIn(ctx, ro, store.Bindings, binding.New(f.PK, st.PK, 2)); return err },
		"PatchBinding":  func() error { _, err := patchIn(ctx, ro, store.Bindings, store.PK(b.PK), []byte(`{}`)); return err },
		"DeleteBinding": func() error { return deleteIn(ctx, ro, store.Bindings, store.PK(b.PK)) },
		"Update":        func() error { return ro.Update(ctx, func(*store.Tx) error { return nil }) },
	}
	for name, write := range writes {
		if err := write(); !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("%s on a read-only store = %v, want ErrReadOnly", name, err)
		}
	}
	if !bytes.Equal(before, backup(t, ro)) {
		t.Error("the read-only store changed")
	}
}

func TestWriteInViewTransaction(t *testing.T) {
	s := newTestStore(t)
	before := backup(t, s)
	err := s.View(t.Context(), func(tx *store.Tx) error {
		_, err := store.Flows.Create(tx, newFlow("f"), nil)
		return err
	})
	if err == nil {
		t.Fatal("a write in a View transaction succeeded")
	}
	var ve *validate.Error
	if errors.As(err, &ve) {
		t.Errorf("a write in a View transaction gave a validation error: %v", err)
	}
	if !bytes.Equal(before, backup(t, s)) {
		t.Error("the store changed")
	}
}

// A Tx kept past the end of its View fails cleanly, also while later
// Views run on the wrappers its backend recycled, which it leaves alone.
func TestViewTxAfterEnd(t *testing.T) {
	s := newTestStore(t)
	f := mkFlow(t, s, "f")
	ctx := t.Context()
	var kept *store.Tx
	if err := s.View(ctx, func(tx *store.Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	stale := func(when string) {
		t.Helper()
		if rev, err := kept.Revision(); err == nil {
			t.Errorf("%s: Revision on a Tx whose View has returned = %d, nil; want an error", when, rev)
		}
		if got, err := store.Flows.Get(kept, store.By("slug", "f")); err == nil {
			t.Errorf("%s: Flows.Get on a Tx whose View has returned = %q, nil; want an error", when, got.Slug)
		}
	}
	stale("after its View")
	for i := range 3 {
		err := s.View(ctx, func(tx *store.Tx) error {
			stale(fmt.Sprintf("in View %d", i))
			got, err := store.Flows.Get(tx, store.By("slug", "f"))
			if err == nil && got.PK != f.PK {
				err = fmt.Errorf("got flow %s, want %s", got.PK, f.PK)
			}
			return err
		})
		if err != nil {
			t.Errorf("View %d after a stale use: %v", i, err)
		}
	}
}

func TestContextCancelled(t *testing.T) {
	s := newTestStore(t)
	f := mkFlow(t, s, "f")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := backup(t, s)
	ops := map[string]func() error{
		"GetFlow":    func() error { _, err := viewIn(ctx, s, store.Flows, store.PK(f.PK)); return err },
		"ListFlows":  func() error { _, err := listIn(ctx, s, store.Flows, store.Query{}); return err },
		"CreateFlow": func() error { _, err := createIn(ctx, s, store.Flows, newFlow("g")); return err },
		"PatchFlow": func() error {
			_, err := patchIn(ctx, s, store.Flows, store.By("slug", "f"), []byte(`{"title":"x"}`))
			return err
		},
		"DeleteFlow": func() error { return deleteIn(ctx, s, store.Flows, store.By("slug", "f")) },
		"View": func() error {
			return s.View(ctx, func(*store.Tx) error { t.Error("View ran fn"); return nil })
		},
		"Update": func() error {
			return s.Update(ctx, func(*store.Tx) error { t.Error("Update ran fn"); return nil })
		},
		"Backup": func() error { _, err := s.Backup(ctx, &bytes.Buffer{}); return err },
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context = %v, want context.Canceled", name, err)
		}
	}
	dctx, dcancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer dcancel()
	if _, err := viewIn(dctx, s, store.Flows, store.PK(f.PK)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired deadline: %v", err)
	}
	if !bytes.Equal(before, backup(t, s)) {
		t.Error("the store changed")
	}
}

func TestUpdateIsAtomic(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	mkFlow(t, s, "existing")
	before := backup(t, s)
	errAbort := errors.New("abort")

	build := func(tx *store.Tx) error {
		f, err := store.Flows.Create(tx, newFlow("f"), nil)
		if err != nil {
			return err
		}
		st, err := store.Stages.Kind(string(stage.ModelAuthenticatorDuo)).CreateJSON(tx, duoBody("duo", &f.PK), nil)
		if err != nil {
			return err
		}
		if _, err := store.Bindings.Create(tx, binding.New(f.PK, st.PK, 10), nil); err != nil {
			return err
		}
		// Reads in the transaction see its writes.
		fv, err := store.Flows.View(tx, store.By("slug", "f"))
		if err != nil || !equalIDs(fv.Stages, []uuid.UUID{st.PK}) {
			return fmt.Errorf("reading own writes: %v %v", fv.Stages, err)
		}
		if _, err := store.Flows.Patch(tx, store.By("slug", "existing"), []byte(`{"title":"changed"}`), nil); err != nil {
			return err
		}
		return store.Flows.Delete(tx, store.By("slug", "existing"), nil)
	}
	err := s.Update(ctx, func(tx *store.Tx) error {
		if err := build(tx); err != nil {
			t.Fatal(err)
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("Update = %v, want the function's error", err)
	}
	if !bytes.Equal(before, backup(t, s)) {
		t.Error("a rolled-back Update changed the file")
	}
	if _, err := viewIn(ctx, s, store.Flows, store.By("slug", "f")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("flow of a rolled-back Update: %v", err)
	}
	if p, _ := listIn(ctx, s, store.Stages, store.Query{}); p.Pagination.Count != 0 {
		t.Errorf("%d stages after a rolled-back Update", p.Pagination.Count)
	}

	// A validation error inside the transaction, returned by fn, rolls
	// back the earlier writes too.
	err = s.Update(ctx, func(tx *store.Tx) error {
		if _, err := store.Flows.Create(tx, newFlow("f"), nil); err != nil {
			return err
		}
		_, err := store.Flows.Create(tx, newFlow("f"), nil)
		return err
	})
	wantConflict(t, err, map[string][]string{"slug": {"Flow with this slug already exists."}})
	if !bytes.Equal(before, backup(t, s)) {
		t.Error("a failed Update changed the file")
	}

	// nil commits everything.
	if err := s.Update(ctx, build); err != nil {
		t.Fatal(err)
	}
	f, err := viewIn(ctx, s, store.Flows, store.By("slug", "f"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Stages) != 1 {
		t.Errorf("committed flow stages = %v", f.Stages)
	}
	if _, err := viewIn(ctx, s, store.Flows, store.By("slug", "existing")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted in the committed Update: %v", err)
	}
	checkInvariants(t, s)
}

// A rejected write inside a transaction writes nothing, even though the
// transaction goes on and commits.
func TestRejectedWriteInTransactionWritesNothing(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	d := mkDuo(t, s, "duo", &f.PK)
	uw := mkUserWrite(t, s, "uw")
	b := mkBinding(t, s, f.PK, d.PK, 1)
	mkBinding(t, s, f.PK, uw.PK, 2)
	missing := storetest.MissingPK(0)
	rejected := map[string]func(tx *store.Tx) error{
		"create flow": func(tx *store.Tx) error {
			_, err := store.Flows.CreateJSON(tx, []byte(`{"name":"n","slug":"f","title":"t","designation":"recovery"}`), nil)
			return err
		},
		"patch flow": func(tx *store.Tx) error {
			_, err := store.Flows.Patch(tx, store.By("slug", "f"), []byte(`{"slug":"g","title":""}`), nil)
			return err
		},
		"replace flow": func(tx *store.Tx) error {
			_, err := store.Flows.Replace(tx, store.By("slug", "f"), []byte(`{"slug":"g"}`), nil)
			return err
		},
		"create stage": func(tx *store.Tx) error {
			_, err := store.Stages.Kind(string(stage.ModelUserWrite)).CreateJSON(tx, []byte(`{"name":"uw"}`), nil)
			return err
		},
		"patch stage": func(tx *store.Tx) error {
			_, err := store.Stages.Patch(tx, store.PK(d.PK), []byte(`{"name":"new","configure_flow":"`+missing.String()+`"}`), nil)
			return err
		},
		"replace stage": func(tx *store.Tx) error {
			_, err := store.Stages.Replace(tx, store.PK(d.PK), []byte(`{"name":"new","client_id":"x"}`), nil)
			return err
		},
		"create binding": func(tx *store.Tx) error {
			_, err := store.Bindings.Create(tx, binding.New(f.PK, d.PK, 1), nil)
			return err
		},
		"patch binding": func(tx *store.Tx) error {
			_, err := store.Bindings.Patch(tx, store.PK(b.PK), []byte(`{"order":2,"stage":"`+uw.PK.String()+`"}`), nil)
			return err
		},
		"patch binding cross-field": func(tx *store.Tx) error {
			_, err := store.Bindings.Patch(tx, store.PK(b.PK), []byte(`{"order":7,"re_evaluate_policies":false}`), nil)
			return err
		},
		"replace binding": func(tx *store.Tx) error {
			_, err := store.Bindings.Replace(tx, store.PK(b.PK), []byte(`{"order":9}`), nil)
			return err
		},
	}
	for name, write := range rejected {
		t.Run(name, func(t *testing.T) {
			err := s.Update(ctx, func(tx *store.Tx) error {
				before := snapshot(t, tx, stage.Default)
				err := write(tx)
				var ve *validate.Error
				if !errors.As(err, &ve) {
					t.Fatalf("write = %v, want a validation error", err)
				}
				if after := snapshot(t, tx, stage.Default); after != before {
					t.Errorf("the rejected write changed the transaction:\nbefore:\n%s\nafter:\n%s", before, after)
				}
				checkInvariantsTx(t, tx)
				return nil // commit whatever is there
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "persist.db")
	ctx := t.Context()
	s, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	f := mkFlow(t, s, "f")
	d := mkDuo(t, s, "duo", &f.PK)
	uw := mkUserWrite(t, s, "uw")
	b1 := mkBinding(t, s, f.PK, uw.PK, 20)
	mkBinding(t, s, f.PK, d.PK, 10)
	if _, err := patchIn(ctx, s, store.Flows, store.By("slug", "f"), []byte(`{"slug":"renamed"}`)); err != nil {
		t.Fatal(err)
	}
	var want string
	s.View(ctx, func(tx *store.Tx) error { want = snapshot(t, tx, stage.Default); return nil })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTestStore(t, path, nil)
	var got string
	s.View(ctx, func(tx *store.Tx) error { got = snapshot(t, tx, stage.Default); return nil })
	if got != want {
		t.Errorf("after reopening:\n%s\nwant:\n%s", got, want)
	}
	fv, err := viewIn(ctx, s, store.Flows, store.By("slug", "renamed"))
	if err != nil || fv.PK != f.PK || !equalIDs(fv.Stages, []uuid.UUID{d.PK, uw.PK}) {
		t.Errorf("flow after reopening: %+v, %v", fv, err)
	}
	if _, err := viewIn(ctx, s, store.Flows, store.By("slug", "f")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old slug after reopening: %v", err)
	}
	dv, err := viewIn(ctx, s, store.Stages, store.PK(d.PK))
	if err != nil {
		t.Fatal(err)
	}
	if c := duoConfig(t, dv); c.ClientSecret.Reveal() != duoSecret || c.ConfigureFlow == nil || *c.ConfigureFlow != f.PK {
		t.Errorf("duo after reopening: %+v", c)
	}
	if bv, err := viewIn(ctx, s, store.Bindings, store.PK(b1.PK)); err != nil || bv.Order != 20 {
		t.Errorf("binding after reopening: %+v, %v", bv, err)
	}
	// The indexes work after reopening.
	_, err = createIn(ctx, s, store.Flows, newFlow("renamed"))
	wantConflict(t, err, map[string][]string{"slug": {"Flow with this slug already exists."}})
	_, err = createIn(ctx, s, store.Stages, stage.Stage{Name: "uw", Config: stage.Invitation{}})
	wantConflict(t, err, map[string][]string{"name": {"stage with this name already exists."}})
	_, err = createIn(ctx, s, store.Bindings, binding.New(f.PK, uw.PK, 20))
	wantConflict(t, err, nil, "The fields target, stage, order must make a unique set.")
	if err := deleteIn(ctx, s, store.Flows, store.By("slug", "renamed")); err != nil {
		t.Fatal(err)
	}
	dv, _ = viewIn(ctx, s, store.Stages, store.PK(d.PK))
	if c := duoConfig(t, dv); c.ConfigureFlow != nil {
		t.Error("the reference index did not survive reopening: configure_flow is still set")
	}
	checkInvariants(t, s)
}

func TestBackupRestores(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	d := mkDuo(t, s, "duo", &f.PK)
	mkBinding(t, s, f.PK, d.PK, 1)
	var want string
	s.View(ctx, func(tx *store.Tx) error { want = snapshot(t, tx, stage.Default); return nil })

	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, backup(t, s), 0o600); err != nil {
		t.Fatal(err)
	}
	// The original keeps working while the copy is open.
	mkFlow(t, s, "after-backup")
	c := openTestStore(t, path, nil)
	var got string
	c.View(ctx, func(tx *store.Tx) error { got = snapshot(t, tx, stage.Default); return nil })
	if got != want {
		t.Errorf("restored copy:\n%s\nwant:\n%s", got, want)
	}
}

// TestConcurrentUse runs writers and readers at once (run it with -race)
// and then checks the counts and the invariants.
func TestConcurrentUse(t *testing.T) {
	s := openTestStore(t, filepath.Join(t.TempDir(), "concurrent.db"), nil)
	ctx := t.Context()
	shared := mkFlow(t, s, "shared")
	const workers, each = 8, 12
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*8)
	for w := range workers {
		wg.Add(2)
		go func() { // writer
			defer wg.Done()
			for i := range each {
				slug := fmt.Sprintf("w%d-%d", w, i)
				f, err := createIn(ctx, s, store.Flows, newFlow(slug))
				if err != nil {
					errs <- err
					continue
				}
				st, err := createIn(ctx, s, store.Stages, stage.Stage{Name: "st-" + slug, Config: stage.DefaultUserWrite()})
				if err != nil {
					errs <- err
					continue
				}
				for _, target := range []uuid.UUID{f.PK, shared.PK} {
					if _, err := createIn(ctx, s, store.Bindings, binding.New(target, st.PK, int32(i))); err != nil {
						errs <- err
					}
				}
				if _, err := patchIn(ctx, s, store.Flows, store.By("slug", slug), []byte(`{"title":"patched"}`)); err != nil {
					errs <- err
				}
				// Everyone races for the same slug; exactly one wins.
				if _, err := createIn(ctx, s, store.Flows, newFlow(fmt.Sprintf("race-%d", i))); err != nil && !errors.Is(err, store.ErrConflict) {
					errs <- err
				}
				if i%3 == 0 { // delete some again
					if err := deleteIn(ctx, s, store.Flows, store.By("slug", slug)); err != nil {
						errs <- err
					}
				}
			}
		}()
		go func() { // reader
			defer wg.Done()
			for range each {
				if _, err := listIn(ctx, s, store.Flows, store.Query{Search: "w"}); err != nil {
					errs <- err
				}
				if _, err := flowBindingsIn(ctx, s, shared.PK); err != nil {
					errs <- err
				}
				if _, err := listIn(ctx, s, store.Bindings, store.Query{Filters: map[string]string{"target": shared.PK.String()}}); err != nil {
					errs <- err
				}
				if _, err := listIn(ctx, s, store.Stages.Kind(string(stage.ModelUserWrite)), store.Query{Filters: map[string]string{"no_flows": "false"}}); err != nil {
					errs <- err
				}
				if _, err := s.Backup(ctx, &bytes.Buffer{}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	deleted := (each + 2) / 3 // i = 0, 3, 6, 9
	flows, _ := listIn(ctx, s, store.Flows, store.Query{})
	if want := 1 + workers*(each-deleted) + each; flows.Pagination.Count != want {
		t.Errorf("%d flows, want %d", flows.Pagination.Count, want)
	}
	stages, _ := listIn(ctx, s, store.Stages, store.Query{})
	if want := workers * each; stages.Pagination.Count != want {
		t.Errorf("%d stages, want %d", stages.Pagination.Count, want)
	}
	bindings, _ := listIn(ctx, s, store.Bindings, store.Query{PageSize: 1000})
	if want := workers*each + workers*(each-deleted); bindings.Pagination.Count != want {
		t.Errorf("%d bindings, want %d", bindings.Pagination.Count, want)
	}
	patched, _ := listIn(ctx, s, store.Flows, store.Query{Search: "patched"})
	if want := workers * (each - deleted); patched.Pagination.Count != want {
		t.Errorf("%d patched flows, want %d", patched.Pagination.Count, want)
	}
	sv, _ := viewIn(ctx, s, store.Flows, store.PK(shared.PK))
	if len(sv.Stages) != workers*each {
		t.Errorf("shared flow has %d stages, want %d", len(sv.Stages), workers*each)
	}
	checkInvariants(t, s)
}

// TestGolden pins the JSON that the store's reads produce, computed
// fields included, for a small configuration with deterministic ids. Run
// with -update to rewrite testdata/golden.
func TestGolden(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	auth, err := createIn(ctx, s, store.Flows, flow.New("Welcome", "default-authentication-flow", "Welcome to authentik!", flow.DesignationAuthentication))
	if err != nil {
		t.Fatal(err)
	}
	setup := mkFlow(t, s, "default-duo-setup")
	uw, err := createJSONIn(ctx, s, store.Stages.Kind(string(stage.ModelUserWrite)), []byte(`{"name":"default-user-write","user_creation_mode":"never_create"}`))
	if err != nil {
		t.Fatal(err)
	}
	duo := mkDuo(t, s, "default-duo", &setup.PK)
	b := mkBinding(t, s, auth.PK, duo.PK, 20)
	mkBinding(t, s, auth.PK, uw.PK, 10)
	mkBinding(t, s, setup.PK, duo.PK, 0)

	get := func(v any, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return []byte(jsonOf(t, v))
	}
	golden(t, "flow", get(viewIn(ctx, s, store.Flows, store.PK(auth.PK))))
	golden(t, "duo_stage", get(viewIn(ctx, s, store.Stages, store.PK(duo.PK))))
	golden(t, "binding", get(viewIn(ctx, s, store.Bindings, store.PK(b.PK))))
	golden(t, "flow_bindings", get(flowBindingsIn(ctx, s, auth.PK)))
	golden(t, "flow_list", get(listIn(ctx, s, store.Flows, store.Query{PageSize: 1, Page: 2})))
	golden(t, "stage_list_duo", get(listIn(ctx, s, store.Stages.Kind(string(stage.ModelAuthenticatorDuo)), store.Query{})))
	_, err = createJSONIn(ctx, s, store.Bindings, []byte(fmt.Sprintf(`{"target":%q,"stage":"%s","order":"x","evaluate_on_plan":false,"re_evaluate_policies":false}`, uuid.Nil, uw.PK)))
	golden(t, "binding_error", get(err, nil))
}

// A write that is rolled back is not seen afterwards, even though it was
// read back (and so decoded, and perhaps cached) inside its transaction.
func TestRolledBackWriteIsNotSeen(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	want := jsonOf(t, f)
	errAbort := errors.New("abort")
	err := s.Update(ctx, func(tx *store.Tx) error {
		if _, err := store.Flows.Patch(tx, store.By("slug", "f"), []byte(`{"title":"uncommitted"}`), nil); err != nil {
			return err
		}
		if v, err := store.Flows.View(tx, store.PK(f.PK)); err != nil || v.Title != "uncommitted" {
			t.Errorf("inside the transaction: %q, %v", v.Title, err)
		}
		if p, err := store.Flows.List(tx, store.Query{Search: "uncommitted"}); err != nil || p.Pagination.Count != 1 {
			t.Errorf("list inside the transaction: %+v, %v", p.Pagination, err)
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatal(err)
	}
	for _, get := range []func() (flow.View, error){
		func() (flow.View, error) { return viewIn(ctx, s, store.Flows, store.PK(f.PK)) },
		func() (flow.View, error) { return viewIn(ctx, s, store.Flows, store.By("slug", "f")) },
	} {
		v, err := get()
		if err != nil || jsonOf(t, v) != want {
			t.Errorf("after rollback: %s, %v; want %s", jsonOf(t, v), err, want)
		}
	}
	if p, _ := listIn(ctx, s, store.Flows, store.Query{Search: "uncommitted"}); p.Pagination.Count != 0 {
		t.Error("the rolled-back title is listed")
	}
}
