package store

import (
	"fmt"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/google/uuid"
)

// ModelStage is the model of stages, every kind of them; a kind's own
// model name (such as stage.ModelUserWrite) names one kind.
const ModelStage = "authentik_flows.stage"

// stagesDecl declares stages: one collection of every registered kind,
// with unique names and an index by kind and name.
func stagesDecl(reg *stage.Registry, _ *policy.Registry) *collection {
	return &collection{
		path:   "stages/all",
		bucket: "stages", model: ModelStage, alias: "stage", verbose: "stage", codec: stageFamily(reg),
		unique:      []uniqueField{{field: "name", bucket: "stages_by_name", hash: true}},
		kindIndex:   "stages_by_model",
		unknownKind: stage.ErrUnknownKind,
		indexes: []index{
			{bucket: "stages_by_model_name", fields: []string{kindField, "name"}, counted: true},
		},
		view:      viewBy((*Tx).stageView),
		typedView: (*Tx).stageView,
		// Every stage in pk order (the all-kinds default), and one
		// kind's by name (its default).
		walkOn: []walkOn{{field: "pk"}, {field: kindField}},
		list: func(tx *Tx, kind string, q Query) (Page[any], error) {
			return (tx.listStages(stage.ModelName(kind), q))
		},
	}
}

// stageFamily is the codec of the stages collection.
func stageFamily(reg *stage.Registry) family[stage.Stage] {
	return family[stage.Stage]{
		reg:    reg,
		pk:     func(s stage.Stage) uuid.UUID { return s.PK },
		setPK:  func(s *stage.Stage, pk uuid.UUID) { s.PK = pk },
		config: func(s stage.Stage) any { return s.Config },
		setCfg: func(s *stage.Stage, c any) { s.Config = c.(stage.Config) },
		common: func(s stage.Stage, f string) (any, bool) {
			if f == "name" {
				return s.Name, true
			}
			return nil, false
		},
		strOf: func(s stage.Stage) string {
			if k, ok := reg.Lookup(s.Model()); ok && k.StrPrefix != "" {
				return k.StrPrefix + s.Name
			}
			return "Stage " + s.Name
		},
		baseOf:      func(s stage.Stage) string { return "Stage " + s.Name },
		commonNames: []string{"name"},
	}
}

func (tx *Tx) mustStage(id uuid.UUID) (stage.Stage, error) {
	return as[stage.Stage](tx.must(tx.s.schema.stages, id))
}

// flowSet lists the flows that bind the stage, one entry per binding, in
// binding pk order.
func (tx *Tx) flowSet(id uuid.UUID) ([]flow.Set, error) {
	out := []flow.Set{}
	flows, err := tx.indexValues(tx.s.schema.bindings, "stage", id)
	if err != nil {
		return nil, err
	}
	for _, fid := range flows {
		f, err := as[flow.Flow](tx.must(tx.s.schema.flows, fid))
		if err != nil {
			return nil, err
		}
		out = append(out, flow.Set{Flow: f})
	}
	return out, nil
}

func (tx *Tx) stageView(st stage.Stage) (stage.View, error) {
	k, ok := tx.s.reg.Lookup(st.Model())
	if !ok {
		return stage.View{}, fmt.Errorf("store: stage %s: %w: %q", st.PK, stage.ErrUnknownKind, st.Model())
	}
	fs, err := tx.flowSet(st.PK)
	if err != nil {
		return stage.View{}, err
	}
	return stage.View{Stage: st, Kind: k, FlowSet: fs}, nil
}

// ListStages lists the stages of kind model, or of every kind when model
// is "" (authentik's /stages/all/).
//
// A kind's list filters on stage_uuid, name and the kind's
// [stage.Kind.Filters], searches on name, orders by name by default and
// may be ordered by pk, name or any config field that is not write-only.
// A config field filters by its Go type: bool as a boolean, uuid.UUID (or
// a pointer to one) as a UUID, integers as numbers, plain strings as text,
// and named string types as choices, checked by the kind's own field rules
// (a value they reject with validate's Choice rule is the error "Select a
// valid choice."; with no such rule every value is accepted, and one that
// is not a choice matches nothing). The all-kinds list filters and
// searches on name and defaults to pk order.
func (tx *Tx) listStages(model stage.ModelName, q Query) (Page[any], error) {
	var k *stage.Kind
	if model != "" {
		kd, ok := tx.s.reg.Lookup(model)
		if !ok {
			return Page[any]{}, fmt.Errorf("store: %w: %q", stage.ErrUnknownKind, model)
		}
		k = &kd
	}
	noFlows := column{name: "no_flows", kind: colBool, filter: true, get: func(obj any) (any, error) {
		n, err := tx.indexCount(tx.s.schema.bindings, "stage", obj.(stage.Stage).PK)
		return n == 0, err
	}}
	return listFamily[stage.Stage](tx, familyListing{
		c: tx.s.schema.stages, pkName: "stage_uuid", walks: tx.s.schema.stages.walks,
		computed: []column{noFlows},
	}, k, string(model), q)
}
