package store

import (
	"github.com/authflow/authflow/stage"
	"github.com/google/uuid"
)

// ModelPrompt is the model of prompts, the inputs of prompt stages.
const ModelPrompt = string(stage.ModelPrompt)

var promptCodec = plain[stage.Prompt]{
	defaults: stage.DefaultPrompt,
	apply:    stage.DecodePrompt,
	getIDs:   func(p stage.Prompt) (uuid.UUID, uuid.UUID) { return p.PK, uuid.Nil },
	setIDs:   func(p *stage.Prompt, pk, _ uuid.UUID) { p.PK = pk },
	strOf:    stage.Prompt.String,
}.withSchema()

// referrers are the pks of the objects of coll whose field refers to pk,
// from the reference index.
func (tx *Tx) referrers(pk uuid.UUID, coll *collection, field string) ([]uuid.UUID, error) {
	var out []uuid.UUID
	err := tx.scanCounted(bucketRefs, pk[:], func(k, v []byte) (bool, error) {
		c, f, err := tx.refEntry(k, v)
		if err != nil {
			return false, err
		}
		if c == coll && f == field {
			out = append(out, idFrom(k[16:32]))
		}
		return true, nil
	})
	return out, err
}

// promptView adds promptstage_set: the prompt stages that show the
// prompt, in the stage representation.
func (tx *Tx) promptView(p stage.Prompt) (stage.PromptView, error) {
	ids, err := tx.referrers(p.PK, tx.s.schema.stages, "fields")
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

var promptWalks = []indexWalk{
	{bucket: "prompts_by_field_key", countKey: "prompts", pkAt: -16, text: true},
}

// ListPrompts lists prompts with authentik's filters, search, ordering
// and pagination.
func (tx *Tx) listPrompts(q Query) (Page[stage.PromptView], error) {
	c := tx.s.schema.prompts
	return listOf(tx, c, promptListing, promptWalks, nil, q, tx.promptView,
		func(filters map[string]any, pre func([]byte) bool, yield func(obj any) error) error {
			return tx.scanWalk(c, promptWalks, nil, filters, pre, yield)
		})
}
