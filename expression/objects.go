package expression

import (
	"errors"
	"fmt"
	"sort"

	"github.com/authflow/authflow/plan"
	"go.starlark.net/starlark"
)

// ErrNotYet is wrapped by the error of a helper or attribute authentik
// gives expressions that authflow does not provide yet
// (http_request.user, a Django lookup ak_user_by does not support,
// ...).
var ErrNotYet = errors.New("not available in authflow yet")

// ErrNoHost is wrapped by the error of a helper that needs the network
// or a service the host did not provide: requests without
// Options.HTTPClient, resolve_dns and reverse_dns without
// Options.Resolver, ak_call_policy without plan.PolicyRequest.Call (and
// in prompt expressions), ak_user_by, ak_is_group_member and the user's
// fields and methods without a directory.
var ErrNoHost = errors.New("not available to expressions in authflow unless the host provides it")

// userValue is authentik's User as far as the planner knows it: its
// fields, group_attributes() when known, and a clear error for the
// methods that need the directory.
type userValue struct {
	// fields are the user's fields; nil until first needed when raw is
	// set (see dict).
	fields *starlark.Dict
	// raw is the plan context's pending_user, whose fields are
	// converted at their first use: a policy that only asks
	// hasattr(pending_user, "backend") converts none of them.
	raw    map[string]any
	frozen bool
	gattrs map[string]any // the merged group attributes; nil: unknown
	// request: this is request.user, of which the planner knows only
	// pk, is_authenticated, is_superuser and attributes; the other
	// fields fail wrapping missing: ErrNoHost without a directory,
	// ErrNotYet for a user the directory does not hold.
	request bool
	missing error
}

// userFields are authentik User fields the planner does not pass.
var userFields = map[string]bool{"username": true, "name": true, "email": true, "uuid": true, "uid": true,
	"path": true, "is_active": true, "type": true, "last_login": true, "date_joined": true, "password_change_date": true}

var _ starlark.HasAttrs = (*userValue)(nil)

func (u *userValue) String() string { return "<User>" }
func (u *userValue) Type() string   { return "User" }
func (u *userValue) Freeze() {
	u.frozen = true
	if u.fields != nil {
		u.fields.Freeze()
	}
}
func (u *userValue) Truth() starlark.Bool  { return true }
func (u *userValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: User") }

// userMethods need the directory.
var userMethods = []string{"has_usable_password", "all_groups", "group_attributes"}

// dict returns the user's fields, converting raw at the first call.
func (u *userValue) dict() (*starlark.Dict, error) {
	if u.fields != nil {
		return u.fields, nil
	}
	v, err := toValue(u.raw, 1) // nested in the plan context
	if err != nil {
		return nil, err
	}
	u.fields = v.(*starlark.Dict)
	if u.frozen {
		u.fields.Freeze()
	}
	return u.fields, nil
}

// converted reports whether the fields were converted: until then they
// are raw, unchanged.
func (u *userValue) converted() bool { return u.fields != nil }

func (u *userValue) Attr(name string) (starlark.Value, error) {
	if _, ok := u.raw[name]; ok || u.fields != nil {
		d, err := u.dict()
		if err != nil {
			return nil, err
		}
		if v, ok, _ := d.Get(starlark.String(name)); ok {
			return v, nil
		}
	}
	switch name {
	case "group_attributes":
		if u.gattrs != nil {
			return starlark.NewBuiltin("group_attributes", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
				return groupAttributes(b, args, kw, u.gattrs)
			}), nil
		}
	}
	missing := u.missing
	if missing == nil {
		missing = ErrNotYet
	}
	if u.request && userFields[name] {
		return nil, fmt.Errorf("user.%s is %w", name, missing)
	}
	for _, m := range userMethods {
		if m == name {
			return failing("user."+name+"()", missing), nil
		}
	}
	return nil, nil // 'User' has no attribute
}

