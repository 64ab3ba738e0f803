package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// The host's expression checker runs on every write that sets or changes
// an expression, and its refusal is the field error, with nothing
// written; a write that leaves the expression alone does not ask it.
func TestCheckExpression(t *testing.T) {
	var asked []string
	check := func(name, expr string) error {
		asked = append(asked, name+":"+expr)
		if strings.Contains(expr, "(") && !strings.Contains(expr, ")") {
			return errors.New("'(' was never closed (temp-policy, line 2)")
		}
		return nil
	}
	s := openTestStore(t, filepath.Join(t.TempDir(), "a.db"), &store.Options{CheckExpression: check})
	ctx := context.Background()
	err := wantUnchanged(t, s, func() error {
		_, err := createJSONIn(ctx, s, store.Policies.Kind(string(policy.ModelExpression)), []byte(`{"name":"bad","expression":"return f("}`))
		return err
	})
	testutil.WantFields(t, "create", err, map[string][]string{"expression": {"Expression Syntax Error: '(' was never closed (temp-policy, line 2)"}})
	p, err := createIn(ctx, s, store.Policies, policy.Policy{Name: "ok", Config: policy.Expression{Expression: "return True"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := patchIn(ctx, s, store.Policies, store.PK(p.PK), []byte(`{"execution_logging":true}`)); err != nil {
		t.Fatal(err)
	}
	err = wantUnchanged(t, s, func() error {
		_, err := patchIn(ctx, s, store.Policies, store.PK(p.PK), []byte(`{"expression":"return (1"}`))
		return err
	})
	var ve *validate.Error
	if !errors.As(err, &ve) || len(ve.Fields["expression"]) != 1 {
		t.Errorf("patch: %v", err)
	}
	want := []string{"temp-policy:return f(", "temp-policy:return True", "ok:return (1"}
	if strings.Join(asked, "|") != strings.Join(want, "|") {
		t.Errorf("asked %q, want %q", asked, want)
	}
	// Other kinds are never asked about.
	if _, err := createIn(ctx, s, store.Policies, policy.Policy{Name: "pw", Config: policy.DefaultPassword()}); err != nil || len(asked) != 3 {
		t.Errorf("password policy: %v, asked %d times", err, len(asked))
	}
}

// Without a host checker the store refuses a Python syntax error with
// authentik's message (file name "temp-policy" on a create, the stored
// name on an update) and accepts what is valid Python although the
// evaluator cannot run it.
func TestCheckExpressionDefault(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	err := wantUnchanged(t, s, func() error {
		_, err := createJSONIn(ctx, s, store.Policies.Kind(string(policy.ModelExpression)), []byte(`{"name":"bad","expression":"x = [1,\n2)\nreturn x"}`))
		return err
	})
	testutil.WantFields(t, "create", err, map[string][]string{"expression": {"Expression Syntax Error: closing parenthesis ')' does not match opening parenthesis '[' on line 2 (temp-policy, line 3)"}})
	p, err := createIn(ctx, s, store.Policies, policy.Policy{Name: "orm", Config: policy.Expression{Expression: "from authentik.flows.models import Flow\nFlow.objects.filter(slug='x').update(designation='y')\nreturn True"}})
	if err != nil {
		t.Fatalf("a Django import is valid Python: %v", err)
	}
	err = wantUnchanged(t, s, func() error {
		_, err := patchIn(ctx, s, store.Policies, store.PK(p.PK), []byte(`{"name":"renamed","expression":"if True:\n        x = 1\n    y = 2\nreturn 1"}`))
		return err
	})
	testutil.WantFields(t, "patch", err, map[string][]string{"expression": {"Expression Syntax Error: unindent does not match any outer indentation level (orm, line 4)"}})
}

// Deleting a flow deletes, in one transaction, its policy bindings and
// those of its flow-stage bindings; the policy stays, unbound.
func TestFlowDeleteCascadesPolicyBindings(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	f := mkFlow(t, s, "login")
	st := mkUserWrite(t, s, "write")
	fsb := mkBinding(t, s, f.PK, st.PK, 10)
	p, err := createIn(ctx, s, store.Policies, policy.Policy{Name: "allow", Config: policy.Expression{Expression: "return True"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []uuid.UUID{f.PK, fsb.PK} {
		b := policy.DefaultBinding()
		b.Policy, b.Target = &p.PK, target
		if _, err := createIn(ctx, s, store.PolicyBindings, b); err != nil {
			t.Fatal(err)
		}
	}
	im, err := readIn(ctx, s, func(tx *store.Tx) (store.Impact, error) { return tx.DeleteImpact(store.ModelFlow, f.PK) })
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Deleted) != 4 { // the flow, its binding, two policy bindings
		t.Errorf("impact: %+v", im.Deleted)
	}
	if err := deleteIn(ctx, s, store.Flows, store.By("slug", "login")); err != nil {
		t.Fatal(err)
	}
	if bs, err := listIn(ctx, s, store.PolicyBindings, store.Query{}); err != nil || bs.Pagination.Count != 0 {
		t.Errorf("policy bindings left: %+v, %v", bs, err)
	}
	if got, err := viewIn(ctx, s, store.Policies, store.PK(p.PK)); err != nil || got.BoundTo != 0 {
		t.Errorf("policy after the delete: %+v, %v", got, err)
	}
}

// used_by through policy bindings, as authentik 2025.6 lists it: a flow
// and a flow-stage binding list their policy bindings ("bindings",
// cascade) and, through them, their policies (the many-to-many
// PolicyBindingModel.policies, cascade_many; a group binding has none);
// a policy does not list its bindings (related_name="+") but the targets
// it is bound to, as their base policy binding model rows; a group and a
// user list the bindings that bind them.
func TestUsedByThroughPolicyBindings(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	f := mkFlow(t, s, "login")
	st := mkUserWrite(t, s, "write")
	fsb := mkBinding(t, s, f.PK, st.PK, 10)
	p, err := createIn(ctx, s, store.Policies, policy.Policy{Name: "allow", Config: policy.Expression{Expression: "return True"}})
	if err != nil {
		t.Fatal(err)
	}
	var (
		group  uuid.UUID
		user   int64
		userID uuid.UUID
	)
	err = s.Update(ctx, func(tx *store.Tx) error {
		g, err := store.Groups.CreateJSON(tx, []byte(`{"name":"staff"}`), nil)
		if err != nil {
			return err
		}
		u, err := store.Users.CreateJSON(tx, []byte(`{"username":"ann","name":"Ann Example"}`), nil)
		if err != nil {
			return err
		}
		group, user = g.PK, u.PK
		userID, err = tx.Lookup(store.ModelUser, store.By("pk", strconv.FormatInt(user, 10)))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var pbs []store.UsedBy
	for _, tt := range []struct {
		b    policy.Binding
		name string
	}{
		{policy.Binding{Policy: &p.PK, Target: f.PK}, "Binding from Flow Name of login (login) #0 to Policy allow"},
		{policy.Binding{Policy: &p.PK, Target: fsb.PK}, "Binding from Flow-stage binding #10 to " + f.PK.String() + " #0 to Policy allow"},
		{policy.Binding{Group: &group, Target: f.PK, Order: 1}, "Binding from Flow Name of login (login) #1 to Group staff"},
		{policy.Binding{User: &user, Target: fsb.PK, Order: 2}, "Binding from Flow-stage binding #10 to " + f.PK.String() + " #2 to User Ann Example"},
	} {
		v, err := createIn(ctx, s, store.PolicyBindings, tt.b)
		if err != nil {
			t.Fatal(err)
		}
		pbs = append(pbs, store.UsedBy{App: "authentik_policies", ModelName: "policybinding", PK: v.PK.String(), Name: tt.name, Action: "cascade"})
	}
	allow := store.UsedBy{App: "authentik_policies", ModelName: "policy", PK: p.PK.String(), Name: "allow", Action: "cascade_many"}
	for _, tt := range []struct {
		model string
		pk    uuid.UUID
		want  []store.UsedBy
	}{
		{store.ModelFlow, f.PK, []store.UsedBy{
			pbs[0], pbs[2],
			{App: "authentik_flows", ModelName: "flowstagebinding", PK: fsb.PK.String(), Name: "Flow-stage binding #10 to " + f.PK.String(), Action: "cascade"},
			allow,
			{App: "authentik_flows", ModelName: "stage", PK: st.PK.String(), Name: "Stage write", Action: "cascade_many"},
		}},
		{store.ModelBinding, fsb.PK, []store.UsedBy{pbs[1], pbs[3], allow}},
		// A group and a user list the bindings that bind them
		// (policybinding_set, cascade).
		{store.ModelGroup, group, []store.UsedBy{pbs[2]}},
		{store.ModelUser, userID, []store.UsedBy{pbs[3]}},
		{store.ModelPolicy, p.PK, []store.UsedBy{
			{App: "authentik_policies", ModelName: "policybindingmodel", PK: f.PolicyBindingModelPtrID.String(), Name: "PolicyBindingModel " + f.PolicyBindingModelPtrID.String(), Action: "cascade_many"},
			{App: "authentik_policies", ModelName: "policybindingmodel", PK: fsb.PolicyBindingModelPtrID.String(), Name: "PolicyBindingModel " + fsb.PolicyBindingModelPtrID.String(), Action: "cascade_many"},
		}},
	} {
		got, err := readIn(ctx, s, func(tx *store.Tx) ([]store.UsedBy, error) { return tx.UsedBy(tt.model, tt.pk) })
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("used_by of the %s:\n got %+v\nwant %+v", tt.model, got, tt.want)
		}
	}
}

// Deleting a flow that a redirect stage, an identification stage, an
// invitation, a binding and a policy binding point at does, in one
// transaction, what each reference declares: the redirect's target_flow
// and the invitation's flow become null (set_null, set_default None), the
// identification stage's enrollment_flow its default, and the binding and
// policy binding go.
func TestFlowDeleteReferences(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	f := mkFlow(t, s, "enroll")
	var redirect, ident, inv, fsb, pb uuid.UUID
	err := s.Update(ctx, func(tx *store.Tx) error {
		var err error
		fpk := `"` + f.PK.String() + `"`
		if redirect, err = tx.Create(string(stage.ModelRedirect), []byte(`{"name":"go","mode":"flow","target_flow":`+fpk+`}`), nil); err != nil {
			return err
		}
		if ident, err = tx.Create(string(stage.ModelIdentification), []byte(`{"name":"who","user_fields":["username"],"enrollment_flow":`+fpk+`}`), nil); err != nil {
			return err
		}
		if inv, err = tx.Create(store.ModelInvite, []byte(`{"name":"inv","flow":`+fpk+`}`), nil); err != nil {
			return err
		}
		if fsb, err = tx.Create(store.ModelBinding, []byte(`{"target":`+fpk+`,"stage":"`+ident.String()+`","order":0}`), nil); err != nil {
			return err
		}
		p, err := tx.Create(string(policy.ModelDummy), []byte(`{"name":"d"}`), nil)
		if err != nil {
			return err
		}
		pb, err = tx.Create(store.ModelPolicyBinding, []byte(`{"target":`+fpk+`,"policy":"`+p.String()+`","order":0}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	im, err := readIn(ctx, s, func(tx *store.Tx) (store.Impact, error) { return tx.DeleteImpact(store.ModelFlow, f.PK) })
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Deleted) != 3 || len(im.SetNull) != 1 || len(im.SetDefault) != 2 || len(im.Blocked) != 0 {
		t.Errorf("impact: %+v", im)
	}
	if err := deleteIn(ctx, s, store.Flows, store.By("slug", "enroll")); err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *store.Tx) error {
		for _, gone := range []struct {
			model string
			pk    uuid.UUID
		}{{store.ModelBinding, fsb}, {store.ModelPolicyBinding, pb}} {
			if _, err := tx.Get(gone.model, gone.pk); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s survived: %v", gone.model, err)
			}
		}
		r, err := store.Stages.View(tx, store.PK(redirect))
		if err != nil || r.Config.(stage.Redirect).TargetFlow != nil {
			t.Errorf("redirect: %+v, %v", r.Config, err)
		}
		id, err := store.Stages.View(tx, store.PK(ident))
		if err != nil || id.Config.(stage.Identification).EnrollmentFlow != nil {
			t.Errorf("identification: %+v, %v", id.Config, err)
		}
		i, err := store.Invites.View(tx, store.PK(inv))
		if err != nil || i.Flow != nil || i.FlowObj != nil {
			t.Errorf("invitation: %+v, %v", i, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Required names the fields a create must send, of a kind or a
// collection; a field with a default, a common one included, is not.
func TestRequired(t *testing.T) {
	s := newTestStore(t)
	for _, tt := range []struct {
		model, field string
		want         bool
	}{
		{string(policy.ModelGeoIP), "countries", true},
		{string(policy.ModelGeoIP), "asns", false},
		{string(policy.ModelGeoIP), "execution_logging", false},
		{store.ModelFlow, "slug", true},
		{store.ModelFlow, "layout", false},
		{"authentik_nope.thing", "x", false},
	} {
		if got := s.Required(tt.model, tt.field); got != tt.want {
			t.Errorf("Required(%s, %s) = %v, want %v", tt.model, tt.field, got, tt.want)
		}
	}
}
