package expression_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
)

// The shipped out-of-the-box policy, default-oobe-flow-set-authentication.
const oobeSetAuthentication = `# This policy ensures that the setup flow can only be
# used one time
from authentik.flows.models import Flow, FlowAuthenticationRequirement
Flow.objects.filter(slug="initial-setup").update(
    authentication=FlowAuthenticationRequirement.REQUIRE_SUPERUSER,
)
return True
`

// Check accepts Flow.objects.filter(...).update(...) with literal values
// on the fields the store matches and a write sets, and names every
// other use of the names authentik.flows.models binds.
func TestCheckORM(t *testing.T) {
	const imp = "from authentik.flows.models import Flow, FlowAuthenticationRequirement, FlowDesignation\n"
	tests := []struct {
		name      string
		src       string
		construct string // "" means it compiles
		line      int
	}{
		{"shipped", oobeSetAuthentication, "", 0},
		{"aliases", "from authentik.flows.models import Flow as F, FlowDesignation as D\nF.objects.filter(designation=D.STAGE_CONFIGURATION, name='x',).update(title='t', compatibility_mode=True)\nreturn True", "", 0},
		{"flow_uuid and pk", imp + "Flow.objects.filter(flow_uuid='8b2d4bbf-0e1e-4b5e-9f4e-3c1f7d7f6a10', pk=\"8b2d4bbf-0e1e-4b5e-9f4e-3c1f7d7f6a10\").update(denied_action='continue')\nreturn True", "", 0},
		{"enum elsewhere", imp + "return context['d'] == FlowDesignation.RECOVERY", "", 0},
		{"imported, unused", imp + "return True", "", 0},
		{"get", imp + "x = 1\nreturn Flow.objects.get(slug='x')", "Flow.objects.get", 3},
		{"all", imp + "return Flow.objects.all()", "Flow.objects.all", 2},
		{"exists", imp + "return Flow.objects.filter(slug='x').exists()", "Flow.objects.filter(...).exists", 2},
		{"delete", imp + "Flow.objects.filter(slug='x').delete()\nreturn True", "Flow.objects.filter(...).delete", 2},
		{"query kept", imp + "q = Flow.objects.filter(slug='x')\nq.update(title='t')\nreturn True", "Flow.objects.filter(...)", 2},
		{"the model", imp + "f = Flow\nreturn True", "Flow", 2},
		{"objects", imp + "m = Flow.objects\nreturn True", "Flow.objects", 2},
		{"Flow()", imp + "Flow(slug='x').save()\nreturn True", "Flow", 2},
		{"no filter", imp + "Flow.objects.filter().update(title='t')\nreturn True", "Flow.objects.filter()", 2},
		{"no update", imp + "Flow.objects.filter(slug='x').update()\nreturn True", "Flow.objects.filter(...).update()", 2},
		{"lookup", imp + "Flow.objects.filter(slug__iexact='x').update(title='t')\nreturn True", "Flow.objects.filter(slug__iexact)", 2},
		{"unknown field", imp + "Flow.objects.filter(foo='x').update(title='t')\nreturn True", "Flow.objects.filter(foo)", 2},
		{"read-only set", imp + "Flow.objects.filter(slug='x').update(background='b')\nreturn True", "Flow.objects.filter(...).update(background)", 2},
		{"pk set", imp + "Flow.objects.filter(slug='x').update(pk='b')\nreturn True", "Flow.objects.filter(...).update(pk)", 2},
		{"variable", imp + "s = 'x'\nFlow.objects.filter(slug=s).update(title='t')\nreturn True", "Flow.objects.filter(slug)", 3},
		{"concatenation", imp + "Flow.objects.filter(slug='x' + 'y').update(title='t')\nreturn True", "Flow.objects.filter(slug)", 2},
		{"context", imp + "Flow.objects.filter(slug=context['s']).update(title='t')\nreturn True", "Flow.objects.filter(slug)", 2},
		{"bytes", imp + "Flow.objects.filter(slug=b'x').update(title='t')\nreturn True", "Flow.objects.filter(slug)", 2},
		{"bool field", imp + "Flow.objects.filter(slug='x').update(compatibility_mode='yes')\nreturn True", "Flow.objects.filter(...).update(compatibility_mode)", 2},
		{"None", imp + "Flow.objects.filter(slug='x').update(title=None)\nreturn True", "Flow.objects.filter(...).update(title)", 2},
		{"positional", imp + "Flow.objects.filter('x').update(title='t')\nreturn True", "Flow.objects.filter", 2},
		{"unknown member", imp + "Flow.objects.filter(slug='x').update(authentication=FlowAuthenticationRequirement.ROOT)\nreturn True", "FlowAuthenticationRequirement.ROOT", 2},
		{"unknown member elsewhere", imp + "return FlowDesignation.NOPE", "FlowDesignation.NOPE", 2},
		{"enum alone", imp + "d = FlowDesignation\nreturn True", "FlowDesignation", 2},
		{"not imported", "Flow.objects.filter(slug='x').update(title='t')\nreturn True", "Flow", 1},
		{"another model", "from authentik.flows.models import Stage\nreturn True", "import authentik.flows.models.Stage", 1},
		{"another module", "from authentik.core.models import User\nreturn True", "import authentik.core.models.User", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := expression.Check(tt.src)
			if tt.construct == "" {
				if len(probs) != 0 {
					t.Fatalf("Check = %+v, want none", probs)
				}
				return
			}
			if len(probs) == 0 || probs[0].Construct != tt.construct || probs[0].Line != tt.line || probs[0].Msg == "" {
				t.Fatalf("Check = %+v, want %q on line %d", probs, tt.construct, tt.line)
			}
			if _, err := expression.Compile(tt.src); !errors.Is(err, expression.ErrCompile) {
				t.Errorf("Compile: %v", err)
			}
		})
	}
}

