package strength_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/memdir"
	"github.com/authflow/authflow/password/strength"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
)

func pwPolicy(mod func(*policy.Password)) policy.Policy {
	c := policy.DefaultPassword()
	c.CheckStaticRules = false
	c.CheckZxcvbn = true
	if mod != nil {
		mod(&c)
	}
	return policy.Policy{Name: "default-password-change-password-policy", Config: c}
}

func withPassword(pw string) plan.PolicyRequest {
	return plan.PolicyRequest{Context: map[string]any{"prompt_data": map[string]any{"password": pw}}}
}

// authentik's zxcvbn check: a score at or below the threshold fails with
// "Password is too weak." and zxcvbn's suggestions; a passphrase passes.
func TestZxcvbn(t *testing.T) {
	ev := strength.Evaluator(strength.Options{})
	ctx := context.Background()
	for _, c := range []struct {
		pw   string
		pass bool
		msgs []string
	}{
		{"password", false, []string{strength.MsgTooWeak, "Add another word or two. Uncommon words are better."}},
		{"Password", false, []string{strength.MsgTooWeak, "Add another word or two. Uncommon words are better.", "Capitalization doesn't help very much."}},
		{"qwertyuiop", false, []string{strength.MsgTooWeak, "Add another word or two. Uncommon words are better."}},
		{"abcdefghijk", false, []string{strength.MsgTooWeak, "Add another word or two. Uncommon words are better.", "Avoid sequences."}},
		{"correct horse battery staple unicorn", true, []string{}},
	} {
		res, err := ev.Evaluate(ctx, pwPolicy(nil), withPassword(c.pw))
		if err != nil {
			t.Fatalf("%q: %v", c.pw, err)
		}
		if res.Passing != c.pass || !slices.Equal(res.Messages, c.msgs) {
			t.Errorf("%q: passing %v %q, want %v %q", c.pw, res.Passing, res.Messages, c.pass, c.msgs)
		}
	}
	// The threshold: "correct horse" scores 3 here, so it fails at 3.
	if s, _ := strength.Estimate("correct horse", nil); s != 3 {
		t.Fatalf("score of correct horse: %d", s)
	}
	for th, pass := range map[int32]bool{2: true, 3: false} {
		res, err := ev.Evaluate(ctx, pwPolicy(func(c *policy.Password) { c.ZxcvbnScoreThreshold = th }), withPassword("correct horse"))
		if err != nil || res.Passing != pass {
			t.Errorf("threshold %d: %+v %v, want passing %v", th, res, err, pass)
		}
	}
}

// Static rules come first, with the policy's error message; no password
// is the built-in evaluator's message.
func TestStaticFirst(t *testing.T) {
	ev := strength.Evaluator(strength.Options{})
	p := pwPolicy(func(c *policy.Password) { c.CheckStaticRules, c.LengthMin, c.ErrorMessage = true, 40, "too short" })
	res, err := ev.Evaluate(context.Background(), p, withPassword("password"))
	if err != nil || res.Passing || !slices.Equal(res.Messages, []string{"too short"}) {
		t.Errorf("static: %+v %v", res, err)
	}
	for _, req := range []plan.PolicyRequest{{Context: map[string]any{}}, withPassword("")} {
		res, err = ev.Evaluate(context.Background(), pwPolicy(nil), req)
		if err != nil || res.Passing || !slices.Equal(res.Messages, []string{plan.MsgPasswordNotSet}) {
			t.Errorf("no password in %v: %+v %v", req.Context, res, err)
		}
	}
}

// Estimate takes anything: invalid UTF-8 scores 0 (trustelem's port
// refuses to estimate it), and every score is zxcvbn's 0 to 4.
func TestEstimateBounds(t *testing.T) {
	for _, pw := range []string{"\xff\xfepassword", "p@55w0rd", strings.Repeat("4@8({[<3691!|7+52%", 4), "é中文パスワード"} {
		s, _ := strength.Estimate(pw, []string{"", "\xff"})
		if s < 0 || s > 4 || strings.HasPrefix(pw, "\xff") && s != 0 {
			t.Errorf("%q: score %d", pw, s)
		}
	}
}

