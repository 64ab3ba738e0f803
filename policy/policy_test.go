package policy_test

import (
	"errors"
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
		{policy.ModelGeoIP, "geoip", `{"name":"x"}`, policy.DefaultGeoIP()},
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
	if s := policy.BindingString(b, "Flow Login (login)", ""); s != "Binding from Flow Login (login) #2 to User 3" {
		t.Errorf("str = %q", s)
	}
	b.User, b.Policy = nil, &id
	if s := policy.BindingString(b, "", "allow"); s != "Binding - #2 to Policy allow" {
		t.Errorf("str without a target = %q", s)
	}
}
