package blueprint

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"
)

// exportEntry is one entry of an export, its keys in the sorted order
// authentik writes them.
type exportEntry struct {
	Attrs       map[string]any `yaml:"attrs"`
	Conditions  []any          `yaml:"conditions"`
	Identifiers map[string]any `yaml:"identifiers"`
	Model       string         `yaml:"model"`
	Permissions []any          `yaml:"permissions"`
	State       State          `yaml:"state"`
}

type exportDoc struct {
	Context  map[string]any `yaml:"context"`
	Entries  []exportEntry  `yaml:"entries"`
	Metadata struct {
		Labels map[string]string `yaml:"labels"`
		Name   string            `yaml:"name"`
	} `yaml:"metadata"`
	Version int `yaml:"version"`
}

// Export writes the flow with slug as authentik's seed-era export does:
// the flow (identified by pk and slug), the prompts of its prompt stages,
// the policies bound to it or its bindings and the prompt stages'
// validation policies, its stages (pk and name), its bindings (pk,
// target, stage, order) and the policy bindings (pk, policy, target,
// order), each with the attrs a write may set, less those that hold their
// field's empty value (null, false, "", [], {}) when that is also its
// default or it has none, unless the field is required (an empty value
// other than the default, and a required field's, are kept, so that the
// export carries every value and imports again), keys sorted. Secrets
// are left out (store.Store.Secrets): the write-only fields, as in
// authentik, and also those a response shows (an SMS stage's auth, an
// email authenticator's password), which authentik exports; so an export
// never holds a secret in the clear, and a stage whose secret is
// required needs it given again to import.
func Export(tx *store.Tx, slug string, now time.Time) ([]byte, error) {
	objs, err := flowObjects(tx, slug)
	if err != nil {
		return nil, err
	}
	var doc exportDoc
	doc.Version = 1
	doc.Context = map[string]any{}
	doc.Metadata.Name = "authentik Export - " + now.UTC().Format("2006-01-02 15:04:05.000000+00:00")
	doc.Metadata.Labels = map[string]string{"blueprints.goauthentik.io/generated": "true"}
	// authentik's flow exporter identifies each object by its pk and, for
	// some models, these fields (prompts and policies by pk alone): its
	// choices, kept so that an export reads as authentik's.
	idFields := map[string][]string{store.ModelFlow: {"slug"}, store.ModelStage: {"name"},
		store.ModelBinding: {"target", "stage", "order"}, store.ModelPolicyBinding: {"policy", "target", "order"}}
	for _, o := range objs {
		ids := map[string]any{"pk": o.pk.String()}
		for _, k := range idFields[o.coll] {
			ids[k] = o.attrs[k]
		}
		attrs := map[string]any{}
		secrets := tx.Store().Secrets(o.model)
		for k, v := range o.attrs {
			if !leftOut(tx.Store(), o.model, k, v, false) && !slices.Contains(secrets, k) {
				attrs[k] = v
			}
		}
		doc.Entries = append(doc.Entries, exportEntry{Attrs: attrs, Conditions: []any{}, Identifiers: ids,
			Model: o.model, Permissions: []any{}, State: Present})
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("blueprint: export: %w", err)
	}
	return buf.Bytes(), enc.Close()
}

// exported is one object of a flow's export.
type exported struct {
	coll, model string // the collection's model, the object's own
	pk          uuid.UUID
	attrs       map[string]any
	id          string
}

// flowObjects are the objects a flow's export holds, in authentik's
// order: the flow, the prompts of its prompt stages, the policies bound
// to it or its bindings and the prompt stages' validation policies, its
// stages, its bindings, and the policy bindings.
func flowObjects(tx *store.Tx, slug string) ([]exported, error) {
	f, err := store.Flows.Get(tx, store.By("slug", slug))
	if err != nil {
		return nil, err
	}
	var out []exported
	// Every object but the flow is reached through a stored reference:
	// one missing is damage (store.Dangling).
	add := func(coll string, pk uuid.UUID) error {
		model, err := tx.KindOf(coll, pk)
		if err != nil {
			return store.Dangling(err)
		}
		attrs, err := tx.Attrs(model, pk)
		if err != nil {
			return store.Dangling(err)
		}
		out = append(out, exported{coll: coll, model: model, pk: pk, attrs: attrs})
		return nil
	}
	if err := add(store.ModelFlow, f.PK); err != nil {
		return nil, err
	}
	bindings, err := store.Bindings.ByRef(tx, "target", f.PK)
	if err != nil {
		return nil, err
	}
	once := func(list []uuid.UUID, ids ...uuid.UUID) []uuid.UUID {
		for _, id := range ids {
			if !slices.Contains(list, id) {
				list = append(list, id)
			}
		}
		return list
	}
	var prompts, policies, stages, pbs []uuid.UUID
	targets := []uuid.UUID{f.PK}
	for _, b := range bindings {
		targets = append(targets, b.PK)
		stages = once(stages, b.Stage)
		attrs, err := tx.Attrs(store.ModelStage, b.Stage)
		if err != nil {
			return nil, store.Dangling(err)
		}
		if fields, ok := attrs["fields"].([]any); ok {
			prompts = once(prompts, uuids(fields)...)
		}
		if vp, ok := attrs["validation_policies"].([]any); ok {
			policies = once(policies, uuids(vp)...)
		}
	}
	for _, t := range targets {
		list, err := store.PolicyBindings.ByRef(tx, "target", t)
		if err != nil {
			return nil, err
		}
		for _, pb := range list {
			pbs = append(pbs, pb.PK)
			if pb.Policy != nil {
				policies = once(policies, *pb.Policy)
			}
		}
	}
	for _, group := range []struct {
		coll string
		pks  []uuid.UUID
	}{{store.ModelPrompt, prompts}, {store.ModelPolicy, policies}, {store.ModelStage, stages}} {
		for _, pk := range group.pks {
			if err := add(group.coll, pk); err != nil {
				return nil, err
			}
		}
	}
	for _, b := range bindings {
		if err := add(store.ModelBinding, b.PK); err != nil {
			return nil, err
		}
	}
	for _, pb := range pbs {
		if err := add(store.ModelPolicyBinding, pb); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// empty reports whether v is a DRF field's initial value: what the
// seed-era export leaves out.
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func uuids(vs []any) []uuid.UUID {
	var out []uuid.UUID
	for _, v := range vs {
		if s, ok := v.(string); ok {
			if id, err := uuid.Parse(s); err == nil {
				out = append(out, id)
			}
		}
	}
	return out
}
