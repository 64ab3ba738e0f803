package api_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/store"
)

// Every policy kind is served at its path, with its defaults, in its own
// representation, and in /policies/all/ too; names are unique across
// kinds.
func TestPolicyKinds(t *testing.T) {
	c := newClient(t, nil)
	for _, tt := range []struct{ path, body, field string }{
		{"expression", `{"name":"p-expr","expression":"return True"}`, "expression"},
		{"password", `{"name":"p-pw"}`, "symbol_charset"},
		{"reputation", `{"name":"p-rep"}`, "threshold"},
		{"dummy", `{"name":"p-dummy"}`, "wait_max"},
		{"event_matcher", `{"name":"p-ev","action":"login"}`, "action"},
		{"password_expiry", `{"name":"p-exp","days":90}`, "days"},
		{"geoip", `{"name":"p-geo","countries":["DE","FR"]}`, "countries_obj"},
		{"unique_password", `{"name":"p-uniq"}`, "num_historical_passwords"},
	} {
		p := c.must(201, "POST", "/api/v3/policies/"+tt.path+"/", tt.body)
		if _, ok := p[tt.field]; !ok || p["bound_to"] != 0.0 || p["execution_logging"] != false {
			t.Errorf("%s: %v", tt.path, p)
		}
		pk := p["pk"].(string)
		c.must(200, "GET", "/api/v3/policies/"+tt.path+"/"+pk+"/", "")
		all := c.must(200, "GET", "/api/v3/policies/all/"+pk+"/", "")
		if _, ok := all[tt.field]; !ok {
			t.Errorf("/policies/all/ of a %s lacks %s: %v", tt.path, tt.field, all)
		}
		c.must(200, "PATCH", "/api/v3/policies/"+tt.path+"/"+pk+"/", `{"execution_logging":true}`)
		c.must(200, "GET", "/api/v3/policies/"+tt.path+"/", "")
		c.do("GET", "/api/v3/policies/"+tt.path+"/"+pk+"/used_by/", "").expect(t, 200, "[]")
	}
	c.do("POST", "/api/v3/policies/dummy/", `{"name":"p-expr"}`).expect(t, 400, `{"name":["Policy with this name already exists."]}`)
	list := c.must(200, "GET", "/api/v3/policies/all/", "")
	if n := list["pagination"].(map[string]any)["count"]; n != 8.0 {
		t.Errorf("/policies/all/ count = %v", n)
	}
	names := []string{}
	for _, r := range list["results"].([]any) {
		names = append(names, r.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "p-dummy,p-ev,p-exp,p-expr,p-geo,p-pw,p-rep,p-uniq" {
		t.Errorf("/policies/all/ is not by name: %v", names)
	}
	geo := c.must(200, "GET", "/api/v3/policies/geoip/?name=p-geo", "")["results"].([]any)[0].(map[string]any)
	if b, _ := json.Marshal(geo["countries_obj"]); string(b) != `[{"code":"DE","name":"Germany"},{"code":"FR","name":"France"}]` {
		t.Errorf("countries_obj = %s", b)
	}
	c.do("POST", "/api/v3/policies/all/", `{"name":"x"}`).status(t, 405)
	c.do("PATCH", "/api/v3/policies/all/"+geo["pk"].(string)+"/", `{"name":"x"}`).status(t, 405)
	c.must(204, "DELETE", "/api/v3/policies/all/"+geo["pk"].(string)+"/", "")
}

// The field and object rules of the policy kinds, with authentik's
// messages; the object rules hold for the merged object.
func TestPolicyRules(t *testing.T) {
	c := newClient(t, nil)
	c.do("POST", "/api/v3/policies/expression/", `{"name":"e"}`).expect(t, 400, `{"expression":["This field is required."]}`)
	c.do("POST", "/api/v3/policies/expression/", `{"name":"e","expression":"  "}`).expect(t, 400, `{"expression":["This field may not be blank."]}`)
	// A Python syntax error, as CPython words it under authentik's file
	// name; a construct the evaluator cannot run is stored.
	c.do("POST", "/api/v3/policies/expression/", `{"name":"e","expression":"# nothing"}`).
		expect(t, 400, `{"expression":["Expression Syntax Error: expected an indented block after function definition on line 1 (temp-policy, line 3)"]}`)
	orm := c.must(201, "POST", "/api/v3/policies/expression/", `{"name":"orm","expression":"from authentik.flows.models import Flow\nreturn Flow.objects.exists()"}`)
	c.do("PATCH", "/api/v3/policies/expression/"+orm["pk"].(string)+"/", `{"expression":"return 'x"}`).
		expect(t, 400, `{"expression":["Expression Syntax Error: unterminated string literal (detected at line 2) (orm, line 2)"]}`)
	c.do("POST", "/api/v3/policies/password_expiry/", `{"name":"x"}`).expect(t, 400, `{"days":["This field is required."]}`)
	c.do("POST", "/api/v3/policies/password/", `{"name":"x","length_min":-1}`).expect(t, 400, `{"length_min":["Ensure this value is greater than or equal to 0."]}`)
	c.do("POST", "/api/v3/policies/reputation/", `{"name":"r","check_ip":false,"check_username":false}`).
		expect(t, 400, `{"non_field_errors":["Either IP or Username must be checked"]}`)
	rep := c.must(201, "POST", "/api/v3/policies/reputation/", `{"name":"r"}`) // both default true: accepted, unlike authentik
	c.do("PATCH", "/api/v3/policies/reputation/"+rep["pk"].(string)+"/", `{"check_ip":false}`).status(t, 200)
	c.do("PATCH", "/api/v3/policies/reputation/"+rep["pk"].(string)+"/", `{"check_username":false}`).
		expect(t, 400, `{"non_field_errors":["Either IP or Username must be checked"]}`)
	c.do("POST", "/api/v3/policies/event_matcher/", `{"name":"ev"}`).expect(t, 400, `{"non_field_errors":["At least one criteria must be set."]}`)
	c.do("POST", "/api/v3/policies/event_matcher/", `{"name":"ev","action":"nope","app":"","client_ip":" "}`).
		expect(t, 400, `{"action":["\"nope\" is not a valid choice."],"app":["\"\" is not a valid choice."],"client_ip":["This field may not be blank."]}`)
	ev := c.must(201, "POST", "/api/v3/policies/event_matcher/", `{"name":"ev","app":"authentik.flows","model":"authentik_flows.flow"}`)
	c.do("PATCH", "/api/v3/policies/event_matcher/"+ev["pk"].(string)+"/", `{"app":null,"model":null}`).
		expect(t, 400, `{"non_field_errors":["At least one criteria must be set."]}`)
	c.do("POST", "/api/v3/policies/geoip/", `{"name":"g","countries":["XX"],"asns":[1,"a"]}`).
		expect(t, 400, `{"asns":{"1":["A valid integer is required."]},"countries":["\"XX\" is not a valid choice."]}`)
	// A kind's path does not serve another kind's object.
	c.do("GET", "/api/v3/policies/geoip/"+ev["pk"].(string)+"/", "").status(t, 404)
}

// A GeoIP policy's countries are required on create and replace, as
// authentik 2025.6's serializer requires them; an empty list is a policy
// that checks ASNs only, and a patch need not send them.
func TestGeoIPCountriesRequired(t *testing.T) {
	c := newClient(t, nil)
	c.do("POST", "/api/v3/policies/geoip/", `{"name":"g","asns":[64512]}`).
		expect(t, 400, `{"countries":["This field is required."]}`)
	g := c.must(201, "POST", "/api/v3/policies/geoip/", `{"name":"g","asns":[64512],"countries":[]}`)
	if b, _ := json.Marshal(g["countries"]); string(b) != "[]" {
		t.Errorf("countries = %s", b)
	}
	path := "/api/v3/policies/geoip/" + g["pk"].(string) + "/"
	c.do("PUT", path, `{"name":"g","asns":[64512]}`).expect(t, 400, `{"countries":["This field is required."]}`)
	c.do("PUT", path, `{"name":"g","countries":null}`).expect(t, 400, `{"countries":["This field may not be null."]}`)
	c.must(200, "PUT", path, `{"name":"g","countries":["DE"]}`)
	if got := c.must(200, "PATCH", path, `{"asns":[1]}`); got["countries"].([]any)[0] != "DE" {
		t.Errorf("a patch without countries changed them: %v", got)
	}
}

// A policy binding targets a flow or a flow-stage binding, named by its pk
// or its pbm_uuid; exactly one of policy, group and user is set, on the
// merged object; a group or user that does not exist is refused; deleting
// the policy or the target deletes the binding.
func TestPolicyBindings(t *testing.T) {
	s := newStore(t, nil)
	c := &client{t: t, h: api.NewHandler(s, nil)}
	var group string
	var user int64
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		g, err := store.Groups.CreateJSON(tx, []byte(`{"name":"staff"}`), nil)
		if err != nil {
			return err
		}
		u, err := store.Users.CreateJSON(tx, []byte(`{"username":"ann","name":"Ann Example"}`), nil)
		group, user = g.PK.String(), u.PK
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f := c.must(201, "POST", "/api/v3/flows/instances/", `{"name":"Login","slug":"login","title":"Login","designation":"authentication"}`)
	fpk, fpbm := f["pk"].(string), f["policybindingmodel_ptr_id"].(string)
	st := c.must(201, "POST", "/api/v3/stages/deny/", `{"name":"deny"}`)
	fsb := c.must(201, "POST", "/api/v3/flows/bindings/", `{"target":"`+fpk+`","stage":"`+st["pk"].(string)+`","order":10}`)
	p := c.must(201, "POST", "/api/v3/policies/expression/", `{"name":"allow","expression":"return True"}`)
	ppk := p["pk"].(string)
	missing := "6b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e"
	c.do("POST", "/api/v3/policies/bindings/", `{"target":"`+fpk+`","order":0,"group":"`+missing+`"}`).
		expect(t, 400, `{"group":["Invalid pk \"`+missing+`\" - object does not exist."]}`)
	c.do("POST", "/api/v3/policies/bindings/", `{"target":"`+fpk+`","order":0,"user":7}`).
		expect(t, 400, `{"user":["Invalid pk \"7\" - object does not exist."]}`)

	c.do("POST", "/api/v3/policies/bindings/", `{"target":"`+fpk+`","order":0}`).
		expect(t, 400, `{"non_field_errors":["One of 'group', 'policy', 'user' must be set."]}`)
	c.do("POST", "/api/v3/policies/bindings/", `{"target":"`+fpk+`","order":0,"policy":"`+ppk+`","group":"`+group+`"}`).
		expect(t, 400, `{"non_field_errors":["Only one of 'group', 'policy', 'user' can be set."]}`)
	c.do("POST", "/api/v3/policies/bindings/", `{"target":"`+ppk+`","order":0,"policy":"`+ppk+`"}`).
		expect(t, 400, `{"target":["Invalid pk \"`+ppk+`\" - object does not exist."]}`)
	c.do("POST", "/api/v3/policies/bindings/", `{"policy":"`+ppk+`"}`).
		expect(t, 400, `{"order":["This field is required."],"target":["This field is required."]}`)

	// By the flow's pbm_uuid: stored and shown as the flow's pk.
	b := c.must(201, "POST", "/api/v3/policies/bindings/", `{"target":"`+fpbm+`","order":0,"policy":"`+ppk+`"}`)
	if b["target"] != fpk || b["enabled"] != true || b["timeout"] != 30.0 || b["policy_obj"].(map[string]any)["name"] != "allow" {
		t.Errorf("binding = %v", b)
	}
	c.do("POST", "/api/v3/policies/bindings/", `{"target":"`+fpk+`","order":0,"policy":"`+ppk+`"}`).
		expect(t, 400, `{"non_field_errors":["The fields policy, target, order must make a unique set."]}`)
	// Group bindings may share target and order (a null is never equal).
	g := c.must(201, "POST", "/api/v3/policies/bindings/", `{"target":"`+fpk+`","order":0,"group":"`+group+`"}`)
	if g["group_obj"].(map[string]any)["name"] != "staff" || g["user_obj"] != nil || g["policy_obj"] != nil {
		t.Errorf("group binding = %v", g)
	}
	ub := c.must(201, "POST", "/api/v3/policies/bindings/", `{"target":"`+fpk+`","order":0,"user":`+strconv.FormatInt(user, 10)+`}`)
	if ub["user_obj"].(map[string]any)["username"] != "ann" || ub["group_obj"] != nil || ub["policy_obj"] != nil {
		t.Errorf("user binding = %v", ub)
	}
	// Unique-together comes before the object rules, as in DRF.
	c.do("PATCH", "/api/v3/policies/bindings/"+g["pk"].(string)+"/", `{"policy":"`+ppk+`"}`).
		expect(t, 400, `{"non_field_errors":["The fields policy, target, order must make a unique set."]}`)
	c.must(200, "PATCH", "/api/v3/policies/bindings/"+g["pk"].(string)+"/", `{"order":5}`) // no target: merged, not a 500
	c.do("PATCH", "/api/v3/policies/bindings/"+g["pk"].(string)+"/", `{"policy":"`+ppk+`"}`).
		expect(t, 400, `{"non_field_errors":["Only one of 'group', 'policy', 'user' can be set."]}`)
	// A binding of the flow-stage binding.
	c.must(201, "POST", "/api/v3/policies/bindings/", `{"target":"`+fsb["pk"].(string)+`","order":0,"policy":"`+ppk+`"}`)

	flow := c.must(200, "GET", "/api/v3/flows/instances/login/", "")
	if b, _ := json.Marshal(flow["policies"]); string(b) != `["`+ppk+`"]` {
		t.Errorf("flow policies = %s", b)
	}
	if n := c.must(200, "GET", "/api/v3/policies/all/"+ppk+"/", "")["bound_to"]; n != 2.0 {
		t.Errorf("bound_to = %v", n)
	}
	for _, q := range []string{"target=" + fpbm, "target=" + fpk} {
		if n := c.must(200, "GET", "/api/v3/policies/bindings/?"+q, "")["pagination"].(map[string]any)["count"]; n != 3.0 {
			t.Errorf("?%s: count %v", q, n)
		}
	}
	if n := c.must(200, "GET", "/api/v3/flows/bindings/?policies="+ppk, "")["pagination"].(map[string]any)["count"]; n != 1.0 {
		t.Errorf("bindings ?policies= count %v", n)
	}
	if n := c.must(200, "GET", "/api/v3/policies/all/?bindings__isnull=true", "")["pagination"].(map[string]any)["count"]; n != 0.0 {
		t.Errorf("unbound policies: %v", n)
	}
	// used_by, as authentik 2025.6 lists it: a policy does not list its
	// bindings (their policy is related_name="+") but, through them, the
	// policy binding models it is bound to, by pbm_uuid; a flow and a
	// flow-stage binding list their policy bindings ("bindings") and,
	// through them, their policies.
	fsbPBM := fsb["policybindingmodel_ptr_id"].(string)
	c.do("GET", "/api/v3/policies/expression/"+ppk+"/used_by/", "").expect(t, 200,
		`[{"app":"authentik_policies","model_name":"policybindingmodel","pk":"`+fpbm+`","name":"PolicyBindingModel `+fpbm+`","action":"cascade_many"},`+
			`{"app":"authentik_policies","model_name":"policybindingmodel","pk":"`+fsbPBM+`","name":"PolicyBindingModel `+fsbPBM+`","action":"cascade_many"}]`)
	allowEntry := `{"app":"authentik_policies","model_name":"policy","pk":"` + ppk + `","name":"allow","action":"cascade_many"}`
	fsbBinding := c.must(200, "GET", "/api/v3/policies/bindings/?target="+fsb["pk"].(string), "")["results"].([]any)[0].(map[string]any)["pk"].(string)
	c.do("GET", "/api/v3/flows/bindings/"+fsb["pk"].(string)+"/used_by/", "").expect(t, 200,
		`[{"app":"authentik_policies","model_name":"policybinding","pk":"`+fsbBinding+`","name":"Binding from Flow-stage binding #10 to `+fpk+` #0 to Policy allow","action":"cascade"},`+allowEntry+`]`)
	var flowUsedBy []map[string]string
	if err := json.Unmarshal(c.do("GET", "/api/v3/flows/instances/login/used_by/", "").status(t, 200), &flowUsedBy); err != nil {
		t.Fatal(err)
	}
	var models []string
	for _, u := range flowUsedBy {
		models = append(models, u["model_name"]+":"+u["action"])
	}
	// The policy, group and user bindings; the flow-stage binding; the
	// policy (once: the group and user bindings bind none); the stage.
	if got := strings.Join(models, ","); got != "policybinding:cascade,policybinding:cascade,policybinding:cascade,flowstagebinding:cascade,policy:cascade_many,stage:cascade_many" {
		t.Errorf("the flow's used_by: %s", got)
	}
	if flowUsedBy[0]["pk"] != b["pk"] || flowUsedBy[4]["pk"] != ppk || flowUsedBy[4]["name"] != "allow" {
		t.Errorf("the flow's used_by: %v", flowUsedBy)
	}

	// Deleting the policy deletes its bindings; deleting the flow the rest.
	c.must(204, "DELETE", "/api/v3/policies/all/"+ppk+"/", "")
	if n := c.must(200, "GET", "/api/v3/policies/bindings/", "")["pagination"].(map[string]any)["count"]; n != 2.0 {
		t.Errorf("after the policy's delete: %v bindings", n)
	}
	c.must(204, "DELETE", "/api/v3/flows/instances/login/", "")
	if n := c.must(200, "GET", "/api/v3/policies/bindings/", "")["pagination"].(map[string]any)["count"]; n != 0.0 {
		t.Errorf("after the flow's delete: %v bindings", n)
	}
}

// /policies/all/types/ lists the kinds as authentik 2025.6 does without
// DEBUG, by name; /policies/geoip_iso3166/ every country.
func TestPolicyTypes(t *testing.T) {
	c := newClient(t, nil)
	var types []map[string]any
	if err := json.Unmarshal(c.do("GET", "/api/v3/policies/all/types/", "").status(t, 200), &types); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ty := range types {
		names = append(names, ty["name"].(string))
	}
	want := "Event Matcher Policy,Expression Policy,GeoIP Policy,Password Expiry Policy,Password Policy,Password Uniqueness Policy,Reputation Policy"
	if strings.Join(names, ",") != want {
		t.Errorf("types = %v", names)
	}
	for _, ty := range types {
		if v, ok := ty["icon_url"]; !ok || v != nil {
			t.Errorf("%v: icon_url must be null, as authentik sends it", ty["name"])
		}
	}
	if types[5]["requires_enterprise"] != true || types[5]["model_name"] != "uniquepasswordpolicy" || !strings.HasSuffix(types[5]["description"].(string), "hashed form.\n") {
		t.Errorf("unique password entry = %v", types[5])
	}
	var countries []map[string]string
	if err := json.Unmarshal(c.do("GET", "/api/v3/policies/geoip_iso3166/", "").status(t, 200), &countries); err != nil {
		t.Fatal(err)
	}
	if len(countries) != 249 || countries[0]["code"] != "AF" {
		t.Errorf("countries: %d, first %v", len(countries), countries[0])
	}
}

// status checks the response's status and returns its body.
func (r *response) status(t testing.TB, want int) []byte {
	t.Helper()
	if r.Code != want {
		t.Fatalf("status %d, want %d; body %s", r.Code, want, r.Body)
	}
	return r.Body
}

// target_in takes several targets, each by pbm_uuid or pk, and matches a
// binding of any; more than MaxFilterValues is an error.
func TestPolicyBindingTargetIn(t *testing.T) {
	c := newClient(t, nil)
	p := c.must(201, "POST", "/api/v3/policies/dummy/", `{"name":"d"}`)["pk"].(string)
	var pbms, pks []string
	for _, slug := range []string{"a", "b", "c"} {
		f := c.must(201, "POST", "/api/v3/flows/instances/", `{"name":"`+slug+`","slug":"`+slug+`","title":"T","designation":"authentication"}`)
		pks, pbms = append(pks, f["pk"].(string)), append(pbms, f["policybindingmodel_ptr_id"].(string))
		c.must(201, "POST", "/api/v3/policies/bindings/", `{"target":"`+f["pk"].(string)+`","policy":"`+p+`","order":0}`)
	}
	count := func(q string) any {
		return c.must(200, "GET", "/api/v3/policies/bindings/?"+q, "")["pagination"].(map[string]any)["count"]
	}
	if n := count("target_in=" + pbms[0] + "&target_in=" + pks[2]); n != 2.0 {
		t.Errorf("two targets: %v", n)
	}
	if n := count("target_in=" + pbms[1]); n != 1.0 {
		t.Errorf("one target: %v", n)
	}
	if n := count("target_in=" + p); n != 0.0 {
		t.Errorf("a pk of no target: %v", n)
	}
	c.do("GET", "/api/v3/policies/bindings/?target_in=x&target_in="+pks[0], "").expect(t, 400, `{"target_in":["Enter a valid UUID."]}`)
	many := strings.Repeat("target_in="+pks[0]+"&", 101)
	c.do("GET", "/api/v3/policies/bindings/?"+many, "").expect(t, 400, `{"target_in":["Ensure this value has at most 100 values (it has 101)."]}`)
}
