package store

import (
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/google/uuid"
)

// ModelFlow is the model of flows: the "<app>.<model>" that authentik's
// used_by and blueprints name them by, as the other Model constants.
const ModelFlow = "authentik_flows.flow"

// flowsDecl declares flows: keyed by pk and by their unique slug, with
// the designation index that a designation filter walks.
func flowsDecl(*stage.Registry, *policy.Registry) *collection {
	return &collection{
		path: "flows/instances", key: "slug",
		bucket: "flows", model: ModelFlow, alias: "flow", verbose: "Flow", codec: flowCodec, pbm: true, cached: true,
		unique: []uniqueField{{field: "slug", bucket: "flows_by_slug"}},
		indexes: []index{
			{bucket: "flows_by_designation", fields: []string{"designation", "slug"}, counted: true},
		},
		view:      viewBy((*Tx).flowView),
		typedView: (*Tx).flowView,
		list:      listRecords((*Tx).listFlows),
		// The default ordering (slug) is the slug index's order, and
		// within one designation the designation index's.
		walkOn: []walkOn{{field: "slug"}, {field: "designation", filter: true}},
	}
}

var flowCodec = plain[flow.Flow]{
	defaults: flow.Defaults,
	apply:    flow.Decode,
	getIDs:   func(f flow.Flow) (uuid.UUID, uuid.UUID) { return f.PK, f.PolicyBindingModelPtrID },
	setIDs:   func(f *flow.Flow, pk, pbm uuid.UUID) { f.PK, f.PolicyBindingModelPtrID = pk, pbm },
	strOf:    flow.Flow.String,
}.withSchema()

// flowListing: filters flow_uuid, name, slug, designation, denied_action;
// search on name, slug, designation, title, denied_action; default
// ordering slug, name.
var flowListing = listing[flow.Flow]{
	cols: []column{
		{name: "flow_uuid", kind: colUUID, filter: true, field: "pk"},
		{name: "name", filter: true, search: true, order: true},
		{name: "slug", filter: true, search: true, order: true},
		{name: "title", search: true, order: true},
		{name: "designation", kind: colChoice, choices: strs(flow.Designations), filter: true, search: true, order: true},
		{name: "denied_action", kind: colChoice, choices: strs(flow.DeniedActions), filter: true, search: true, order: true},
		{name: "layout", order: true},
		{name: "authentication", order: true},
		{name: "policy_engine_mode", order: true},
		{name: "compatibility_mode", kind: colBool, order: true},
	},
	defaultOrder: "slug,name",
}

// ListFlows lists flows with authentik's filters, search, ordering and
// pagination.
func (tx *Tx) listFlows(q Query) (Page[any], error) {
	c := tx.s.schema.flows
	return listOf(tx, c, flowListing, c.walks, nil, q,
		func(_ map[string]any, pre func([]byte) bool, yield func(obj any) error) error {
			return tx.scanRecords(c, pre, yield)
		})
}

// flowView adds the computed fields: stages from the bindings index, in
// binding order.
func (tx *Tx) flowView(f flow.Flow) (flow.View, error) {
	v := flow.View{Flow: f}
	var err error
	if v.Stages, err = tx.indexValues(tx.s.schema.bindings, "target", f.PK); err != nil {
		return v, err
	}
	v.Policies, err = tx.boundPolicies(f.PK)
	return v, err
}

// SetBackgroundURL stores url verbatim as the background of the flow that
// k names ("" restores the default), as authentik's set_background_url
// action does, and returns the flow. Like a replace, it takes a revision
// when it changes the flow and honours o's UnchangedSince. A url longer
// than flow.MaxBackgroundLength is a *validate.Error on "url".
func SetBackgroundURL(tx *Tx, k Key, url string, o *WriteOptions) (flow.Flow, error) {
	if err := tx.canWrite(); err != nil {
		return flow.Flow{}, err
	}
	c, obj, err := tx.byKey(ModelFlow, k)
	if err != nil {
		return flow.Flow{}, err
	}
	if err := tx.precondition(c, obj, o); err != nil {
		return flow.Flow{}, err
	}
	cur := obj.(flow.Flow)
	next := cur
	if err := next.SetBackgroundURL(url); err != nil {
		return flow.Flow{}, err
	}
	if err := tx.put(c, cur, next); err != nil {
		return flow.Flow{}, err
	}
	return next, nil
}
