package executor

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// inspect GETs the inspector of slug over HTTP with h.client's cookie,
// every flow allowed, and decodes the JSON answer, which must match
// authentik's FlowInspection (no undeclared key).
func (h *harness) inspect(t *testing.T, slug string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest("GET", InspectorPath+slug+"/", nil)
	u, _ := url.Parse(h.srv.URL)
	for _, c := range h.client.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.e.InspectorHandler(HTTPOptions{}, func(*http.Request, string) bool { return true }).ServeHTTP(rec, req)
	var out map[string]any
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("inspector: %v: %s", err, rec.Body)
		}
		checkInspection(t, out)
	}
	return rec.Code, out
}

// checkInspection checks an inspection against authentik's
// FlowInspection schema, undeclared keys refused. A plan of one stage's
// next_planned_stage is DRF's empty binding, which matches no
// FlowStageBinding (nulls, no pk), in authentik as here: it is compared
// with emptyBinding instead.
func checkInspection(t *testing.T, ins map[string]any) {
	t.Helper()
	var empty any
	_ = json.Unmarshal(emptyBinding, &empty)
	checked := maps.Clone(ins)
	plans := []any{}
	for _, p := range append(append([]any{}, ins["plans"].([]any)...), ins["current_plan"]) {
		p, _ := p.(map[string]any)
		if p == nil {
			continue
		}
		if mustString(t, p["next_planned_stage"]) == mustString(t, empty) {
			p = maps.Clone(p)
			p["next_planned_stage"] = p["current_stage"]
		}
		plans = append(plans, p)
	}
	if cp, ok := ins["current_plan"]; ok && cp != nil {
		checked["current_plan"] = plans[len(plans)-1]
		plans = plans[:len(plans)-1]
	}
	checked["plans"] = plans
	b, _ := json.Marshal(checked)
	checkSchema(t, "FlowInspection", b)
}

// path reads a key path of nested JSON objects and arrays (an int
// indexes an array).
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// authentik 2025.6's flows/tests/test_inspector.py, over HTTP: an
// identification stage (whose binding restarts with context) then a
// dummy stage. The first challenge is authentik's JSON key for key;
// the inspector shows the identification stage current and the dummy
// next, not completed; after the identification, the history's first
// plan is the identification's, the current stage the dummy, and the
// context's pending_user the identified user. authentik binds both
// stages at order 1 and relies on the database's insertion order;
// authflow breaks ties by pk, so the dummy stage is at order 2 here.
func TestUpstreamInspector(t *testing.T) {
	h := newHarness(t, flowDoc("f", "",
		stageEntry("authentik_stages_identification.identificationstage", "f", "ident", 1, "user_fields: [username]",
			"invalid_response_action: restart_with_context"),
		dummy("f", "dummy", 2, "")))
	h.userWith("akadmin", "admin@example.com", nil, true)
	if code, _ := h.inspect(t, "f"); code != http.StatusBadRequest {
		t.Errorf("inspector before any plan: %d, want 400", code)
	}
	r := h.get("f", "")
	want := `{"allow_show_password":false,"captcha_stage":null,"component":"ak-stage-identification","enable_remember_me":false,` +
		`"flow_designation":"authentication","flow_info":{"background":"/static/dist/assets/images/flow_background.jpg","cancel_url":"/flows/-/cancel/","layout":"stacked","title":"Welcome f"},` +
		`"password_fields":false,"primary_action":"Log in","show_source_labels":false,"sources":[],"user_fields":["username"]}`
	if got := mustString(t, r.body); got != want {
		t.Errorf("challenge\n got %s\nwant %s", got, want)
	}

	code, ins := h.inspect(t, "f")
	if code != http.StatusOK {
		t.Fatalf("inspector: %d", code)
	}
	if ins["is_completed"] != false {
		t.Errorf("is_completed %v", ins["is_completed"])
	}
	if got := path(ins, "current_plan", "current_stage", "stage_obj", "name"); got != "ident" {
		t.Errorf("current stage %v", got)
	}
	if got := path(ins, "current_plan", "next_planned_stage", "stage_obj", "name"); got != "dummy" {
		t.Errorf("next planned stage %v", got)
	}

	h.post("f", "", postJSON(map[string]any{"uid_field": "akadmin"})).wantReload(t, h.url("f", ""))
	h.get("f", "").want(t, ComponentDummy)
	code, ins = h.inspect(t, "f")
	if code != http.StatusOK {
		t.Fatalf("inspector: %d", code)
	}
	if ins["is_completed"] != false {
		t.Errorf("is_completed %v", ins["is_completed"])
	}
	if got := path(ins, "plans", 0, "current_stage", "stage_obj", "name"); got != "ident" {
		t.Errorf("plans[0] current stage %v", got)
	}
	if got := path(ins, "current_plan", "current_stage", "stage_obj", "name"); got != "dummy" {
		t.Errorf("current stage %v", got)
	}
	if got := path(ins, "current_plan", "plan_context", "pending_user", "username"); got != "akadmin" {
		t.Errorf("pending_user %v", got)
	}

	// The end of the flow: the last plan of the history, completed.
	h.post("f", "", `{"component":"ak-stage-dummy"}`).want(t, ComponentRedirect, "to", "/")
	code, ins = h.inspect(t, "f")
	if code != http.StatusOK || ins["is_completed"] != true {
		t.Fatalf("inspector after the end: %d %v", code, ins["is_completed"])
	}
	if got := path(ins, "current_plan", "current_stage", "stage_obj", "name"); got != "dummy" {
		t.Errorf("completed plan's stage %v", got)
	}
	var empty any
	_ = json.Unmarshal(emptyBinding, &empty)
	if got := path(ins, "current_plan", "next_planned_stage"); mustString(t, got) != mustString(t, empty) {
		t.Errorf("next planned stage of a plan of one stage: %s", mustString(t, got))
	}
}
