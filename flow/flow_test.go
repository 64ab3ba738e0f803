package flow_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

var (
	flowPK  = uuid.MustParse("0f7b1c2a-3d4e-4f50-8a6b-7c8d9e0f1a2b")
	flowPBM = uuid.MustParse("9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d")
)

// stored is a valid, stored flow with non-default optional fields.
func stored() flow.Flow {
	f := flow.New("Welcome", "default-authentication-flow", "Welcome to authentik!", flow.DesignationAuthentication)
	f.PK, f.PolicyBindingModelPtrID = flowPK, flowPBM
	f.Background = "flow-backgrounds/bg.png"
	f.PolicyEngineMode = flow.PolicyEngineModeAll
	f.CompatibilityMode = true
	f.Layout = flow.LayoutSidebarLeft
	f.DeniedAction = flow.DeniedActionContinue
	f.Authentication = flow.AuthenticationRequireUnauthenticated
	return f
}

func TestFieldRules(t *testing.T) {
	long := strings.Repeat("a", 51)
	tests := []struct {
		name string
		op   validate.Op
		body string
		errs map[string][]string
		// check, when set, inspects the accepted result.
		check func(t *testing.T, f flow.Flow)
	}{
		// name
		{name: "name missing", op: validate.Create, body: `{"slug":"s","title":"t","designation":"recovery"}`, errs: testutil.One("name", validate.MsgRequired)},
		{name: "name blank", op: validate.Patch, body: `{"name":""}`, errs: testutil.One("name", validate.MsgBlank)},
		{name: "name spaces", op: validate.Patch, body: `{"name":"   "}`, errs: testutil.One("name", validate.MsgBlank)},
		{name: "name null", op: validate.Patch, body: `{"name":null}`, errs: testutil.One("name", validate.MsgNull)},
		{name: "name bool", op: validate.Patch, body: `{"name":true}`, errs: testutil.One("name", validate.MsgNotString)},
		{name: "name NUL", op: validate.Patch, body: `{"name":"a\u0000"}`, errs: testutil.One("name", validate.MsgNullCharacters)},
		{name: "name trimmed", op: validate.Patch, body: `{"name":"  Hello  "}`, check: func(t *testing.T, f flow.Flow) {
			if f.Name != "Hello" {
				t.Errorf("Name = %q", f.Name)
			}
		}},
		{name: "name number", op: validate.Patch, body: `{"name":42}`, check: func(t *testing.T, f flow.Flow) {
			if f.Name != "42" {
				t.Errorf("Name = %q", f.Name)
			}
		}},
		{name: "name long is fine", op: validate.Patch, body: `{"name":"` + strings.Repeat("n", 500) + `"}`},
		// title
		{name: "title missing", op: validate.Create, body: `{"name":"n","slug":"s","designation":"recovery"}`, errs: testutil.One("title", validate.MsgRequired)},
		{name: "title blank", op: validate.Patch, body: `{"title":""}`, errs: testutil.One("title", validate.MsgBlank)},
		{name: "title spaces", op: validate.Patch, body: `{"title":" \n "}`, errs: testutil.One("title", validate.MsgBlank)},
		{name: "title null", op: validate.Patch, body: `{"title":null}`, errs: testutil.One("title", validate.MsgNull)},
		{name: "title object", op: validate.Patch, body: `{"title":{}}`, errs: testutil.One("title", validate.MsgNotString)},
		// slug
		{name: "slug missing", op: validate.Create, body: `{"name":"n","title":"t","designation":"recovery"}`, errs: testutil.One("slug", validate.MsgRequired)},
		{name: "slug blank", op: validate.Patch, body: `{"slug":""}`, errs: testutil.One("slug", validate.MsgBlank)},
		{name: "slug spaces", op: validate.Patch, body: `{"slug":"  "}`, errs: testutil.One("slug", validate.MsgBlank)},
		{name: "slug null", op: validate.Patch, body: `{"slug":null}`, errs: testutil.One("slug", validate.MsgNull)},
		{name: "slug 50", op: validate.Patch, body: `{"slug":"` + long[:50] + `"}`},
		{name: "slug 51", op: validate.Patch, body: `{"slug":"` + long + `"}`, errs: testutil.One("slug", "Ensure this field has no more than 50 characters.")},
		{name: "slug 51 invalid", op: validate.Patch, body: `{"slug":"` + long[:49] + ` !"}`, errs: testutil.One("slug",
			"Ensure this field has no more than 50 characters.",
			`Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.`)},
		{name: "slug space", op: validate.Patch, body: `{"slug":"Not A Slug"}`, errs: testutil.One("slug", validate.MsgSlug)},
		{name: "slug dot", op: validate.Patch, body: `{"slug":"a.b"}`, errs: testutil.One("slug", validate.MsgSlug)},
		{name: "slug slash", op: validate.Patch, body: `{"slug":"a/b"}`, errs: testutil.One("slug", validate.MsgSlug)},
		{name: "slug unicode", op: validate.Patch, body: `{"slug":"über"}`, errs: testutil.One("slug", validate.MsgSlug)},
		{name: "slug number", op: validate.Patch, body: `{"slug":12}`, check: func(t *testing.T, f flow.Flow) {
			if f.Slug != "12" {
				t.Errorf("Slug = %q", f.Slug)
			}
		}},
		{name: "slug float is not a slug", op: validate.Patch, body: `{"slug":1.5}`, errs: testutil.One("slug", validate.MsgSlug)},
		{name: "slug trimmed", op: validate.Patch, body: `{"slug":" Mixed-Case_1 "}`, check: func(t *testing.T, f flow.Flow) {
			if f.Slug != "Mixed-Case_1" {
				t.Errorf("Slug = %q", f.Slug)
			}
		}},
		// designation
		{name: "designation missing", op: validate.Create, body: `{"name":"n","slug":"s","title":"t"}`, errs: testutil.One("designation", validate.MsgRequired)},
		{name: "designation invalid", op: validate.Patch, body: `{"designation":"nope"}`, errs: testutil.One("designation", `"nope" is not a valid choice.`)},
		{name: "designation empty", op: validate.Patch, body: `{"designation":""}`, errs: testutil.One("designation", `"" is not a valid choice.`)},
		{name: "designation case", op: validate.Patch, body: `{"designation":"Recovery"}`, errs: testutil.One("designation", `"Recovery" is not a valid choice.`)},
		{name: "designation number", op: validate.Patch, body: `{"designation":5}`, errs: testutil.One("designation", `"5" is not a valid choice.`)},
		{name: "designation bool", op: validate.Patch, body: `{"designation":true}`, errs: testutil.One("designation", `"True" is not a valid choice.`)},
		{name: "designation null", op: validate.Patch, body: `{"designation":null}`, errs: testutil.One("designation", validate.MsgNull)},
		// optional enums
		{name: "policy_engine_mode invalid", op: validate.Patch, body: `{"policy_engine_mode":"most"}`, errs: testutil.One("policy_engine_mode", `"most" is not a valid choice.`)},
		{name: "policy_engine_mode null", op: validate.Patch, body: `{"policy_engine_mode":null}`, errs: testutil.One("policy_engine_mode", validate.MsgNull)},
		{name: "layout invalid", op: validate.Patch, body: `{"layout":"sidebar_left_frame_background"}`, errs: testutil.One("layout", `"sidebar_left_frame_background" is not a valid choice.`)},
		{name: "layout empty", op: validate.Patch, body: `{"layout":""}`, errs: testutil.One("layout", `"" is not a valid choice.`)},
		{name: "denied_action invalid", op: validate.Patch, body: `{"denied_action":"deny"}`, errs: testutil.One("denied_action", `"deny" is not a valid choice.`)},
		{name: "authentication invalid", op: validate.Patch, body: `{"authentication":"require_admin"}`, errs: testutil.One("authentication", `"require_admin" is not a valid choice.`)},
		{name: "authentication list", op: validate.Patch, body: `{"authentication":["none"]}`, errs: testutil.One("authentication", `"['none']" is not a valid choice.`)},
		// compatibility_mode
		{name: "compatibility_mode invalid", op: validate.Patch, body: `{"compatibility_mode":"maybe"}`, errs: testutil.One("compatibility_mode", validate.MsgBoolean)},
		{name: "compatibility_mode number", op: validate.Patch, body: `{"compatibility_mode":2}`, errs: testutil.One("compatibility_mode", validate.MsgBoolean)},
		{name: "compatibility_mode null", op: validate.Patch, body: `{"compatibility_mode":null}`, errs: testutil.One("compatibility_mode", validate.MsgNull)},
		{name: "compatibility_mode off", op: validate.Patch, body: `{"compatibility_mode":"off"}`, check: func(t *testing.T, f flow.Flow) {
			if f.CompatibilityMode {
				t.Error("CompatibilityMode = true")
			}
		}},
		// unknown and read-only keys
		{name: "unknown key", op: validate.Patch, body: `{"titel":"x"}`, errs: testutil.One("titel", validate.MsgUnknownField)},
		{name: "background_url is unknown in the seed era", op: validate.Patch, body: `{"background_url":"x"}`, errs: testutil.One("background_url", validate.MsgUnknownField)},
		{name: "read-only keys ignored", op: validate.Patch, body: `{
			"pk":"11111111-1111-4111-8111-111111111111",
			"policybindingmodel_ptr_id":"22222222-2222-4222-8222-222222222222",
			"stages":["33333333-3333-4333-8333-333333333333"],
			"policies":"not even a list",
			"cache_count":7,
			"export_url":"/elsewhere/",
			"background":"https://example.com/x.png"}`, check: func(t *testing.T, f flow.Flow) {
			if want := stored(); !reflect.DeepEqual(f, want) {
				t.Errorf("read-only keys changed the flow:\n got %+v\nwant %+v", f, want)
			}
		}},
		{name: "read-only null ignored", op: validate.Patch, body: `{"pk":null,"background":null,"stages":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := stored()
			if tt.op == validate.Create {
				cur = flow.Defaults()
			}
			got, err := flow.Decode(cur, []byte(tt.body), tt.op)
			testutil.WantFields(t, tt.body, err, tt.errs)
			if tt.errs == nil && tt.check != nil {
				tt.check(t, got)
			}
			if tt.op == validate.Patch {
				// ApplyPatch is Decode with validate.Patch.
				got2, err2 := flow.ApplyPatch(cur, []byte(tt.body))
				testutil.WantFields(t, "ApplyPatch "+tt.body, err2, tt.errs)
				if err == nil && !reflect.DeepEqual(got, got2) {
					t.Errorf("ApplyPatch = %+v, Decode = %+v", got2, got)
				}
			}
		})
	}
}

func TestEnumsAccepted(t *testing.T) {
	check := func(key string, values []string) {
		t.Helper()
		for _, v := range values {
			got, err := flow.ApplyPatch(stored(), []byte(`{"`+key+`":"`+v+`"}`))
			if err != nil {
				t.Errorf("%s=%s: %v", key, v, err)
				continue
			}
			if err := got.Validate(); err != nil {
				t.Errorf("%s=%s: Validate: %v", key, v, err)
			}
		}
	}
	strs := func(s ...string) []string { return s }
	check("designation", strs("authentication", "authorization", "invalidation", "enrollment", "unenrollment", "recovery", "stage_configuration"))
	check("layout", strs("stacked", "content_left", "content_right", "sidebar_left", "sidebar_right"))
	check("denied_action", strs("message_continue", "message", "continue"))
	check("authentication", strs("none", "require_authenticated", "require_unauthenticated", "require_superuser", "require_redirect", "require_outpost"))
	check("policy_engine_mode", strs("all", "any"))

	lists := []struct {
		got  int
		want int
	}{
		{len(flow.Designations), 7}, {len(flow.Layouts), 5}, {len(flow.DeniedActions), 3},
		{len(flow.Authentications), 6}, {len(flow.PolicyEngineModes), 2},
	}
	for i, l := range lists {
		if l.got != l.want {
			t.Errorf("enum list %d has %d values, want %d", i, l.got, l.want)
		}
	}
}

func TestAllErrorsAtOnce(t *testing.T) {
	body := `{"name":"","slug":"Not A Slug","title":null,"designation":"nope",
		"policy_engine_mode":"most","compatibility_mode":"maybe","layout":"grid",
		"denied_action":"deny","authentication":"sometimes","colour":"red"}`
	_, err := flow.Decode(flow.Defaults(), []byte(body), validate.Create)
	testutil.WantFields(t, "all", err, map[string][]string{
		"name":               {validate.MsgBlank},
		"slug":               {validate.MsgSlug},
		"title":              {validate.MsgNull},
		"designation":        {`"nope" is not a valid choice.`},
		"policy_engine_mode": {`"most" is not a valid choice.`},
		"compatibility_mode": {validate.MsgBoolean},
		"layout":             {`"grid" is not a valid choice.`},
		"denied_action":      {`"deny" is not a valid choice.`},
		"authentication":     {`"sometimes" is not a valid choice.`},
		"colour":             {validate.MsgUnknownField},
	})

	_, err = flow.Decode(flow.Defaults(), []byte(`{}`), validate.Create)
	testutil.WantFields(t, "empty create", err, map[string][]string{
		"name": {validate.MsgRequired}, "slug": {validate.MsgRequired},
		"title": {validate.MsgRequired}, "designation": {validate.MsgRequired},
	})
}

func TestCreateDefaults(t *testing.T) {
	got, err := flow.Decode(flow.Defaults(), []byte(`{"name":"Enroll","slug":"enroll","title":"Sign up","designation":"enrollment"}`), validate.Create)
	if err != nil {
		t.Fatal(err)
	}
	want := flow.New("Enroll", "enroll", "Sign up", flow.DesignationEnrollment)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Create = %+v, want %+v", got, want)
	}
	if got.PolicyEngineMode != flow.PolicyEngineModeAny || got.Layout != flow.LayoutStacked ||
		got.DeniedAction != flow.DeniedActionMessageContinue || got.Authentication != flow.AuthenticationNone ||
		got.CompatibilityMode || got.Background != "" || got.PK != uuid.Nil {
		t.Errorf("defaults not applied: %+v", got)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if err := flow.Defaults().Validate(); err == nil {
		t.Error("Defaults() validates without name, slug, title and designation")
	}
}

func TestReplace(t *testing.T) {
	cur := stored()
	full := `{"name":"New","slug":"new-slug","title":"New title","designation":"recovery"}`
	got, err := flow.Decode(cur, []byte(full), validate.Replace)
	if err != nil {
		t.Fatal(err)
	}
	want := cur
	want.Name, want.Slug, want.Title, want.Designation = "New", "new-slug", "New title", flow.DesignationRecovery
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PUT must keep omitted optional fields:\n got %+v\nwant %+v", got, want)
	}

	for _, missing := range []string{"name", "slug", "title", "designation"} {
		body := strings.NewReplacer(`"`+missing+`":`, `"x_`+missing+`":`).Replace(full)
		body = strings.Replace(body, `"x_`+missing+`"`, `"pk"`, 1) // a read-only key in its place
		_, err := flow.Decode(cur, []byte(body), validate.Replace)
		testutil.WantFields(t, "PUT without "+missing, err, testutil.One(missing, validate.MsgRequired))
	}

	// A GET → PUT round trip of the representation works.
	b, err := jsonMarshal(flow.View{Flow: cur, Stages: []uuid.UUID{flowPBM}})
	if err != nil {
		t.Fatal(err)
	}
	got, err = flow.Decode(cur, b, validate.Replace)
	if err != nil {
		t.Fatalf("PUT of the representation: %v", err)
	}
	if !reflect.DeepEqual(got, cur) {
		t.Errorf("PUT of the representation changed the flow:\n got %+v\nwant %+v", got, cur)
	}
}

func TestApplyPatch(t *testing.T) {
	cur := stored()
	got, err := flow.ApplyPatch(cur, []byte(`{"title":"Hi","layout":"content_left","compatibility_mode":false}`))
	if err != nil {
		t.Fatal(err)
	}
	want := cur
	want.Title, want.Layout, want.CompatibilityMode = "Hi", flow.LayoutContentLeft, false
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PATCH:\n got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(cur, stored()) {
		t.Error("ApplyPatch modified its argument")
	}

	got, err = flow.ApplyPatch(cur, []byte(`{}`))
	if err != nil || !reflect.DeepEqual(got, cur) {
		t.Errorf("empty PATCH = %+v, %v", got, err)
	}

	for _, key := range []string{"name", "slug", "title", "designation", "policy_engine_mode", "compatibility_mode", "layout", "denied_action", "authentication"} {
		_, err := flow.ApplyPatch(cur, []byte(`{"`+key+`":null}`))
		testutil.WantFields(t, key+": null", err, testutil.One(key, "This field may not be null."))
	}

	for _, body := range []string{`[]`, `"x"`, `1`, `null`, `true`} {
		_, err := flow.ApplyPatch(cur, []byte(body))
		ve := testutil.Invalid(t, err)
		if ve == nil || len(ve.NonField) != 1 || !strings.HasPrefix(ve.NonField[0], "Invalid data. Expected a dictionary, but got ") {
			t.Errorf("PATCH %s = %v", body, err)
		}
	}
	if _, err := flow.ApplyPatch(cur, []byte(`{"name":`)); !errors.Is(err, validate.ErrSyntax) {
		t.Errorf("malformed PATCH = %v, want ErrSyntax", err)
	}
}

func TestBackgroundURL(t *testing.T) {
	tests := []struct {
		stored, want string
	}{
		{"", "/static/dist/assets/images/flow_background.jpg"},
		{"https://goauthentik.io/img/icon.png", "https://goauthentik.io/img/icon.png"},
		{"http://example.com/bg.jpg", "http://example.com/bg.jpg"},
		{"httpfoo.png", "httpfoo.png"},
		{"/static/custom.png", "/static/custom.png"},
		{"/staticky.png", "/staticky.png"},
		{"flow-backgrounds/bg.png", "/media/public/flow-backgrounds/bg.png"},
		{"bg.png", "/media/public/bg.png"},
		{"/media/x.png", "/media/public//media/x.png"},
	}
	for _, tt := range tests {
		f := stored()
		f.Background = tt.stored
		if got := f.BackgroundURL(); got != tt.want {
			t.Errorf("BackgroundURL(%q) = %q, want %q", tt.stored, got, tt.want)
		}
	}
	if flow.DefaultBackground != "/static/dist/assets/images/flow_background.jpg" {
		t.Errorf("DefaultBackground = %q", flow.DefaultBackground)
	}

	f := stored()
	f.SetBackgroundURL("https://goauthentik.io/img/icon.png")
	if f.Background != "https://goauthentik.io/img/icon.png" || f.BackgroundURL() != "https://goauthentik.io/img/icon.png" {
		t.Errorf("SetBackgroundURL: stored %q, url %q", f.Background, f.BackgroundURL())
	}
	f.SetBackgroundURL("")
	if f.BackgroundURL() != flow.DefaultBackground {
		t.Errorf("SetBackgroundURL(\"\"): url %q", f.BackgroundURL())
	}
}

func TestStringAndExportURL(t *testing.T) {
	f := stored()
	if got, want := f.String(), "Flow Welcome (default-authentication-flow)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := f.ExportURL(), "/api/v3/flows/instances/default-authentication-flow/export/"; got != want {
		t.Errorf("ExportURL() = %q, want %q", got, want)
	}
	if got := fmtSprint(f); got != "Flow Welcome (default-authentication-flow)" {
		t.Errorf("fmt %%v = %q", got)
	}
}

func TestSetBackgroundURLStoresVerbatim(t *testing.T) {
	var f flow.Flow
	f.SetBackgroundURL(" https://example.com/bg.png ")
	if f.Background != " https://example.com/bg.png " {
		t.Errorf("stored %q, want the url verbatim", f.Background)
	}
}
