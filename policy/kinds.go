package policy

import (
	"github.com/authflow/authflow/validate"
	"github.com/invopop/validation"
)

// Model names of the built-in kinds.
const (
	ModelExpression     ModelName = "authentik_policies_expression.expressionpolicy"
	ModelPassword       ModelName = "authentik_policies_password.passwordpolicy"
	ModelReputation     ModelName = "authentik_policies_reputation.reputationpolicy"
	ModelDummy          ModelName = "authentik_policies_dummy.dummypolicy"
	ModelEventMatcher   ModelName = "authentik_policies_event_matcher.eventmatcherpolicy"
	ModelPasswordExpiry ModelName = "authentik_policies_expiry.passwordexpirypolicy"
	ModelGeoIP          ModelName = "authentik_policies_geoip.geoippolicy"
	ModelUniquePassword ModelName = "authentik_policies_unique_password.uniquepasswordpolicy"
)

// The object rules of the built-in kinds, in authentik's words.
const (
	MsgReputationNothingChecked = "Either IP or Username must be checked"
	MsgEventMatcherNoCriteria   = "At least one criteria must be set."
	// MsgExpressionSyntax starts the field error of an expression that
	// the store's checker refuses (store.Options.CheckExpression).
	MsgExpressionSyntax = "Expression Syntax Error: "
)

// Expression runs Python: authentik's ExpressionPolicy. authflow stores
// the expression verbatim; the store checks its syntax on write as far as
// it can without a Python parser (store.Options.CheckExpression).
type Expression struct {
	Expression string `json:"expression" af:"required"`
}

// ModelName implements [Config].
func (Expression) ModelName() ModelName { return ModelExpression }

// DefaultSymbolCharset is the default symbol_charset of a Password policy:
// authentik's, ASCII punctuation with a second backslash and a trailing
// space.
const DefaultSymbolCharset = "!\\\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ "

// Password checks a password's properties: authentik's PasswordPolicy.
// It has no cross-field rules: every check may be off.
type Password struct {
	// PasswordField is the prompt field key holding the password.
	PasswordField   string `json:"password_field"`
	AmountDigits    int32  `json:"amount_digits" af:"min=0"`
	AmountUppercase int32  `json:"amount_uppercase" af:"min=0"`
	AmountLowercase int32  `json:"amount_lowercase" af:"min=0"`
	AmountSymbols   int32  `json:"amount_symbols" af:"min=0"`
	LengthMin       int32  `json:"length_min" af:"min=0"`
	SymbolCharset   string `json:"symbol_charset"`
	// ErrorMessage is shown when the static rules fail; it may be empty.
	ErrorMessage         string `json:"error_message" af:"blank"`
	CheckStaticRules     bool   `json:"check_static_rules"`
	CheckHaveIBeenPwned  bool   `json:"check_have_i_been_pwned"`
	CheckZxcvbn          bool   `json:"check_zxcvbn"`
	HIBPAllowedCount     int32  `json:"hibp_allowed_count" af:"min=0"`
	ZxcvbnScoreThreshold int32  `json:"zxcvbn_score_threshold" af:"min=0"`
}

// DefaultPassword returns a Password policy with authentik's defaults.
func DefaultPassword() Password {
	return Password{PasswordField: "password", SymbolCharset: DefaultSymbolCharset, CheckStaticRules: true, ZxcvbnScoreThreshold: 2}
}

// ModelName implements [Config].
func (Password) ModelName() ModelName { return ModelPassword }

// Reputation passes while the score of the request's IP and/or username
// is at most Threshold: authentik's ReputationPolicy.
type Reputation struct {
	CheckIP       bool  `json:"check_ip"`
	CheckUsername bool  `json:"check_username"`
	Threshold     int32 `json:"threshold"`
}

// DefaultReputation returns a Reputation policy with authentik's defaults.
func DefaultReputation() Reputation {
	return Reputation{CheckIP: true, CheckUsername: true, Threshold: -5}
}

// ModelName implements [Config].
func (Reputation) ModelName() ModelName { return ModelReputation }

// ValidateObject requires a check. authentik reads the request body only
// (so a PATCH without either key fails); here it holds for the merged
// object.
func (c Reputation) ValidateObject() error {
	if !c.CheckIP && !c.CheckUsername {
		return validation.NewError("authflow_reputation_checks", MsgReputationNothingChecked)
	}
	return nil
}

// Dummy returns a fixed result after a random wait: authentik's
// DummyPolicy, for debugging. Its bounds are not checked against each
// other, as in authentik.
type Dummy struct {
	Result  bool  `json:"result"`
	WaitMin int32 `json:"wait_min"`
	WaitMax int32 `json:"wait_max"`
}

// DefaultDummy returns a Dummy policy with authentik's defaults.
func DefaultDummy() Dummy { return Dummy{WaitMin: 5, WaitMax: 30} }

// ModelName implements [Config].
func (Dummy) ModelName() ModelName { return ModelDummy }

// EventMatcher passes when an event matches every criterion set:
// authentik's EventMatcherPolicy. A null criterion matches anything.
type EventMatcher struct {
	// Action is one of [EventActions].
	Action *EventChoice `json:"action"`
	// ClientIP is matched exactly.
	ClientIP *string `json:"client_ip"`
	// App is one of [EventApps].
	App *EventChoice `json:"app"`
	// Model is one of [EventModels].
	Model *EventChoice `json:"model"`
}

