package webauthnx_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/authflow/authflow/internal/webauthnx"
	"github.com/authflow/authflow/internal/webauthnx/webauthnxtest"
	"github.com/google/uuid"
)

const origin = "https://auth.example.com"

func newRP(t *testing.T) *webauthnx.RP {
	t.Helper()
	rp, err := webauthnx.New("auth.example.com", []string{origin})
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

var alice = webauthnx.User{ID: []byte(strings.Repeat("ab", 32)), Name: "alice", DisplayName: "Alice"}

// register makes a credential of a with rp.
func register(t *testing.T, rp *webauthnx.RP, a *webauthnxtest.Authenticator) webauthnx.Credential {
	t.Helper()
	opts, state, err := rp.BeginRegistration(alice, webauthnx.Registration{RPName: "authentik", UserVerification: "preferred", ResidentKey: "preferred"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.Register(opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rp.FinishRegistration(state, alice, resp)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewNeedsRPIDAndOrigin(t *testing.T) {
	for _, c := range []struct {
		id      string
		origins []string
	}{{"", []string{origin}}, {"auth.example.com", nil}, {"auth.example.com", []string{""}}, {"not a domain!", []string{origin}}} {
		if _, err := webauthnx.New(c.id, c.origins); !errors.Is(err, webauthnx.ErrConfig) {
			t.Errorf("New(%q, %q) = %v, want ErrConfig", c.id, c.origins, err)
		}
	}
}

func TestRegistrationOptions(t *testing.T) {
	rp := newRP(t)
	existing := webauthnx.Credential{ID: []byte{1, 2, 3}, Transports: []string{"usb"}}
	opts, _, err := rp.BeginRegistration(alice, webauthnx.Registration{
		RPName: "Brand", UserVerification: "required", ResidentKey: "required", Attachment: "platform",
		Exclude: []webauthnx.Credential{existing},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"rp": opts["rp"], "user": opts["user"], "authenticatorSelection": opts["authenticatorSelection"],
		"attestation": opts["attestation"], "excludeCredentials": opts["excludeCredentials"], "timeout": opts["timeout"],
	})
	want := `{"attestation":"direct","authenticatorSelection":{"authenticatorAttachment":"platform","requireResidentKey":true,"residentKey":"required","userVerification":"required"},` +
		`"excludeCredentials":[{"id":"AQID","transports":["usb"],"type":"public-key"}],"rp":{"id":"auth.example.com","name":"Brand"},"timeout":60000,` +
		`"user":{"displayName":"Alice","id":"` + b64(alice.ID) + `","name":"alice"}}`
	if string(b) != want {
		t.Errorf("options\n got %s\nwant %s", b, want)
	}
	if c, _ := opts["challenge"].(string); len(c) < 22 {
		t.Errorf("challenge %q", c)
	}
	// No credentials: an empty exclude list, as py_webauthn gives it.
	opts, _, _ = rp.BeginRegistration(alice, webauthnx.Registration{UserVerification: "preferred", ResidentKey: "preferred"})
	if l, ok := opts["excludeCredentials"].([]any); !ok || len(l) != 0 {
		t.Errorf("excludeCredentials = %#v", opts["excludeCredentials"])
	}
}

func b64(b []byte) string {
	s, _ := json.Marshal(b) // std base64
	r := strings.NewReplacer("+", "-", "/", "_", "=", "")
	return r.Replace(strings.Trim(string(s), `"`))
}

func TestRegisterAndLogin(t *testing.T) {
	for _, packed := range []bool{false, true} {
		rp := newRP(t)
		aaguid := uuid.MustParse("cb69481e-8ff7-4039-93ec-0a2729a154a8")
		a := &webauthnxtest.Authenticator{Origin: origin, AAGUID: aaguid, Packed: packed, SignCount: 1}
		c := register(t, rp, a)
		if string(c.ID) != string(a.CredentialID()) || c.AAGUID != aaguid || c.SignCount != 1 || len(c.PublicKey) == 0 ||
			strings.Join(c.Transports, ",") != "usb" {
			t.Fatalf("credential %+v", c)
		}
		for _, allow := range [][]webauthnx.Credential{{c}, nil} {
			opts, state, err := rp.BeginLogin("preferred", allow)
			if err != nil {
				t.Fatal(err)
			}
			if l, _ := opts["allowCredentials"].([]any); len(l) != len(allow) {
				t.Fatalf("allowCredentials %#v", opts["allowCredentials"])
			}
			resp, err := a.Assert(opts)
			if err != nil {
				t.Fatal(err)
			}
			as, err := webauthnx.ParseAssertion(resp)
			if err != nil {
				t.Fatal(err)
			}
			used, err := rp.FinishLogin(state, as, alice, []webauthnx.Credential{c})
			if err != nil {
				t.Fatalf("packed %v, allow %d: %v", packed, len(allow), err)
			}
			if used.SignCount != c.SignCount+1 {
				t.Fatalf("sign count %d after %d", used.SignCount, c.SignCount)
			}
			c = used
		}
	}
}

func TestRegistrationRefused(t *testing.T) {
	rp := newRP(t)
	for name, a := range map[string]*webauthnxtest.Authenticator{
		"origin":    {Origin: "https://evil.example.com"},
		"rp id":     {Origin: origin, RPID: "evil.example.com"},
		"challenge": {Origin: origin, Challenge: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
	} {
		opts, state, _ := rp.BeginRegistration(alice, webauthnx.Registration{UserVerification: "preferred", ResidentKey: "preferred"})
		resp, _ := a.Register(opts)
		if _, err := rp.FinishRegistration(state, alice, resp); !errors.Is(err, webauthnx.ErrVerify) {
			t.Errorf("%s: %v, want ErrVerify", name, err)
		}
	}
	// User verification required, not given.
	opts, state, _ := rp.BeginRegistration(alice, webauthnx.Registration{UserVerification: "required", ResidentKey: "preferred"})
	resp, _ := (&webauthnxtest.Authenticator{Origin: origin}).Register(opts)
	if _, err := rp.FinishRegistration(state, alice, resp); !errors.Is(err, webauthnx.ErrVerify) {
		t.Errorf("uv: %v, want ErrVerify", err)
	}
	for _, bad := range []string{``, `{}`, `[]`, `{"id":"x","type":"public-key","response":{}}`} {
		if _, err := rp.FinishRegistration(state, alice, []byte(bad)); !errors.Is(err, webauthnx.ErrMalformed) {
			t.Errorf("%q: %v, want ErrMalformed", bad, err)
		}
	}
	if _, err := rp.FinishRegistration("", alice, resp); !errors.Is(err, webauthnx.ErrSession) {
		t.Errorf("no state: %v", err)
	}
}

func TestLoginRefused(t *testing.T) {
	rp := newRP(t)
	a := &webauthnxtest.Authenticator{Origin: origin, SignCount: 5}
	c := register(t, rp, a)
	try := func(uv string, mutate func(*webauthnxtest.Authenticator), creds []webauthnx.Credential) error {
		opts, state, err := rp.BeginLogin(uv, []webauthnx.Credential{c})
		if err != nil {
			t.Fatal(err)
		}
		b := *a
		mutate(&b)
		resp, err := b.Assert(opts)
		if err != nil {
			t.Fatal(err)
		}
		as, err := webauthnx.ParseAssertion(resp)
		if err != nil {
			t.Fatal(err)
		}
		_, err = rp.FinishLogin(state, as, alice, creds)
		return err
	}
	cases := map[string]error{
		"origin":     try("preferred", func(b *webauthnxtest.Authenticator) { b.Origin = "https://evil.example.com" }, []webauthnx.Credential{c}),
		"challenge":  try("preferred", func(b *webauthnxtest.Authenticator) { b.Challenge = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }, []webauthnx.Credential{c}),
		"uv":         try("required", func(*webauthnxtest.Authenticator) {}, []webauthnx.Credential{c}),
		"sign count": try("preferred", func(b *webauthnxtest.Authenticator) { b.SignCount = 4 }, []webauthnx.Credential{c}),
		"unknown":    try("preferred", func(*webauthnxtest.Authenticator) {}, nil),
		"other key": try("preferred", func(*webauthnxtest.Authenticator) {}, func() []webauthnx.Credential {
			o := &webauthnxtest.Authenticator{Origin: origin}
			oc := register(t, rp, o)
			oc.ID = c.ID
			return []webauthnx.Credential{oc}
		}()),
	}
	for name, err := range cases {
		if !errors.Is(err, webauthnx.ErrVerify) {
			t.Errorf("%s: %v, want ErrVerify", name, err)
		}
	}
	if err := try("preferred", func(*webauthnxtest.Authenticator) {}, []webauthnx.Credential{c}); err != nil {
		t.Errorf("good answer: %v", err)
	}
	for _, bad := range []string{``, `{}`, `{"id":"AQID","type":"public-key","response":{}}`} {
		if _, err := webauthnx.ParseAssertion([]byte(bad)); !errors.Is(err, webauthnx.ErrMalformed) {
			t.Errorf("%q: %v, want ErrMalformed", bad, err)
		}
	}
}
