// Package strength is the evaluator of authentik's password policy with
// all its checks: the static rules (plan.Builtin's), the zxcvbn strength
// estimate (a pure-Go port of Dropbox's zxcvbn,
// github.com/trustelem/zxcvbn) and, through an HTTP client the host
// gives, the Have I Been Pwned range API. It is a package of its own so
// that a host without password policies does not link zxcvbn's
// dictionaries.
//
// Register it over the built-in password evaluator:
//
//	evs := plan.Builtin(nil)
//	evs[policy.ModelPassword] = strength.Evaluator(strength.Options{})
//
// The checks run in authentik's order, each stopping the policy when it
// fails: static rules (when check_static_rules), Have I Been Pwned (when
// check_have_i_been_pwned), zxcvbn (when check_zxcvbn). A zxcvbn score
// at or below zxcvbn_score_threshold fails with MsgTooWeak followed by
// zxcvbn's suggestions, in authentik's words (authentik adds the
// suggestions but not the warning, which zxcvbn gives as a string, not a
// list). Scores are trustelem's port's, which follows zxcvbn 4.4's
// scoring; a password near a score boundary may score one off authentik's
// (Python zxcvbn 4.5.0). Only the first 72 characters are estimated, as
// in authentik. An estimate costs a few milliseconds; 72 characters
// dense with l33t substitutes ("4@8({[<3691!|7+52%...") cost about 0.1 s
// of one core and a random search found inputs near 0.6 s on a loaded
// machine, so a flow that checks passwords anonymously (enrollment)
// should sit behind serve's request bound or the host's rate limit.
//
// Not done: authentik adds the brand's title to zxcvbn's user inputs;
// here it is Options.BrandTitle, which serve does not set.
package strength

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
)

// Messages of the password policy, in authentik's words.
const (
	// MsgTooWeak fails a password whose zxcvbn score is at most the
	// threshold.
	MsgTooWeak = "Password is too weak."
	// MsgPwned is the format of the failure of a password found more
	// often than hibp_allowed_count on Have I Been Pwned; %d is the count.
	MsgPwned = "Password exists on %d online lists."
)

// DefaultHIBPURL is the Have I Been Pwned range API, which the first five
// hex digits of the password's SHA-1 are appended to.
const DefaultHIBPURL = "https://api.pwnedpasswords.com/range/"

// maxZxcvbnRunes is how much of a password zxcvbn estimates (authentik's
// cut: longer passwords pass any threshold anyway).
const maxZxcvbnRunes = 72

// maxHIBPAnswer bounds the body of a range answer (about 30 kB in
// practice).
const maxHIBPAnswer = 4 << 20

// ErrNoHIBPClient fails a policy with check_have_i_been_pwned when
// Options.HIBP is nil: the check reaches the network, which only the host
// may allow.
var ErrNoHIBPClient = errors.New("the Have I Been Pwned check needs an HTTP client from the host")

// ErrHIBP is a Have I Been Pwned answer that could not be had or read.
var ErrHIBP = errors.New("have i been pwned")

// Options configure the evaluator.
type Options struct {
	// HIBP asks the Have I Been Pwned range API; nil means a policy with
	// check_have_i_been_pwned fails with ErrNoHIBPClient (and the
	// binding's failure_result).
	HIBP *http.Client
	// HIBPURL is the range API; "" means DefaultHIBPURL.
	HIBPURL string
	// BrandTitle is a zxcvbn user input (authentik's brand's
	// branding_title); "" means none.
	BrandTitle string
}

// Evaluator returns the password policy's evaluator. Its results are not
// cached (zero ValidUntil): they depend on the user's record and, with
// Have I Been Pwned, on the network. Its errors never hold the password.
func Evaluator(opts Options) plan.Evaluator {
	static := plan.Builtin(nil)[policy.ModelPassword]
	return plan.EvaluatorFunc(func(ctx context.Context, p policy.Policy, req plan.PolicyRequest) (plan.Result, error) {
		c, ok := p.Config.(policy.Password)
		if !ok {
			return plan.Result{}, fmt.Errorf("policy %s: not a password policy", p.Name)
		}
		if c.CheckHaveIBeenPwned && opts.HIBP == nil {
			return plan.Result{}, fmt.Errorf("policy %s: %w", p.Name, ErrNoHIBPClient)
		}
		// An empty password is not set, as in authentik; the static
		// rules, and the password's presence, are the built-in
		// evaluator's.
		data, _ := req.Context["prompt_data"].(map[string]any)
		if pw, isString := data[c.PasswordField].(string); isString && pw == "" {
			return plan.Result{Passing: false, Messages: []string{plan.MsgPasswordNotSet}, ValidUntil: plan.Forever}, nil
		}
		sc := c
		sc.CheckHaveIBeenPwned, sc.CheckZxcvbn = false, false
		sp := p
		sp.Config = sc
		res, err := static.Evaluate(ctx, sp, req)
		if err != nil || !res.Passing {
			return res, err
		}
		pw, _ := data[c.PasswordField].(string)
		if c.CheckHaveIBeenPwned {
			n, err := pwnedCount(ctx, opts, pw)
			if err != nil {
				return plan.Result{}, fmt.Errorf("policy %s: %w", p.Name, err)
			}
			if n > int(c.HIBPAllowedCount) {
				return plan.Result{Passing: false, Messages: []string{fmt.Sprintf(MsgPwned, n)}}, nil
			}
		}
		if c.CheckZxcvbn {
			score, suggestions := Estimate(pw, userInputs(ctx, req, opts.BrandTitle))
			if score <= int(c.ZxcvbnScoreThreshold) {
				return plan.Result{Passing: false, Messages: append([]string{MsgTooWeak}, suggestions...)}, nil
			}
		}
		return plan.Result{Passing: true, Messages: []string{}}, nil
	})
}

