package store

import (
	"fmt"
	"maps"

	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store/kv"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

var policyBindingCodec = plain[policy.Binding]{
	defaults: policy.DefaultBinding,
	apply:    policy.DecodeBinding,
	getIDs:   func(b policy.Binding) (uuid.UUID, uuid.UUID) { return b.PK, uuid.Nil },
	setIDs:   func(b *policy.Binding, pk, _ uuid.UUID) { b.PK = pk },
	strOf:    func(b policy.Binding) string { return policy.BindingString(b, "", "") },
}.withSchema()

// policyView adds bound_to: the policy bindings that use the policy, and
// the prompt stages that validate with it, counted from the reference
// index without loading them.
func (tx *Tx) policyView(p policy.Policy) (policy.View, error) {
	k, ok := tx.s.preg.Lookup(p.Model())
	if !ok {
		return policy.View{}, fmt.Errorf("store: policy %s: %w: %q", p.PK, policy.ErrUnknownKind, p.Model())
	}
	n := 0
	err := tx.scanCounted(bucketRefs, p.PK[:], func(k, v []byte) (bool, error) {
		c, field, err := tx.refEntry(k, v)
		if err != nil {
			return false, err
		}
		if c == tx.s.schema.policyBindings && field == "policy" || c == tx.s.schema.stages && field == "validation_policies" {
			n++
		}
		return true, nil
	})
	return policy.View{Policy: p, Kind: k, BoundTo: n}, err
}

// policyBindingView adds policy_obj.
func (tx *Tx) policyBindingView(b policy.Binding) (policy.BindingView, error) {
	v := policy.BindingView{Binding: b}
	if b.Policy != nil {
		p, err := viewed(tx.policyView)(tx.must(tx.s.schema.policies, *b.Policy))
		if err != nil {
			return v, err
		}
		v.PolicyObj = &p
	}
	return v, nil
}

// policyBindingString is authentik's str() of a policy binding, which
// names its target and its policy.
func (tx *Tx) policyBindingString(b policy.Binding) string {
	target, name := "", ""
	if c, obj, ok, err := tx.pbmObject(b.Target); err == nil && ok {
		target = c.codec.str(obj)
	}
	if b.Policy != nil {
		if p, err := as[policy.Policy](tx.must(tx.s.schema.policies, *b.Policy)); err == nil {
			name = p.Name
		}
	}
	return policy.BindingString(b, target, name)
}

// pbmObject finds the object with pk among the collections whose objects
// are policy binding models (flows, flow-stage bindings).
func (tx *Tx) pbmObject(pk uuid.UUID) (*collection, any, bool, error) {
	for _, c := range tx.s.schema.colls {
		if !c.pbm {
			continue
		}
		obj, ok, err := tx.get(c, pk)
		if err != nil || ok {
			return c, obj, ok, err
		}
	}
	return nil, nil, false, nil
}

// pbmOwner returns the pk of the object whose policy-binding-model id is
// id, if any. The entry must name a collection of policy binding models
// and an object of it whose pbm id is id: anything else is ErrCorrupt,
// not an absent id or another object.
func (tx *Tx) pbmOwner(id uuid.UUID) (uuid.UUID, bool, error) {
	raw, err := tx.kv.Get(bucketPBM, id[:])
	if err != nil || raw == nil {
		return uuid.Nil, false, err
	}
	bad := fmt.Errorf("store: %s: %w: the entry of %s names no object with that policy-binding-model id", bucketPBM, ErrCorrupt, id)
	if len(raw) <= 16 {
		return uuid.Nil, false, bad
	}
	c := tx.s.schema.byName[string(raw[16:])]
	if c == nil || !c.pbm || c.bucket != string(raw[16:]) {
		return uuid.Nil, false, bad
	}
	obj, ok, err := tx.get(c, idFrom(raw[:16]))
	if err != nil {
		return uuid.Nil, false, err
	}
	if !ok {
		return uuid.Nil, false, bad
	}
	if _, pbm := c.codec.ids(obj); pbm != id {
		return uuid.Nil, false, bad
	}
	return idFrom(raw[:16]), true, nil
}

// resolvePBM rewrites each reference of next to any policy binding model
// that names the object by its policy-binding-model id (pbm_uuid) to the
// object's own pk, as authentik's target field accepts either and shows
// the object's pk.
func (tx *Tx) resolvePBM(c *collection, next any) (any, error) {
	for _, r := range c.codec.refs(next) {
		if r.Target != targetPBM || r.Null || r.Many {
			continue
		}
		if _, _, ok, err := tx.pbmObject(r.ID); err != nil || ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		owner, ok, err := tx.pbmOwner(r.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // the existence check reports it
		}
		patched, err := c.codec.decode(next, marshalField(r.Field, []byte(quote(owner.String()))), validate.Patch)
		if err != nil {
			return nil, err
		}
		next = patched
	}
	return next, nil
}

// Policies.

// Policy bindings.

// boundPolicies are the pks of the policies bound to target, in binding
// order: a flow's policies field.
func (tx *Tx) boundPolicies(target uuid.UUID) ([]uuid.UUID, error) {
	out := []uuid.UUID{}
	err := tx.scanCounted("policy_bindings_by_target", target[:], func(k, v []byte) (bool, error) {
		id, ok, err := indexedID("policy_bindings_by_target", k, v)
		if ok {
			out = append(out, id) // not a binding to a group or user
		}
		return err == nil, err
	})
	return out, err
}

// The same, each in its own transaction.

// checkExpression runs Options.CheckExpression on an expression policy
// whose expression a write sets or changes (cur is nil for a create): the
// policies collection's onWrite.
func (tx *Tx) checkExpression(cur, next any) error {
	e, ok := next.(policy.Policy).Config.(policy.Expression)
	if tx.s.checkExpr == nil || !ok {
		return nil
	}
	if cur != nil {
		if old, ok := cur.(policy.Policy).Config.(policy.Expression); ok && old.Expression == e.Expression {
			return nil
		}
	}
	if err := tx.s.checkExpr(next.(policy.Policy).Name, e.Expression); err != nil {
		return validate.FieldError("expression", policy.MsgExpressionSyntax+err.Error())
	}
	return nil
}

// policyWalks: every policy by name (the all-kinds default), and one
// kind's by name.
var policyWalks = []indexWalk{
	{bucket: "policies_ordered", countKey: "policies", pkAt: -16, text: true},
	{bucket: "policies_by_model_name", pkAt: -16, text: true},
}

// referencedBy reports whether the reference index holds a reference to
// pk from field of collection coll.
func (tx *Tx) referencedBy(pk uuid.UUID, coll *collection, field string) (bool, error) {
	found := false
	err := tx.kv.Scan(bucketRefs, kv.Range{Prefix: pk[:]}, func(k, v []byte) (bool, error) {
		if string(v) == coll.bucket && string(k[min(len(k), 32):]) == field {
			found = true
			return false, nil
		}
		return true, nil
	})
	return found, err
}

// ListPolicies lists the policies of kind model, or of every kind when
// model is "" (authentik's /policies/all/).
//
// Every list searches on name and orders by name by default. The list of
// every kind filters on bindings__isnull (true: bound by no policy
// binding) and promptstage__isnull (true: no prompt stage validates with
// it). A kind's list filters on policy_uuid, name, execution_logging and
// the kind's [policy.Kind.Filters] (as listStages describes), and
// searches the kind's Search fields too.
func (tx *Tx) listPolicies(model policy.ModelName, q Query) (Page[policy.View], error) {
	var k *policy.Kind
	if model != "" {
		kd, ok := tx.s.preg.Lookup(model)
		if !ok {
			return Page[policy.View]{}, fmt.Errorf("store: %w: %q", policy.ErrUnknownKind, model)
		}
		k = &kd
	}
	unused := func(name string, coll *collection, field string) column {
		return column{name: name, kind: colBool, filter: true, get: func(obj any) (any, error) {
			used, err := tx.referencedBy(obj.(policy.Policy).PK, coll, field)
			return !used, err
		}}
	}
	return listFamily(tx, familyListing[policy.Policy, policy.View]{
		c: tx.s.schema.policies, pkName: "policy_uuid", walks: policyWalks, allOrder: "name",
		allCols: []column{
			unused("bindings__isnull", tx.s.schema.policyBindings, "policy"),
			unused("promptstage__isnull", tx.s.schema.stages, "validation_policies"),
		},
		commonCols: []column{{name: "execution_logging", kind: colBool, filter: true, order: true}},
		view:       tx.policyView,
	}, k, string(model), q)
}

// policyBindingListing: filters policy, policy__isnull, target, enabled,
// order and timeout; search on the policy's name; default ordering
// target, order (the target index's order).
var policyBindingListing = listing[policy.Binding]{
	cols: []column{
		{name: "policy", kind: colUUID, filter: true},
		{name: "policy__isnull", kind: colBool, filter: true, get: func(obj any) (any, error) { return obj.(policy.Binding).Policy == nil, nil }},
		{name: "target", kind: colUUID, filter: true, order: true},
		{name: "target_in", kind: colUUID, filter: true, multi: true, field: "target"},
		{name: "enabled", kind: colBool, filter: true, order: true},
		{name: "order", kind: colInt, filter: true, order: true},
		{name: "timeout", kind: colInt, filter: true, order: true},
		{name: "negate", kind: colBool, order: true},
		{name: "failure_result", kind: colBool, order: true},
		{name: "policy__name", search: true},
	},
	defaultOrder: "target,order",
}

var policyBindingWalks = []indexWalk{
	{bucket: "policy_bindings_by_target", countKey: "policy_bindings", pkAt: -16},
	{filter: "target", bucket: "policy_bindings_by_target", pkAt: -16, uuidFilter: true},
}

// ListPolicyBindings lists policy bindings. The target filter takes the
// target's pbm_uuid, as authentik's does, or its own pk (authentik
// refuses that one with "Select a valid choice."); with it, only that
// target's bindings are read, through the index. target_in takes several
// (Query.Multi), each one either way, and matches a binding of any of
// them.
func (tx *Tx) listPolicyBindings(q Query) (Page[policy.BindingView], error) {
	q, err := tx.pbmFilters(q, "target", "target_in")
	if err != nil {
		return Page[policy.BindingView]{}, err
	}
	l := policyBindingListing.with(map[string]func(any) (any, error){
		"policy__name": func(obj any) (any, error) {
			b := obj.(policy.Binding)
			if b.Policy == nil {
				return nil, nil
			}
			p, err := as[policy.Policy](tx.must(tx.s.schema.policies, *b.Policy))
			return p.Name, err
		},
	})
	c := tx.s.schema.policyBindings
	return listOf(tx, c, l, policyBindingWalks, nil, q, tx.policyBindingView,
		func(filters map[string]any, _ func([]byte) bool, yield func(obj any) error) error {
			return tx.scanWalk(c, policyBindingWalks, nil, filters, nil, yield)
		})
}

// pbmFilters rewrites the values of the named filters that are
// policy-binding-model ids (pbm_uuid) to their objects' pks, which the
// policy bindings hold. Other values stay as they are.
func (tx *Tx) pbmFilters(q Query, names ...string) (Query, error) {
	owner := func(v string) (string, error) {
		id, ok := parsePyUUID(pyStrip(v))
		if !ok {
			return v, nil // the filter reports it
		}
		pk, found, err := tx.pbmOwner(id)
		if err != nil || !found {
			return v, err
		}
		return pk.String(), nil
	}
	q.Filters, q.Multi = maps.Clone(q.Filters), maps.Clone(q.Multi)
	for _, name := range names {
		if v, ok := q.Filters[name]; ok {
			var err error
			if q.Filters[name], err = owner(v); err != nil {
				return q, err
			}
		}
		if vals, ok := q.Multi[name]; ok {
			out := make([]string, len(vals))
			for i, v := range vals {
				var err error
				if out[i], err = owner(v); err != nil {
					return q, err
				}
			}
			q.Multi[name] = out
		}
	}
	return q, nil
}

// pbmString is authentik's str() of a policy binding model as its base
// row, which is how a policy's used_by names the objects it is bound to:
// "PolicyBindingModel <pbm_uuid>".
func pbmString(pbm uuid.UUID) string { return "PolicyBindingModel " + pbm.String() }
