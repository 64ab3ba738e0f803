package plan

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/authflow/authflow/policy"
)

// Builtin returns the evaluators of the kinds that need neither Python
// nor outside data: dummy, password (its static rules; the
// Have-I-Been-Pwned and zxcvbn checks need the network or a strength
// estimator, so a password policy that enables them fails, naming them,
// unless the host registers another evaluator: package password/strength
// has both) and password expiry. now is the
// clock for expiry; nil means time.Now.
func Builtin(now func() time.Time) map[policy.ModelName]Evaluator {
	if now == nil {
		now = time.Now
	}
	return map[policy.ModelName]Evaluator{
		policy.ModelDummy:          EvaluatorFunc(dummy),
		policy.ModelPassword:       EvaluatorFunc(password),
		policy.ModelPasswordExpiry: expiry{now},
	}
}

// dummy returns the policy's fixed result with the message "dummy".
// authentik first waits a random time between wait_min and wait_max
// seconds; the planner does not wait.
func dummy(_ context.Context, p policy.Policy, _ PolicyRequest) (Result, error) {
	return Result{Passing: p.Config.(policy.Dummy).Result, Messages: []string{"dummy"}, ValidUntil: Forever}, nil
}

// Messages of the built-in evaluators, in authentik's words.
const (
	MsgPasswordNotSet  = "Password not set in context"
	MsgPasswordExpired = "Password has expired."
)

// errUnsupported is a check the built-in evaluator cannot make.
type errUnsupported string

func (e errUnsupported) Error() string { return string(e) }

// password checks the static rules on the password in
// prompt_data[password_field]. authentik 2025.6 compares the count of
// upper-case letters with amount_lowercase (fixed in 2025.8); here each
// count is compared with its own amount.
func password(_ context.Context, p policy.Policy, req PolicyRequest) (Result, error) {
	c := p.Config.(policy.Password)
	if c.CheckHaveIBeenPwned || c.CheckZxcvbn {
		return Result{}, errUnsupported("policy " + p.Name + ": the Have I Been Pwned and zxcvbn checks need an evaluator from the host")
	}
	data, _ := req.Context["prompt_data"].(map[string]any)
	pw, ok := data[c.PasswordField].(string)
	if !ok {
		return Result{Passing: false, Messages: []string{MsgPasswordNotSet}, ValidUntil: Forever}, nil
	}
	if !c.CheckStaticRules {
		return Result{Passing: true, Messages: []string{}, ValidUntil: Forever}, nil
	}
	var digits, upper, lower, symbols int
	for _, r := range pw {
		switch {
		case unicode.IsDigit(r):
			digits++
		case unicode.IsUpper(r):
			upper++
		case unicode.IsLower(r):
			lower++
		}
		if strings.ContainsRune(c.SymbolCharset, r) {
			symbols++
		}
	}
	ok = len([]rune(pw)) >= int(c.LengthMin) && digits >= int(c.AmountDigits) && upper >= int(c.AmountUppercase) &&
		lower >= int(c.AmountLowercase) && symbols >= int(c.AmountSymbols)
	if !ok {
		return Result{Passing: false, Messages: []string{c.ErrorMessage}, ValidUntil: Forever}, nil
	}
	return Result{Passing: true, Messages: []string{}, ValidUntil: Forever}, nil
}

// expiry fails when the user's password is older than days. A user
// without a password change date has no password to expire and passes.
// A passing result holds until the password expires.
type expiry struct{ now func() time.Time }

func (e expiry) Evaluate(_ context.Context, p policy.Policy, req PolicyRequest) (Result, error) {
	c := p.Config.(policy.PasswordExpiry)
	changed := req.User.PasswordChangeDate
	if changed == nil {
		return Result{Passing: true, Messages: []string{}, ValidUntil: Forever}, nil
	}
	expires := changed.Add(time.Duration(c.Days) * 24 * time.Hour)
	if e.now().After(expires) {
		return Result{Passing: false, Messages: []string{MsgPasswordExpired}, ValidUntil: Forever}, nil
	}
	return Result{Passing: true, Messages: []string{}, ValidUntil: expires}, nil
}
