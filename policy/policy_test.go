package policy_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Every built-in kind is registered with its path, and creates with
// authentik's defaults from a body holding only what is required.
func TestBuiltinDefaults(t *testing.T) {
	for _, tt := range []struct {
		model policy.ModelName
		path  string
		body  string
		want  policy.Config
	}{
		{policy.ModelExpression, "expression", `{"name":"x","expression":"return True"}`, policy.Expression{Expression: "return True"}},
		{policy.ModelPassword, "password", `{"name":"x"}`, policy.Password{PasswordField: "password", SymbolCharset: policy.DefaultSymbolCharset, CheckStaticRules: true, ZxcvbnScoreThreshold: 2}},
		{policy.ModelReputation, "reputation", `{"name":"x"}`, policy.Reputation{CheckIP: true, CheckUsername: true, Threshold: -5}},
		{policy.ModelDummy, "dummy", `{"name":"x"}`, policy.Dummy{WaitMin: 5, WaitMax: 30}},
		{policy.ModelPasswordExpiry, "password_expiry", `{"name":"x","days":0}`, policy.PasswordExpiry{}},
		{policy.ModelGeoIP, "geoip", `{"name":"x","countries":[]}`, policy.DefaultGeoIP()},
		{policy.ModelUniquePassword, "unique_password", `{"name":"x"}`, policy.UniquePassword{PasswordField: "password", NumHistoricalPasswords: 1}},
	} {
		k, ok := policy.Default.ByPath(tt.path)
		if !ok || k.Model != tt.model {
			t.Errorf("ByPath(%q) = %v, %v", tt.path, k.Model, ok)
			continue
		}
		cur, err := policy.Default.New(tt.model)
		if err != nil {
			t.Fatal(err)
		}
		got, err := policy.Default.Decode(cur, []byte(tt.body), validate.Create)
		if err != nil {
			t.Errorf("%s: %v", tt.model, err)
			continue
		}
		if !reflect.DeepEqual(got.Config, tt.want) || got.Name != "x" || got.ExecutionLogging {
			t.Errorf("%s: %#v", tt.model, got)
		}
	}
	if n := len([]rune(policy.DefaultSymbolCharset)); n != 34 || !strings.HasSuffix(policy.DefaultSymbolCharset, "~ ") {
		t.Errorf("symbol charset has %d characters: %q", n, policy.DefaultSymbolCharset)
	}
	if _, err := policy.Default.New("authentik_policies.nope"); !errors.Is(err, policy.ErrUnknownKind) {
		t.Errorf("New of an unknown kind: %v", err)
	}
}

// The common fields decode beside the kind's, with one error value for
// both; unknown keys are refused and read-only ones ignored.
func TestDecodeCommonFields(t *testing.T) {
	cur, _ := policy.Default.New(policy.ModelExpression)
	_, err := policy.Default.Decode(cur, []byte(`{"execution_logging":"x","expression":"","nmae":1}`), validate.Create)
	testutil.WantFields(t, "create", err, map[string][]string{
		"name":              {validate.MsgRequired},
		"execution_logging": {validate.MsgBoolean},
		"expression":        {validate.MsgBlank},
		"nmae":              {validate.MsgUnknownField},
	})
	got, err := policy.Default.Decode(cur, []byte(`{"name":" e ","execution_logging":true,"expression":"x","pk":"?","bound_to":3,"component":1}`), validate.Create)
	if err != nil || got.Name != "e" || !got.ExecutionLogging {
		t.Errorf("Decode = %#v, %v", got, err)
	}
}

