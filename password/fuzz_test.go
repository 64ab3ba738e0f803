package password_test

import (
	"strings"
	"testing"

	"github.com/authflow/authflow/password"
)

// FuzzCheck: any stored string gives an answer without panicking, a match
// comes with no error, and no error quotes the stored value or depends on the
// password. (Fuzzing may reach stored hashes at the bounds, which are slow.)
func FuzzCheck(f *testing.F) {
	for _, tt := range bad {
		f.Add("password", tt.stored)
	}
	f.Add("passwd", "pbkdf2_sha256$1$salt$VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLw=")
	f.Add("password", "argon2$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4")
	f.Add("password", "bcrypt_sha256$$2b$04$CCCCCCCCCCCCCCCCCCCCC.OVEbrBWNIKOiXonGgrkYYYsdUI5iltu")
	f.Add("password", "scrypt$1024$NaCl$8$16$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG/xCSedmDDaxyevuUqD7m2DYMvfoswGQA==")
	p := password.Policy{Iterations: 1}
	f.Fuzz(func(t *testing.T, raw, stored string) {
		ok, rehash, err := p.Check(raw, stored)
		if ok && err != nil || !ok && rehash != "" {
			t.Fatalf("Check = %v, %q, %v", ok, rehash, err)
		}
		if err != nil && len(stored) >= 16 && strings.Contains(stored, "$") && strings.Contains(err.Error(), stored) {
			t.Fatalf("error %q quotes the stored value", err)
		}
		// The error does not depend on the password.
		_, _, err2 := p.Check(raw+"\x00other", stored)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("errors %v and %v differ with the password", err, err2)
		}
	})
}