// The evaluator asks for the update through PolicyRequest.Update, by the
// store's field names, and update() gives None; a result that asked is
// not kept by a plan cache. Without PolicyRequest.Update it fails
// wrapping ErrNoHost, naming the policy and the line.
func TestORMUpdate(t *testing.T) {
	var got []plan.Update
	req := plan.PolicyRequest{Update: func(u plan.Update) { got = append(got, u) }}
	res, err := eval(t, oobeSetAuthentication, req)
	want := []plan.Update{{Model: store.ModelFlow, Filter: map[string]any{"slug": "initial-setup"}, Set: map[string]any{"authentication": "require_superuser"}}}
	if err != nil || !res.Passing || !reflect.DeepEqual(got, want) {
		t.Fatalf("%v %v: %+v, want %+v", res, err, got, want)
	}
	if res.ValidUntil.Equal(plan.Forever) {
		t.Error("a result that asked for a write is cacheable")
	}

	got = nil
	src := "from authentik.flows.models import Flow, FlowDesignation as D\n" +
		"n = Flow.objects.filter(flow_uuid='{8B2D4BBF-0E1E-4B5E-9F4E-3C1F7D7F6A10}', designation=D.UNRENOLLMENT).update(compatibility_mode=True, title='T')\n" +
		"return n == None"
	res, err = eval(t, src, req)
	want = []plan.Update{{Model: store.ModelFlow,
		Filter: map[string]any{"pk": "8b2d4bbf-0e1e-4b5e-9f4e-3c1f7d7f6a10", "designation": "unenrollment"},
		Set:    map[string]any{"compatibility_mode": true, "title": "T"}}}
	if err != nil || !res.Passing || !reflect.DeepEqual(got, want) {
		t.Fatalf("%v %v: %+v, want %+v", res, err, got, want)
	}

	// Django raises ValidationError on a pk that is not a UUID: the
	// expression's exception, so the binding's failure_result.
	_, err = eval(t, "from authentik.flows.models import Flow\nFlow.objects.filter(pk='x').update(title='t')\nreturn True", req)
	var re *expression.RunError
	if !errors.As(err, &re) || re.Msg != "“x” is not a valid UUID." || re.Line != 2 {
		t.Errorf("bad pk: %v", err)
	}

	_, err = eval(t, oobeSetAuthentication, plan.PolicyRequest{})
	if !errors.Is(err, expression.ErrNoHost) || !strings.Contains(err.Error(), `policy "p", line 4`) ||
		!strings.Contains(err.Error(), "Flow.objects.filter(...).update(...)") {
		t.Errorf("without Update: %v", err)
	}
}

// A prompt expression has no host that applies writes: in a dry run the
// update fails wrapping ErrNoHost.
func TestORMPrompt(t *testing.T) {
	src := "from authentik.flows.models import Flow\nFlow.objects.filter(slug='x').update(title='t')\nreturn 'x'"
	_, err := expression.PromptValue(context.Background(), textPrompt(src, true, "", false), expression.PromptPlaceholder, expression.PromptVars{DryRun: true}, nil)
	if !errors.Is(err, expression.ErrNoHost) {
		t.Errorf("prompt: %v", err)
	}
}

// bootstrapAdmin is what authentik's system bootstrap blueprint
// (blueprints/system/bootstrap.yaml, not among the 21 shipped flow
// blueprints) creates, and nothing in authflow does: the superuser group
// "authentik Admins" and akadmin in it, without a password.
const bootstrapAdmin = `version: 1
entries:
- {model: authentik_core.group, state: created, id: admin-group, identifiers: {name: authentik Admins}, attrs: {is_superuser: true}}
- model: authentik_core.user
  state: created
  identifiers: {username: akadmin}
  attrs: {name: authentik Default Admin, email: root@example.com, groups: [!KeyOf admin-group]}
`

// oobeSHA256 is the SHA-256 of authentik 2025.6.4's
// blueprints/default/flow-oobe.yaml.
const oobeSHA256 = "15784072162c3da87cb7a93b5ee8841b1c25cc0545bf2bc58d9dc6e5f1d740a0"

