package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/google/uuid"
)

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// flowListing: filters flow_uuid, name, slug, designation, denied_action;
// search on name, slug, designation, title, denied_action; default
// ordering slug, name.
var flowListing = listing[flow.View]{
	cols: []column{
		{name: "flow_uuid", kind: colUUID, filter: true},
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

func flowRow(f flow.Flow) row {
	pk := f.PK.String()
	return row{"pk": pk, "flow_uuid": pk, "name": f.Name, "slug": f.Slug, "title": f.Title,
		"designation": string(f.Designation), "denied_action": string(f.DeniedAction),
		"layout": string(f.Layout), "authentication": string(f.Authentication),
		"policy_engine_mode": string(f.PolicyEngineMode), "compatibility_mode": f.CompatibilityMode}
}

// ListFlows lists flows with authentik's filters, search, ordering and
// pagination.
func (tx *Tx) ListFlows(q Query) (Page[flow.View], error) {
	var items []item[flow.View]
	c := tx.bucket(bucketFlows).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		f, _, err := tx.loadFlow(idFrom(k))
		if err != nil {
			return Page[flow.View]{}, err
		}
		items = append(items, item[flow.View]{v: flow.View{Flow: f}, row: flowRow(f)})
	}
	p, err := flowListing.page(items, q, tx.s.maxPage)
	if err != nil {
		return p, err
	}
	for i := range p.Results {
		p.Results[i] = tx.flowView(p.Results[i].Flow)
	}
	return p, nil
}

// bindingListing: every field filters (seed-era filterset __all__); search
// on the stage's name; ordering by order or stage__name, default order.
var bindingListing = listing[binding.Binding]{
	cols: []column{
		{name: "fsb_uuid", kind: colUUID, filter: true},
		{name: "pbm_uuid", kind: colUUID, filter: true},
		{name: "target", kind: colUUID, filter: true},
		{name: "stage", kind: colUUID, filter: true},
		{name: "evaluate_on_plan", kind: colBool, filter: true},
		{name: "re_evaluate_policies", kind: colBool, filter: true},
		{name: "invalid_response_action", kind: colChoice, choices: strs(binding.InvalidResponseActions), filter: true},
		{name: "order", kind: colInt, filter: true, order: true},
		{name: "policy_engine_mode", kind: colChoice, choices: strs(flow.PolicyEngineModes), filter: true},
		{name: "policies", kind: colUUID, filter: true},
		{name: "stage__name", search: true, order: true},
	},
	defaultOrder: "order",
}

// ListBindings lists bindings. With a "target" filter it reads only that
// flow's bindings, through the index.
func (tx *Tx) ListBindings(q Query) (Page[binding.View], error) {
	var ids []uuid.UUID
	target, byTarget := q.Filters["target"]
	tid, perr := uuid.Parse(target)
	if byTarget && perr == nil {
		c := tx.bucket(bucketByFlow).Cursor()
		for k, _ := c.Seek(tid[:]); len(k) == 36 && string(k[:16]) == string(tid[:]); k, _ = c.Next() {
			ids = append(ids, idFrom(k[20:]))
		}
	} else {
		c := tx.bucket(bucketBindings).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			ids = append(ids, idFrom(k))
		}
	}
	names := map[uuid.UUID]string{}
	items := make([]item[binding.Binding], 0, len(ids))
	for _, id := range ids {
		b, err := tx.mustBinding(id)
		if err != nil {
			return Page[binding.View]{}, err
		}
		name, ok := names[b.Stage]
		if !ok {
			st, err := tx.mustStage(b.Stage)
			if err != nil {
				return Page[binding.View]{}, err
			}
			name = st.Name
			names[b.Stage] = name
		}
		items = append(items, item[binding.Binding]{v: b, row: row{
			"pk": b.PK.String(), "fsb_uuid": b.PK.String(), "pbm_uuid": b.PolicyBindingModelPtrID.String(),
			"target": b.Target.String(), "stage": b.Stage.String(),
			"evaluate_on_plan": b.EvaluateOnPlan, "re_evaluate_policies": b.ReEvaluatePolicies,
			"invalid_response_action": string(b.InvalidResponseAction), "order": int64(b.Order),
			"policy_engine_mode": string(b.PolicyEngineMode), "policies": "-", "stage__name": name,
		}})
	}
	p, err := bindingListing.page(items, q, tx.s.maxPage)
	if err != nil {
		return Page[binding.View]{}, err
	}
	return mapPage(p, tx.bindingView)
}

