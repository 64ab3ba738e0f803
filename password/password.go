package password

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
)

// Algorithm is the name a stored hash starts with, before its first "$":
// Django's hasher algorithm.
type Algorithm string

// The algorithms [Check] verifies. Only [PBKDF2SHA256] and [Argon2] are
// written by [Policy.Hash].
const (
	PBKDF2SHA256 Algorithm = "pbkdf2_sha256" // Django's PBKDF2PasswordHasher
	PBKDF2SHA1   Algorithm = "pbkdf2_sha1"   // Django's PBKDF2SHA1PasswordHasher
	Argon2       Algorithm = "argon2"        // Django's Argon2PasswordHasher (argon2id; argon2i read)
	BCryptSHA256 Algorithm = "bcrypt_sha256" // Django's BCryptSHA256PasswordHasher
	Scrypt       Algorithm = "scrypt"        // Django's ScryptPasswordHasher
)

// Django 5.1's parameters for new hashes, used where a [Policy] field is
// zero.
const (
	// DefaultIterations is the PBKDF2 iteration count of a new
	// pbkdf2_sha256 hash (Django 5.1).
	DefaultIterations = 870000
	// DefaultArgon2Time is argon2's t (passes over memory).
	DefaultArgon2Time = 2
	// DefaultArgon2Memory is argon2's m in KiB (100 MiB).
	DefaultArgon2Memory = 102400
	// DefaultArgon2Threads is argon2's p (lanes).
	DefaultArgon2Threads = 8
	// Argon2KeyLen is the length in bytes of a new argon2 hash
	// (argon2-cffi 23.1's DEFAULT_HASH_LENGTH, authentik 2025.6).
	Argon2KeyLen = 32
)

// SaltLen is the length of a new salt, and the shortest salt that is
// current: 22 characters of [a-zA-Z0-9] carry 131 bits, Django's 128
// rounded up. A stored hash with a shorter salt is re-hashed after a
// successful check.
const SaltLen = 22

// UnusableLen is the number of random characters after the "!" of an
// unusable password.
const UnusableLen = 40

// Bounds on the work a stored hash may ask for. A stored hash beyond them
// is refused with [ErrLimit] before any of its work is done. Each is well
// above Django 5.1's defaults (and above what Django itself can check for
// scrypt, whose memory OpenSSL caps at 32 MiB); a [Policy] is held to the
// same bounds.
const (
	// MaxEncodedLen is the longest stored hash read, in bytes. Django's
	// column holds 128 characters.
	MaxEncodedLen = 512
	// MaxIterations bounds PBKDF2 iterations: 10,000,000 (11.5 times
	// 870,000; about 2 seconds of PBKDF2-HMAC-SHA256 on one core).
	MaxIterations = 10_000_000
	// MaxArgon2Memory bounds argon2's m: 1 GiB, in KiB (10 times Django's).
	MaxArgon2Memory = 1 << 20
	// MaxArgon2Time bounds argon2's t (16 times Django's).
	MaxArgon2Time = 32
	// MaxArgon2Work bounds m×t, the KiB of memory filled in all: 4 GiB
	// (20 times Django's 200 MiB).
	MaxArgon2Work = 1 << 22
	// MaxArgon2Threads bounds argon2's p (8 times Django's).
	MaxArgon2Threads = 64
	// MaxBcryptCost bounds bcrypt's cost (2^16 rounds, 16 times Django's 12).
	MaxBcryptCost = 16
	// MaxScryptN bounds scrypt's N (64 times Django's 2^14).
	MaxScryptN = 1 << 20
	// MaxScryptMemory bounds scrypt's memory, 128×r×(N+p) bytes (its
	// table and its p blocks, as OpenSSL counts them): 256 MiB (16 times
	// Django's 16 MiB).
	MaxScryptMemory = 256 << 20
	// MaxScryptWork bounds N×r×p (25 times Django's 2^14×8×5).
	MaxScryptWork = 1 << 24
)

// Errors of [Policy.Check] and [Policy.Hash]. Their texts name at most an
// algorithm, a parameter and a bound: never a password, a salt or a hash.
var (
	// ErrUnsupported is returned by Check for a stored value whose
	// algorithm is not one of the five verified: plain bcrypt, md5, sha1,
	// crypt, the unsalted variants, anything unidentifiable.
	ErrUnsupported = errors.New("password: unsupported hash algorithm")
	// ErrMalformed is returned by Check for a stored hash of a verified
	// algorithm that cannot be read: missing fields, non-canonical
	// numbers, bad base64, an argon2 version other than 19.
	ErrMalformed = errors.New("password: malformed stored hash")
	// ErrLimit is returned by Check for a stored hash whose parameters are
	// beyond the bounds above, and by Validate for such a Policy.
	ErrLimit = errors.New("password: parameters beyond limits")
	// ErrPolicy is returned by every method of an invalid Policy.
	ErrPolicy = errors.New("password: invalid policy")
)