// EventChoice is a value of one of an event matcher's choice fields.
type EventChoice string

func eventChoices(values []string) validate.Rule {
	out := make([]EventChoice, len(values))
	for i, v := range values {
		out[i] = EventChoice(v)
	}
	return validate.Choice(out...)
}

// ModelName implements [Config].
func (EventMatcher) ModelName() ModelName { return ModelEventMatcher }

var (
	eventActionRule = eventChoices(EventActions)
	eventAppRule    = eventChoices(EventApps)
	eventModelRule  = eventChoices(EventModels)
)

// Validate checks the choices and that client_ip is not blank.
func (c EventMatcher) Validate() error {
	return validation.Errors{
		"action":    optional(c.Action, eventActionRule),
		"client_ip": optional(c.ClientIP, validate.NotBlank),
		"app":       optional(c.App, eventAppRule),
		"model":     optional(c.Model, eventModelRule),
	}.Filter()
}

// optional applies rule to *p unless p is nil.
func optional[T ~string](p *T, rule validate.Rule) error {
	if p == nil {
		return nil
	}
	return validate.Text(*p, rule)
}

// ValidateObject requires a criterion. authentik's check reads keys the
// request may not have (a server error) and can never fail in practice;
// here a matcher with every criterion null, which would match every
// event, is refused.
func (c EventMatcher) ValidateObject() error {
	if c.Action == nil && c.ClientIP == nil && c.App == nil && c.Model == nil {
		return validation.NewError("authflow_event_matcher_criteria", MsgEventMatcherNoCriteria)
	}
	return nil
}

// PasswordExpiry fails (or denies) when the user's password is older than
// Days: authentik's PasswordExpiryPolicy.
type PasswordExpiry struct {
	Days     int32 `json:"days" af:"required"`
	DenyOnly bool  `json:"deny_only"`
}

// ModelName implements [Config].
func (PasswordExpiry) ModelName() ModelName { return ModelPasswordExpiry }

// GeoIP checks the request's country, ASN, and travel history:
// authentik's GeoIPPolicy. authflow holds no GeoIP data; evaluating it is
// the host's.
type GeoIP struct {
	ASNs []int32 `json:"asns"`
	// Countries are ISO 3166-1 alpha-2 codes (see [Countries]). A create
	// or replace must send the key, as in authentik 2025.6, whose
	// serializer requires it; an empty list is accepted (a policy that
	// checks ASNs only).
	Countries             []string `json:"countries" af:"required,blank"`
	CheckHistoryDistance  bool     `json:"check_history_distance"`
	HistoryMaxDistanceKM  int64    `json:"history_max_distance_km" af:"min=0"`
	DistanceToleranceKM   int32    `json:"distance_tolerance_km" af:"min=0"`
	HistoryLoginCount     int32    `json:"history_login_count" af:"min=0"`
	CheckImpossibleTravel bool     `json:"check_impossible_travel"`
	ImpossibleToleranceKM int32    `json:"impossible_tolerance_km" af:"min=0"`
}

// DefaultGeoIP returns a GeoIP policy with authentik's defaults.
func DefaultGeoIP() GeoIP {
	return GeoIP{ASNs: []int32{}, Countries: []string{}, HistoryMaxDistanceKM: 100, DistanceToleranceKM: 50, HistoryLoginCount: 5, ImpossibleToleranceKM: 100}
}

// ModelName implements [Config].
func (GeoIP) ModelName() ModelName { return ModelGeoIP }

// MaxCountries bounds a GeoIP policy's countries, as the schema does.
const MaxCountries = 249

var countryRule = func() validate.Rule {
	codes := make([]string, len(Countries))
	for i, c := range Countries {
		codes[i] = c.Code
	}
	return validate.Choice(codes...)
}()

// Validate checks the country codes.
func (c GeoIP) Validate() error {
	if len(c.Countries) > MaxCountries {
		return validation.Errors{"countries": validation.NewError("authflow_max_items", validate.MaxItems(MaxCountries))}
	}
	for _, code := range c.Countries {
		if err := validate.Text(code, countryRule); err != nil {
			return validation.Errors{"countries": err}
		}
	}
	return nil
}

// Country is an ISO 3166-1 country, as countries_obj and
// /policies/geoip_iso3166/ show it.
type Country struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// CountriesOf returns the countries of codes, in their order.
func CountriesOf(codes []string) []Country {
	out := make([]Country, 0, len(codes))
	for _, code := range codes {
		for _, c := range Countries {
			if c.Code == code {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// UniquePassword refuses a password the user had before: authentik's
// enterprise UniquePasswordPolicy (no licence is checked here).
type UniquePassword struct {
	PasswordField          string `json:"password_field"`
	NumHistoricalPasswords int32  `json:"num_historical_passwords" af:"min=0"`
}

// DefaultUniquePassword returns a UniquePassword policy with authentik's
// defaults.
func DefaultUniquePassword() UniquePassword {
	return UniquePassword{PasswordField: "password", NumHistoricalPasswords: 1}
}

// ModelName implements [Config].
func (UniquePassword) ModelName() ModelName { return ModelUniquePassword }

var (
	_ Config = Expression{}
	_ Config = Password{}
	_ Config = Reputation{}
	_ Config = Dummy{}
	_ Config = EventMatcher{}
	_ Config = PasswordExpiry{}
	_ Config = GeoIP{}
	_ Config = UniquePassword{}
)
