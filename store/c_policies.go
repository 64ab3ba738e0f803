package store

import (
	"fmt"

	"github.com/authflow/authflow/internal/pysyntax"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// ModelPolicy is the model of policies, every kind of them; a kind's own
// model name (such as policy.ModelExpression) names one kind.
const ModelPolicy = "authentik_policies.policy"

// policiesDecl declares policies: one collection of every registered
// kind, with unique names.
func policiesDecl(_ *stage.Registry, preg *policy.Registry) *collection {
	return &collection{
		path:   "policies/all",
		bucket: "policies", model: ModelPolicy, alias: "policy", verbose: "Policy", codec: policyFamily(preg),
		unique:      []uniqueField{{field: "name", bucket: "policies_by_name", hash: true}},
		kindIndex:   "policies_by_model",
		unknownKind: policy.ErrUnknownKind,
		indexes: []index{
			{bucket: "policies_by_model_name", fields: []string{kindField, "name"}, counted: true},
			{bucket: "policies_ordered", fields: []string{"name"}},
		},
		view:      viewBy((*Tx).policyView),
		typedView: (*Tx).policyView,
		// Every policy by name (the all-kinds default), and one kind's
		// by name.
		walkOn: []walkOn{{field: "name"}, {field: kindField}},
		list: func(tx *Tx, kind string, q Query) (Page[any], error) {
			return (tx.listPolicies(policy.ModelName(kind), q))
		},
		onWrite: (*Tx).checkExpression,
	}
}

// policyFamily is the codec of the policies collection.
func policyFamily(reg *policy.Registry) family[policy.Policy] {
	return family[policy.Policy]{
		reg:    reg,
		pk:     func(p policy.Policy) uuid.UUID { return p.PK },
		setPK:  func(p *policy.Policy, pk uuid.UUID) { p.PK = pk },
		config: func(p policy.Policy) any { return p.Config },
		setCfg: func(p *policy.Policy, c any) { p.Config = c.(policy.Config) },
		common: func(p policy.Policy, f string) (any, bool) {
			switch f {
			case "name":
				return p.Name, true
			case "execution_logging":
				return p.ExecutionLogging, true
			}
			return nil, false
		},
		strOf:       policy.Policy.String,
		baseOf:      policy.Policy.String,
		commonNames: []string{"name", "execution_logging"},
	}
}

// policyView adds bound_to: the policy bindings that use the policy, and
// the prompt stages that validate with it, counted from the reference
// index without loading them.
func (tx *Tx) policyView(p policy.Policy) (policy.View, error) {
	k, ok := tx.s.preg.Lookup(p.Model())
	if !ok {
		return policy.View{}, fmt.Errorf("store: policy %s: %w: %q", p.PK, policy.ErrUnknownKind, p.Model())
	}
	ids, err := tx.referrers(p.PK, refField{tx.s.schema.policyBindings, "policy"}, refField{tx.s.schema.stages, "validation_policies"})
	return policy.View{Policy: p, Kind: k, BoundTo: len(ids)}, err
}

// checkExpression runs Options.CheckExpression (by default
// pysyntax.Check) on an expression policy whose expression a write sets
// or changes (cur is nil for a create): the policies collection's
// onWrite. The file name is authentik's: "temp-policy" on a create, the
// stored policy's name on an update.
func (tx *Tx) checkExpression(cur, next any) error {
	e, ok := next.(policy.Policy).Config.(policy.Expression)
	if !ok {
		return nil
	}
	filename := pysyntax.Create
	if cur != nil {
		old := cur.(policy.Policy)
		if c, ok := old.Config.(policy.Expression); ok && c.Expression == e.Expression {
			return nil
		}
		filename = old.Name
	}
	check := tx.s.checkExpr
	if check == nil {
		check = pysyntax.Check
	}
	if err := check(filename, e.Expression); err != nil {
		return validate.FieldError("expression", policy.MsgExpressionSyntax+err.Error())
	}
	return nil
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
func (tx *Tx) listPolicies(model policy.ModelName, q Query) (Page[any], error) {
	var k *policy.Kind
	if model != "" {
		kd, ok := tx.s.preg.Lookup(model)
		if !ok {
			return Page[any]{}, fmt.Errorf("store: %w: %q", policy.ErrUnknownKind, model)
		}
		k = &kd
	}
	unused := func(name string, coll *collection, field string) column {
		return column{name: name, kind: colBool, filter: true, get: func(obj any) (any, error) {
			used, err := tx.referrers(obj.(policy.Policy).PK, refField{coll, field})
			return len(used) == 0, err
		}}
	}
	return listFamily[policy.Policy](tx, familyListing{
		c: tx.s.schema.policies, pkName: "policy_uuid", walks: tx.s.schema.policies.walks, allOrder: "name",
		allCols: []column{
			unused("bindings__isnull", tx.s.schema.policyBindings, "policy"),
			unused("promptstage__isnull", tx.s.schema.stages, "validation_policies"),
		},
		commonCols: []column{{name: "execution_logging", kind: colBool, filter: true, order: true}},
	}, k, string(model), q)
}
