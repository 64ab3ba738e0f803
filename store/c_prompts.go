package store

import (
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/google/uuid"
)

// promptsDecl declares prompts, the inputs of prompt stages, with unique
// names and an index by field key.
func promptsDecl(*stage.Registry, *policy.Registry) *collection {
	return &collection{
		path:   "stages/prompt/prompts",
		bucket: "prompts", model: ModelPrompt, alias: "prompt", verbose: "Prompt", codec: promptCodec, cached: true,
		unique: []uniqueField{{field: "name", bucket: "prompts_by_name", hash: true}},
		indexes: []index{
			{bucket: "prompts_by_field_key", fields: []string{"field_key"}},
		},
		view:      viewBy((*Tx).promptView),
		typedView: (*Tx).promptView,
		// The default ordering, field_key, is its index's.
		walkOn: []walkOn{{field: "field_key"}},
		list:   listRecords((*Tx).listPrompts),
	}
}

// ModelPrompt is the model of prompts, the inputs of prompt stages.
const ModelPrompt = string(stage.ModelPrompt)

var promptCodec = plain[stage.Prompt]{
	defaults: stage.DefaultPrompt,
	apply:    stage.DecodePrompt,
	getIDs:   func(p stage.Prompt) (uuid.UUID, uuid.UUID) { return p.PK, uuid.Nil },
	setIDs:   func(p *stage.Prompt, pk, _ uuid.UUID) { p.PK = pk },
	strOf:    stage.Prompt.String,
}.withSchema()

// promptView adds promptstage_set: the prompt stages that show the
// prompt, in the stage representation.
func (tx *Tx) promptView(p stage.Prompt) (stage.PromptView, error) {
	ids, err := tx.referrers(p.PK, refField{tx.s.schema.stages, "fields"})
	if err != nil {
		return stage.PromptView{}, err
	}
	v := stage.PromptView{Prompt: p, Stages: make([]stage.Summary, 0, len(ids))}
	for _, id := range ids {
		st, err := viewed(tx.stageView)(tx.must(tx.s.schema.stages, id))
		if err != nil {
			return stage.PromptView{}, err
		}
		v.Stages = append(v.Stages, stage.Summary{View: st})
	}
	return v, nil
}

// promptListing: filters and search on field_key, name, label, type and
// placeholder; default ordering field_key.
var promptListing = listing[stage.Prompt]{
	cols: []column{
		{name: "prompt_uuid", kind: colUUID, field: "pk"},
		{name: "field_key", filter: true, search: true, order: true},
		{name: "name", filter: true, search: true, order: true},
		{name: "label", filter: true, search: true, order: true},
		{name: "type", kind: colChoice, choices: strs(stage.PromptTypes), filter: true, search: true, order: true},
		{name: "placeholder", filter: true, search: true, order: true},
		{name: "required", kind: colBool, order: true},
		{name: "order", kind: colInt, order: true},
	},
	defaultOrder: "field_key",
}

// ListPrompts lists prompts with authentik's filters, search, ordering
// and pagination.
func (tx *Tx) listPrompts(q Query) (Page[any], error) {
	c := tx.s.schema.prompts
	return listOf(tx, c, promptListing, c.walks, nil, q,
		func(filters map[string]any, pre func([]byte) bool, yield func(obj any) error) error {
			return tx.scanWalk(c, c.walks, nil, filters, pre, yield)
		})
}