// The stored form reads back to the same policy, every kind.
func TestEncodeRoundTrip(t *testing.T) {
	action := policy.EventChoice("login")
	for _, cfg := range []policy.Config{
		policy.Expression{Expression: "return ak_is_group_member(request.user, name=\"x\")\n"},
		policy.DefaultPassword(), policy.DefaultReputation(), policy.DefaultDummy(),
		policy.EventMatcher{Action: &action}, policy.PasswordExpiry{Days: 30, DenyOnly: true},
		policy.GeoIP{ASNs: []int32{64512}, Countries: []string{"DE"}}, policy.DefaultUniquePassword(),
	} {
		p := policy.Policy{PK: uuid.New(), Name: "p <&>", ExecutionLogging: true, Config: cfg}
		b, err := policy.Default.Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		back, err := policy.Default.DecodeStored(b)
		if err != nil || !reflect.DeepEqual(back, p) {
			t.Errorf("%s: %#v, %v; stored %s", p.Model(), back, err, b)
		}
	}
	if _, err := policy.Default.DecodeStored([]byte(`{"pk":"` + uuid.NewString() + `","name":"x","model":"a.b","config":{}}`)); !errors.Is(err, policy.ErrUnknownKind) {
		t.Errorf("an unknown stored kind: %v", err)
	}
}

// A binding's object rule counts policy, group and user on the whole
// object.
func TestBindingRules(t *testing.T) {
	id, user := uuid.New(), int64(3)
	for _, tt := range []struct {
		b    policy.Binding
		want string
	}{
		{policy.Binding{}, policy.MsgBindingOneOf},
		{policy.Binding{Policy: &id}, ""},
		{policy.Binding{Group: &id}, ""},
		{policy.Binding{User: &user}, ""},
		{policy.Binding{Policy: &id, User: &user}, policy.MsgBindingOnlyOne},
		{policy.Binding{Policy: &id, Group: &id, User: &user}, policy.MsgBindingOnlyOne},
	} {
		e := validate.CheckObject(tt.b)
		switch {
		case tt.want == "" && e != nil:
			t.Errorf("%+v: %v", tt.b, e)
		case tt.want != "" && (e == nil || len(e.NonField) != 1 || e.NonField[0] != tt.want):
			t.Errorf("%+v: %v, want %q", tt.b, e, tt.want)
		}
	}
	b := policy.DefaultBinding()
	b.Order, b.User = 2, &user
	if s := policy.BindingString(b, "Flow Login (login)", "Ann Example"); s != "Binding from Flow Login (login) #2 to User Ann Example" {
		t.Errorf("str = %q", s)
	}
	b.User, b.Policy = nil, &id
	if s := policy.BindingString(b, "", "allow"); s != "Binding - #2 to Policy allow" {
		t.Errorf("str without a target = %q", s)
	}
}

