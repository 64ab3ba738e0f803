package otp_test

import (
	"encoding/base32"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/otp"
)

var rfcKey = []byte("12345678901234567890")

// RFC 4226 appendix D.
func TestHOTPVectors(t *testing.T) {
	want := []uint32{755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489}
	for c, w := range want {
		if got := otp.HOTP(rfcKey, uint64(c), 6); got != w {
			t.Errorf("HOTP(%d) = %d, want %d", c, got, w)
		}
	}
}

// RFC 6238 appendix B, SHA1 (the only algorithm authentik's devices use).
func TestTOTPVectors(t *testing.T) {
	for _, v := range []struct {
		unix int64
		code string
	}{
		{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
		{1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
	} {
		g := otp.TOTP{Key: rfcKey, Digits: 8}
		if got := g.Code(time.Unix(v.unix, 0)); got != v.code {
			t.Errorf("TOTP at %d = %s, want %s", v.unix, got, v.code)
		}
	}
}

// django-otp's TOTP doctests: t, drift, tolerance and min_t.
func TestVerify(t *testing.T) {
	g := otp.TOTP{Key: rfcKey}
	at30 := time.Unix(30, 0)
	if g.T(at30) != 1 || g.Code(at30) != "287082" {
		t.Fatalf("t %d code %s", g.T(at30), g.Code(at30))
	}
	if m, ok := g.Verify("287082", at30, 0, -1); !ok || m != (otp.Match{T: 1, Drift: 0}) {
		t.Fatalf("current code: %v %v", m, ok)
	}
	if _, ok := g.Verify("359152", at30, 0, -1); ok {
		t.Fatal("next step's code without tolerance")
	}
	m, ok := g.Verify("359152", at30, 1, -1)
	if !ok || m != (otp.Match{T: 2, Drift: 1}) {
		t.Fatalf("next step's code with tolerance 1: %v %v", m, ok)
	}
	// The last step guard: a code of the last step accepted, or earlier, is refused.
	if _, ok := g.Verify("359152", at30, 1, 2); ok {
		t.Fatal("a code of the last accepted step")
	}
	if _, ok := g.Verify("755224", at30, 1, 0); ok {
		t.Fatal("a code before the last accepted step")
	}
	if m, ok := g.Verify("755224", at30, 1, -1); !ok || m.T != 0 || m.Drift != -1 {
		t.Fatalf("previous step: %v %v", m, ok)
	}
	// A drift moves the window.
	d := otp.TOTP{Key: rfcKey, Drift: 2}
	if m, ok := d.Verify("969429", at30, 0, -1); !ok || m.T != 3 || m.Drift != 2 {
		t.Fatalf("drift 2: %v %v", m, ok)
	}
	for _, bad := range []string{"", "abc", "28708x", "-287082", "1e5", "99999999999", "287 082"} {
		if _, ok := g.Verify(bad, at30, 1, -1); ok {
			t.Errorf("%q verified", bad)
		}
	}
	// As a number: surrounding spaces and leading zeros, as django-otp's int(token).
	if _, ok := g.Verify(" 287082 ", at30, 0, -1); !ok {
		t.Error("spaces refused")
	}
	z := otp.TOTP{Key: rfcKey, Digits: 8}
	if _, ok := z.Verify("07081804", time.Unix(1111111109, 0), 0, -1); !ok {
		t.Error("a leading zero refused")
	}
	if _, ok := z.Verify("7081804", time.Unix(1111111109, 0), 0, -1); !ok {
		t.Error("a code read as a number")
	}
}

func TestT(t *testing.T) {
	g := otp.TOTP{Key: rfcKey, T0: 100}
	for _, c := range []struct{ unix, t int64 }{{100, 0}, {129, 0}, {130, 1}, {99, -1}, {70, -1}, {69, -2}} {
		if got := g.T(time.Unix(c.unix, 0)); got != c.t {
			t.Errorf("T(%d) = %d, want %d", c.unix, got, c.t)
		}
	}
}

func TestURI(t *testing.T) {
	key := []byte("12345678901234567890")
	got := otp.URI("Very Trustworthy: Source", "alice@example.com", key, 8)
	want := "otpauth://totp/Very%20Trustworthy%3A%20Source%3Aalice%40example.com?secret=" +
		base32.StdEncoding.EncodeToString(key) + "&algorithm=SHA1&digits=8&period=30&issuer=Very%20Trustworthy%3A%20Source"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	u, err := url.Parse(got)
	if err != nil || u.Query().Get("issuer") != "Very Trustworthy: Source" || u.Query().Get("secret") != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
		t.Fatalf("parsed %v %v", u, err)
	}
	if !strings.HasPrefix(otp.URI("authentik", "akadmin", key, 6), "otpauth://totp/authentik%3Aakadmin?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30&issuer=authentik") {
		t.Fatal(otp.URI("authentik", "akadmin", key, 6))
	}
}

func TestNewKey(t *testing.T) {
	a, err := otp.NewKey()
	if err != nil || len(a) != otp.KeySize {
		t.Fatal(a, err)
	}
	b, _ := otp.NewKey()
	if string(a) == string(b) {
		t.Fatal("two keys alike")
	}
}

func TestStaticTokens(t *testing.T) {
	toks, err := otp.StaticTokens(200, 12)
	if err != nil || len(toks) != 200 {
		t.Fatal(err)
	}
	seen := map[rune]bool{}
	for _, tok := range toks {
		if len(tok) != 12 {
			t.Fatalf("%q", tok)
		}
		for _, r := range tok {
			if !strings.ContainsRune(otp.StaticAlphabet, r) {
				t.Fatalf("%q outside the alphabet", tok)
			}
			seen[r] = true
		}
	}
	// 2400 draws from 62 letters: every one appears (missing one has odds ~ 62·e^-38).
	if len(seen) != len(otp.StaticAlphabet) {
		t.Fatalf("%d letters of %d", len(seen), len(otp.StaticAlphabet))
	}
	if !otp.EqualStatic(toks[0], toks[0]) || otp.EqualStatic(toks[0], toks[1]) {
		t.Fatal("EqualStatic")
	}
}

func ExampleTOTP_Verify() {
	dev := otp.TOTP{Key: []byte("12345678901234567890")}
	now := time.Unix(59, 0)
	lastT := int64(-1)
	m, ok := dev.Verify("287082", now, otp.DefaultTolerance, lastT)
	fmt.Println(ok, m.T)
	_, again := dev.Verify("287082", now, otp.DefaultTolerance, m.T)
	fmt.Println(again)
	// Output:
	// true 1
	// false
}

func ExampleURI() {
	fmt.Println(otp.URI("authentik", "akadmin", []byte("12345678901234567890"), 6))
	// Output:
	// otpauth://totp/authentik%3Aakadmin?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30&issuer=authentik
}

// BenchmarkVerify is a code checked with django-otp's tolerance of one
// step (three HOTPs compared), beside one HOTP, alternating in one loop:
//
//	go test ./otp -run '^$' -bench Verify
//
// verify/hotp is the ratio (about 3).
func BenchmarkVerify(b *testing.B) {
	g := otp.TOTP{Key: rfcKey}
	now := time.Unix(1111111109, 0)
	code := g.Code(now)
	var vT, hT time.Duration
	n := 0
	for ; b.Loop(); n++ {
		t0 := time.Now()
		if _, ok := g.Verify(code, now, otp.DefaultTolerance, -1); !ok {
			b.Fatal("not verified")
		}
		t1 := time.Now()
		_ = otp.HOTP(rfcKey, uint64(n), 6)
		vT += t1.Sub(t0)
		hT += time.Since(t1)
	}
	b.ReportMetric(float64(vT.Nanoseconds())/float64(n), "verify-ns/op")
	b.ReportMetric(float64(vT)/float64(hT), "verify/hotp")
}