// newShippedStore opens a fresh store with akadmin as authentik's
// bootstrap creates it and the shipped default blueprints, read as
// shipped (flow-oobe.yaml is checked byte for byte).
func newShippedStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(filepath.Join(t.TempDir(), "s.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := blueprint.Load(ctx, s, strings.NewReader(bootstrapAdmin), blueprint.Options{}); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("../blueprint/testdata/authentik/default/*.yaml")
	if err != nil || len(files) != 14 {
		t.Fatalf("%d default blueprints: %v", len(files), err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "flow-oobe.yaml" {
			if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != oobeSHA256 {
				t.Fatalf("%s is not authentik's as shipped", f)
			}
			if !strings.Contains(string(raw), strings.ReplaceAll(strings.TrimSuffix(oobeSetAuthentication, "\n"), "\n", "\n      ")) {
				t.Fatalf("%s does not hold the policy tested here", f)
			}
		}
		if _, err := blueprint.Load(ctx, s, strings.NewReader(string(raw)), blueprint.Options{Dir: "../blueprint/testdata/authentik"}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return s
}

// planInitialSetup plans initial-setup for an anonymous request with the
// built-in evaluators and the expression evaluator.
func planInitialSetup(t *testing.T, s *store.Store) plan.Plan {
	t.Helper()
	ctx := context.Background()
	evs := plan.Builtin(nil)
	evs[policy.ModelExpression] = expression.Evaluator(nil)
	var p plan.Plan
	err := s.View(ctx, func(tx *store.Tx) error {
		var err error
		p, err = plan.Make(ctx, tx, "initial-setup", plan.Request{}, plan.Options{Evaluators: evs})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInitialSetup: on a fresh store with the shipped blueprints, the
// out-of-the-box flow plans for an anonymous user, its plan holding the
// update its third policy asks for (planning writes nothing); once the
// update is applied, as the executor will after the step commits, the
// flow requires a superuser and a second run is denied, as authentik's
// is.
func TestInitialSetup(t *testing.T) {
	s := newShippedStore(t)
	ctx := context.Background()
	p := planInitialSetup(t, s)
	want := []plan.Update{{Policy: "default-oobe-flow-set-authentication", Model: store.ModelFlow,
		Filter: map[string]any{"slug": "initial-setup"}, Set: map[string]any{"authentication": "require_superuser"}}}
	if !p.Applicable || len(p.Stages) != 3 || !reflect.DeepEqual(p.Updates, want) {
		t.Fatalf("first plan: applicable %v, %d stages, updates %+v, messages %q", p.Applicable, len(p.Stages), p.Updates, p.Messages)
	}
	b, err := json.Marshal(p)
	if err != nil || !strings.Contains(string(b), `"updates":[{"policy":"default-oobe-flow-set-authentication","model":"authentik_flows.flow","filter":{"slug":"initial-setup"},"set":{"authentication":"require_superuser"}}]`) {
		t.Errorf("plan JSON %s %v", b, err)
	}
	if again := planInitialSetup(t, s); !again.Applicable {
		t.Fatal("planning applied the update")
	}
	if err := plan.ApplyUpdates(ctx, s, p.Updates); err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *store.Tx) error {
		f, err := store.Flows.Get(tx, store.By("slug", "initial-setup"))
		if f.Authentication != flow.AuthenticationRequireSuperuser {
			t.Errorf("authentication %s", f.Authentication)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	p = planInitialSetup(t, s)
	if p.Applicable || len(p.Trace) != 1 || p.Trace[0].What != "authentication" || p.Trace[0].Passing || len(p.Updates) != 0 {
		t.Errorf("second plan: applicable %v, trace %+v, updates %+v", p.Applicable, p.Trace, p.Updates)
	}
}

// TestInitialSetupPasswordSet: once akadmin has a usable password, the
// flow's own policy (default-oobe-password-usable) denies the flow, and
// its bindings' policies, the update among them, are not reached.
func TestInitialSetupPasswordSet(t *testing.T) {
	s := newShippedStore(t)
	ctx := context.Background()
	var pk int64
	err := s.View(ctx, func(tx *store.Tx) error {
		u, err := store.Users.Get(tx, store.By("username", "akadmin"))
		pk = u.PK
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	pw := "secret"
	if err := s.Directory().SetPassword(ctx, pk, &pw); err != nil {
		t.Fatal(err)
	}
	p := planInitialSetup(t, s)
	var flowStep *plan.Step
	for i := range p.Trace {
		if p.Trace[i].What == "flow" {
			flowStep = &p.Trace[i]
		}
	}
	if p.Applicable || flowStep == nil || flowStep.Passing || len(p.Updates) != 0 {
		t.Errorf("applicable %v, flow step %+v, updates %+v", p.Applicable, flowStep, p.Updates)
	}
}
