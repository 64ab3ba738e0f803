package store

import (
	"fmt"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/google/uuid"
)

// ModelBinding is the model of flow-stage bindings.
const ModelBinding = "authentik_flows.flowstagebinding"

// bindingsDecl declares flow-stage bindings: the ordered join of flows
// and stages, with a flow's bindings in order and a stage's flows
// indexed.
func bindingsDecl(*stage.Registry, *policy.Registry) *collection {
	return &collection{
		path:   "flows/bindings",
		bucket: "bindings", model: ModelBinding, alias: "binding", codec: bindingCodec, pbm: true, cached: true,
		together: []string{"target", "stage", "order"},
		indexes: []index{
			{bucket: "bindings_by_flow", fields: []string{"target", "order"}, value: "stage", counted: true},
			{bucket: "bindings_by_order", fields: []string{"order"}},
			{bucket: "bindings_by_stage", fields: []string{"stage"}, value: "target", counted: true},
		},
		through:   &through{from: "target", to: "stage", fromAccessor: "stages", toAccessor: "flow_set"},
		view:      viewBy((*Tx).bindingView),
		typedView: (*Tx).bindingView,
		list:      listRecords((*Tx).listBindings),
		// The default ordering (order, then pk) is the order index's,
		// and within one flow the flow's bindings index's.
		walkOn: []walkOn{{field: "order"}, {field: "target", filter: true}},
	}
}

var bindingCodec = plain[binding.Binding]{
	defaults: binding.Defaults,
	apply:    binding.Decode,
	getIDs:   func(b binding.Binding) (uuid.UUID, uuid.UUID) { return b.PK, b.PolicyBindingModelPtrID },
	setIDs:   func(b *binding.Binding, pk, pbm uuid.UUID) { b.PK, b.PolicyBindingModelPtrID = pk, pbm },
	strOf:    binding.Binding.String,
}.withSchema()

func (tx *Tx) bindingView(b binding.Binding) (binding.View, error) {
	st, err := tx.mustStage(b.Stage)
	if err != nil {
		return binding.View{}, fmt.Errorf("store: binding %s: %w", b.PK, err)
	}
	sv, err := tx.stageView(st)
	if err != nil {
		return binding.View{}, err
	}
	return binding.View{Binding: b, StageObj: stage.Summary{View: sv}}, nil
}

// bindingListing: every field filters (seed-era filterset __all__); search
// on the stage's name; ordering by order or stage__name (the seed era's
// ordering_fields, so not pk), default order.
var bindingListing = listing[binding.Binding]{
	pkFixed: true,
	cols: []column{
		{name: "fsb_uuid", kind: colUUID, filter: true, field: "pk"},
		{name: "pbm_uuid", kind: colUUID, filter: true, field: "policybindingmodel_ptr_id"},
		{name: "target", kind: colUUID, filter: true},
		{name: "stage", kind: colUUID, filter: true},
		{name: "evaluate_on_plan", kind: colBool, filter: true},
		{name: "re_evaluate_policies", kind: colBool, filter: true},
		{name: "invalid_response_action", kind: colChoice, choices: strs(binding.InvalidResponseActions), filter: true},
		{name: "order", kind: colInt, filter: true, order: true},
		{name: "policy_engine_mode", kind: colChoice, choices: strs(flow.PolicyEngineModes), filter: true},
		{name: "policies", kind: colUUID, filter: true}, // the policies bound to the binding: see ListBindings
		{name: "stage__name", search: true, order: true},
	},
	defaultOrder: "order",
}

// ListBindings lists bindings. With a "target" filter it reads only that
// flow's bindings, through the index.
func (tx *Tx) listBindings(q Query) (Page[any], error) {
	names := map[uuid.UUID]string{} // stage names, for stage__name
	l := bindingListing.with(map[string]func(any) (any, error){
		"stage__name": func(obj any) (any, error) {
			id := obj.(binding.Binding).Stage
			if name, ok := names[id]; ok {
				return name, nil
			}
			st, err := tx.mustStage(id)
			if err != nil {
				return nil, err
			}
			if len(names) < 4096 {
				names[id] = st.Name
			}
			return st.Name, nil
		},
		"policies": func(obj any) (any, error) {
			ids, err := tx.boundPolicies(obj.(binding.Binding).PK)
			return manyOf(ids), err
		},
	})
	c := tx.s.schema.bindings
	return listOf(tx, c, l, c.walks, nil, q,
		func(filters map[string]any, _ func([]byte) bool, yield func(obj any) error) error {
			return tx.scanWalk(c, c.walks, nil, filters, nil, yield)
		})
}