// userInputs are zxcvbn's user inputs, as authentik gives them: an
// authenticated user's username, name and email, and the brand's title.
func userInputs(ctx context.Context, req plan.PolicyRequest, brand string) []string {
	var in []string
	if req.User.Authenticated && req.User.PK != 0 && req.Directory != nil {
		if u, err := req.Directory.User(ctx, req.User.PK); err == nil {
			in = append(in, u.Username, u.Name, u.Email)
		}
	}
	if brand != "" {
		in = append(in, brand)
	}
	return in
}

// Estimate returns zxcvbn's score (0 to 4) of the password's first 72
// characters with userInputs as extra dictionary words, and zxcvbn's
// suggestions (Python zxcvbn 4.5.0's feedback, in its words).
func Estimate(password string, userInputs []string) (score int, suggestions []string) {
	n := 0
	for i := range password {
		if n == maxZxcvbnRunes {
			password = password[:i]
			break
		}
		n++
	}
	r := zxcvbn.PasswordStrength(password, userInputs)
	return r.Score, feedback(r.Score, r.Sequence)
}

// zxcvbn's suggestions.
const (
	sugDefaultWords  = "Use a few words, avoid common phrases."
	sugDefaultPlain  = "No need for symbols, digits, or uppercase letters."
	sugAddWord       = "Add another word or two. Uncommon words are better."
	sugSpatial       = "Use a longer keyboard pattern with more turns."
	sugRepeat        = "Avoid repeated words and characters."
	sugSequence      = "Avoid sequences."
	sugRecentYears   = "Avoid recent years."
	sugYearsYours    = "Avoid years that are associated with you."
	sugDates         = "Avoid dates and years that are associated with you."
	sugCapitalize    = "Capitalization doesn't help very much."
	sugAllUpper      = "All-uppercase is almost as easy to guess as all-lowercase."
	sugReversed      = "Reversed words aren't much harder to guess."
	sugSubstitutions = "Predictable substitutions like '@' instead of 'a' don't help very much."
)

// zxcvbn's case patterns of a dictionary word.
var (
	startUpper = regexp.MustCompile(`^[A-Z][^A-Z]+$`)
	allUpper   = regexp.MustCompile(`^[^a-z]+$`)
)

// feedback is zxcvbn's get_feedback, suggestions only: none above score
// 2; else those of the sequence's longest match, after sugAddWord.
func feedback(score int, seq []*match.Match) []string {
	if len(seq) == 0 {
		return []string{sugDefaultWords, sugDefaultPlain}
	}
	if score > 2 {
		return nil
	}
	longest := seq[0]
	for _, m := range seq[1:] {
		if utf8.RuneCountInString(m.Token) > utf8.RuneCountInString(longest.Token) {
			longest = m
		}
	}
	return append([]string{sugAddWord}, matchSuggestions(longest)...)
}

func matchSuggestions(m *match.Match) []string {
	switch m.Pattern {
	case "dictionary":
		var out []string
		switch {
		case startUpper.MatchString(m.Token):
			out = append(out, sugCapitalize)
		case allUpper.MatchString(m.Token) && strings.ToLower(m.Token) != m.Token:
			out = append(out, sugAllUpper)
		}
		if m.Reversed && utf8.RuneCountInString(m.Token) >= 4 {
			out = append(out, sugReversed)
		}
		if m.L33t {
			out = append(out, sugSubstitutions)
		}
		return out
	case "spatial":
		return []string{sugSpatial}
	case "repeat":
		return []string{sugRepeat}
	case "sequence":
		return []string{sugSequence}
	case "regex":
		if m.RegexName == "recent_year" {
			return []string{sugRecentYears, sugYearsYours}
		}
	case "date":
		return []string{sugDates}
	}
	return nil
}

// pwnedCount asks the range API how often the password was seen: the
// first five hex digits of its SHA-1 go out, the rest is compared here.
func pwnedCount(ctx context.Context, opts Options, pw string) (int, error) {
	sum := sha1.Sum([]byte(pw))
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	base := opts.HIBPURL
	if base == "" {
		base = DefaultHIBPURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+h[:5], nil)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrHIBP, err)
	}
	resp, err := opts.HIBP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds the hash's prefix
		}
		return 0, fmt.Errorf("%w: %v", ErrHIBP, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%w: status %d", ErrHIBP, resp.StatusCode)
	}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, maxHIBPAnswer))
	for sc.Scan() {
		suffix, count, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok || !strings.EqualFold(suffix, h[5:]) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(count))
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%w: a count that is not a number", ErrHIBP)
		}
		return min(n, math.MaxInt32), nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrHIBP, err)
	}
	return 0, nil
}
