package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

func TestFlowCRUD(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()

	typed, err := createIn(ctx, s, store.Flows, flow.New("Welcome", "default-authentication-flow", "Welcome to authentik!", flow.DesignationAuthentication))
	if err != nil {
		t.Fatal(err)
	}
	if typed.PK == uuid.Nil || typed.PolicyBindingModelPtrID == uuid.Nil || typed.PK == typed.PolicyBindingModelPtrID {
		t.Errorf("ids: pk %s, policybindingmodel_ptr_id %s; want two different non-nil ids", typed.PK, typed.PolicyBindingModelPtrID)
	}
	want := map[string]any{
		"name": "Welcome", "slug": "default-authentication-flow", "title": "Welcome to authentik!",
		"designation": "authentication", "background": flow.DefaultBackground,
		"stages": []any{}, "policies": []any{}, "cache_count": float64(0),
		"policy_engine_mode": "any", "compatibility_mode": false,
		"export_url": "/api/v3/flows/instances/default-authentication-flow/export/",
		"layout":     "stacked", "denied_action": "message_continue", "authentication": "none",
	}
	got := jsonMap(t, typed)
	for k, v := range want {
		if jsonOf(t, got[k]) != jsonOf(t, v) {
			t.Errorf("created flow %s = %v, want %v", k, got[k], v)
		}
	}

	byPK, err := viewIn(ctx, s, store.Flows, store.PK(typed.PK))
	if err != nil {
		t.Fatal(err)
	}
	bySlug, err := viewIn(ctx, s, store.Flows, store.By("slug", "default-authentication-flow"))
	if err != nil {
		t.Fatal(err)
	}
	if a, b, c := jsonOf(t, typed), jsonOf(t, byPK), jsonOf(t, bySlug); a != b || b != c {
		t.Errorf("create, GetFlow and GetFlowBySlug disagree:\n%s\n%s\n%s", a, b, c)
	}

	fromJSON, err := createJSONIn(ctx, s, store.Flows, []byte(`{"name":" Enroll ","slug":"enroll","title":"Sign up","designation":"enrollment","layout":"sidebar_left","compatibility_mode":"yes"}`))
	if err != nil {
		t.Fatal(err)
	}
	if fromJSON.Name != "Enroll" || fromJSON.Layout != flow.LayoutSidebarLeft || !fromJSON.CompatibilityMode || fromJSON.Authentication != flow.AuthenticationNone {
		t.Errorf("JSON create: %+v", fromJSON.Flow)
	}

	if _, err := viewIn(ctx, s, store.Flows, store.PK(storetest.MissingPK(0))); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetFlow(unknown) = %v, want ErrNotFound", err)
	}
	_, err = viewIn(ctx, s, store.Flows, store.By("slug", "Default-Authentication-Flow"))
	wantNotFound(t, err) // slugs are case-sensitive

	if err := deleteIn(ctx, s, store.Flows, store.By("slug", "enroll")); err != nil {
		t.Fatal(err)
	}
	_, err = viewIn(ctx, s, store.Flows, store.PK(fromJSON.PK))
	wantNotFound(t, err)
	_, err = viewIn(ctx, s, store.Flows, store.By("slug", "enroll"))
	wantNotFound(t, err)
	wantNotFound(t, deleteIn(ctx, s, store.Flows, store.By("slug", "enroll")))
	_, err = patchIn(ctx, s, store.Flows, store.By("slug", "enroll"), []byte(`{}`))
	wantNotFound(t, err)
	_, err = replaceIn(ctx, s, store.Flows, store.By("slug", "enroll"), []byte(`{}`))
	wantNotFound(t, err)
	if _, err := viewIn(ctx, s, store.Flows, store.By("slug", "default-authentication-flow")); err != nil {
		t.Errorf("the other flow: %v", err)
	}
}

