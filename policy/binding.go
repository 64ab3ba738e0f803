package policy

import (
	"encoding/json"
	"strconv"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
)

// The exclusivity rules of a [Binding], in authentik's words (the sorted
// form that authentik's own tests assert).
const (
	MsgBindingOnlyOne = "Only one of 'group', 'policy', 'user' can be set."
	MsgBindingOneOf   = "One of 'group', 'policy', 'user' must be set."
)

// Binding is a stored policy binding: authentik's PolicyBinding. It
// attaches exactly one of a policy, a group or a user to a target, a flow
// or a flow-stage binding (any object with a policy-binding-model id).
type Binding struct {
	PK uuid.UUID `json:"pk" af:"readonly"`
	// Policy is the bound policy; deleting it deletes the binding. As in
	// authentik, a policy's used_by does not list its bindings but the
	// targets they bind it to (see Target).
	Policy *uuid.UUID `json:"policy" af:"ref=policy,on_delete=cascade,related=+"`
	// Group is the bound group's pk: the binding passes for its members
	// and the members of the groups below it. Deleting the group deletes
	// the binding; the group's used_by lists it.
	Group *uuid.UUID `json:"group" af:"ref=authentik_core.group,on_delete=cascade"`
	// User is the bound user's number: the binding passes for that user,
	// authenticated. Deleting the user deletes the binding; the user's
	// used_by lists it.
	User *int64 `json:"user" af:"ref=authentik_core.user,on_delete=cascade"`
	// Target is the pk of the flow or flow-stage binding. A write may
	// also name it by its policy-binding-model id (pbm_uuid); it is
	// stored and shown as the object's own pk. Deleting the target
	// deletes the binding. The target's used_by lists the binding (under
	// authentik's accessor "bindings") and, through it, its policy.
	Target        uuid.UUID `json:"target" af:"required,ref=pbm,on_delete=cascade,related=bindings"`
	Negate        bool      `json:"negate"`
	Enabled       bool      `json:"enabled"`
	Order         int32     `json:"order" af:"required"`
	Timeout       int32     `json:"timeout" af:"min=0"`
	FailureResult bool      `json:"failure_result"`
}

// DefaultBinding returns a Binding with authentik's defaults.
func DefaultBinding() Binding { return Binding{Enabled: true, Timeout: 30} }

// ValidateObject requires exactly one of policy, group and user. authentik
// counts the keys of the request body only (a PATCH without target is a
// server error, and a PATCH that adds a group to a policy binding leaves
// both set); here the rule holds for the merged object, so a PATCH that
// switches a binding from a policy to a group sends "policy": null too.
func (b Binding) ValidateObject() error {
	n := 0
	for _, set := range []bool{b.Policy != nil, b.Group != nil, b.User != nil} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		return validation.NewError("authflow_binding_only_one", MsgBindingOnlyOne)
	case n == 0:
		return validation.NewError("authflow_binding_one_of", MsgBindingOneOf)
	}
	return nil
}

var bindingComputed = validate.Keys("policy_obj", "group_obj", "user_obj")

// DecodeBinding applies body to cur as op and runs the field rules. The
// object rules are the caller's next step ([validate.CheckObject]), after
// the store's reference and uniqueness checks.
func DecodeBinding(cur Binding, body []byte, op validate.Op) (Binding, error) {
	next, err := validate.Apply(cur, body, op, bindingComputed)
	next.PK = cur.PK
	return next, err
}

// BindingView is a policy binding as the API shows it.
type BindingView struct {
	Binding
	// PolicyObj is the bound policy in its kind's representation, or nil.
	PolicyObj *View
	// GroupObj is the bound group in its full representation (authentik
	// nests its GroupSerializer), or nil.
	GroupObj *directory.GroupView
	// UserObj is the bound user in its full representation (authentik's
	// UserSerializer), or nil.
	UserObj *directory.UserView
	// TargetStr is str() of the target, for String.
	TargetStr string
}

// MarshalJSON renders authentik's PolicyBindingSerializer output:
// policy_obj, group_obj and user_obj are the bound object's
// representation, or null for the two the binding does not bind.
func (v BindingView) MarshalJSON() ([]byte, error) {
	b := v.Binding
	return json.Marshal(struct {
		PK            uuid.UUID            `json:"pk"`
		Policy        *uuid.UUID           `json:"policy"`
		Group         *uuid.UUID           `json:"group"`
		User          *int64               `json:"user"`
		PolicyObj     *View                `json:"policy_obj"`
		GroupObj      *directory.GroupView `json:"group_obj"`
		UserObj       *directory.UserView  `json:"user_obj"`
		Target        uuid.UUID            `json:"target"`
		Negate        bool                 `json:"negate"`
		Enabled       bool                 `json:"enabled"`
		Order         int32                `json:"order"`
		Timeout       int32                `json:"timeout"`
		FailureResult bool                 `json:"failure_result"`
	}{b.PK, b.Policy, b.Group, b.User, v.PolicyObj, v.GroupObj, v.UserObj, b.Target, b.Negate, b.Enabled, b.Order, b.Timeout, b.FailureResult})
}

// BindingString is authentik's str() of a policy binding: "Binding from
// <target> #<order> to Policy <name>", "... to Group <name>" or "... to
// User <name>", where target is str() of the target ("" when it is
// unknown: "Binding - #<order> to ...") and bound is the name of what the
// binding binds: the policy's name, the group's name, or the user's
// display name (name, not username).
func BindingString(b Binding, target, bound string) string {
	s := "Binding - #"
	if target != "" {
		s = "Binding from " + target + " #"
	}
	s += strconv.Itoa(int(b.Order)) + " to "
	switch {
	case b.Policy != nil:
		return s + "Policy " + bound
	case b.Group != nil:
		return s + "Group " + bound
	case b.User != nil:
		return s + "User " + bound
	}
	return s + "nothing"
}
