package expression

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// reach is what a policy handler's body can read of the values Evaluate
// gives it, found from its syntax when compiling, so that an evaluation
// builds no value the body cannot read. A value is read only through a
// name: Starlark has no locals(), no frames and no other way to a
// parameter than naming it. So a parameter the body never names is
// not built, and a body that names request only to read one of its
// fields (request.context, as the shipped expressions do) gets a
// request with only those fields built (partRequest): such a body
// cannot print, compare, pass or otherwise see the request itself. A
// body that names a helper that reads every parameter (ak_create_event,
// for the event's context) or hands the request on (ak_call_policy)
// reaches everything.
type reach struct {
	// clientIP: the body names ak_client_ip.
	clientIP bool
	// httpRequest, context, user: the body reads http_request,
	// request.context (or context) or request.user, through the
	// parameter or the request.
	httpRequest, context, user bool
	// request is how the body uses the request parameter.
	request requestUse
	// readsHTTP: the body names the HTTP request: http_request or
	// ak_client_ip, the attribute request.http_request, or a string
	// "http_request" (getattr). A plan cache does not compare the HTTP
	// request (it differs on every request), so a result that may
	// depend on it must not be cached.
	readsHTTP bool
	// lookups: the body reads the context dicts (request.context, its
	// context parameter, flow_plan.context) only by looking a value up
	// in them, d.get(...) or d[k] read, never naming getattr nor
	// using the request whole: it cannot hold, pass, print or write a
	// context dict itself, so an evaluation may give it lookups into the
	// plan context (lazyContext) instead of the dicts.
	lookups bool
}

// requestUse is how a body uses its request parameter.
type requestUse uint8

const (
	// requestUnnamed: the body never names request.
	requestUnnamed requestUse = iota
	// requestRead: the body names request only as request.<field>,
	// read (never assigned), with field one of PolicyRequest's.
	requestRead
	// requestWhole: any other use.
	requestWhole
)

// requestFields are the fields of authentik's PolicyRequest, as
// policyRequest builds them.
var requestFields = []string{"context", "debug", "http_request", "obj", "user"}

// reachOf finds the reach of the handler's body in f, the compiled
// (rewritten and wrapped) file.
func reachOf(f *syntax.File) reach {
	var (
		r        reach
		named    = map[string]bool{}
		dotted   = map[*syntax.Ident]string{} // request idents read as request.<name>
		assigned = map[*syntax.Ident]bool{}   // request idents of a request.<name> assigned
		attrs    = map[*syntax.Ident]bool{}   // the names after a dot
		requests []*syntax.Ident
		// Context dicts: idents "context" and x.context expressions, and
		// the expressions only looked up in (d.get(...), d[k] read).
		ctxUses  []syntax.Expr
		lookedUp = map[syntax.Expr]bool{}
		written  = map[syntax.Expr]bool{} // the x of an x[k] assigned
	)
	// target marks request.<name> as an assignment's target.
	var target func(e syntax.Expr)
	target = func(e syntax.Expr) {
		switch e := e.(type) {
		case *syntax.DotExpr:
			if id, ok := e.X.(*syntax.Ident); ok {
				assigned[id] = true
			}
		case *syntax.IndexExpr:
			written[e.X] = true
		case *syntax.ParenExpr:
			target(e.X)
		case *syntax.TupleExpr:
			for _, x := range e.List {
				target(x)
			}
		case *syntax.ListExpr:
			for _, x := range e.List {
				target(x)
			}
		}
	}
	for _, st := range f.Stmts {
		def, ok := st.(*syntax.DefStmt)
		if !ok {
			continue
		}
		for _, b := range def.Body {
			syntax.Walk(b, func(n syntax.Node) bool {
				switch n := n.(type) {
				case *syntax.DotExpr:
					attrs[n.Name] = true
					if id, ok := n.X.(*syntax.Ident); ok && id.Name == "request" {
						dotted[id] = n.Name.Name
					}
					if n.Name.Name == "context" {
						ctxUses = append(ctxUses, n)
					}
				case *syntax.CallExpr:
					if d, ok := n.Fn.(*syntax.DotExpr); ok && d.Name.Name == "get" {
						lookedUp[d.X] = true
					}
				case *syntax.IndexExpr:
					lookedUp[n.X] = true
				case *syntax.AssignStmt:
					target(n.LHS)
				case *syntax.ForStmt:
					target(n.Vars)
				case *syntax.ForClause:
					target(n.Vars)
				case *syntax.Literal:
					if s, ok := n.Value.(string); ok && strings.Contains(s, "http_request") {
						r.readsHTTP = true
					}
				case *syntax.Ident:
					r.readsHTTP = r.readsHTTP || n.Name == "http_request" || n.Name == "ak_client_ip"
					if attrs[n] {
						break
					}
					named[n.Name] = true
					if n.Name == "context" {
						ctxUses = append(ctxUses, n)
					}
					if n.Name == "request" {
						requests = append(requests, n)
					}
				}
				return true
			})
		}
	}
	r.clientIP, r.httpRequest, r.context = named["ak_client_ip"], named["http_request"], named["context"]
	if len(requests) > 0 {
		r.request = requestRead
	}
	for _, id := range requests {
		name, ok := dotted[id]
		if !ok || assigned[id] || !isRequestField(name) {
			r.request = requestWhole
			break
		}
		r.context = r.context || name == "context"
		r.user = r.user || name == "user"
		r.httpRequest = r.httpRequest || name == "http_request"
	}
	if named["ak_create_event"] || named["ak_call_policy"] {
		r.clientIP, r.request = true, requestWhole
	}
	if r.request == requestWhole {
		r.httpRequest, r.context, r.user = true, true, true
	}
	r.lookups = r.request != requestWhole && !named["getattr"]
	for _, e := range ctxUses {
		if !lookedUp[e] || written[e] {
			r.lookups = false
			break
		}
	}
	return r
}

func isRequestField(name string) bool {
	for _, f := range requestFields {
		if f == name {
			return true
		}
	}
	return false
}

// partRequest is the request of a body that reads it only as
// request.<field> (requestRead): the fields it reads, the others None.
// The body cannot tell it from policyRequest's struct, as it can only
// read those fields through it.
type partRequest struct {
	context, user, httpR starlark.Value
}

var _ starlark.HasAttrs = (*partRequest)(nil)

func (r *partRequest) String() string {
	return fmt.Sprintf("PolicyRequest(context = %s, debug = False, http_request = %s, obj = None, user = %s)", r.context, r.httpR, r.user)
}
func (r *partRequest) Type() string          { return "struct" }
func (r *partRequest) Truth() starlark.Bool  { return true }
func (r *partRequest) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: struct") }
func (r *partRequest) Freeze() {
	r.context.Freeze()
	r.user.Freeze()
	r.httpR.Freeze()
}
func (r *partRequest) AttrNames() []string { return requestFields }

// Attr is the field's value.
func (r *partRequest) Attr(name string) (starlark.Value, error) {
	switch name {
	case "context":
		return r.context, nil
	case "debug":
		return starlark.False, nil
	case "http_request":
		return r.httpR, nil
	case "obj":
		return starlark.None, nil
	case "user":
		return r.user, nil
	}
	return nil, nil
}
