package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Sample builds a valid POST body for one model, named name (names and
// slugs must be unique, so the suite gives each object its own). ref
// returns the pk of an object of the given model, made on demand, for the
// body's required references.
type Sample func(name string, ref func(model string) uuid.UUID) []byte

// Options configures Run. A nil *Options means the defaults.
type Options struct {
	// Samples add to or replace the built-in samples, by model name: a
	// store with host-registered kinds gives one per kind.
	Samples map[string]Sample
	// Unsampled names the host kinds that have no sample, on purpose:
	// the schema-generated checks skip them. Any other kind without a
	// sample fails the suite, and so does a name here that is a built-in
	// kind (one in stage.Default or policy.Default, a host's kinds
	// registered there included: those must have samples), a kind with
	// a sample, or no kind of the store.
	Unsampled []string
}

// userNumber is the number of the user whose id is id: a numbered
// object's id ends with its number, big-endian (the store's seqID).
func userNumber(id uuid.UUID) int64 { return int64(binary.BigEndian.Uint32(id[12:])) }

// DefaultSamples are the bodies of the built-in collections and kinds.
func DefaultSamples() map[string]Sample {
	out := map[string]Sample{
		store.ModelFlow: func(name string, _ func(string) uuid.UUID) []byte {
			return fmt.Appendf(nil, `{"name":%q,"slug":%q,"title":"Welcome","designation":"authentication"}`, name, name)
		},
		string(stage.ModelUserWrite): func(name string, _ func(string) uuid.UUID) []byte {
			return fmt.Appendf(nil, `{"name":%q}`, name)
		},
		string(stage.ModelInvitation): func(name string, _ func(string) uuid.UUID) []byte {
			return fmt.Appendf(nil, `{"name":%q}`, name)
		},
		string(stage.ModelAuthenticatorDuo): func(name string, _ func(string) uuid.UUID) []byte {
			return fmt.Appendf(nil, `{"name":%q,"client_id":"DI1","client_secret":"s","api_hostname":"api.example.com"}`, name)
		},
		store.ModelBinding: func(_ string, ref func(string) uuid.UUID) []byte {
			return fmt.Appendf(nil, `{"target":"%s","stage":"%s","order":1}`, ref(store.ModelFlow), ref(store.ModelStage))
		},
		store.ModelInvite: func(name string, _ func(string) uuid.UUID) []byte {
			return fmt.Appendf(nil, `{"name":%q,"fixed_data":{"email":"a@example.com"}}`, name)
		},
		store.ModelPrompt: func(name string, _ func(string) uuid.UUID) []byte {
			return fmt.Appendf(nil, `{"name":%q,"field_key":"username","label":"Username","type":"username"}`, name)
		},
		string(stage.ModelPromptStage): func(name string, ref func(string) uuid.UUID) []byte {
			return fmt.Appendf(nil, `{"name":%q,"fields":["%s"]}`, name, ref(store.ModelPrompt))
		},
		store.ModelPolicyBinding: func(_ string, ref func(string) uuid.UUID) []byte {
			return fmt.Appendf(nil, `{"target":"%s","policy":"%s","order":0}`, ref(store.ModelPolicyBindingModel), ref(store.ModelPolicy))
		},
		store.ModelUser: func(name string, _ func(string) uuid.UUID) []byte {
			return fmt.Appendf(nil, `{"username":%q,"name":"A user","email":"%s@example.com"}`, name, name)
		},
		store.ModelGroup: func(name string, _ func(string) uuid.UUID) []byte {
			return fmt.Appendf(nil, `{"name":%q}`, name)
		},
	}
	// The devices: each refers to a user by number, and sms, email and
	// duo devices to their setup stage.
	device := func(format string, stage stage.ModelName) Sample {
		return func(name string, ref func(string) uuid.UUID) []byte {
			b := fmt.Appendf(nil, `{"user":%d,"name":%q,`, userNumber(ref(store.ModelUser)), name)
			if stage != "" {
				b = fmt.Appendf(b, `"stage":"%s",`, ref(string(stage)))
			}
			return fmt.Appendf(b, format+"}", name)
		}
	}
	out[store.ModelTOTPDevice] = device(`"key":"%x","digits":6,"step":30`, "")
	out[store.ModelStaticDevice] = device(`"token_hashes":[%q]`, "")
	out[store.ModelWebAuthnDevice] = device(`"credential_id":%q,"public_key":"cGs","rp_id":"example.com"`, "")
	out[store.ModelSMSDevice] = device(`"phone_number":%q`, stage.ModelAuthenticatorSMS)
	out[store.ModelEmailDevice] = device(`"email":"%s@example.com"`, stage.ModelAuthenticatorEmail)
	out[store.ModelDuoDevice] = device(`"duo_user_id":%q`, stage.ModelAuthenticatorDuo)
	named := func(extra string) Sample {
		return func(name string, _ func(string) uuid.UUID) []byte {
			return fmt.Appendf(nil, `{"name":%q%s}`, name, extra)
		}
	}
	for model, extra := range map[string]string{
		string(stage.ModelDeny): "", string(stage.ModelDummy): "", string(stage.ModelUserLogout): "",
		string(stage.ModelUserDelete): "", string(stage.ModelUserLogin): "", string(stage.ModelConsent): "",
		string(stage.ModelRedirect):            `,"mode":"static","target_static":"https://example.com/"`,
		string(stage.ModelPassword):            `,"backends":["authentik.core.auth.InbuiltBackend"]`,
		string(stage.ModelAuthenticatorStatic): "",
		string(stage.ModelAuthenticatorTOTP):   `,"digits":"6"`,
		string(policy.ModelExpression):         `,"expression":"return True"`,
		string(policy.ModelPassword):           "", string(policy.ModelReputation): "", string(policy.ModelDummy): "",
		string(policy.ModelEventMatcher):             `,"action":"login"`,
		string(policy.ModelPasswordExpiry):           `,"days":90`,
		string(policy.ModelGeoIP):                    `,"countries":["DE"]`,
		string(policy.ModelUniquePassword):           "",
		string(stage.ModelAuthenticatorEmail):        "",
		string(stage.ModelAuthenticatorEndpointGDTC): `,"credentials":{}`,
		string(stage.ModelAuthenticatorSMS):          `,"provider":"twilio","from_number":"+15550100","account_sid":"AC1","auth":"token"`,
		string(stage.ModelAuthenticatorValidate):     "",
		string(stage.ModelAuthenticatorWebAuthn):     "",
		string(stage.ModelCaptcha):                   `,"public_key":"pub","private_key":"priv"`,
		string(stage.ModelEmail):                     "",
		string(stage.ModelIdentification):            `,"user_fields":["username"]`,
		string(stage.ModelMutualTLS):                 `,"mode":"optional","cert_attribute":"subject","user_attribute":"username"`,
		string(stage.ModelSource):                    `,"source":"6b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e"`,
	} {
		out[model] = named(extra)
	}
	return out
}

// Run runs the suite. open returns a new, empty store for each subtest;
// the suite closes it.
func Run(t *testing.T, open func(t *testing.T) *store.Store, opts *Options) {
	samples := DefaultSamples()
	if opts != nil {
		for k, v := range opts.Samples {
			samples[k] = v
		}
	}
	r := &runner{open: open, samples: samples, unsampled: map[string]bool{}}
	if opts != nil {
		for _, k := range opts.Unsampled {
			r.unsampled[k] = true
		}
	}
	t.Run("Samples", r.sampled)
	t.Run("CRUD", r.crud)
	t.Run("RejectedWriteWritesNothing", r.rejected)
	t.Run("RollbackOnError", r.rollback)
	t.Run("ConcurrentWriters", r.concurrent)
	t.Run("Uniques", r.uniques)
	t.Run("References", r.references)
}

type runner struct {
	open      func(t *testing.T) *store.Store
	samples   map[string]Sample
	unsampled map[string]bool // Options.Unsampled
	n         atomic.Int64    // names every sample object uniquely
}

// fresh opens a store whose cleanup checks the invariants and closes it.
func (r *runner) fresh(t *testing.T) *store.Store {
	t.Helper()
	s := r.open(t)
	t.Cleanup(func() {
		CheckInvariants(t, s)
		for _, p := range s.Check(context.Background()) { // t.Context is done in cleanups
			t.Errorf("Check: %v", p)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// maker creates sample objects with unique names, and the objects their
// samples refer to.
type maker struct {
	t       *testing.T
	tx      *store.Tx
	samples map[string]Sample
	n       *atomic.Int64
}

func (m maker) sample(model string) (Sample, string, bool) {
	switch model {
	case store.ModelStage:
		model = string(stage.ModelUserWrite) // any stage will do
	case store.ModelPolicy:
		model = string(policy.ModelExpression) // any policy will do
	case store.ModelPolicyBindingModel:
		model = store.ModelFlow // any policy binding model will do
	}
	s, ok := m.samples[model]
	return s, model, ok
}

// make creates an object of model and returns its pk.
func (m maker) make(model string) uuid.UUID {
	m.t.Helper()
	s, model, ok := m.sample(model)
	if !ok {
		m.t.Fatalf("no sample for %s", model)
	}
	pk, err := m.tx.Create(model, s(fmt.Sprintf("obj-%d", m.n.Add(1)), m.make), nil)
	if err != nil {
		m.t.Fatalf("creating a sample %s: %v", model, err)
	}
	return pk
}

func (r *runner) update(t *testing.T, s *store.Store, fn func(m maker) error) error {
	t.Helper()
	return s.Update(t.Context(), func(tx *store.Tx) error {
		return fn(maker{t: t, tx: tx, samples: r.samples, n: &r.n})
	})
}

// field reads one field of an object's representation.
func field(t *testing.T, tx *store.Tx, model string, pk uuid.UUID, name string) (json.RawMessage, bool) {
	t.Helper()
	v, err := tx.Get(model, pk)
	if err != nil {
		t.Fatalf("Get %s %s: %v", model, pk, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	raw, ok := m[name]
	return raw, ok
}

// sampled: every collection and kind has a sample, but for the host
// kinds in Options.Unsampled.
func (r *runner) sampled(t *testing.T) {
	for _, p := range r.unsampledProblems(r.fresh(t)) {
		t.Error(p)
	}
}

// unsampledProblems lists the collections and kinds of s without a
// sample that Options.Unsampled does not name, and the names in it that
// it may not hold.
func (r *runner) unsampledProblems(s *store.Store) []string {
	var out []string
	kinds := map[string]bool{}
	for _, c := range s.Collections() {
		if c.Kinds == nil {
			if r.samples[c.Model] == nil {
				out = append(out, fmt.Sprintf("collection %s has no sample: give one in DefaultSamples", c.Model))
			}
			continue
		}
		for _, k := range c.Kinds {
			kinds[k] = true
			if r.samples[k] == nil && !r.unsampled[k] {
				out = append(out, fmt.Sprintf("kind %s has no sample: give one in Options.Samples (in DefaultSamples for a built-in kind), or name a host kind in Options.Unsampled", k))
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.unsampled)) {
		_, stageKind := stage.Default.Lookup(stage.ModelName(k))
		_, policyKind := policy.Default.Lookup(policy.ModelName(k))
		switch {
		case stageKind || policyKind:
			out = append(out, fmt.Sprintf("Options.Unsampled names %s, a built-in kind: built-in kinds must have samples", k))
		case !kinds[k]:
			out = append(out, fmt.Sprintf("Options.Unsampled names %s, which is no kind of the store", k))
		case r.samples[k] != nil:
			out = append(out, fmt.Sprintf("Options.Unsampled names %s, which has a sample", k))
		}
	}
	return out
}

// models are the models the suite can make: every collection without
// kinds, and every kind with a sample (Run's "Samples" subtest fails for
// the kinds without one that Options.Unsampled does not name).
func (r *runner) models(s *store.Store) []string {
	var out []string
	for _, c := range s.Collections() {
		if c.Kinds == nil {
			out = append(out, c.Model)
			continue
		}
		for _, k := range c.Kinds {
			if r.samples[k] != nil {
				out = append(out, k)
			}
		}
	}
	return out
}

func (r *runner) crud(t *testing.T) {
	s := r.fresh(t)
	for _, model := range r.models(s) {
		var pk uuid.UUID
		if err := r.update(t, s, func(m maker) error { pk = m.make(model); return nil }); err != nil {
			t.Fatal(err)
		}
		err := s.Update(t.Context(), func(tx *store.Tx) error {
			if _, err := tx.Get(model, pk); err != nil {
				return err
			}
			if err := tx.Patch(model, pk, []byte(`{}`), nil); err != nil {
				return fmt.Errorf("empty patch: %w", err)
			}
			return tx.Delete(model, pk, nil)
		})
		if err != nil {
			t.Errorf("%s: %v", model, err)
		}
		err = s.View(t.Context(), func(tx *store.Tx) error {
			_, err := tx.Get(model, pk)
			return err
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: Get after Delete = %v, want ErrNotFound", model, err)
		}
	}
}

// Snapshot is what s holds, by collection model: each collection's
// objects as its list shows them, and the SHA-256 of their stored forms
// (which hold the write-only fields a list leaves out, so a snapshot holds
// no secret); the key "revision" holds the store's revision. Two
// snapshots are equal when nothing was written in between. The
// collections are the store's own ([store.Store.Collections]), so a new
// one is covered without a change here.
func Snapshot(t testing.TB, s *store.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := s.View(context.Background(), func(tx *store.Tx) error {
		rev, err := tx.Revision()
		if err != nil {
			return err
		}
		out["revision"] = strconv.FormatInt(rev, 10)
		for _, c := range s.Collections() {
			h := sha256.New()
			var views []byte
			for _, o := range objects(t, tx, c.Model) {
				views = append(append(views, o.view...), '\n')
				stored, err := tx.Stored(c.Model, o.pk)
				if err != nil {
					return err
				}
				fmt.Fprintf(h, "%s %d:%s\n", o.pk, len(stored), stored)
			}
			out[c.Model] = fmt.Sprintf("%s\nstored forms: %x", views, h.Sum(nil))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return out
}

// changed lists the keys whose values differ between two snapshots.
func changed(before, after map[string]string) []string {
	var out []string
	for k, v := range after {
		if before[k] != v {
			out = append(out, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// makeAll makes an object of every collection (and what they refer to).
func (m maker) makeAll(s *store.Store) map[string]uuid.UUID {
	m.t.Helper()
	out := map[string]uuid.UUID{}
	for _, c := range s.Collections() {
		out[c.Model] = m.make(c.Model)
	}
	return out
}

// badBody is invalid for every collection and kind.
const badBody = `{"name": 5, "slug": "-", "order": "x", "target": "nope"}`

// rejected: a create, or a patch, with an invalid body is a validation
// error and changes nothing in any collection.
func (r *runner) rejected(t *testing.T) {
	s := r.fresh(t)
	var made map[string]uuid.UUID
	if err := r.update(t, s, func(m maker) error { made = m.makeAll(s); return nil }); err != nil {
		t.Fatal(err)
	}
	before := Snapshot(t, s)
	for _, model := range r.models(s) {
		err := s.Update(t.Context(), func(tx *store.Tx) error {
			_, err := tx.Create(model, []byte(badBody), nil)
			return err
		})
		if !errors.Is(err, validate.ErrInvalid) {
			t.Errorf("%s: a bad body = %v, want a validation error", model, err)
		}
	}
	for model, pk := range made {
		err := s.Update(t.Context(), func(tx *store.Tx) error { return tx.Patch(model, pk, []byte(badBody), nil) })
		if !errors.Is(err, validate.ErrInvalid) {
			t.Errorf("%s: a bad patch = %v, want a validation error", model, err)
		}
	}
	if c := changed(before, Snapshot(t, s)); len(c) > 0 {
		t.Errorf("rejected writes changed %v", c)
	}
}

// rollback: an Update whose function fails leaves nothing of what it
// wrote, in any collection: neither the objects it made nor the ones it
// deleted.
func (r *runner) rollback(t *testing.T) {
	s := r.fresh(t)
	var made map[string]uuid.UUID
	if err := r.update(t, s, func(m maker) error { made = m.makeAll(s); return nil }); err != nil {
		t.Fatal(err)
	}
	before := Snapshot(t, s)
	boom := errors.New("boom")
	err := r.update(t, s, func(m maker) error {
		m.makeAll(s)
		for _, c := range s.Collections() {
			// An earlier delete may have taken this one with it.
			if err := m.tx.Delete(c.Model, made[c.Model], nil); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the function's error", err)
	}
	if c := changed(before, Snapshot(t, s)); len(c) > 0 {
		t.Errorf("a failed Update changed %v", c)
	}
}

func (r *runner) concurrent(t *testing.T) {
	s := r.fresh(t)
	const writers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := s.Update(t.Context(), func(tx *store.Tx) error {
					_, err := tx.Create(store.ModelFlow, fmt.Appendf(nil, `{"name":"n","slug":"w%d-%d","title":"t","designation":"authentication"}`, w, i), nil)
					return err
				})
				errs <- err
				// Every writer also races for one shared slug: one wins.
				err = s.Update(t.Context(), func(tx *store.Tx) error {
					_, err := tx.Create(store.ModelFlow, fmt.Appendf(nil, `{"name":"n","slug":"shared-%d","title":"t","designation":"authentication"}`, i), nil)
					return err
				})
				if err != nil && !errors.Is(err, store.ErrConflict) {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var p store.Page[flow.View]
	err := s.View(t.Context(), func(tx *store.Tx) (err error) {
		p, err = store.Flows.List(tx, store.Query{PageSize: 1})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := writers*each + each; p.Pagination.Count != want {
		t.Errorf("%d flows, want %d", p.Pagination.Count, want)
	}
}

// uniques: for every unique field, a second object taking the first
// one's value is refused with authentik's message, as a conflict.
func (r *runner) uniques(t *testing.T) {
	s := r.fresh(t)
	models := r.models(s)
	for _, c := range s.Collections() {
		members := []string{c.Model}
		if c.Kinds != nil {
			members = nil
			for _, k := range c.Kinds {
				if slices.Contains(models, k) {
					members = append(members, k)
				}
			}
		}
		for _, f := range c.Unique {
			for _, model := range members {
				for _, other := range members {
					t.Run(c.Model+"."+f+"/"+model+"-"+other, func(t *testing.T) {
						var a, b uuid.UUID
						if err := r.update(t, s, func(m maker) error { a, b = m.make(model), m.make(other); return nil }); err != nil {
							t.Fatal(err)
						}
						err := s.Update(t.Context(), func(tx *store.Tx) error {
							v, _ := field(t, tx, model, a, f)
							return tx.Patch(other, b, fmt.Appendf(nil, `{%q:%s}`, f, v), nil)
						})
						msg := validate.Unique(c.Verbose, f)
						if m, ok := c.KindMessages[other]; ok {
							msg = m // the patched object's kind words it its own way
						}
						want := map[string][]string{f: {msg}}
						wantInvalid(t, err, want, nil)
						if !errors.Is(err, store.ErrConflict) {
							t.Errorf("a clash on %s is not ErrConflict: %v", f, err)
						}
					})
				}
			}
		}
		if len(c.Together) > 0 {
			t.Run(c.Model+".together", func(t *testing.T) {
				var a uuid.UUID
				if err := r.update(t, s, func(m maker) error { a = m.make(c.Model); return nil }); err != nil {
					t.Fatal(err)
				}
				// A new sample (its required fields set) with a's values
				// of the set.
				err := r.update(t, s, func(m maker) error {
					sample, model, _ := m.sample(c.Model)
					body := map[string]json.RawMessage{}
					if err := json.Unmarshal(sample(fmt.Sprintf("obj-%d", m.n.Add(1)), m.make), &body); err != nil {
						return err
					}
					for _, f := range c.Together {
						body[f], _ = field(t, m.tx, c.Model, a, f)
					}
					b, _ := json.Marshal(body)
					_, err := m.tx.Create(model, b, nil)
					return err
				})
				wantInvalid(t, err, nil, []string{validate.UniqueTogether(c.Together...)})
			})
		}
	}
}

// numberOf is the pk of the object of model with record id id, in a
// collection whose pk is a number, as its JSON text.
func numberOf(t *testing.T, s *store.Store, model string, id uuid.UUID) string {
	t.Helper()
	var num string
	err := s.View(t.Context(), func(tx *store.Tx) (err error) {
		num, err = numberIn(tx, model, id)
		return err
	})
	if err != nil {
		t.Fatalf("the number of %s %s: %v", model, id, err)
	}
	return num
}

// numberIn is numberOf in the transaction tx.
func numberIn(tx *store.Tx, model string, id uuid.UUID) (string, error) {
	v, err := tx.Get(model, id)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return "", err
	}
	return string(fields["pk"]), nil
}

// exclusive names, by model, the references of which an object holds
// exactly one: pointing one at its target empties the others in the same
// patch.
var exclusive = map[string][]string{store.ModelPolicyBinding: {"policy", "group", "user"}}

// setBy creates, by "model.field", an object whose read-only reference
// (which no body writes) points at the target numbered num (its pk as
// JSON text): the write that sets it. body is a sample body of model.
var setBy = map[string]func(tx *store.Tx, model string, body []byte, num string) (uuid.UUID, error){
	store.ModelInvite + ".created_by_user": func(tx *store.Tx, model string, body []byte, num string) (uuid.UUID, error) {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return uuid.Nil, err
		}
		return tx.Create(model, body, &store.WriteOptions{Actor: &n})
	},
}

// references: for every reference field, a missing target is refused
// with authentik's message (a read-only one, which the store sets, is
// set by the write setBy names, and a body naming a target is ignored);
// a present one appears in the target's used_by (unless hidden);
// deleting the target does what on_delete says.
func (r *runner) references(t *testing.T) {
	s := r.fresh(t)
	models := r.models(s)
	for _, ref := range s.References() {
		if !slices.Contains(models, ref.Model) {
			continue
		}
		t.Run(ref.Model+"."+ref.Field, func(t *testing.T) {
			var src, target uuid.UUID
			missing := MissingPK(0)
			set, known := setBy[ref.Model+"."+ref.Field]
			if ref.ReadOnly && !known {
				t.Skipf("%s.%s is read-only, and the suite knows no write that sets it", ref.Model, ref.Field)
			}
			err := r.update(t, s, func(m maker) error {
				target = m.make(ref.Target)
				if !ref.ReadOnly {
					src = m.make(ref.Model)
					return nil
				}
				sample, model, ok := m.sample(ref.Model)
				if !ok {
					t.Fatalf("no sample for %s", ref.Model)
				}
				num, err := numberIn(m.tx, ref.Target, target)
				if err != nil {
					return err
				}
				src, err = set(m.tx, model, sample(fmt.Sprintf("obj-%d", m.n.Add(1)), m.make), num)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			value := func(id uuid.UUID) string {
				if ref.Many {
					return `["` + id.String() + `"]`
				}
				return `"` + id.String() + `"`
			}
			missingText := missing.String()
			if ref.Numbered {
				// A reference by number holds the target's pk, a number.
				num := numberOf(t, s, ref.Target, target)
				missingText = "2147483000"
				value = func(id uuid.UUID) string {
					if id == target {
						return num
					}
					return missingText
				}
			}
			if ref.ReadOnly {
				// A body that names another target is ignored.
				var before, after []byte
				err = s.Update(t.Context(), func(tx *store.Tx) (err error) {
					if before, err = tx.Stored(ref.Model, src); err != nil {
						return err
					}
					if err = tx.Patch(ref.Model, src, fmt.Appendf(nil, `{%q:%s}`, ref.Field, value(missing)), nil); err != nil {
						return err
					}
					after, err = tx.Stored(ref.Model, src)
					return err
				})
				if err != nil || string(before) != string(after) {
					t.Errorf("a patch of the read-only %s: %v; the record went from %s to %s", ref.Field, err, before, after)
				}
			} else {
				err = s.Update(t.Context(), func(tx *store.Tx) error {
					return tx.Patch(ref.Model, src, fmt.Appendf(nil, `{%q:%s}`, ref.Field, value(missing)), nil)
				})
				wantInvalid(t, err, map[string][]string{ref.Field: {validate.DoesNotExist(missingText)}}, nil)
			}
			body := fmt.Appendf(nil, `{%q:%s`, ref.Field, value(target))
			for _, other := range exclusive[ref.Model] {
				if other != ref.Field && slices.Contains(exclusive[ref.Model], ref.Field) {
					body = fmt.Appendf(body, `,%q:null`, other)
				}
			}
			body = append(body, '}')
			if err := s.Update(t.Context(), func(tx *store.Tx) error {
				return tx.Patch(ref.Model, src, body, nil)
			}); err != nil {
				t.Fatalf("pointing %s at its target: %v", ref.Field, err)
			}
			var used []store.UsedBy
			err = s.View(t.Context(), func(tx *store.Tx) (err error) {
				used, err = tx.UsedBy(ref.Target, target)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			action := "cascade"
			if ref.OnDelete == validate.SetNull || ref.OnDelete == validate.SetDefault || ref.OnDelete == validate.CascadeMany {
				action = string(ref.OnDelete)
			}
			found := slices.ContainsFunc(used, func(u store.UsedBy) bool { return u.PK == src.String() && u.Action == action })
			if found == (ref.Related == "+") {
				t.Errorf("used_by of the target = %+v; the source with action %s should appear: %v", used, action, ref.Related != "+")
			}
			err = s.Update(t.Context(), func(tx *store.Tx) error { return tx.Delete(ref.Target, target, nil) })
			switch ref.OnDelete {
			case validate.Protect:
				if !errors.Is(err, store.ErrProtected) {
					t.Fatalf("deleting a protected target = %v, want ErrProtected", err)
				}
				if err := s.Update(t.Context(), func(tx *store.Tx) error { return tx.Delete(ref.Model, src, nil) }); err != nil {
					t.Fatal(err)
				}
				return
			case validate.Cascade:
				if err != nil {
					t.Fatal(err)
				}
				err = s.View(t.Context(), func(tx *store.Tx) error { _, err := tx.Get(ref.Model, src); return err })
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("the source survived a cascade: %v", err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				err = s.View(t.Context(), func(tx *store.Tx) error {
					v, _ := field(t, tx, ref.Model, src, ref.Field)
					if strings.Contains(string(v), target.String()) {
						t.Errorf("%s still points at the deleted target: %s", ref.Field, v)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// wantInvalid checks a validation error's fields and non-field messages.
func wantInvalid(t *testing.T, err error, fields map[string][]string, nonField []string) {
	t.Helper()
	var ve *validate.Error
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v, want a *validate.Error", err)
	}
	for f, msgs := range fields {
		if !slices.Equal(ve.Fields[f], msgs) {
			t.Errorf("%s: %q, want %q", f, ve.Fields[f], msgs)
		}
	}
	if nonField != nil && !slices.Equal(ve.NonField, nonField) {
		t.Errorf("non-field: %q, want %q", ve.NonField, nonField)
	}
}