// Every field rule of every kind, with authentik's messages.
func TestKindRules(t *testing.T) {
	type fields = map[string][]string
	for _, tt := range []struct {
		model policy.ModelName
		body  string
		want  fields
	}{
		{policy.ModelExpression, `{"expression":null}`, fields{"expression": {validate.MsgNull}}},
		{policy.ModelExpression, `{"expression":" "}`, fields{"expression": {validate.MsgBlank}}},
		{policy.ModelExpression, `{"expression":"\u0000"}`, fields{"expression": {validate.MsgNullCharacters}}},
		{policy.ModelPassword, `{"password_field":"","symbol_charset":""}`, fields{"password_field": {validate.MsgBlank}, "symbol_charset": {validate.MsgBlank}}},
		{policy.ModelPassword, `{"amount_digits":-1,"amount_uppercase":-1,"amount_lowercase":-1,"amount_symbols":-1,"length_min":-1,"hibp_allowed_count":-1,"zxcvbn_score_threshold":-1}`,
			fields{"amount_digits": {validate.MinValue(0)}, "amount_uppercase": {validate.MinValue(0)}, "amount_lowercase": {validate.MinValue(0)}, "amount_symbols": {validate.MinValue(0)},
				"length_min": {validate.MinValue(0)}, "hibp_allowed_count": {validate.MinValue(0)}, "zxcvbn_score_threshold": {validate.MinValue(0)}}},
		{policy.ModelPassword, `{"length_min":2147483648,"check_zxcvbn":"maybe"}`, fields{"length_min": {validate.MaxValue(2147483647)}, "check_zxcvbn": {validate.MsgBoolean}}},
		{policy.ModelPassword, `{"error_message":""}`, nil},
		{policy.ModelReputation, `{"threshold":-2147483649}`, fields{"threshold": {validate.MinValue(-2147483648)}}},
		{policy.ModelDummy, `{"wait_min":-5,"wait_max":"x","result":null}`, fields{"wait_max": {validate.MsgInteger}, "result": {validate.MsgNull}}},
		{policy.ModelEventMatcher, `{"action":"nope","app":"authentik.nope","model":"authentik_flows.nope","client_ip":""}`,
			fields{"action": {validate.InvalidChoice("nope")}, "app": {validate.InvalidChoice("authentik.nope")}, "model": {validate.InvalidChoice("authentik_flows.nope")}, "client_ip": {validate.MsgBlank}}},
		{policy.ModelEventMatcher, `{"action":"custom_","app":"authentik.enterprise.stages.mtls","model":"authentik_stages_prompt.prompt","client_ip":"10.0.0.1"}`, nil},
		{policy.ModelPasswordExpiry, `{"days":-3,"deny_only":1}`, nil},
		{policy.ModelGeoIP, `{"asns":[1,2147483648],"countries":"DE"}`, fields{"asns.1": {validate.MaxValue(2147483647)}, "countries": {validate.NotAList("str")}}},
		{policy.ModelGeoIP, `{"countries":["de"],"history_max_distance_km":-1,"distance_tolerance_km":-1,"history_login_count":-1,"impossible_tolerance_km":-1}`,
			fields{"countries": {validate.InvalidChoice("de")}, "history_max_distance_km": {validate.MinValue(0)}, "distance_tolerance_km": {validate.MinValue(0)},
				"history_login_count": {validate.MinValue(0)}, "impossible_tolerance_km": {validate.MinValue(0)}}},
		{policy.ModelGeoIP, `{"countries":[` + strings.Repeat(`"DE",`, 249) + `"FR"]}`, fields{"countries": {validate.MaxItems(249)}}},
		{policy.ModelGeoIP, `{"history_max_distance_km":9223372036854775807}`, nil},
		{policy.ModelUniquePassword, `{"num_historical_passwords":-1,"password_field":" "}`, fields{"num_historical_passwords": {validate.MinValue(0)}, "password_field": {validate.MsgBlank}}},
	} {
		cur, err := policy.Default.New(tt.model)
		if err != nil {
			t.Fatal(err)
		}
		cur.Name = "p"
		_, err = policy.Default.Decode(cur, []byte(tt.body), validate.Patch)
		testutil.WantFields(t, string(tt.model)+" "+tt.body, err, tt.want)
	}
}

// The representation of every kind, and of a binding with its
// policy_obj, byte for byte.
func TestViewJSON(t *testing.T) {
	pk := uuid.MustParse("5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
	for _, k := range policy.Default.Kinds() {
		cur, err := policy.Default.New(k.Model)
		if err != nil {
			t.Fatal(err)
		}
		cur.PK, cur.Name = pk, "policy <&>"
		if g, ok := cur.Config.(policy.GeoIP); ok {
			g.Countries = []string{"DE", "GB"}
			cur.Config = g
		}
		got, err := json.Marshal(policy.View{Policy: cur, Kind: k, BoundTo: 2})
		if err != nil {
			t.Fatal(err)
		}
		testutil.Golden(t, filepath.Join("testdata", "view_"+k.Model.Model()+".json"), got)
	}
	p, _ := policy.Default.New(policy.ModelDummy)
	p.PK, p.Name = pk, "d"
	k, _ := policy.Default.Lookup(policy.ModelDummy)
	b := policy.DefaultBinding()
	b.PK, b.Target, b.Policy, b.Order = uuid.MustParse("6b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e"), uuid.MustParse("7c3d4e5f-6a7b-4c8d-8e9f-1a2b3c4d5e6f"), &pk, 10
	got, err := json.Marshal(policy.BindingView{Binding: b, PolicyObj: &policy.View{Policy: p, Kind: k, BoundTo: 1}})
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, filepath.Join("testdata", "binding.json"), got)
}
