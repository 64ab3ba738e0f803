package store_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

var errRollback = errors.New("rollback")

// FuzzPatchStored applies arbitrary bytes as a merge patch to a stored
// flow, Duo stage and binding. A patch must never panic; a rejected one
// must leave everything as it was; an accepted one must leave an object
// that validates again (patching it with {} changes nothing) and a store
// whose invariants hold. Each patch runs in its own transaction, rolled
// back afterwards, so every input starts from the same state.
func FuzzPatchStored(f *testing.F) {
	s := newTestStore(f)
	fl := mkFlow(f, s, "f")
	other := mkFlow(f, s, "other")
	duo := mkDuo(f, s, "duo", &fl.PK)
	uw := mkUserWrite(f, s, "uw")
	b := mkBinding(f, s, fl.PK, duo.PK, 10)
	mkBinding(f, s, fl.PK, uw.PK, 20)

	for _, seed := range []string{
		`{}`, `null`, `[]`, `"x"`, `1`, `1.5`, `true`, ``, `{"a":`, `{"a":1}{"b":2}`, `{} x`,
		`{"title":null}`, `{"title":"New"}`, `{"title":"\u0000"}`, `{"title":"  "}`,
		`{"slug":"other"}`, `{"slug":"F"}`, `{"slug":"New-Slug_1"}`, `{"slug":"no slug"}`,
		`{"designation":"recovery","layout":"content_left","compatibility_mode":"yes"}`,
		`{"pk":"x","stages":[1],"stage_obj":{},"flow_set":[{}],"export_url":null,"component":5}`,
		`{"unknown":1}`, `{"name":{"nested":{"deep":[1,2,{"x":null}]}}}`, `{"name":[[[[[[[[[[]]]]]]]]]]}`,
		`{"order":2147483647}`, `{"order":2147483648}`, `{"order":-2147483648}`, `{"order":-2147483649}`,
		`{"order":1e309}`, `{"order":"1_000"}`, `{"order":"0x10"}`, `{"order":10.0}`, `{"order":"` + strings.Repeat("9", 1001) + `"}`,
		`{"order":20,"stage":"` + uw.PK.String() + `"}`, `{"target":"` + other.PK.String() + `"}`,
		`{"target":"00000000-0000-0000-0000-000000000000"}`, `{"target":340282366920938463463374607431768211455}`,
		`{"target":""}`, `{"stage":null}`, `{"stage":true}`,
		`{"evaluate_on_plan":false,"re_evaluate_policies":false}`, `{"re_evaluate_policies":"off","evaluate_on_plan":"on"}`,
		`{"configure_flow":null}`, `{"configure_flow":""}`, `{"configure_flow":"` + other.PK.String() + `"}`,
		`{"configure_flow":"00000000-0000-0000-0000-000000000000"}`, `{"configure_flow":"` + uw.PK.String() + `"}`,
		`{"friendly_name":null}`, `{"friendly_name":""}`, `{"client_secret":null}`, `{"client_secret":""}`,
		`{"client_secret":12345,"admin_secret_key":null}`, `{"name":"uw"}`, `{"name":"Duo"}`, `{"name":12}`,
		`{"client_id":{"a":1},"api_hostname":[],"admin_integration_key":false}`,
	} {
		f.Add([]byte(seed))
	}

	reg := s.StageKinds()
	// Every input starts from this state: each transaction is rolled back.
	var before string
	if err := s.View(context.Background(), func(tx *store.Tx) error { before = snapshot(f, tx, reg); return nil }); err != nil {
		f.Fatal(err)
	}
	secrets := []string{duoSecret, duoAdminSecret}
	f.Fuzz(func(t *testing.T, patch []byte) {
		ctx := context.Background()
		type target struct {
			name  string
			patch func(tx *store.Tx, p []byte) (any, error)
			get   func(tx *store.Tx) (any, error)
		}
		slug := "f"
		targets := []target{
			{"flow",
				func(tx *store.Tx, p []byte) (any, error) {
					v, err := store.Flows.Patch(tx, store.By("slug", slug), p, nil)
					if err == nil {
						slug = v.Slug
					}
					return v, err
				},
				func(tx *store.Tx) (any, error) { return store.Flows.Get(tx, store.PK(fl.PK)) }},
			{"stage",
				func(tx *store.Tx, p []byte) (any, error) { return store.Stages.Patch(tx, store.PK(duo.PK), p, nil) },
				func(tx *store.Tx) (any, error) { return store.Stages.Get(tx, store.PK(duo.PK)) }},
			{"binding",
				func(tx *store.Tx, p []byte) (any, error) { return store.Bindings.Patch(tx, store.PK(b.PK), p, nil) },
				func(tx *store.Tx) (any, error) { return store.Bindings.Get(tx, store.PK(b.PK)) }},
		}
		for _, tg := range targets {
			slug = "f"
			err := s.Update(ctx, func(tx *store.Tx) error {
				v, err := tg.patch(tx, patch)
				if err != nil {
					testutil.WantRejection(t, tg.name, err)
					if after := snapshot(t, tx, reg); after != before {
						t.Errorf("%s: rejected patch %q changed the store:\nbefore:\n%s\nafter:\n%s", tg.name, patch, before, after)
					}
					for _, secret := range secrets {
						if !bytes.Contains(patch, []byte(secret)) && strings.Contains(err.Error(), secret) {
							t.Errorf("%s: error shows a secret: %v", tg.name, err)
						}
					}
					return errRollback
				}
				got, err := tg.get(tx)
				if err != nil {
					t.Fatalf("%s: get after an accepted patch: %v", tg.name, err)
				}
				if jsonOf(t, got) != jsonOf(t, v) {
					t.Errorf("%s: stored %s\npatch returned %s", tg.name, jsonOf(t, got), jsonOf(t, v))
				}
				again, err := tg.patch(tx, []byte(`{}`))
				if err != nil {
					t.Fatalf("%s: the patched object no longer validates: {} gives %v (patch %q)", tg.name, err, patch)
				}
				if jsonOf(t, again) != jsonOf(t, v) {
					t.Errorf("%s: {} changed the object:\n%s\n%s", tg.name, jsonOf(t, again), jsonOf(t, v))
				}
				if tg.name == "stage" && !bytes.Contains(patch, []byte("secret")) {
					st := stage.View{Stage: got.(stage.Stage)}
					if c := duoConfig(t, st); c.ClientSecret.Reveal() != duoSecret || c.AdminSecretKey.Reveal() != duoAdminSecret {
						t.Errorf("a patch without secrets changed them: %q", patch)
					}
				}
				checkInvariantsTx(t, tx)
				return errRollback
			})
			if !errors.Is(err, errRollback) {
				t.Fatalf("%s: Update = %v", tg.name, err)
			}
		}
	})
}
