package expression

import "testing"

// TestReachOf: what a body can read of its parameters, from its syntax;
// any use of request but reading one of its fields reaches all of it,
// and so do the helpers that read every parameter.
func TestReachOf(t *testing.T) {
	const (
		none  = requestUnnamed
		read  = requestRead
		whole = requestWhole
	)
	for _, c := range []struct {
		src                         string
		request                     requestUse
		context, user, http, client bool
	}{
		{"return True", none, false, false, false, false},
		{"flow_plan = request.context.get(\"flow_plan\")\nif not flow_plan:\n    return True\nreturn not hasattr(flow_plan.context.get(\"pending_user\"), \"backend\")", read, true, false, false, false},
		{"return request.user.username == 'a'", read, false, true, false, false},
		{"return request.http_request.method == 'GET'", read, false, false, true, false},
		{"request.context['x'] = 1\nreturn request.debug or request.obj", read, true, false, false, false},
		{"return [request.context for i in range(2)]", read, true, false, false, false},
		{"return context['a']", none, true, false, false, false},
		{"return http_request.path", none, false, false, true, false},
		{"return ak_client_ip", none, false, false, false, true},
		{"return ak_logger.request", none, false, false, false, false}, // an attribute, not the parameter
		{"return str(request)", whole, true, true, true, false},
		{"r = request\nreturn r.context", whole, true, true, true, false},
		{"request.context = {}\nreturn True", whole, true, true, true, false},
		{"(a, request.user) = (1, 2)\nreturn True", whole, true, true, true, false},
		{"return request.foo", whole, true, true, true, false},
		{"return getattr(request, 'user')", whole, true, true, true, false},
		{"f = lambda request: request.context\nreturn f(1)", whole, true, true, true, false},
		{"return request.context\nif False:\n    ak_create_event('x')", whole, true, true, true, true},
		{"return ak_call_policy('p').passing", whole, true, true, true, true},
	} {
		prog, probs := compile(c.src)
		if len(probs) != 0 {
			t.Fatalf("%q: %v", c.src, probs)
		}
		r := prog.reach
		if r.request != c.request || r.context != c.context || r.user != c.user || r.httpRequest != c.http || r.clientIP != c.client {
			t.Errorf("%q: reach %+v", c.src, r)
		}
	}
}

// TestCompileKinds: a text compiled as a prompt's and as a policy's is
// two programs, whichever was compiled last.
func TestCompileKinds(t *testing.T) {
	c := NewCache(4)
	pr, err := c.compile("return request", promptKind)
	if err != nil {
		t.Fatal(err)
	}
	po, err := c.Compile("return request")
	if err != nil || po == pr {
		t.Fatalf("the policy's program is the prompt's: %v", err)
	}
	if again, _ := c.compile("return request", promptKind); again != pr {
		t.Fatal("the prompt's text compiled twice")
	}
}
