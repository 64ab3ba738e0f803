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
// field's empty value (null, false, "", [], {}), keys sorted. Write-only
// fields (secrets) are left out, as in authentik.
func Export(tx *store.Tx, slug string, now time.Time) ([]byte, error) {
	f, err := tx.GetFlowBySlug(slug)
	if err != nil {
		return nil, err
	}
	var doc exportDoc
	doc.Version = 1
	doc.Context = map[string]any{}
	doc.Metadata.Name = "authentik Export - " + now.UTC().Format("2006-01-02 15:04:05.000000+00:00")
	doc.Metadata.Labels = map[string]string{"blueprints.goauthentik.io/generated": "true"}
	add := func(model string, pk uuid.UUID, idFields ...string) error {
		actual, err := tx.Model(model, pk)
		if err != nil {
			return err
		}
		attrs, err := tx.Attrs(actual, pk)
		if err != nil {
			return err
		}
		ids := map[string]any{"pk": pk.String()}
		for _, k := range idFields {
			ids[k] = attrs[k]
		}
		for k, v := range attrs {
			if empty(v) || k == "pk" {
				delete(attrs, k)
			}
		}
		doc.Entries = append(doc.Entries, exportEntry{Attrs: attrs, Conditions: []any{}, Identifiers: ids,
			Model: actual, Permissions: []any{}, State: Present})
		return nil
	}
	if err := add(store.ModelFlow, f.PK, "slug"); err != nil {
		return nil, err
	}
	bindings, err := tx.FlowBindings(f.PK)
	if err != nil {
		return nil, err
	}
	var prompts, policies []uuid.UUID
	once := func(list []uuid.UUID, ids ...uuid.UUID) []uuid.UUID {
		for _, id := range ids {
			if !slices.Contains(list, id) {
				list = append(list, id)
			}
		}
		return list
	}
	var pbs []uuid.UUID
	targets := []uuid.UUID{f.PK}
	for _, b := range bindings {
		targets = append(targets, b.PK)
		attrs, err := tx.Attrs(store.ModelStage, b.Stage)
		if err != nil {
			return nil, err
		}
		if fields, ok := attrs["fields"].([]any); ok {
			prompts = once(prompts, uuids(fields)...)
		}
		if vp, ok := attrs["validation_policies"].([]any); ok {
			policies = once(policies, uuids(vp)...)
		}
	}
	for _, t := range targets {
		list, err := tx.PolicyBindings(t)
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
	for _, p := range prompts {
		if err := add(store.ModelPrompt, p); err != nil {
			return nil, err
		}
	}
	for _, p := range policies {
		if err := add(store.ModelPolicy, p); err != nil {
			return nil, err
		}
	}
	var stages []uuid.UUID
	for _, b := range bindings {
		stages = once(stages, b.Stage)
	}
	for _, st := range stages {
		if err := add(store.ModelStage, st, "name"); err != nil {
			return nil, err
		}
	}
	for _, b := range bindings {
		if err := add(store.ModelBinding, b.PK, "target", "stage", "order"); err != nil {
			return nil, err
		}
	}
	for _, pb := range pbs {
		if err := add(store.ModelPolicyBinding, pb, "policy", "target", "order"); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("blueprint: export: %w", err)
	}
	return buf.Bytes(), enc.Close()
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
