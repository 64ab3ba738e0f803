package password_test

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/authflow/authflow/password"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// vector is one entry of testdata/vectors.json (written by
// testdata/vectors.py).
type vector struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	Encoded  string `json:"encoded"`
	Source   string `json:"source"`
	// Upgrade says whether the zero Policy re-hashes it.
	Upgrade bool `json:"upgrade"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

// record collects the derivations Check and Hash run.
type work struct {
	alg  password.Algorithm
	cost uint64
}

func record(t *testing.T) *[]work {
	t.Helper()
	var got []work
	password.SetTrace(func(alg password.Algorithm, cost uint64) { got = append(got, work{alg, cost}) })
	t.Cleanup(func() { password.SetTrace(nil) })
	return &got
}

// cheap is a pbkdf2_sha256 policy fast enough for many checks.
var cheap = password.Policy{Iterations: 1000}

// cheapArgon2 is an argon2id policy fast enough for many checks.
var cheapArgon2 = password.Policy{Algorithm: password.Argon2, Argon2: password.Argon2Params{Time: 1, Memory: 64, Threads: 1}}

const salt22 = "AbCdEfGhIjKlMnOpQrStUv"

// Django-format hashes computed here with the reference algorithms.

func pbkdf2SHA256(raw, salt string, iter int) string {
	k, err := pbkdf2.Key(sha256.New, raw, []byte(salt), iter, 32)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", iter, salt, base64.StdEncoding.EncodeToString(k))
}

func pbkdf2SHA1(raw, salt string, iter int) string {
	k, err := pbkdf2.Key(sha1.New, raw, []byte(salt), iter, 20)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("pbkdf2_sha1$%d$%s$%s", iter, salt, base64.StdEncoding.EncodeToString(k))
}

func argon2Hash(variant, raw, salt string, m, tc uint32, p uint8, keyLen uint32) string {
	f := argon2.IDKey
	if variant == "argon2i" {
		f = argon2.Key
	}
	k := f([]byte(raw), []byte(salt), tc, m, p, keyLen)
	b := base64.RawStdEncoding
	return fmt.Sprintf("argon2$%s$v=19$m=%d,t=%d,p=%d$%s$%s", variant, m, tc, p, b.EncodeToString([]byte(salt)), b.EncodeToString(k))
}

func bcryptSHA256(raw string, cost int) string {
	sum := sha256.Sum256([]byte(raw))
	h, err := bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(sum[:])), cost)
	if err != nil {
		panic(err)
	}
	return "bcrypt_sha256$" + string(h)
}

func scryptHash(raw, salt string, n, r, p int) string {
	k, err := scrypt.Key([]byte(raw), []byte(salt), n, r, p, 64)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("scrypt$%d$%s$%d$%d$%s", n, salt, r, p, base64.StdEncoding.EncodeToString(k))
}

// TestVectors checks every stored hash of testdata/vectors.json (Django's
// output, and RFC 6070, RFC 7914 and phc-winner-argon2 known answers in
// Django's formats). Those current under the zero Policy are checked with
// it; the others with a cheaper pbkdf2_sha256 policy, under which they are
// just as stale, to keep the test short.
func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			p, prefix := password.Policy{}, "pbkdf2_sha256$870000$"
			if v.Upgrade {
				p, prefix = cheap, "pbkdf2_sha256$1000$"
			}
			ok, rehash, err := p.Check(v.Password, v.Encoded)
			if err != nil || !ok {
				t.Fatalf("Check(correct) = %v, %v; want true (%s)", ok, err, v.Source)
			}
			if (rehash != "") != v.Upgrade {
				t.Errorf("Check(correct) rehash = %q; want an upgrade: %v", rehash, v.Upgrade)
			}
			if v.Upgrade && !strings.HasPrefix(rehash, prefix) {
				t.Errorf("rehash = %q; want %s…", rehash, prefix)
			}
			ok, rehash, err = p.Check(v.Password+"x", v.Encoded)
			if ok || rehash != "" || err != nil {
				t.Errorf("Check(wrong) = %v, %q, %v; want false", ok, rehash, err)
			}
		})
	}
}

// TestEncodingPinned shows that the details Django's formats fix matter:
// each altered known answer fails.
func TestEncodingPinned(t *testing.T) {
	vs := map[string]vector{}
	for _, v := range loadVectors(t) {
		vs[v.Name] = v
	}
	pb := vs["RFC 7914 pbkdf2_sha256"].Encoded
	sc := vs["RFC 7914 scrypt"].Encoded
	bc := vs["bcrypt_sha256 prehash"].Encoded
	for _, tt := range []struct {
		name, raw, stored string
	}{
		{"pbkdf2 hash unpadded", "passwd", strings.TrimRight(pb, "=")},
		{"pbkdf2 salt base64-decoded", "passwd", "pbkdf2_sha256$1$salt$" + strings.Split(pbkdf2SHA256("passwd", "\xb1\xa9\x6d", 1), "$")[3]},
		{"scrypt r and p swapped", "password", strings.Replace(sc, "$8$16$", "$16$8$", 1)},
		{"scrypt hash unpadded", "password", strings.TrimRight(sc, "=")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if ok, _, _ := password.Check(tt.raw, tt.stored); ok {
				t.Errorf("Check = true; want false")
			}
		})
	}
	// bcrypt_sha256 is bcrypt of the lowercase hex SHA-256 of the password,
	// not of the password nor of the binary digest.
	data := []byte(strings.TrimPrefix(bc, "bcrypt_sha256$"))
	sum := sha256.Sum256([]byte("password"))
	if bcrypt.CompareHashAndPassword(data, []byte(hex.EncodeToString(sum[:]))) != nil {
		t.Errorf("the vector is not bcrypt of the hex prehash")
	}
	for _, secret := range []string{"password", string(sum[:]), strings.ToUpper(hex.EncodeToString(sum[:]))} {
		if bcrypt.CompareHashAndPassword(data, []byte(secret)) == nil {
			t.Errorf("the vector is bcrypt of %q", secret)
		}
	}
}

func TestHashFormat(t *testing.T) {
	stored, err := password.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^pbkdf2_sha256\$870000\$[a-zA-Z0-9]{22}\$[A-Za-z0-9+/]{43}=$`).MatchString(stored) {
		t.Errorf("Hash = %q; not Django 5.1's pbkdf2_sha256 shape", stored)
	}
	if ok, rehash, err := password.Check("correct horse", stored); !ok || rehash != "" || err != nil {
		t.Errorf("Check(own hash) = %v, %q, %v; want true with no upgrade", ok, rehash, err)
	}
	again, _ := password.Hash("correct horse")
	if again == stored {
		t.Errorf("two hashes of one password are equal: the salt is not random")
	}

	a, err := password.Policy{Algorithm: password.Argon2}.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^argon2\$argon2id\$v=19\$m=102400,t=2,p=8\$[A-Za-z0-9+/]{30}\$[A-Za-z0-9+/]{43}$`).MatchString(a) {
		t.Errorf("argon2 Hash = %q; not Django's argon2id shape", a)
	}
	saltB64 := strings.Split(a, "$")[4]
	salt, _ := base64.RawStdEncoding.DecodeString(saltB64)
	if !regexp.MustCompile(`^[a-zA-Z0-9]{22}$`).Match(salt) {
		t.Errorf("argon2 salt = %q; want 22 characters of [a-zA-Z0-9], as Django", salt)
	}
}

func TestEmptyPassword(t *testing.T) {
	for _, p := range []password.Policy{cheap, cheapArgon2} {
		stored, err := p.Hash("")
		if err != nil {
			t.Fatal(err)
		}
		if ok, _, err := p.Check("", stored); !ok || err != nil {
			t.Errorf("%s: Check(\"\", hash of \"\") = %v, %v; want true", p.Algorithm, ok, err)
		}
		if ok, _, _ := p.Check(" ", stored); ok {
			t.Errorf("%s: Check(\" \", hash of \"\") = true", p.Algorithm)
		}
	}
}

// TestUpgrade checks §3.4's "must update" against a pbkdf2_sha256 and an
// argon2 policy, and that the new hash is current.
func TestUpgrade(t *testing.T) {
	const raw = "lètmein"
	for _, tt := range []struct {
		name    string
		policy  password.Policy
		stored  string
		upgrade bool
	}{
		{"pbkdf2 current", cheap, pbkdf2SHA256(raw, salt22, 1000), false},
		{"pbkdf2 longer salt", cheap, pbkdf2SHA256(raw, salt22+"xyz", 1000), false},
		{"pbkdf2 fewer iterations", cheap, pbkdf2SHA256(raw, salt22, 999), true},
		{"pbkdf2 more iterations", cheap, pbkdf2SHA256(raw, salt22, 1001), true},
		{"pbkdf2 21-character salt", cheap, pbkdf2SHA256(raw, salt22[:21], 1000), true},
		{"pbkdf2 22 characters of multibyte salt", cheap, pbkdf2SHA256(raw, strings.Repeat("é", 22), 1000), false},
		{"pbkdf2_sha1", cheap, pbkdf2SHA1(raw, salt22, 1000), true},
		{"argon2id under pbkdf2", cheap, argon2Hash("argon2id", raw, salt22, 64, 1, 1, 32), true},
		{"bcrypt_sha256", cheap, bcryptSHA256(raw, 4), true},
		{"scrypt", cheap, scryptHash(raw, salt22, 16, 8, 1), true},

		{"argon2id current", cheapArgon2, argon2Hash("argon2id", raw, salt22, 64, 1, 1, 32), false},
		{"argon2i", cheapArgon2, argon2Hash("argon2i", raw, salt22, 64, 1, 1, 32), true},
		{"argon2id other m", cheapArgon2, argon2Hash("argon2id", raw, salt22, 72, 1, 1, 32), true},
		{"argon2id other t", cheapArgon2, argon2Hash("argon2id", raw, salt22, 64, 2, 1, 32), true},
		{"argon2id other p", cheapArgon2, argon2Hash("argon2id", raw, salt22, 64, 1, 2, 32), true},
		{"argon2id 16-byte hash", cheapArgon2, argon2Hash("argon2id", raw, salt22, 64, 1, 1, 16), true},
		{"argon2id 21-byte salt", cheapArgon2, argon2Hash("argon2id", raw, salt22[:21], 64, 1, 1, 32), true},
		{"pbkdf2 under argon2", cheapArgon2, pbkdf2SHA256(raw, salt22, 1000), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := tt.policy.Check(raw, tt.stored)
			if !ok || err != nil {
				t.Fatalf("Check(correct) = %v, %v; want true", ok, err)
			}
			if (rehash != "") != tt.upgrade {
				t.Fatalf("rehash = %q; want an upgrade: %v", rehash, tt.upgrade)
			}
			if tt.upgrade {
				ok, again, err := tt.policy.Check(raw, rehash)
				if !ok || again != "" || err != nil {
					t.Errorf("Check(rehash) = %v, %q, %v; want true and current", ok, again, err)
				}
				if !strings.HasPrefix(rehash, string(tt.policy.Algorithm)) && tt.policy.Algorithm != "" {
					t.Errorf("rehash = %q; want %s", rehash, tt.policy.Algorithm)
				}
			}
			ok, rehash, err = tt.policy.Check(raw+"!", tt.stored)
			if ok || rehash != "" || err != nil {
				t.Errorf("Check(wrong) = %v, %q, %v; want false and no rehash", ok, rehash, err)
			}
		})
	}
}

// TestHarden checks that a wrong password against a cheaper hash of the
// policy's algorithm runs the missing iterations, and nothing more.
func TestHarden(t *testing.T) {
	for _, tt := range []struct {
		name   string
		policy password.Policy
		stored string
		raw    string
		want   []work
	}{
		{"wrong, fewer iterations", cheap, pbkdf2SHA256("pw", salt22, 400), "nope",
			[]work{{password.PBKDF2SHA256, 400}, {password.PBKDF2SHA256, 600}}},
		{"wrong, short salt", cheap, pbkdf2SHA256("pw", "short", 1000), "nope",
			[]work{{password.PBKDF2SHA256, 1000}}},
		{"wrong, more iterations", cheap, pbkdf2SHA256("pw", salt22, 1500), "nope",
			[]work{{password.PBKDF2SHA256, 1500}}},
		{"wrong, other algorithm", cheap, pbkdf2SHA1("pw", salt22, 400), "nope",
			[]work{{password.PBKDF2SHA1, 400}}},
		{"right, fewer iterations: the upgrade", cheap, pbkdf2SHA256("pw", salt22, 400), "pw",
			[]work{{password.PBKDF2SHA256, 400}, {password.PBKDF2SHA256, 1000}}},
		{"wrong, cheaper argon2", cheapArgon2, argon2Hash("argon2id", "pw", salt22, 32, 1, 1, 32), "nope",
			[]work{{password.Argon2, 32}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := record(t)
			tt.policy.Check(tt.raw, tt.stored)
			if fmt.Sprint(*got) != fmt.Sprint(tt.want) {
				t.Errorf("derivations = %v; want %v", *got, tt.want)
			}
		})
	}
}

// bad lists stored values that cannot verify and the error Check gives.
var bad = []struct {
	name   string
	stored string
	want   error // nil: no error
}{
	{"empty", "", nil},
	{"unusable", "!" + strings.Repeat("a", 40), nil},
	{"bare !", "!", nil},
	{"unusable pbkdf2 prefix", "!pbkdf2_sha256$870000$" + salt22 + "$abc=", nil},

	{"plain bcrypt", "bcrypt$$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", password.ErrUnsupported},
	{"bare bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", password.ErrUnsupported},
	{"salted md5", "md5$seasalt$f5531bef9f3687d0ccf0f617f0e25573", password.ErrUnsupported},
	{"salted sha1", "sha1$seasalt$cff36ea83f5706ce9aa7454e63e431fc726b2dc8", password.ErrUnsupported},
	{"unsalted md5", "88a434c88cca4e900f7874cd98123f43", password.ErrUnsupported},
	{"unsalted md5 with prefix", "md5$$88a434c88cca4e900f7874cd98123f43", password.ErrUnsupported},
	{"unsalted sha1", "sha1$$6d138ca3ae545631b3abd71a4f076ce759c5700b", password.ErrUnsupported},
	{"crypt", "crypt$$ab1Hv2Lg7ltQo", password.ErrUnsupported},
	{"gibberish", "not a hash at all", password.ErrUnsupported},
	{"argon2d", "argon2$argon2d$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", password.ErrUnsupported},
	{"argon2 version 16", "argon2$argon2i$v=16$m=256,t=2,p=1$c29tZXNhbHQ$/U3YPXYsSb3q9XxHvc0MLxur+GP960kN9j7emXX8zwY", password.ErrUnsupported},
	{"argon2 without version", "argon2$argon2i$m=256,t=2,p=1$c29tZXNhbHQ$/U3YPXYsSb3q9XxHvc0MLxur+GP960kN9j7emXX8zwY", password.ErrUnsupported},

	{"pbkdf2 three fields", "pbkdf2_sha256$870000$" + salt22, password.ErrMalformed},
	{"pbkdf2 leading zero", "pbkdf2_sha256$0870000$" + salt22 + "$abc=", password.ErrMalformed},
	{"pbkdf2 plus sign", "pbkdf2_sha256$+870000$" + salt22 + "$abc=", password.ErrMalformed},
	{"pbkdf2 underscore", "pbkdf2_sha256$870_000$" + salt22 + "$abc=", password.ErrMalformed},
	{"pbkdf2 zero iterations", "pbkdf2_sha256$0$" + salt22 + "$abc=", password.ErrMalformed},
	{"pbkdf2 empty iterations", "pbkdf2_sha256$$" + salt22 + "$abc=", password.ErrMalformed},
	{"pbkdf2 empty salt", "pbkdf2_sha1$1000$$abc=", password.ErrMalformed},
	{"argon2 variant", "argon2$argon2x$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", password.ErrMalformed},
	{"argon2 version", "argon2$argon2id$v=20$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", password.ErrMalformed},
	{"argon2 param order", "argon2$argon2id$v=19$t=2,m=256,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", password.ErrMalformed},
	{"argon2 m below 8p", "argon2$argon2id$v=19$m=15,t=2,p=2$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", password.ErrMalformed},
	{"argon2 t zero", "argon2$argon2id$v=19$m=256,t=0,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", password.ErrMalformed},
	{"argon2 padded salt", "argon2$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ=$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", password.ErrMalformed},
	{"argon2 short salt", "argon2$argon2id$v=19$m=256,t=2,p=1$c29tZQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", password.ErrMalformed},
	{"argon2 short hash", "argon2$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65", password.ErrMalformed},
	{"argon2 extra field", "argon2$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4$", password.ErrMalformed},
	{"bcrypt_sha256 without $", "bcrypt_sha256$2b$12$zgKRPLrXkUSWZ66geDotpONIjQaZSAC826xZCjUyvNBDsHswlEyna", password.ErrMalformed},
	{"bcrypt_sha256 short", "bcrypt_sha256$$2b$12$zgKRPLrXkUSWZ66geDotpONIjQaZSAC826xZCjUyvNBDsHswlEyn", password.ErrMalformed},
	{"bcrypt_sha256 cost 3", "bcrypt_sha256$$2b$03$zgKRPLrXkUSWZ66geDotpONIjQaZSAC826xZCjUyvNBDsHswlEyna", password.ErrMalformed},
	{"bcrypt_sha256 version 2x", "bcrypt_sha256$$2x$12$zgKRPLrXkUSWZ66geDotpONIjQaZSAC826xZCjUyvNBDsHswlEyna", password.ErrMalformed},
	{"bcrypt_sha256 long", "bcrypt_sha256$$2b$04$!!!!!!!!!!!!!!!!!!!!!!pONIjQaZSAC826xZCjUyvNBDsHswlEyna", password.ErrMalformed},
	// 22 characters of salt and 31 of hash, one outside bcrypt's base64.
	{"bcrypt_sha256 bad salt", "bcrypt_sha256$$2b$04$" + strings.Repeat("!", 22) + "NIjQaZSAC826xZCjUyvNBDsHswlEyna", password.ErrMalformed},
	{"bcrypt_sha256 bad hash", "bcrypt_sha256$$2b$04$zgKRPLrXkUSWZ66geDotpO" + "=IjQaZSAC826xZCjUyvNBDsHswlEyna", password.ErrMalformed},
	{"scrypt N not a power of 2", "scrypt$1000$" + salt22 + "$8$1$abc=", password.ErrMalformed},
	{"scrypt N 1", "scrypt$1$" + salt22 + "$8$1$abc=", password.ErrMalformed},
	{"scrypt r zero", "scrypt$16384$" + salt22 + "$0$1$abc=", password.ErrMalformed},
	{"scrypt five fields", "scrypt$16384$" + salt22 + "$8$1", password.ErrMalformed},
	{"scrypt empty salt", "scrypt$16384$$8$1$abc=", password.ErrMalformed},

	{"pbkdf2 10^12 iterations", "pbkdf2_sha256$1000000000000$" + salt22 + "$abc=", password.ErrLimit},
	{"pbkdf2 just over the bound", "pbkdf2_sha256$10000001$" + salt22 + "$abc=", password.ErrLimit},
	{"pbkdf2 overflowing iterations", "pbkdf2_sha1$99999999999999999999999999$" + salt22 + "$abc=", password.ErrLimit},
	{"argon2 m=2^30", "argon2$argon2id$v=19$m=1073741824,t=2,p=8$QWJDZEVmR2hJaktsTW5PcFFyU3RVdg$YPHXcP2DXk0evfsvmkYTyl0xuB3TiU91lnOfefiwO0c", password.ErrLimit},
	{"argon2 t=1000", "argon2$argon2id$v=19$m=102400,t=1000,p=8$QWJDZEVmR2hJaktsTW5PcFFyU3RVdg$YPHXcP2DXk0evfsvmkYTyl0xuB3TiU91lnOfefiwO0c", password.ErrLimit},
	{"argon2 p=255", "argon2$argon2id$v=19$m=102400,t=2,p=255$QWJDZEVmR2hJaktsTW5PcFFyU3RVdg$YPHXcP2DXk0evfsvmkYTyl0xuB3TiU91lnOfefiwO0c", password.ErrLimit},
	{"argon2 m×t", "argon2$argon2id$v=19$m=1048576,t=32,p=8$QWJDZEVmR2hJaktsTW5PcFFyU3RVdg$YPHXcP2DXk0evfsvmkYTyl0xuB3TiU91lnOfefiwO0c", password.ErrLimit},
	{"bcrypt_sha256 cost 31", "bcrypt_sha256$$2b$31$zgKRPLrXkUSWZ66geDotpONIjQaZSAC826xZCjUyvNBDsHswlEyna", password.ErrLimit},
	{"bcrypt_sha256 cost 17", "bcrypt_sha256$$2b$17$zgKRPLrXkUSWZ66geDotpONIjQaZSAC826xZCjUyvNBDsHswlEyna", password.ErrLimit},
	{"scrypt N=2^40", "scrypt$1099511627776$" + salt22 + "$8$5$abc=", password.ErrLimit},
	{"scrypt memory", "scrypt$1048576$" + salt22 + "$8$1$abc=", password.ErrLimit},
	{"scrypt work", "scrypt$16384$" + salt22 + "$8$1024$abc=", password.ErrLimit},
	{"scrypt r huge", "scrypt$16384$" + salt22 + "$1073741824$1$abc=", password.ErrLimit},
	{"scrypt p memory", "scrypt$2$" + salt22 + "$8$262145$abc=", password.ErrLimit},
	{"scrypt p huge", "scrypt$16384$" + salt22 + "$8$1073741824$abc=", password.ErrLimit},
	{"too long", "pbkdf2_sha256$1000$" + strings.Repeat("s", 500) + "$abc=", password.ErrLimit},
}

// TestNothingToCheck checks each stored value that cannot verify: false,
// the right error, and exactly one derivation, the policy's dummy hash (so
// a hostile value's parameters are never run).
func TestNothingToCheck(t *testing.T) {
	for _, p := range []password.Policy{cheap, cheapArgon2} {
		dummy := work{password.PBKDF2SHA256, 1000}
		if p.Algorithm == password.Argon2 {
			dummy = work{password.Argon2, 64}
		}
		for _, tt := range bad {
			t.Run(string(p.Algorithm)+" "+tt.name, func(t *testing.T) {
				got := record(t)
				ok, rehash, err := p.Check("password", tt.stored)
				if ok || rehash != "" {
					t.Errorf("Check = %v, %q; want false", ok, rehash)
				}
				if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
					t.Errorf("err = %v; want %v", err, tt.want)
				}
				if len(*got) != 1 || (*got)[0] != dummy {
					t.Errorf("derivations = %v; want only the dummy %v", *got, dummy)
				}
			})
		}
	}
}

// TestNoSecretsInErrors checks that no error names the password, the
// stored value, or its salt or hash fields.
func TestNoSecretsInErrors(t *testing.T) {
	const raw = "Tr0ub4dor&3-secret"
	public := map[string]bool{"pbkdf2_sha256": true, "pbkdf2_sha1": true, "bcrypt_sha256": true, "argon2id": true}
	for _, tt := range bad {
		_, _, err := password.Policy{Iterations: 1}.Check(raw, tt.stored)
		if err == nil {
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, raw) || strings.Contains(msg, tt.stored) {
			t.Errorf("%s: error %q holds the password or the stored value", tt.name, msg)
		}
		for _, field := range strings.Split(tt.stored, "$") {
			if len(field) >= 8 && !public[field] && !strings.HasPrefix(field, "m=") && strings.Contains(msg, field) {
				t.Errorf("%s: error %q holds the stored field %q", tt.name, msg, field)
			}
		}
	}
}

func TestUnusable(t *testing.T) {
	u := password.Unusable()
	if !regexp.MustCompile(`^![a-zA-Z0-9]{40}$`).MatchString(u) {
		t.Errorf("Unusable() = %q; want ! and 40 characters of [a-zA-Z0-9]", u)
	}
	if u == password.Unusable() {
		t.Errorf("two unusable passwords are equal")
	}
	if password.IsUsable(u) || password.IsUsable("!") {
		t.Errorf("IsUsable(unusable) = true")
	}
	if ok, _, err := cheap.Check(u[1:], u); ok || err != nil {
		t.Errorf("Check(suffix, unusable) = %v, %v; want false, nil", ok, err)
	}
	stored, _ := cheap.Hash("x")
	if !password.IsUsable(stored) {
		t.Errorf("IsUsable(hash) = false")
	}
	// Django's has_usable_password: only a leading "!" is unusable.
	if !password.IsUsable("") {
		t.Errorf("IsUsable(\"\") = false; Django counts it as usable")
	}
}

func TestPolicyValidate(t *testing.T) {
	for _, p := range []password.Policy{{}, {Algorithm: password.Argon2}, cheap, cheapArgon2,
		{Iterations: password.MaxIterations}, {Algorithm: password.Argon2, Argon2: password.Argon2Params{Memory: 16, Threads: 2, Time: 1}}} {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: Validate = %v", p, err)
		}
	}
	for _, tt := range []struct {
		name  string
		p     password.Policy
		limit bool
	}{
		{"bcrypt_sha256 writes nothing", password.Policy{Algorithm: password.BCryptSHA256}, false},
		{"unknown", password.Policy{Algorithm: "md5"}, false},
		{"negative iterations", password.Policy{Iterations: -1}, true},
		{"iterations over the bound", password.Policy{Iterations: password.MaxIterations + 1}, true},
		{"argon2 memory over the bound", password.Policy{Algorithm: password.Argon2, Argon2: password.Argon2Params{Memory: password.MaxArgon2Memory + 1}}, true},
		{"argon2 threads over the bound", password.Policy{Algorithm: password.Argon2, Argon2: password.Argon2Params{Threads: 65}}, true},
		{"argon2 m below 8p", password.Policy{Algorithm: password.Argon2, Argon2: password.Argon2Params{Memory: 15, Threads: 2}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if !errors.Is(err, password.ErrPolicy) || errors.Is(err, password.ErrLimit) != tt.limit {
				t.Errorf("Validate = %v; want ErrPolicy (and ErrLimit: %v)", err, tt.limit)
			}
			if _, err := tt.p.Hash("x"); !errors.Is(err, password.ErrPolicy) {
				t.Errorf("Hash: err = %v; want ErrPolicy", err)
			}
			if ok, _, err := tt.p.Check("x", pbkdf2SHA256("x", salt22, 1)); ok || !errors.Is(err, password.ErrPolicy) {
				t.Errorf("Check = %v, %v; want false, ErrPolicy", ok, err)
			}
		})
	}
}