// Argon2Params are the argon2id parameters of new hashes. A zero field
// takes Django 5.1's value.
type Argon2Params struct {
	// Time is t, the number of passes; zero means DefaultArgon2Time.
	Time uint32
	// Memory is m in KiB, at least 8×Threads; zero means
	// DefaultArgon2Memory.
	Memory uint32
	// Threads is p, the number of lanes; zero means DefaultArgon2Threads.
	Threads uint8
}

// Policy says how new passwords are hashed, and so which stored hashes are
// current. The zero Policy is Django 5.1's: pbkdf2_sha256 with 870,000
// iterations. A Policy is a plain value, safe for concurrent use.
type Policy struct {
	// Algorithm of new hashes: PBKDF2SHA256 (the zero value means it) or
	// Argon2 (argon2id, written as Django's Argon2PasswordHasher does).
	Algorithm Algorithm
	// Iterations of a new pbkdf2_sha256 hash, 1 to MaxIterations; zero
	// means DefaultIterations. Ignored for Argon2.
	Iterations int
	// Argon2 holds the parameters of a new argon2 hash. Ignored for
	// PBKDF2SHA256.
	Argon2 Argon2Params
}

// resolve fills the zero fields of p with the defaults and checks it.
func (p Policy) resolve() (Policy, error) {
	if p.Algorithm == "" {
		p.Algorithm = PBKDF2SHA256
	}
	if p.Iterations == 0 {
		p.Iterations = DefaultIterations
	}
	if p.Argon2.Time == 0 {
		p.Argon2.Time = DefaultArgon2Time
	}
	if p.Argon2.Memory == 0 {
		p.Argon2.Memory = DefaultArgon2Memory
	}
	if p.Argon2.Threads == 0 {
		p.Argon2.Threads = DefaultArgon2Threads
	}
	switch p.Algorithm {
	case PBKDF2SHA256:
		if p.Iterations < 1 || p.Iterations > MaxIterations {
			return p, fmt.Errorf("%w: iterations %d outside 1..%d: %w", ErrPolicy, p.Iterations, MaxIterations, ErrLimit)
		}
	case Argon2:
		if err := checkArgon2(p.Argon2.Memory, p.Argon2.Time, uint32(p.Argon2.Threads)); err != nil {
			return p, fmt.Errorf("%w: %w", ErrPolicy, err)
		}
	default:
		return p, fmt.Errorf("%w: algorithm %q cannot write new hashes (pbkdf2_sha256 or argon2)", ErrPolicy, p.Algorithm)
	}
	return p, nil
}

// Validate returns nil if p can hash passwords, or an error wrapping
// [ErrPolicy] (and [ErrLimit] for a parameter beyond its bound).
func (p Policy) Validate() error {
	_, err := p.resolve()
	return err
}

// Hash returns a new stored hash of raw, with a random salt, in p's
// algorithm. raw is hashed as its bytes (UTF-8 for text); the empty
// password is a valid password. The error wraps [ErrPolicy] for an
// invalid p.
func (p Policy) Hash(raw string) (string, error) {
	q, err := p.resolve()
	if err != nil {
		return "", err
	}
	return q.hash(raw)
}

func (q Policy) hash(raw string) (string, error) {
	salt := randomString(SaltLen)
	if q.Algorithm == Argon2 {
		return encodeArgon2(raw, salt, q.Argon2), nil
	}
	return encodePBKDF2(PBKDF2SHA256, raw, salt, q.Iterations)
}

// Check reports whether raw is the password that stored holds, as
// Django's check_password does:
//
//   - ok is true only if stored is a hash, in one of the five verified
//     formats, of raw; the comparison takes constant time.
//   - rehash is non-empty exactly when ok is true and stored is not
//     current under p (another algorithm; other iterations or argon2
//     parameters; a salt shorter than [SaltLen]): a new hash of raw, to
//     store in place of stored. A hash upgrade is not a password change:
//     the caller leaves password_change_date alone.
//   - An empty or unusable stored value is false with a nil error.
//     So is a wrong password.
//   - err wraps [ErrUnsupported], [ErrMalformed] or [ErrLimit] when
//     stored cannot be checked (ok is false), or [ErrPolicy] for an
//     invalid p.
//
// Timing: when stored is empty, unusable, unsupported, malformed or beyond
// the bounds, Check still spends one hash of p's (Django's fix for
// CVE-2024-39329). A wrong password against a pbkdf2_sha256 hash with
// fewer iterations than p's, when p writes pbkdf2_sha256, runs the
// missing iterations (Django's harden_runtime). Like Django, nothing
// evens out argon2, bcrypt or scrypt costs, or a change of algorithm.
func (p Policy) Check(raw, stored string) (ok bool, rehash string, err error) {
	q, err := p.resolve()
	if err != nil {
		return false, "", err
	}
	h, err := parse(stored)
	if h == nil {
		if _, derr := q.hash(randomString(UnusableLen)); derr != nil && err == nil {
			err = derr
		}
		return false, "", err
	}
	changed := h.algorithm() != q.Algorithm
	update := changed || !h.current(q)
	ok, err = h.verify(raw)
	if err != nil {
		return false, "", err
	}
	if !ok {
		if !changed && update {
			if hr, can := h.(hardener); can {
				hr.harden(raw, q)
			}
		}
		return false, "", nil
	}
	if !update {
		return true, "", nil
	}
	rehash, err = q.hash(raw)
	if err != nil {
		return false, "", err
	}
	return true, rehash, nil
}