func TestCreateFlowRejected(t *testing.T) {
	s := newTestStore(t)
	mkFlow(t, s, "taken")
	long := strings.Repeat("a", 50)
	tests := []struct {
		name     string
		body     string
		fields   map[string][]string
		nonField []string
	}{
		{"empty object", `{}`, map[string][]string{
			"name": {validate.MsgRequired}, "slug": {validate.MsgRequired},
			"title": {validate.MsgRequired}, "designation": {validate.MsgRequired}}, nil},
		{"bad slug and choice", `{"name":"n","slug":"Not A Slug","title":"t","designation":"nope"}`, map[string][]string{
			"slug": {validate.MsgSlug}, "designation": {validate.InvalidChoice("nope")}}, nil},
		{"slug too long and bad", `{"name":"n","slug":"` + long + ` x","title":"t","designation":"recovery"}`, map[string][]string{
			"slug": {validate.MaxLength(50), validate.MsgSlug}}, nil},
		{"slug of 50 ok but blank title", `{"name":"n","slug":"` + long + `","title":"   ","designation":"recovery"}`, map[string][]string{
			"title": {validate.MsgBlank}}, nil},
		{"nulls", `{"name":null,"slug":"s","title":"t","designation":"recovery","layout":null}`, map[string][]string{
			"name": {validate.MsgNull}, "layout": {validate.MsgNull}}, nil},
		{"wrong types", `{"name":true,"slug":"s","title":{},"designation":"recovery","compatibility_mode":"maybe"}`, map[string][]string{
			"name": {validate.MsgNotString}, "title": {validate.MsgNotString}, "compatibility_mode": {validate.MsgBoolean}}, nil},
		{"unknown key", `{"name":"n","slug":"s","title":"t","designation":"recovery","colour":"red"}`, map[string][]string{
			"colour": {validate.MsgUnknownField}}, nil},
		{"duplicate slug", `{"name":"n","slug":"taken","title":"t","designation":"recovery"}`, map[string][]string{
			"slug": {"Flow with this slug already exists."}}, nil},
		{"list", `[]`, nil, []string{"Invalid data. Expected a dictionary, but got list."}},
		{"null", `null`, nil, []string{"Invalid data. Expected a dictionary, but got NoneType."}},
		{"number", `12`, nil, []string{"Invalid data. Expected a dictionary, but got int."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wantUnchanged(t, s, func() error {
				_, err := createJSONIn(t.Context(), s, store.Flows, []byte(tt.body))
				return err
			})
			testutil.WantInvalid(t, err, tt.fields, tt.nonField...)
		})
	}
	t.Run("malformed JSON", func(t *testing.T) {
		err := wantUnchanged(t, s, func() error {
			_, err := createJSONIn(t.Context(), s, store.Flows, []byte(`{"name":`))
			return err
		})
		if !errors.Is(err, validate.ErrSyntax) {
			t.Errorf("error = %v, want one wrapping validate.ErrSyntax", err)
		}
		var ve *validate.Error
		if errors.As(err, &ve) {
			t.Errorf("malformed JSON gave a validation error %v", ve)
		}
	})
	t.Run("typed", func(t *testing.T) {
		err := wantUnchanged(t, s, func() error {
			_, err := createIn(t.Context(), s, store.Flows, flow.Flow{Name: "n", Slug: "bad slug!"})
			return err
		})
		testutil.WantInvalid(t, err, map[string][]string{
			"slug": {validate.MsgSlug}, "title": {validate.MsgBlank},
			"designation": {validate.InvalidChoice("")}, "layout": {validate.InvalidChoice("")},
			"policy_engine_mode": {validate.InvalidChoice("")}, "denied_action": {validate.InvalidChoice("")},
			"authentication": {validate.InvalidChoice("")},
		})
	})
}

