package store

import (
	"maps"
	"strconv"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/google/uuid"
)

// ModelPolicyBinding is the model of policy bindings.
const ModelPolicyBinding = "authentik_policies.policybinding"

// policyBindingsDecl declares policy bindings: a policy, a group or a
// user bound to any policy binding model, in order.
func policyBindingsDecl(*stage.Registry, *policy.Registry) *collection {
	return &collection{
		path:   "policies/bindings",
		bucket: "policy_bindings", model: ModelPolicyBinding, alias: "policybinding", verbose: "Policy Binding", codec: policyBindingCodec,
		together: []string{"policy", "target", "order"},
		// A binding of a group or user has no policy: those name it too.
		identify: []string{"policy", "group", "user", "target", "order"},
		indexes: []index{
			{bucket: "policy_bindings_by_target", fields: []string{"target", "order"}, value: "policy", counted: true},
		},
		// authentik's PolicyBindingModel.policies, a many-to-many
		// through PolicyBinding whose reverse accessor (on a policy)
		// is bindings.
		through:   &through{from: "target", to: "policy", fromAccessor: "policies", toAccessor: "bindings"},
		view:      viewBy((*Tx).policyBindingView),
		typedView: (*Tx).policyBindingView,
		// By target then order, and one target's.
		walkOn: []walkOn{{field: "target"}, {field: "target", filter: true}},
		list:   listRecords((*Tx).listPolicyBindings),
		strOf:  func(tx *Tx, obj any) string { return tx.policyBindingString(obj.(policy.Binding)) },
	}
}

var policyBindingCodec = plain[policy.Binding]{
	defaults: policy.DefaultBinding,
	apply:    policy.DecodeBinding,
	getIDs:   func(b policy.Binding) (uuid.UUID, uuid.UUID) { return b.PK, uuid.Nil },
	setIDs:   func(b *policy.Binding, pk, _ uuid.UUID) { b.PK = pk },
	strOf:    bindingStr,
}.withSchema()

// bindingStr is str() of a binding read without a transaction: the
// group and user are named by their pks.
func bindingStr(b policy.Binding) string {
	bound := ""
	switch {
	case b.Group != nil:
		bound = b.Group.String()
	case b.User != nil:
		bound = strconv.FormatInt(*b.User, 10)
	}
	return policy.BindingString(b, "", bound)
}

// policyBindingView adds policy_obj, group_obj and user_obj: the bound
// object's full representation.
func (tx *Tx) policyBindingView(b policy.Binding) (policy.BindingView, error) {
	v := policy.BindingView{Binding: b}
	switch {
	case b.Policy != nil:
		p, err := viewed(tx.policyView)(tx.must(tx.s.schema.policies, *b.Policy))
		if err != nil {
			return v, err
		}
		v.PolicyObj = &p
	case b.Group != nil:
		g, err := as[directory.Group](tx.must(tx.s.schema.groups, *b.Group))
		if err != nil {
			return v, err
		}
		gv, err := tx.groupView(g)
		if err != nil {
			return v, err
		}
		v.GroupObj = &gv
	case b.User != nil:
		u, err := tx.boundUser(*b.User)
		if err != nil {
			return v, err
		}
		uv, err := tx.userView(u)
		if err != nil {
			return v, err
		}
		v.UserObj = &uv
	}
	return v, nil
}

// boundUser reads the user numbered n that a binding names: one missing
// is damage.
func (tx *Tx) boundUser(n int64) (directory.User, error) {
	c := tx.s.schema.users
	return as[directory.User](tx.must(c, seqID(c.bucket, n)))
}

// policyBindingString is authentik's str() of a policy binding, which
// names its target and what it binds: the policy's name, the group's
// name or the user's display name.
func (tx *Tx) policyBindingString(b policy.Binding) string {
	target, name := "", ""
	if c, obj, ok, err := tx.pbmObject(b.Target); err == nil && ok {
		target = c.codec.str(obj)
	}
	switch {
	case b.Policy != nil:
		if p, err := as[policy.Policy](tx.must(tx.s.schema.policies, *b.Policy)); err == nil {
			name = p.Name
		}
	case b.Group != nil:
		if g, err := as[directory.Group](tx.must(tx.s.schema.groups, *b.Group)); err == nil {
			name = g.Name
		} else {
			name = b.Group.String()
		}
	case b.User != nil:
		if u, err := tx.boundUser(*b.User); err == nil {
			name = u.Name
		} else {
			name = strconv.FormatInt(*b.User, 10)
		}
	}
	return policy.BindingString(b, target, name)
}

// boundPolicies are the pks of the policies bound to target, in binding
// order: a flow's policies field.
func (tx *Tx) boundPolicies(target uuid.UUID) ([]uuid.UUID, error) {
	return tx.indexValues(tx.s.schema.policyBindings, "target", target)
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

// ListPolicyBindings lists policy bindings. The target filter takes the
// target's pbm_uuid, as authentik's does, or its own pk (authentik
// refuses that one with "Select a valid choice."); with it, only that
// target's bindings are read, through the index. target_in takes several
// (Query.Multi), each one either way, and matches a binding of any of
// them.
func (tx *Tx) listPolicyBindings(q Query) (Page[any], error) {
	q, err := tx.pbmFilters(q, "target", "target_in")
	if err != nil {
		return Page[any]{}, err
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
	return listOf(tx, c, l, c.walks, nil, q,
		func(filters map[string]any, _ func([]byte) bool, yield func(obj any) error) error {
			return tx.scanWalk(c, c.walks, nil, filters, nil, yield)
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
