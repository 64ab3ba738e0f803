package blueprint_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/authflow/authflow/blueprint"
)

// FuzzApply parses any bytes and dry-runs what parses: an error is
// ErrInvalid, never a panic, and a dry run writes nothing.
func FuzzApply(f *testing.F) {
	for _, seed := range []string{
		"version: 1\nentries:\n- model: authentik_flows.flow\n  identifiers: {slug: x}\n  attrs: {name: X, title: X, designation: authentication}\n",
		"version: 1\nentries:\n- model: authentik_stages_deny.denystage\n  identifiers: {name: !Format [\"%s\", !Enumerate [[1], SEQ, !Value 0]]}\n",
		"version: 1\na: &a [1, *a]\n", "version: 1\nentries: {s: [{model: a.b, state: absent}]}\n", "{{{", "version: !KeyOf x\n",
		"version: 1\ncontext: {a: !Context b, b: !Format [\"%s\", !Context [c, !Context a]], d: &d {e: !If [!Context a, *d, 1]}}\nentries: [{model: x.y, conditions: [!Context d]}]\n",
		"version: 1\nentries:\n- model: authentik_policies.policybinding\n  identifiers: {target: !Find [authentik_flows.flow, [slug, x]], order: !ParseJSON '1e999'}\n",
	} {
		f.Add([]byte(seed))
	}
	s := newStore(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		bp, err := blueprint.Parse(bytes.NewReader(doc), blueprint.Limits{MaxBytes: 1 << 16, MaxNodes: 10000})
		if err != nil {
			if !errors.Is(err, blueprint.ErrInvalid) {
				t.Fatalf("Parse: %v is not ErrInvalid", err)
			}
			return
		}
		if _, err := blueprint.Apply(context.Background(), s, bp, blueprint.Options{DryRun: true}); err != nil {
			t.Fatalf("Apply: %v", err)
		}
	})
}
