package validate_test

import (
	"strings"
	"testing"

	"github.com/authflow/authflow/validate"
)

func TestEmail(t *testing.T) {
	for _, s := range []string{
		"system@authentik.local", "a.b+c@example.com", "x@localhost", `"quoted@name"@example.com`, `"a\\\"b"@example.com`, "user@[127.0.0.1]",
		"user@[::1]", "user@[IPv6:::1]" + "x", "ü@example.com",
		"user@bücher.example", "user@xn--bcher-kva.example", "a@b-c.de", "UPPER@EXAMPLE.COM", "a@b.c0",
		"o'brien@example.org", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + ".com",
	} {
		want := ""
		switch s {
		case "user@[IPv6:::1]x", "ü@example.com":
			want = validate.MsgEmail
		}
		got := ""
		if err := validate.Text(s, validate.Email); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("Email(%q) = %q, want %q", s, got, want)
		}
	}
	for _, s := range []string{
		"", "plain", `"quoted name"@example.com`, "@example.com", "a@", "a@b", "a@-b.com", "a@b-.com", "a@b.c", "a@b.co-", "a@b..com", "a b@example.com",
		"a..b@example.com", ".a@example.com", "a@example.com.", "a@[300.1.1.1]", "a@[01.2.3.4]", "a@[fe80::1%eth0]",
		"a@" + strings.Repeat("b", 64) + ".com", "a@Localhost", strings.Repeat("a", 310) + "@example.com", "a@exa_mple.com",
		"a@bü" + strings.Repeat("c", 60) + ".com",
	} {
		if err := validate.Text(s, validate.Email); err == nil || err.Error() != validate.MsgEmail {
			t.Errorf("Email(%q) = %v, want %q", s, err, validate.MsgEmail)
		}
	}
	if err := validate.Email.Validate(5); err != nil {
		t.Errorf("Email on a non-string: %v", err)
	}
	// As the field runs it: both messages when both fail.
	long := strings.Repeat("a", 300) + "@" + "x"
	err := validate.All(validate.MaxLen(254), validate.Email).Validate(long)
	if err == nil || err.Error() != validate.MaxLength(254)+" "+validate.MsgEmail {
		t.Errorf("All = %v", err)
	}
}