func (u *userValue) AttrNames() []string {
	var names []string
	d, err := u.dict()
	if err != nil {
		return userMethods
	}
	for _, k := range d.Keys() {
		if s, ok := starlark.AsString(k); ok {
			names = append(names, s)
		}
	}
	names = append(names, userMethods...)
	sort.Strings(names)
	return names
}

// groupAttributes is user.group_attributes(request=None) of a user
// whose merged group attributes (groups and user, no brand) are gattrs:
// with an HttpRequest, its brand's attributes merged under them.
func groupAttributes(b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple, gattrs map[string]any) (starlark.Value, error) {
	var req starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kw, "request?", &req); err != nil {
		return nil, err
	}
	m := gattrs
	if brand, ok := brandOf(req); ok {
		var err error
		if m, err = underBrand(brand, gattrs); err != nil {
			return nil, err
		}
	}
	return toValue(m, 0)
}

// flowPlan is the FlowPlan an expression policy reaches through
// context["flow_plan"]: its context is the plan context itself (context,
// or lookups into it when lazy is set), and redirect inserts a redirect
// stage through the planner's plan.
type flowPlan struct {
	context *starlark.Dict
	lazy    *lazyContext
	plan    plan.FlowPlan
}

// dict is the plan context's dict, made if need be.
func (p *flowPlan) dict() (*starlark.Dict, error) {
	if p.lazy != nil {
		return p.lazy.planView.dict()
	}
	return p.context, nil
}

var _ starlark.HasAttrs = (*flowPlan)(nil)

func (p *flowPlan) String() string { return "<FlowPlan>" }
func (p *flowPlan) Type() string   { return "FlowPlan" }
func (p *flowPlan) Freeze() {
	if p.lazy != nil {
		p.lazy.planView.Freeze()
		return
	}
	p.context.Freeze()
}
func (p *flowPlan) Truth() starlark.Bool  { return true }
func (p *flowPlan) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: FlowPlan") }
func (p *flowPlan) AttrNames() []string   { return []string{"context", "redirect"} }

func (p *flowPlan) Attr(name string) (starlark.Value, error) {
	switch name {
	case "context":
		if p.lazy != nil {
			return &p.lazy.planView, nil
		}
		return p.context, nil
	case "redirect":
		return starlark.NewBuiltin("redirect", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var to string
			if err := starlark.UnpackArgs(b.Name(), args, kw, "destination", &to); err != nil {
				return nil, err
			}
			p.plan.Redirect(to)
			return starlark.None, nil
		}), nil
	}
	return nil, nil
}

// notYet is a callable that fails wrapping ErrNotYet.
func notYet(name string) *starlark.Builtin { return failing(name, ErrNotYet) }

// failing is a callable that fails wrapping err.
func failing(name string, err error) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		if err == ErrNoHost {
			return nil, fmt.Errorf("%s is %w (a user directory: expression.Options.Directory)", name, err)
		}
		return nil, fmt.Errorf("%s is %w", name, err)
	})
}

// unavailable is a value whose every use (an attribute, a call) fails
// with err, naming it: a helper that needs a host (ErrNoHost) or that
// authflow does not provide yet (ErrNotYet).
type unavailable struct {
	name string
	err  error
}

func (n unavailable) fail() error                         { return fmt.Errorf("%s is %w", n.name, n.err) }
func (n unavailable) String() string                      { return "<" + n.name + ">" }
func (n unavailable) Type() string                        { return n.name }
func (n unavailable) Freeze()                             {}
func (n unavailable) Truth() starlark.Bool                { return true }
func (n unavailable) Hash() (uint32, error)               { return 0, n.fail() }
func (n unavailable) Name() string                        { return n.name }
func (n unavailable) AttrNames() []string                 { return nil }
func (n unavailable) Attr(string) (starlark.Value, error) { return nil, n.fail() }
func (n unavailable) CallInternal(*starlark.Thread, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return nil, n.fail()
}

var (
	_ starlark.HasAttrs = unavailable{}
	_ starlark.Callable = unavailable{}
)