// mapPage turns a page of stored values into a page of views.
func mapPage[A, B any](p Page[A], fn func(A) (B, error)) (Page[B], error) {
	out := Page[B]{Pagination: p.Pagination, Results: make([]B, 0, len(p.Results))}
	for _, a := range p.Results {
		b, err := fn(a)
		if err != nil {
			return Page[B]{}, err
		}
		out.Results = append(out.Results, b)
	}
	return out, nil
}

// ListStages lists the stages of kind model, or of every kind when model
// is "" (authentik's /stages/all/). A kind's list filters on stage_uuid,
// name, no_flows and each of the kind's fields except write-only ones,
// searches on name, and orders by name by default; the all-kinds list
// filters on name and defaults to pk order.
func (tx *Tx) ListStages(model stage.ModelName, q Query) (Page[stage.View], error) {
	l := listing[stage.Stage]{cols: []column{
		{name: "name", filter: true, search: true, order: true},
	}}
	var ids []uuid.UUID
	if model == "" {
		c := tx.bucket(bucketStages).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			ids = append(ids, idFrom(k))
		}
	} else {
		k, ok := tx.s.reg.Lookup(model)
		if !ok {
			return Page[stage.View]{}, fmt.Errorf("store: %w: %q", stage.ErrUnknownKind, model)
		}
		l.defaultOrder = "name"
		l.cols = append(l.cols, column{name: "stage_uuid", kind: colUUID, filter: true},
			column{name: "no_flows", kind: colBool, filter: true})
		for _, n := range k.Schema().Names() {
			if !k.Schema().WriteOnly(n) {
				l.cols = append(l.cols, column{name: n, filter: true, order: true})
			}
		}
		prefix := modelKey(string(model), uuid.Nil)[:len(model)+1]
		c := tx.bucket(bucketStageModels).Cursor()
		for key, _ := c.Seek(prefix); len(key) == len(prefix)+16 && string(key[:len(prefix)]) == string(prefix); key, _ = c.Next() {
			ids = append(ids, idFrom(key[len(prefix):]))
		}
	}
	items := make([]item[stage.Stage], 0, len(ids))
	for _, id := range ids {
		st, err := tx.mustStage(id)
		if err != nil {
			return Page[stage.View]{}, err
		}
		r := row{"pk": st.PK.String(), "stage_uuid": st.PK.String(), "name": st.Name}
		if model != "" {
			if err := configRow(tx, st, r); err != nil {
				return Page[stage.View]{}, err
			}
		}
		items = append(items, item[stage.Stage]{v: st, row: r})
	}
	p, err := l.page(items, q, tx.s.maxPage)
	if err != nil {
		return Page[stage.View]{}, err
	}
	return mapPage(p, tx.stageView)
}

// configRow adds the stage's config fields to r as strings (the form in
// which query parameters arrive: true/false, numbers, "" for null) and
// no_flows.
func configRow(tx *Tx, st stage.Stage, r row) error {
	k, _ := tx.s.reg.Lookup(st.Model())
	b, err := k.Schema().AppendJSON([]byte{'{'}, st.Config, false)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(append(b, '}'), &m); err != nil {
		return err
	}
	for name, v := range m {
		switch x := v.(type) {
		case nil:
			r[name] = ""
		case string:
			r[name] = x
		default:
			r[name] = fmt.Sprint(x)
		}
	}
	c := tx.bucket(bucketByStage).Cursor()
	k0, _ := c.Seek(st.PK[:])
	r["no_flows"] = !(len(k0) == 32 && string(k0[:16]) == string(st.PK[:]))
	return nil
}

// ListFlows lists flows; see [Tx.ListFlows].
func (s *Store) ListFlows(ctx context.Context, q Query) (Page[flow.View], error) {
	return view(s, ctx, func(tx *Tx) (Page[flow.View], error) { return tx.ListFlows(q) })
}

// ListBindings lists bindings; see [Tx.ListBindings].
func (s *Store) ListBindings(ctx context.Context, q Query) (Page[binding.View], error) {
	return view(s, ctx, func(tx *Tx) (Page[binding.View], error) { return tx.ListBindings(q) })
}

// ListStages lists stages; see [Tx.ListStages].
func (s *Store) ListStages(ctx context.Context, model stage.ModelName, q Query) (Page[stage.View], error) {
	return view(s, ctx, func(tx *Tx) (Page[stage.View], error) { return tx.ListStages(model, q) })
}