func TestReplaceFlow(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	mkFlow(t, s, "f")
	if _, err := patchIn(ctx, s, store.Flows, store.By("slug", "f"), []byte(`{"layout":"content_left","denied_action":"continue","compatibility_mode":true}`)); err != nil {
		t.Fatal(err)
	}

	t.Run("required fields", func(t *testing.T) {
		err := wantUnchanged(t, s, func() error {
			_, err := replaceIn(ctx, s, store.Flows, store.By("slug", "f"), []byte(`{"name":"Renamed","layout":"stacked"}`))
			return err
		})
		testutil.WantInvalid(t, err, map[string][]string{
			"slug": {validate.MsgRequired}, "title": {validate.MsgRequired}, "designation": {validate.MsgRequired}})
	})

	t.Run("omitted optional fields keep their values", func(t *testing.T) {
		v, err := replaceIn(ctx, s, store.Flows, store.By("slug", "f"), []byte(`{"name":"Renamed","slug":"f","title":"T","designation":"recovery"}`))
		if err != nil {
			t.Fatal(err)
		}
		if v.Name != "Renamed" || v.Designation != flow.DesignationRecovery {
			t.Errorf("replaced: %+v", v.Flow)
		}
		if v.Layout != flow.LayoutContentLeft || v.DeniedAction != flow.DeniedActionContinue || !v.CompatibilityMode {
			t.Errorf("PUT reset omitted optional fields: %+v", v.Flow)
		}
	})

	t.Run("GET, PUT round trip", func(t *testing.T) {
		bind := mkUserWrite(t, s, "round-trip-stage")
		f, _ := viewIn(ctx, s, store.Flows, store.By("slug", "f"))
		mkBinding(t, s, f.PK, bind.PK, 10)
		if err := s.Update(ctx, func(tx *store.Tx) error {
			_, err := store.SetBackgroundURL(tx, store.By("slug", "f"), "bg.png", nil)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		before, err := viewIn(ctx, s, store.Flows, store.By("slug", "f"))
		if err != nil {
			t.Fatal(err)
		}
		body := jsonOf(t, before)
		after, err := replaceIn(ctx, s, store.Flows, store.By("slug", "f"), []byte(body))
		if err != nil {
			t.Fatalf("PUT of the GET body: %v", err)
		}
		if got := jsonOf(t, after); got != body {
			t.Errorf("PUT of the GET body changed the flow:\n got %s\nwant %s", got, body)
		}
		after, err = patchIn(ctx, s, store.Flows, store.By("slug", "f"), []byte(body))
		if err != nil {
			t.Fatalf("PATCH of the GET body: %v", err)
		}
		if got := jsonOf(t, after); got != body {
			t.Errorf("PATCH of the GET body changed the flow:\n got %s\nwant %s", got, body)
		}
	})
}

func TestPatchFlow(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	orig := mkFlow(t, s, "f")
	origJSON := jsonOf(t, orig)

	t.Run("changes only the given keys", func(t *testing.T) {
		v, err := patchIn(ctx, s, store.Flows, store.By("slug", "f"), []byte(`{"title":"New title","authentication":"require_superuser"}`))
		if err != nil {
			t.Fatal(err)
		}
		want := orig.Flow
		want.Title, want.Authentication = "New title", flow.AuthenticationRequireSuperuser
		if v.Flow != want {
			t.Errorf("patched = %+v\nwant %+v", v.Flow, want)
		}
		g, _ := viewIn(ctx, s, store.Flows, store.By("slug", "f"))
		if g.Flow != want {
			t.Errorf("stored = %+v\nwant %+v", g.Flow, want)
		}
		if _, err := patchIn(ctx, s, store.Flows, store.By("slug", "f"), []byte(`{"title":"`+orig.Title+`","authentication":"none"}`)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("read-only keys are ignored", func(t *testing.T) {
		v, err := patchIn(ctx, s, store.Flows, store.By("slug", "f"), []byte(`{"pk":"`+storetest.MissingPK(0).String()+`","policybindingmodel_ptr_id":"x",
			"stages":["a"],"policies":[1],"cache_count":9,"export_url":"/x","background":"http://evil/x.png"}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonOf(t, v); got != origJSON {
			t.Errorf("read-only keys changed the flow:\n got %s\nwant %s", got, origJSON)
		}
	})

	t.Run("empty patch", func(t *testing.T) {
		v, err := patchIn(ctx, s, store.Flows, store.By("slug", "f"), []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonOf(t, v); got != origJSON {
			t.Errorf("{} changed the flow:\n got %s\nwant %s", got, origJSON)
		}
	})

	rejected := []struct {
		name     string
		patch    string
		fields   map[string][]string
		nonField []string
	}{
		{"null on required", `{"slug":null,"name":null}`, map[string][]string{"slug": {validate.MsgNull}, "name": {validate.MsgNull}}, nil},
		{"null on optional non-nullable", `{"compatibility_mode":null,"layout":null}`, map[string][]string{
			"compatibility_mode": {validate.MsgNull}, "layout": {validate.MsgNull}}, nil},
		{"blank", `{"title":"  "}`, map[string][]string{"title": {validate.MsgBlank}}, nil},
		{"bad choice", `{"designation":5}`, map[string][]string{"designation": {validate.InvalidChoice("5")}}, nil},
		{"unknown keys", `{"Title":"x","nested":{"a":1}}`, map[string][]string{
			"Title": {validate.MsgUnknownField}, "nested": {validate.MsgUnknownField}}, nil},
		{"valid and invalid together", `{"title":"ok","slug":"no way"}`, map[string][]string{"slug": {validate.MsgSlug}}, nil},
		{"array", `[{"title":"x"}]`, nil, []string{"Invalid data. Expected a dictionary, but got list."}},
		{"string", `"x"`, nil, []string{"Invalid data. Expected a dictionary, but got str."}},
	}
	for _, tt := range rejected {
		t.Run(tt.name, func(t *testing.T) {
			err := wantUnchanged(t, s, func() error {
				_, err := patchIn(ctx, s, store.Flows, store.By("slug", "f"), []byte(tt.patch))
				return err
			})
			testutil.WantInvalid(t, err, tt.fields, tt.nonField...)
			if g, _ := viewIn(ctx, s, store.Flows, store.By("slug", "f")); jsonOf(t, g) != origJSON {
				t.Errorf("flow changed: %s", jsonOf(t, g))
			}
		})
	}
}

func TestFlowSlugUniqueness(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	lower := mkFlow(t, s, "a")
	upper := mkFlow(t, s, "A") // case-sensitive: both may exist
	if lower.PK == upper.PK {
		t.Fatal("a and A are the same flow")
	}
	if g, err := viewIn(ctx, s, store.Flows, store.By("slug", "A")); err != nil || g.PK != upper.PK {
		t.Errorf("GetFlowBySlug(A) = %v, %v", g.PK, err)
	}
	taken := map[string][]string{"slug": {"Flow with this slug already exists."}}

	err := wantUnchanged(t, s, func() error { _, err := createIn(ctx, s, store.Flows, newFlow("a")); return err })
	wantConflict(t, err, taken)
	err = wantUnchanged(t, s, func() error {
		_, err := patchIn(ctx, s, store.Flows, store.By("slug", "A"), []byte(`{"slug":"a"}`))
		return err
	})
	wantConflict(t, err, taken)
	err = wantUnchanged(t, s, func() error {
		_, err := replaceIn(ctx, s, store.Flows, store.By("slug", "A"), []byte(`{"name":"n","slug":"a","title":"t","designation":"recovery"}`))
		return err
	})
	wantConflict(t, err, taken)

	// A clash and other errors are reported together.
	_, err = patchIn(ctx, s, store.Flows, store.By("slug", "A"), []byte(`{"slug":"a","title":""}`))
	wantConflict(t, err, map[string][]string{"slug": {"Flow with this slug already exists."}, "title": {validate.MsgBlank}})

	// Keeping one's own slug is no clash.
	if _, err := patchIn(ctx, s, store.Flows, store.By("slug", "a"), []byte(`{"slug":"a","name":"still a"}`)); err != nil {
		t.Fatal(err)
	}

	// Renaming frees the old slug.
	renamed, err := patchIn(ctx, s, store.Flows, store.By("slug", "a"), []byte(`{"slug":"b"}`))
	if err != nil {
		t.Fatal(err)
	}
	if renamed.PK != lower.PK || renamed.ExportURL() != "/api/v3/flows/instances/b/export/" {
		t.Errorf("renamed: %+v", renamed.Flow)
	}
	_, err = viewIn(ctx, s, store.Flows, store.By("slug", "a"))
	wantNotFound(t, err)
	_, err = patchIn(ctx, s, store.Flows, store.By("slug", "a"), []byte(`{}`))
	wantNotFound(t, err)
	wantNotFound(t, deleteIn(ctx, s, store.Flows, store.By("slug", "a")))
	if g, err := viewIn(ctx, s, store.Flows, store.By("slug", "b")); err != nil || g.PK != lower.PK {
		t.Errorf("GetFlowBySlug(b) = %v, %v", g.PK, err)
	}
	reused := mkFlow(t, s, "a")
	if reused.PK == lower.PK {
		t.Error("the new flow a reuses the old pk")
	}
	_, err = createIn(ctx, s, store.Flows, newFlow("b"))
	wantConflict(t, err, taken)
	checkInvariants(t, s)
}

func TestSetFlowBackgroundURL(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	mkFlow(t, s, "f")
	for _, tt := range []struct{ set, want string }{
		{"https://example.com/bg.png", "https://example.com/bg.png"},
		{"/static/x.png", "/static/x.png"},
		{"flow-backgrounds/x.png", "/media/public/flow-backgrounds/x.png"},
		{"", flow.DefaultBackground},
	} {
		v, err := writeIn(ctx, s, func(tx *store.Tx) (flow.View, error) {
			return viewed(tx, store.Flows)(store.SetBackgroundURL(tx, store.By("slug", "f"), tt.set, nil))
		})
		if err != nil {
			t.Fatal(err)
		}
		g, _ := viewIn(ctx, s, store.Flows, store.By("slug", "f"))
		if got := jsonMap(t, v)["background"]; got != tt.want || g.BackgroundURL() != tt.want {
			t.Errorf("background after %q = %v (stored %q), want %q", tt.set, got, g.BackgroundURL(), tt.want)
		}
	}
	err := s.Update(ctx, func(tx *store.Tx) error {
		_, err := store.SetBackgroundURL(tx, store.By("slug", "nope"), "x", nil)
		return err
	})
	wantNotFound(t, err)
	// Too long: a field error, and nothing written.
	err = wantUnchanged(t, s, func() error {
		return s.Update(ctx, func(tx *store.Tx) error {
			_, err := store.SetBackgroundURL(tx, store.By("slug", "f"), strings.Repeat("x", flow.MaxBackgroundLength+1), nil)
			return err
		})
	})
	testutil.WantInvalid(t, err, map[string][]string{"url": {validate.MaxLength(flow.MaxBackgroundLength)}})
	// A write conditional on a revision the flow has moved past.
	err = wantUnchanged(t, s, func() error {
		return s.Update(ctx, func(tx *store.Tx) error {
			_, err := store.SetBackgroundURL(tx, store.By("slug", "f"), "x.png", store.Since(1))
			return err
		})
	})
	if !errors.Is(err, store.ErrRevision) {
		t.Errorf("a stale revision: %v", err)
	}
}

func TestDeleteFlowCascades(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	g := mkFlow(t, s, "g")
	uw := mkUserWrite(t, s, "uw")
	inv := mkInvitation(t, s, "inv")
	duoF := mkDuo(t, s, "duo-f", &f.PK) // configured by the flow that goes
	duoG := mkDuo(t, s, "duo-g", &g.PK) // configured by the flow that stays
	fb1 := mkBinding(t, s, f.PK, uw.PK, 10)
	fb2 := mkBinding(t, s, f.PK, duoF.PK, 20)
	fb3 := mkBinding(t, s, f.PK, duoG.PK, 30)
	gb1 := mkBinding(t, s, g.PK, uw.PK, 10)
	gb2 := mkBinding(t, s, g.PK, inv.PK, 20)
	checkInvariants(t, s)

	if err := deleteIn(ctx, s, store.Flows, store.By("slug", "f")); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)

	for _, b := range []uuid.UUID{fb1.PK, fb2.PK, fb3.PK} {
		_, err := viewIn(ctx, s, store.Bindings, store.PK(b))
		wantNotFound(t, err)
	}
	for _, b := range []uuid.UUID{gb1.PK, gb2.PK} {
		if _, err := viewIn(ctx, s, store.Bindings, store.PK(b)); err != nil {
			t.Errorf("binding of the other flow: %v", err)
		}
	}
	st, err := viewIn(ctx, s, store.Stages, store.PK(uw.PK))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.FlowSet) != 1 || st.FlowSet[0].PK != g.PK {
		t.Errorf("uw flow_set = %s, want only g", jsonOf(t, st.FlowSet))
	}

	df, err := viewIn(ctx, s, store.Stages, store.PK(duoF.PK))
	if err != nil {
		t.Fatalf("a Duo stage configured by the deleted flow must survive: %v", err)
	}
	c := duoConfig(t, df)
	if c.ConfigureFlow != nil {
		t.Errorf("configure_flow = %s, want null", c.ConfigureFlow)
	}
	if got := jsonMap(t, df)["configure_flow"]; got != nil {
		t.Errorf("configure_flow JSON = %v, want null", got)
	}
	if len(df.FlowSet) != 0 {
		t.Errorf("duo-f flow_set = %s, want empty", jsonOf(t, df.FlowSet))
	}
	if c.ClientSecret.Reveal() != duoSecret || c.AdminSecretKey.Reveal() != duoAdminSecret {
		t.Error("setting configure_flow to null lost the secrets")
	}
	dg, _ := viewIn(ctx, s, store.Stages, store.PK(duoG.PK))
	if c := duoConfig(t, dg); c.ConfigureFlow == nil || *c.ConfigureFlow != g.PK {
		t.Errorf("duo-g configure_flow = %v, want g", c.ConfigureFlow)
	}
	gv, _ := viewIn(ctx, s, store.Flows, store.PK(g.PK))
	if want := []uuid.UUID{uw.PK, inv.PK}; !equalIDs(gv.Stages, want) {
		t.Errorf("g stages = %v, want %v", gv.Stages, want)
	}

	// The flow's slug is free again, and a new flow of that slug starts
	// empty; duo-f does not come back to it.
	f2 := mkFlow(t, s, "f")
	if len(f2.Stages) != 0 {
		t.Errorf("new flow f has stages %v", f2.Stages)
	}
	if _, err := patchIn(ctx, s, store.Stages, store.PK(duoF.PK), []byte(`{"configure_flow":"`+f.PK.String()+`"}`)); err == nil {
		t.Error("configure_flow accepted the deleted flow's pk")
	} else {
		testutil.WantInvalid(t, err, map[string][]string{"configure_flow": {validate.DoesNotExist(f.PK.String())}})
	}
	// configure_flow no longer pins the deleted flow: deleting g next only
	// clears duo-g.
	if err := deleteIn(ctx, s, store.Flows, store.By("slug", "g")); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	dg, _ = viewIn(ctx, s, store.Stages, store.PK(duoG.PK))
	if c := duoConfig(t, dg); c.ConfigureFlow != nil {
		t.Errorf("duo-g configure_flow = %v, want null", c.ConfigureFlow)
	}
	if st, _ := viewIn(ctx, s, store.Stages, store.PK(uw.PK)); len(st.FlowSet) != 0 {
		t.Errorf("uw flow_set = %s, want empty", jsonOf(t, st.FlowSet))
	}
}

// A kind whose flow reference may not be null is deleted with the flow it
// points at (CASCADE), bindings and all.
type flowBound struct {
	Flow uuid.UUID `json:"flow" af:"required,ref=flow"`
}

func (flowBound) ModelName() stage.ModelName { return "authflow_test.flowboundstage" }

func TestDeleteFlowCascadesToStagesWithRequiredReference(t *testing.T) {
	reg := &stage.Registry{}
	for _, k := range stage.Default.Kinds() {
		reg.Register(k)
	}
	reg.Register(stage.Kind{Model: "authflow_test.flowboundstage", New: func() stage.Config { return &flowBound{} },
		Component: "ak-stage-flow-bound-form", VerboseName: "Flow-bound Stage"})
	s := openTestStore(t, t.TempDir()+"/reg.db", &store.Options{StageKinds: reg, NewID: storetest.CounterIDs(1, 1)})
	ctx := t.Context()
	if s.StageKinds() != reg {
		t.Fatal("StageKinds() is not the registry passed in Options")
	}
	f := mkFlow(t, s, "f")
	g := mkFlow(t, s, "g")
	bound, err := createJSONIn(ctx, s, store.Stages.Kind("authflow_test.flowboundstage"), []byte(`{"name":"bound","flow":"`+f.PK.String()+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = createJSONIn(ctx, s, store.Stages.Kind("authflow_test.flowboundstage"), []byte(`{"name":"dangling","flow":"`+uuid.Nil.String()+`"}`))
	testutil.WantInvalid(t, err, map[string][]string{"flow": {validate.DoesNotExist(uuid.Nil.String())}})
	uw := mkUserWrite(t, s, "uw")
	inG := mkBinding(t, s, g.PK, bound.PK, 1)
	mkBinding(t, s, g.PK, uw.PK, 2)

	if err := deleteIn(ctx, s, store.Flows, store.By("slug", "f")); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	_, err = viewIn(ctx, s, store.Stages, store.PK(bound.PK))
	wantNotFound(t, err)
	_, err = viewIn(ctx, s, store.Bindings, store.PK(inG.PK))
	wantNotFound(t, err)
	gv, _ := viewIn(ctx, s, store.Flows, store.PK(g.PK))
	if !equalIDs(gv.Stages, []uuid.UUID{uw.PK}) {
		t.Errorf("g stages = %v, want [uw]", gv.Stages)
	}
	if _, err := createJSONIn(ctx, s, store.Stages.Kind("authflow_test.flowboundstage"), []byte(`{"name":"bound","flow":"`+g.PK.String()+`"}`)); err != nil {
		t.Errorf("the cascaded stage's name is not free: %v", err)
	}
}

func equalIDs(a, b []uuid.UUID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
