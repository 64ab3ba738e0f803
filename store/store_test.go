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
	if _, err := second.GetFlowBySlug(t.Context(), "f"); err != nil {
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
	if _, err := s.GetFlowBySlug(t.Context(), "f"); err != nil {
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
		"GetFlow":       func() error { _, err := s.GetFlow(ctx, f.PK); return err },
		"GetFlowBySlug": func() error { _, err := s.GetFlowBySlug(ctx, "f"); return err },
		"ListFlows":     func() error { _, err := s.ListFlows(ctx, store.Query{}); return err },
		"CreateFlow":    func() error { _, err := s.CreateFlow(ctx, newFlow("g")); return err },
		"PatchFlow":     func() error { _, err := s.PatchFlow(ctx, "f", []byte(`{}`)); return err },
		"DeleteFlow":    func() error { return s.DeleteFlow(ctx, "f") },
		"GetStage":      func() error { _, err := s.GetStage(ctx, f.PK); return err },
		"ListStages":    func() error { _, err := s.ListStages(ctx, "", store.Query{}); return err },
		"GetBinding":    func() error { _, err := s.GetBinding(ctx, f.PK); return err },
		"ListBindings":  func() error { _, err := s.ListBindings(ctx, store.Query{}); return err },
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
		if _, err := s.GetFlowBySlug(ctx, "f"); err != nil {
			t.Errorf("read: %v", err)
		}
	}
	if _, err := ro.GetBinding(ctx, b.PK); err != nil {
		t.Errorf("read: %v", err)
	}
	before := backup(t, ro)
	writes := map[string]func() error{
		"CreateFlow":     func() error { _, err := ro.CreateFlow(ctx, newFlow("g")); return err },
		"CreateFlowJSON": func() error { _, err := ro.CreateFlowJSON(ctx, []byte(`{}`)); return err },
		"PatchFlow":      func() error { _, err := ro.PatchFlow(ctx, "f", []byte(`{"title":"x"}`)); return err },
		"ReplaceFlow":    func() error { _, err := ro.ReplaceFlow(ctx, "f", []byte(`{}`)); return err },
		"SetBackground":  func() error { _, err := ro.SetFlowBackgroundURL(ctx, "f", "x"); return err },
		"DeleteFlow":     func() error { return ro.DeleteFlow(ctx, "f") },
		"CreateStage": func() error {
			_, err := ro.CreateStage(ctx, stage.Stage{Name: "x", Config: stage.Invitation{}})
			return err
		},
		"PatchStage":    func() error { _, err := ro.PatchStage(ctx, st.PK, []byte(`{}`)); return err },
		"DeleteStage":   func() error { return ro.DeleteStage(ctx, st.PK) },
		"CreateBinding": func() error { _, err := ro.CreateBinding(ctx, binding.New(f.PK, st.PK, 2)); return err },
		"PatchBinding":  func() error { _, err := ro.PatchBinding(ctx, b.PK, []byte(`{}`)); return err },
		"DeleteBinding": func() error { return ro.DeleteBinding(ctx, b.PK) },
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
		_, err := tx.CreateFlow(newFlow("f"))
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

func TestContextCancelled(t *testing.T) {
	s := newTestStore(t)
	f := mkFlow(t, s, "f")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := backup(t, s)
	ops := map[string]func() error{
		"GetFlow":    func() error { _, err := s.GetFlow(ctx, f.PK); return err },
		"ListFlows":  func() error { _, err := s.ListFlows(ctx, store.Query{}); return err },
		"CreateFlow": func() error { _, err := s.CreateFlow(ctx, newFlow("g")); return err },
		"PatchFlow":  func() error { _, err := s.PatchFlow(ctx, "f", []byte(`{"title":"x"}`)); return err },
		"DeleteFlow": func() error { return s.DeleteFlow(ctx, "f") },
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
	if _, err := s.GetFlow(dctx, f.PK); !errors.Is(err, context.DeadlineExceeded) {
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
		f, err := tx.CreateFlow(newFlow("f"))
		if err != nil {
			return err
		}
		st, err := tx.CreateStageJSON(stage.ModelAuthenticatorDuo, duoBody("duo", &f.PK))
		if err != nil {
			return err
		}
		if _, err := tx.CreateBinding(binding.New(f.PK, st.PK, 10)); err != nil {
			return err
		}
		// Reads in the transaction see its writes.
		fv, err := tx.GetFlowBySlug("f")
		if err != nil || !equalIDs(fv.Stages, []uuid.UUID{st.PK}) {
			return fmt.Errorf("reading own writes: %v %v", fv.Stages, err)
		}
		if _, err := tx.PatchFlow("existing", []byte(`{"title":"changed"}`)); err != nil {
			return err
		}
		return tx.DeleteFlow("existing")
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
	if _, err := s.GetFlowBySlug(ctx, "f"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("flow of a rolled-back Update: %v", err)
	}
	if p, _ := s.ListStages(ctx, "", store.Query{}); p.Pagination.Count != 0 {
		t.Errorf("%d stages after a rolled-back Update", p.Pagination.Count)
	}

	// A validation error inside the transaction, returned by fn, rolls
	// back the earlier writes too.
	err = s.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.CreateFlow(newFlow("f")); err != nil {
			return err
		}
		_, err := tx.CreateFlow(newFlow("f"))
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
	f, err := s.GetFlowBySlug(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Stages) != 1 {
		t.Errorf("committed flow stages = %v", f.Stages)
	}
	if _, err := s.GetFlowBySlug(ctx, "existing"); !errors.Is(err, store.ErrNotFound) {
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
			_, err := tx.CreateFlowJSON([]byte(`{"name":"n","slug":"f","title":"t","designation":"recovery"}`))
			return err
		},
		"patch flow":   func(tx *store.Tx) error { _, err := tx.PatchFlow("f", []byte(`{"slug":"g","title":""}`)); return err },
		"replace flow": func(tx *store.Tx) error { _, err := tx.ReplaceFlow("f", []byte(`{"slug":"g"}`)); return err },
		"create stage": func(tx *store.Tx) error {
			_, err := tx.CreateStageJSON(stage.ModelUserWrite, []byte(`{"name":"uw"}`))
			return err
		},
		"patch stage": func(tx *store.Tx) error {
			_, err := tx.PatchStage(d.PK, []byte(`{"name":"new","configure_flow":"`+missing.String()+`"}`))
			return err
		},
		"replace stage": func(tx *store.Tx) error {
			_, err := tx.ReplaceStage(d.PK, []byte(`{"name":"new","client_id":"x"}`))
			return err
		},
		"create binding": func(tx *store.Tx) error { _, err := tx.CreateBinding(binding.New(f.PK, d.PK, 1)); return err },
		"patch binding": func(tx *store.Tx) error {
			_, err := tx.PatchBinding(b.PK, []byte(`{"order":2,"stage":"`+uw.PK.String()+`"}`))
			return err
		},
		"patch binding cross-field": func(tx *store.Tx) error {
			_, err := tx.PatchBinding(b.PK, []byte(`{"order":7,"re_evaluate_policies":false}`))
			return err
		},
		"replace binding": func(tx *store.Tx) error { _, err := tx.ReplaceBinding(b.PK, []byte(`{"order":9}`)); return err },
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
	if _, err := s.PatchFlow(ctx, "f", []byte(`{"slug":"renamed"}`)); err != nil {
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
	fv, err := s.GetFlowBySlug(ctx, "renamed")
	if err != nil || fv.PK != f.PK || !equalIDs(fv.Stages, []uuid.UUID{d.PK, uw.PK}) {
		t.Errorf("flow after reopening: %+v, %v", fv, err)
	}
	if _, err := s.GetFlowBySlug(ctx, "f"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old slug after reopening: %v", err)
	}
	dv, err := s.GetStage(ctx, d.PK)
	if err != nil {
		t.Fatal(err)
	}
	if c := duoConfig(t, dv); c.ClientSecret.Reveal() != duoSecret || c.ConfigureFlow == nil || *c.ConfigureFlow != f.PK {
		t.Errorf("duo after reopening: %+v", c)
	}
	if bv, err := s.GetBinding(ctx, b1.PK); err != nil || bv.Order != 20 {
		t.Errorf("binding after reopening: %+v, %v", bv, err)
	}
	// The indexes work after reopening.
	_, err = s.CreateFlow(ctx, newFlow("renamed"))
	wantConflict(t, err, map[string][]string{"slug": {"Flow with this slug already exists."}})
	_, err = s.CreateStage(ctx, stage.Stage{Name: "uw", Config: stage.Invitation{}})
	wantConflict(t, err, map[string][]string{"name": {"stage with this name already exists."}})
	_, err = s.CreateBinding(ctx, binding.New(f.PK, uw.PK, 20))
	wantConflict(t, err, nil, "The fields target, stage, order must make a unique set.")
	if err := s.DeleteFlow(ctx, "renamed"); err != nil {
		t.Fatal(err)
	}
	dv, _ = s.GetStage(ctx, d.PK)
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
				f, err := s.CreateFlow(ctx, newFlow(slug))
				if err != nil {
					errs <- err
					continue
				}
				st, err := s.CreateStage(ctx, stage.Stage{Name: "st-" + slug, Config: stage.DefaultUserWrite()})
				if err != nil {
					errs <- err
					continue
				}
				for _, target := range []uuid.UUID{f.PK, shared.PK} {
					if _, err := s.CreateBinding(ctx, binding.New(target, st.PK, int32(i))); err != nil {
						errs <- err
					}
				}
				if _, err := s.PatchFlow(ctx, slug, []byte(`{"title":"patched"}`)); err != nil {
					errs <- err
				}
				// Everyone races for the same slug; exactly one wins.
				if _, err := s.CreateFlow(ctx, newFlow(fmt.Sprintf("race-%d", i))); err != nil && !errors.Is(err, store.ErrConflict) {
					errs <- err
				}
				if i%3 == 0 { // delete some again
					if err := s.DeleteFlow(ctx, slug); err != nil {
						errs <- err
					}
				}
			}
		}()
		go func() { // reader
			defer wg.Done()
			for range each {
				if _, err := s.ListFlows(ctx, store.Query{Search: "w"}); err != nil {
					errs <- err
				}
				if _, err := s.FlowBindings(ctx, shared.PK); err != nil {
					errs <- err
				}
				if _, err := s.ListBindings(ctx, store.Query{Filters: map[string]string{"target": shared.PK.String()}}); err != nil {
					errs <- err
				}
				if _, err := s.ListStages(ctx, stage.ModelUserWrite, store.Query{Filters: map[string]string{"no_flows": "false"}}); err != nil {
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
	flows, _ := s.ListFlows(ctx, store.Query{})
	if want := 1 + workers*(each-deleted) + each; flows.Pagination.Count != want {
		t.Errorf("%d flows, want %d", flows.Pagination.Count, want)
	}
	stages, _ := s.ListStages(ctx, "", store.Query{})
	if want := workers * each; stages.Pagination.Count != want {
		t.Errorf("%d stages, want %d", stages.Pagination.Count, want)
	}
	bindings, _ := s.ListBindings(ctx, store.Query{PageSize: 1000})
	if want := workers*each + workers*(each-deleted); bindings.Pagination.Count != want {
		t.Errorf("%d bindings, want %d", bindings.Pagination.Count, want)
	}
	patched, _ := s.ListFlows(ctx, store.Query{Search: "patched"})
	if want := workers * (each - deleted); patched.Pagination.Count != want {
		t.Errorf("%d patched flows, want %d", patched.Pagination.Count, want)
	}
	sv, _ := s.GetFlow(ctx, shared.PK)
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
	auth, err := s.CreateFlow(ctx, flow.New("Welcome", "default-authentication-flow", "Welcome to authentik!", flow.DesignationAuthentication))
	if err != nil {
		t.Fatal(err)
	}
	setup := mkFlow(t, s, "default-duo-setup")
	uw, err := s.CreateStageJSON(ctx, stage.ModelUserWrite, []byte(`{"name":"default-user-write","user_creation_mode":"never_create"}`))
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
	golden(t, "flow", get(s.GetFlow(ctx, auth.PK)))
	golden(t, "duo_stage", get(s.GetStage(ctx, duo.PK)))
	golden(t, "binding", get(s.GetBinding(ctx, b.PK)))
	golden(t, "flow_bindings", get(s.FlowBindings(ctx, auth.PK)))
	golden(t, "flow_list", get(s.ListFlows(ctx, store.Query{PageSize: 1, Page: 2})))
	golden(t, "stage_list_duo", get(s.ListStages(ctx, stage.ModelAuthenticatorDuo, store.Query{})))
	_, err = s.CreateBindingJSON(ctx, []byte(fmt.Sprintf(`{"target":%q,"stage":"%s","order":"x","evaluate_on_plan":false,"re_evaluate_policies":false}`, uuid.Nil, uw.PK)))
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
		if _, err := tx.PatchFlow("f", []byte(`{"title":"uncommitted"}`)); err != nil {
			return err
		}
		if v, err := tx.GetFlow(f.PK); err != nil || v.Title != "uncommitted" {
			t.Errorf("inside the transaction: %q, %v", v.Title, err)
		}
		if p, err := tx.ListFlows(store.Query{Search: "uncommitted"}); err != nil || p.Pagination.Count != 1 {
			t.Errorf("list inside the transaction: %+v, %v", p.Pagination, err)
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatal(err)
	}
	for _, get := range []func() (flow.View, error){
		func() (flow.View, error) { return s.GetFlow(ctx, f.PK) },
		func() (flow.View, error) { return s.GetFlowBySlug(ctx, "f") },
	} {
		v, err := get()
		if err != nil || jsonOf(t, v) != want {
			t.Errorf("after rollback: %s, %v; want %s", jsonOf(t, v), err, want)
		}
	}
	if p, _ := s.ListFlows(ctx, store.Query{Search: "uncommitted"}); p.Pagination.Count != 0 {
		t.Error("the rolled-back title is listed")
	}
}