// Hash is [Policy.Hash] with the zero (Django 5.1) Policy.
func Hash(raw string) (string, error) { return Policy{}.Hash(raw) }

// Check is [Policy.Check] with the zero (Django 5.1) Policy.
func Check(raw, stored string) (ok bool, rehash string, err error) {
	return Policy{}.Check(raw, stored)
}

// Unusable returns a new unusable password: "!" and [UnusableLen] random
// characters of [a-zA-Z0-9], as Django's set_unusable_password stores. No
// password verifies against it.
func Unusable() string { return "!" + randomString(UnusableLen) }

// IsUsable reports whether stored is not an unusable password, as
// Django's has_usable_password: whether it does not start with "!". An
// empty stored value counts as usable there, though nothing verifies
// against it.
func IsUsable(stored string) bool { return !strings.HasPrefix(stored, "!") }

// Parse checks that stored is a hash Check can verify: in one of the
// formats of the package documentation, well-formed, and within the
// bounds. An empty or unusable value passes (nothing verifies against
// it). The error wraps ErrUnsupported, ErrMalformed or ErrLimit and never
// quotes stored. It does no hashing.
func Parse(stored string) error {
	_, err := parse(stored)
	return err
}

// storedHash is a parsed stored hash.
type storedHash interface {
	algorithm() Algorithm
	// verify reports whether raw matches, in constant time.
	verify(raw string) (bool, error)
	// current reports whether the hash needs no upgrade under q, given
	// that q writes its algorithm.
	current(q Policy) bool
}

// hardener is a storedHash that can spend the work a wrong password
// would have cost against a current hash (Django's harden_runtime).
type hardener interface {
	harden(raw string, q Policy)
}

// parse reads stored. It returns nil with a nil error for an empty or
// unusable value, nil with an error for one that cannot be checked.
func parse(stored string) (storedHash, error) {
	if stored == "" || !IsUsable(stored) {
		return nil, nil
	}
	if len(stored) > MaxEncodedLen {
		return nil, fmt.Errorf("%w: stored hash longer than %d bytes", ErrLimit, MaxEncodedLen)
	}
	alg, _, found := strings.Cut(stored, "$")
	switch Algorithm(alg) {
	case PBKDF2SHA256, PBKDF2SHA1:
		return parsePBKDF2(Algorithm(alg), stored)
	case Argon2:
		return parseArgon2(stored)
	case BCryptSHA256:
		return parseBcrypt(stored)
	case Scrypt:
		return parseScrypt(stored)
	}
	// Name Django's other hashers, never an unknown prefix (which could be
	// a bare hash).
	name := ""
	switch {
	case !found && len(stored) == 32, strings.HasPrefix(stored, "md5$$") && len(stored) == 37:
		name = "unsalted_md5"
	case strings.HasPrefix(stored, "sha1$$") && len(stored) == 46:
		name = "unsalted_sha1"
	case found && (alg == "bcrypt" || alg == "md5" || alg == "sha1" || alg == "crypt" || alg == "unsalted_md5" || alg == "unsalted_sha1"):
		name = alg
	}
	if name != "" {
		return nil, fmt.Errorf("%w: %s is not accepted", ErrUnsupported, name)
	}
	return nil, ErrUnsupported
}

// equal compares two encodings in constant time (for equal lengths).
func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomString returns n characters drawn uniformly from alphabet, as
// Django's get_random_string.
func randomString(n int) string {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		rand.Read(buf[:])
		for _, c := range buf {
			// 248 = 4×62: rejecting the rest keeps the draw uniform.
			if c < 248 && len(out) < n {
				out = append(out, alphabet[c%62])
			}
		}
	}
	return string(out)
}

// parseUint reads a canonical decimal (no sign, no leading zero) of at
// most max; name says which field, for the error.
func parseUint(alg Algorithm, name, s string, max uint64) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("%w: %s: %s is not a canonical decimal", ErrMalformed, alg, name)
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %s: %s is not a canonical decimal", ErrMalformed, alg, name)
		}
		d := uint64(c - '0')
		if d > max || v > (max-d)/10 {
			return 0, fmt.Errorf("%w: %s: %s above %d", ErrLimit, alg, name, max)
		}
		v = v*10 + d
	}
	return v, nil
}

// traceWork, when set (by tests), is told of each derivation: its
// algorithm and its cost parameter (iterations, argon2's m×t, bcrypt's
// cost, scrypt's N).
var traceWork func(alg Algorithm, cost uint64)

func trace(alg Algorithm, cost uint64) {
	if traceWork != nil {
		traceWork(alg, cost)
	}
}