// An authenticated user's username, name and email are zxcvbn's user
// inputs: a password that is the username is weak for its user only.
func TestUserInputs(t *testing.T) {
	ctx := context.Background()
	d, err := memdir.New(memdir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := d.CreateUser(ctx, directory.User{Username: "zqxjvkwplmbt", Name: "Z", IsActive: true, Path: directory.DefaultPath, Type: directory.UserTypeInternal})
	if err != nil {
		t.Fatal(err)
	}
	ev := strength.Evaluator(strength.Options{})
	req := withPassword("zqxjvkwplmbt")
	if res, err := ev.Evaluate(ctx, pwPolicy(nil), req); err != nil || !res.Passing {
		t.Fatalf("anonymous: %+v %v", res, err)
	}
	req.User = plan.User{PK: u.PK, Authenticated: true}
	req.Directory = d
	if res, err := ev.Evaluate(ctx, pwPolicy(nil), req); err != nil || res.Passing {
		t.Errorf("the user's own username: %+v %v", res, err)
	}
}

// Only the first 72 characters are estimated, as in authentik.
func TestFirst72(t *testing.T) {
	weak := strings.Repeat("a", 72)
	sw, _ := strength.Estimate(weak, nil)
	sl, _ := strength.Estimate(weak+"Xk9#qL2!vZ%wP", nil)
	if sw != sl || sw > 1 {
		t.Errorf("score %d with a strong tail after 72 characters, %d without", sl, sw)
	}
}

// Have I Been Pwned: only with the host's client, only the hash's prefix
// goes out, and a count above hibp_allowed_count fails with authentik's
// message; errors never hold the password.
func TestHIBP(t *testing.T) {
	ctx := context.Background()
	const pw = "hunter2-secret"
	sum := sha1.Sum([]byte(pw))
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var asked []string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.Path)
		w.WriteHeader(status)
		fmt.Fprintf(w, "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n%s:3\r\n", h[5:])
	}))
	defer srv.Close()
	p := pwPolicy(func(c *policy.Password) { c.CheckZxcvbn, c.CheckHaveIBeenPwned = false, true })

	_, err := strength.Evaluator(strength.Options{}).Evaluate(ctx, p, withPassword(pw))
	if !errors.Is(err, strength.ErrNoHIBPClient) {
		t.Errorf("without a client: %v", err)
	}
	ev := strength.Evaluator(strength.Options{HIBP: srv.Client(), HIBPURL: srv.URL + "/range/"})
	res, err := ev.Evaluate(ctx, p, withPassword(pw))
	if err != nil || res.Passing || !slices.Equal(res.Messages, []string{"Password exists on 3 online lists."}) {
		t.Errorf("pwned: %+v %v", res, err)
	}
	if !slices.Equal(asked, []string{"/range/" + h[:5]}) {
		t.Errorf("asked %q", asked)
	}
	p.Config = func() policy.Password { c := p.Config.(policy.Password); c.HIBPAllowedCount = 3; return c }()
	if res, err := ev.Evaluate(ctx, p, withPassword(pw)); err != nil || !res.Passing {
		t.Errorf("allowed count 3: %+v %v", res, err)
	}
	if res, err := ev.Evaluate(ctx, p, withPassword("not on the list")); err != nil || !res.Passing {
		t.Errorf("unlisted: %+v %v", res, err)
	}
	status = http.StatusServiceUnavailable
	_, err = ev.Evaluate(ctx, p, withPassword(pw))
	if !errors.Is(err, strength.ErrHIBP) || strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), h[:5]) {
		t.Errorf("unavailable: %v", err)
	}
	srv.Close()
	_, err = ev.Evaluate(ctx, p, withPassword(pw))
	if !errors.Is(err, strength.ErrHIBP) || strings.Contains(err.Error(), h[:5]) {
		t.Errorf("unreachable: %v", err)
	}
}
