package storetest

import (
	"bytes"
	"fmt"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/kv"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// recorder is a testing.TB that keeps the failures it is told of; its
// Fatal ends the goroutine, as testing's does.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}

func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// failures runs fn with a recorder and returns what it failed with.
func failures(t *testing.T, fn func(t testing.TB)) []string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r.failed
}

// fixture is a store file holding an object of every collection, each
// pointing at what it can: an invitation at a flow, a binding at a flow
// and a stage, a policy binding at a flow and a policy.
func fixture(t *testing.T) (path string, made map[string]uuid.UUID) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "s.db")
	s, err := store.Open(path, &store.Options{NoSync: true, NewID: CounterIDs(1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{samples: DefaultSamples()}
	err = r.update(t, s, func(m maker) error {
		made = m.makeAll(s)
		return m.tx.Patch(store.ModelInvite, made[store.ModelInvite], fmt.Appendf(nil, `{"flow":%q}`, made[store.ModelFlow]), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if f := failures(t, func(t testing.TB) { CheckInvariants(t, s) }); len(f) > 0 {
		t.Fatalf("CheckInvariants of a sound store: %q", f)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path, made
}

// TestCheckInvariantsCatches: for every collection, the invariant checker
// reports a change to one of its objects' index entries made behind the
// store's back: a unique field's index entry moved to another key (its
// object can no longer be found by the field; the index keeps its count),
// or a reference's entry gone (its target's used_by no longer lists it).
func TestCheckInvariantsCatches(t *testing.T) {
	type damage struct {
		bucket string
		move   bool // re-key the entries; delete them otherwise
		want   string
	}
	unique := func(bucket string) damage { return damage{bucket, true, "finding "} }
	ref := damage{"refs", false, "whose used_by does not list it"}
	damages := map[string]damage{
		store.ModelFlow:          unique("flows_by_slug"),
		store.ModelStage:         unique("stages_by_name"),
		store.ModelPolicy:        unique("policies_by_name"),
		store.ModelPrompt:        unique("prompts_by_name"),
		store.ModelBinding:       ref,
		store.ModelPolicyBinding: ref,
		store.ModelInvite:        ref,
		store.ModelUser:          unique("users_by_username"),
		store.ModelGroup:         unique("groups_by_name"),
		// The devices: their references to the user.
		store.ModelStaticDevice: ref, store.ModelTOTPDevice: ref, store.ModelWebAuthnDevice: ref,
		store.ModelDuoDevice: ref, store.ModelSMSDevice: ref, store.ModelEmailDevice: ref,
	}
	s, err := store.Open(filepath.Join(t.TempDir(), "schema.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	collections := s.Collections()
	s.Close()
	for _, c := range collections {
		d, ok := damages[c.Model]
		if !ok {
			t.Errorf("no damage case for collection %s", c.Model)
			continue
		}
		t.Run(c.Model, func(t *testing.T) {
			path, made := fixture(t)
			pk := made[c.Model]
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			changed := 0
			err = db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte(d.bucket))
				if b == nil {
					return fmt.Errorf("no bucket %q", d.bucket)
				}
				entries := map[string][]byte{}
				err := b.ForEach(func(k, v []byte) error {
					if holds(k, pk) || holds(v, pk) {
						entries[string(k)] = bytes.Clone(v)
					}
					return nil
				})
				if err != nil {
					return err
				}
				for k, v := range entries {
					if err := b.Delete([]byte(k)); err != nil {
						return err
					}
					if d.move {
						moved := []byte(k)
						moved[len(moved)-1] ^= 1
						if err := b.Put(moved, v); err != nil {
							return err
						}
					}
					changed++
				}
				return nil
			})
			if cerr := db.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			if changed == 0 {
				t.Fatalf("%s holds no entry of %s %s", d.bucket, c.Model, pk)
			}
			s, err := store.Open(path, &store.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			f := failures(t, func(t testing.TB) { CheckInvariants(t, s) })
			// The checker names the object, unless the store itself
			// already reports the damage (an index whose kept count or
			// key disagrees is kv.ErrCorrupt), which the checker relays.
			named := func(msg string) bool { return strings.Contains(msg, pk.String()) && strings.Contains(msg, d.want) }
			corrupt := func(msg string) bool { return strings.Contains(msg, kv.ErrCorrupt.Error()) }
			if !slices.ContainsFunc(f, named) && !slices.ContainsFunc(f, corrupt) {
				t.Errorf("with %d entries of %s %s in %s changed, CheckInvariants reported %q; want a failure naming it with %q, or the store's damage report", changed, c.Model, pk, d.bucket, f, d.want)
			}
		})
	}
}

// holds reports whether b holds pk, as bytes or as text.
func holds(b []byte, pk uuid.UUID) bool {
	return bytes.Contains(b, pk[:]) || bytes.Contains(b, []byte(pk.String()))
}

// TestSnapshotSeesEveryCollection: deleting an object of any collection
// changes that collection's part of the snapshot, and a read changes
// nothing.
func TestSnapshotSeesEveryCollection(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "s.db"), &store.Options{NoSync: true, NewID: CounterIDs(1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := &runner{samples: DefaultSamples()}
	for _, c := range s.Collections() {
		var pk uuid.UUID
		if err := r.update(t, s, func(m maker) error { pk = m.make(c.Model); return nil }); err != nil {
			t.Fatal(err)
		}
		before := Snapshot(t, s)
		if again := changed(before, Snapshot(t, s)); len(again) > 0 {
			t.Errorf("two snapshots without a write differ in %v", again)
		}
		if err := s.Update(t.Context(), func(tx *store.Tx) error { return tx.Delete(c.Model, pk, nil) }); err != nil {
			t.Fatal(err)
		}
		if got := changed(before, Snapshot(t, s)); !slices.Contains(got, c.Model) {
			t.Errorf("deleting %s %s changed %v of the snapshot, not %s", c.Model, pk, got, c.Model)
		}
	}
}

// TestUnsampled: a kind without a sample fails the suite unless it is a
// host kind named in Options.Unsampled, which may hold nothing else.
func TestUnsampled(t *testing.T) {
	reg := &stage.Registry{}
	for _, k := range stage.Default.Kinds() {
		reg.Register(k)
	}
	reg.Register(stage.Kind{Model: "authflow_test.hoststage", New: func() stage.Config { return &hostStage{} },
		Component: "ak-stage-host-form", VerboseName: "Host Stage"})
	s, err := store.Open(filepath.Join(t.TempDir(), "s.db"), &store.Options{NoSync: true, StageKinds: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const host, builtin = "authflow_test.hoststage", string(stage.ModelDeny)
	withoutDeny := DefaultSamples()
	delete(withoutDeny, builtin)
	hostSample := DefaultSamples()
	hostSample[host] = hostSample[builtin]
	hostWithoutDeny := maps.Clone(hostSample)
	delete(hostWithoutDeny, builtin)
	for _, tc := range []struct {
		name      string
		samples   map[string]Sample
		unsampled []string
		want      []string
	}{
		{"every kind sampled", hostSample, nil, nil},
		{"host kind named", DefaultSamples(), []string{host}, nil},
		{"host kind not named", DefaultSamples(), nil, []string{"kind " + host + " has no sample"}},
		{"built-in kind without a sample", hostWithoutDeny, nil, []string{"kind " + builtin + " has no sample"}},
		{"built-in kind named", withoutDeny, []string{builtin, host}, []string{"names " + builtin + ", a built-in kind"}},
		{"sampled kind named", hostSample, []string{host}, []string{"names " + host + ", which has a sample"}},
		{"unknown kind named", hostSample, []string{"authflow_test.nostage"}, []string{"names authflow_test.nostage, which is no kind"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &runner{samples: tc.samples, unsampled: map[string]bool{}}
			for _, k := range tc.unsampled {
				r.unsampled[k] = true
			}
			got := r.unsampledProblems(s)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %d: %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to say %q", i, got[i], w)
				}
			}
		})
	}
}

// hostStage is a host kind's configuration: no fields of its own.
type hostStage struct{}

func (hostStage) ModelName() stage.ModelName { return "authflow_test.hoststage" }
