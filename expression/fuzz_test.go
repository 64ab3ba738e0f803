package expression_test

import (
	"context"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/memdir"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/plan"
	"github.com/google/uuid"
)

// FuzzEvaluate: rewriting, compiling and running arbitrary source never
// panics and never hangs; a program that compiles has no problems and
// one that does not has at least one, on a line of the source.
func FuzzEvaluate(f *testing.F) {
	for _, src := range []string{
		"return True", "x is None", "return a is b", "from authentik.core.models import (\n  USER_ATTRIBUTE_CHANGE_EMAIL as e\n)\nreturn e",
		"try:\n    return context['x']\nexcept:\n    return ''", "try:\n  return 1\nexcept Exception:\n  return '''a\nb'''",
		"import os", "while True:\n    pass", "return 'unterminated", `return """x`, "return (\n", "\\\nreturn 1",
		"context['flow_plan'].context['x'] = [1, {'a': None}]\nreturn 1", "return regex_replace('a', '(a)', '\\\\g<1>$')",
		"ak_message(1)\nreturn list_flatten([ip_address('::1')])", "return is", "is None", "from", "try:", "except:",
		"u = ak_user_by(username__iexact='AKADMIN', pk='1')\nreturn ak_is_group_member(u, name='admins') and u.has_usable_password()",
		"return request.user.group_attributes()['x'] + [g.name for g in request.user.all_groups()]",
		"return ak_user_by(uuid=1, email=None)", "return ak_is_group_member(None)",
		"from django.http import QueryDict\nq = QueryDict(http_request.GET.get('query'))\ncontext['flow_plan'].redirect(q['next'])\nreturn dict(q)",
		"return [http_request.headers['x-forwarded-for'], http_request.META, ak_client_ip, request.user.group_attributes(http_request)]",
	} {
		f.Add(src)
	}
	for _, src := range shippedPolicies(f) {
		f.Add(src)
	}
	md := fuzzDirectory(f)
	ev := expression.Evaluator(&expression.Options{Cache: expression.NewCache(16), Limits: expression.Limits{MaxSteps: 10000, MaxValues: 1000}, Directory: md})
	f.Fuzz(func(t *testing.T, src string) {
		probs := expression.Check(src)
		_, err := expression.NewCache(1).Compile(src)
		if (err == nil) != (len(probs) == 0) {
			t.Fatalf("Compile %v, Check %v", err, probs)
		}
		for _, p := range probs {
			if p.Line < 1 || p.Construct == "" || p.Msg == "" {
				t.Fatalf("problem %+v", p)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		pctx := map[string]any{"prompt_data": map[string]any{"username": "u"}, "pending_user": map[string]any{"pk": 1.0}}
		ev.Evaluate(ctx, expr(src), plan.PolicyRequest{User: plan.User{PK: 1}, Context: pctx, Plan: new(redirects), HTTP: httpReq()})
	})
}

// fuzzDirectory is a directory with akadmin (pk 1) in "admins".
func fuzzDirectory(f *testing.F) *memdir.Dir {
	d, err := memdir.New(memdir.Options{Policy: password.Policy{Iterations: 1000}})
	if err != nil {
		f.Fatal(err)
	}
	g := directory.DefaultGroup()
	g.Name, g.Attributes = "admins", map[string]any{"x": []any{1.0}}
	if g, err = d.AddGroup(g); err != nil {
		f.Fatal(err)
	}
	u := directory.DefaultUser()
	u.Username, u.Name, u.Groups = "akadmin", "admin", []uuid.UUID{g.PK}
	if _, err := d.CreateUser(context.Background(), u); err != nil {
		f.Fatal(err)
	}
	return d
}
