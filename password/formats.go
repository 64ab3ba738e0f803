package password

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// pbkdf2_sha256$<iterations>$<salt>$<base64 of the key, padded>, and the
// same with pbkdf2_sha1. The salt is used as its bytes, not decoded.
type pbkdf2Hash struct {
	alg    Algorithm
	iter   int
	salt   string
	stored string
}

func parsePBKDF2(alg Algorithm, stored string) (storedHash, error) {
	parts := strings.SplitN(stored, "$", 4)
	if len(parts) != 4 {
		return nil, fmt.Errorf("%w: %s: want 4 fields separated by $", ErrMalformed, alg)
	}
	iter, err := parseUint(alg, "iterations", parts[1], MaxIterations)
	if err != nil {
		return nil, err
	}
	if iter == 0 {
		return nil, fmt.Errorf("%w: %s: iterations is 0", ErrMalformed, alg)
	}
	if parts[2] == "" {
		return nil, fmt.Errorf("%w: %s: empty salt", ErrMalformed, alg)
	}
	return &pbkdf2Hash{alg: alg, iter: int(iter), salt: parts[2], stored: stored}, nil
}

func (h *pbkdf2Hash) algorithm() Algorithm { return h.alg }

// verify re-encodes raw with the stored salt and iterations and compares
// the whole strings, as Django does.
func (h *pbkdf2Hash) verify(raw string) (bool, error) {
	enc, err := encodePBKDF2(h.alg, raw, h.salt, h.iter)
	if err != nil {
		return false, err
	}
	return equal(enc, h.stored), nil
}

func (h *pbkdf2Hash) current(q Policy) bool {
	return h.iter == q.Iterations && utf8.RuneCountInString(h.salt) >= SaltLen
}

// harden runs the iterations a current hash would have cost beyond this
// one's.
func (h *pbkdf2Hash) harden(raw string, q Policy) {
	if extra := q.Iterations - h.iter; extra > 0 {
		_, _ = derivePBKDF2(h.alg, raw, h.salt, extra)
	}
}

func derivePBKDF2(alg Algorithm, raw, salt string, iter int) ([]byte, error) {
	trace(alg, uint64(iter))
	if alg == PBKDF2SHA1 {
		return pbkdf2.Key(sha1.New, raw, []byte(salt), iter, sha1.Size)
	}
	return pbkdf2.Key(sha256.New, raw, []byte(salt), iter, sha256.Size)
}

func encodePBKDF2(alg Algorithm, raw, salt string, iter int) (string, error) {
	key, err := derivePBKDF2(alg, raw, salt, iter)
	if err != nil {
		return "", fmt.Errorf("password: %s: %w", alg, err)
	}
	return string(alg) + "$" + strconv.Itoa(iter) + "$" + salt + "$" + base64.StdEncoding.EncodeToString(key), nil
}

// argon2$argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash>: "argon2" before
// the PHC string of argon2-cffi, whose salt and hash are unpadded
// standard base64. Django's salt is 22 characters, so the base64 of
// those characters is what is stored.
type argon2Hash struct {
	variant   string // argon2id or argon2i
	m, t      uint32
	p         uint8
	salt, sum []byte
}

var errArgon2Min = errors.New("argon2: needs t ≥ 1, p ≥ 1 and m ≥ 8×p")

// checkArgon2 checks argon2 parameters against the reference
// implementation's minimums and the package's bounds.
func checkArgon2(m, t, p uint32) error {
	switch {
	case t < 1 || p < 1 || uint64(m) < 8*uint64(p):
		return errArgon2Min
	case t > MaxArgon2Time || p > MaxArgon2Threads || m > MaxArgon2Memory || uint64(m)*uint64(t) > MaxArgon2Work:
		return fmt.Errorf("%w: argon2: needs m ≤ %d KiB, t ≤ %d, p ≤ %d and m×t ≤ %d", ErrLimit,
			MaxArgon2Memory, MaxArgon2Time, MaxArgon2Threads, MaxArgon2Work)
	}
	return nil
}

func parseArgon2(stored string) (storedHash, error) {
	parts := strings.Split(stored, "$")
	if len(parts) == 5 && strings.HasPrefix(parts[2], "m=") {
		return nil, fmt.Errorf("%w: argon2 version 16 (no v= field)", ErrUnsupported)
	}
	if len(parts) != 6 {
		return nil, fmt.Errorf("%w: argon2: want 6 fields separated by $", ErrMalformed)
	}
	h := &argon2Hash{variant: parts[1]}
	switch h.variant {
	case "argon2id", "argon2i":
	case "argon2d":
		return nil, fmt.Errorf("%w: argon2d", ErrUnsupported)
	default:
		return nil, fmt.Errorf("%w: argon2: unknown variant", ErrMalformed)
	}
	switch parts[2] {
	case "v=19":
	case "v=16":
		return nil, fmt.Errorf("%w: argon2 version 16", ErrUnsupported)
	default:
		return nil, fmt.Errorf("%w: argon2: want v=19", ErrMalformed)
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 || !strings.HasPrefix(params[0], "m=") || !strings.HasPrefix(params[1], "t=") || !strings.HasPrefix(params[2], "p=") {
		return nil, fmt.Errorf("%w: argon2: want m=…,t=…,p=…", ErrMalformed)
	}
	m, err := parseUint(Argon2, "m", params[0][2:], MaxArgon2Memory)
	if err != nil {
		return nil, err
	}
	t, err := parseUint(Argon2, "t", params[1][2:], MaxArgon2Time)
	if err != nil {
		return nil, err
	}
	p, err := parseUint(Argon2, "p", params[2][2:], MaxArgon2Threads)
	if err != nil {
		return nil, err
	}
	if err := checkArgon2(uint32(m), uint32(t), uint32(p)); err != nil {
		if errors.Is(err, errArgon2Min) {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return nil, err
	}
	h.m, h.t, h.p = uint32(m), uint32(t), uint8(p)
	b64 := base64.RawStdEncoding.Strict()
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return nil, fmt.Errorf("%w: argon2: salt is not unpadded base64 of 8 bytes or more", ErrMalformed)
	}
	if h.sum, err = b64.DecodeString(parts[5]); err != nil || len(h.sum) < 4 {
		return nil, fmt.Errorf("%w: argon2: hash is not unpadded base64 of 4 bytes or more", ErrMalformed)
	}
	return h, nil
}

func (h *argon2Hash) algorithm() Algorithm { return Argon2 }

// verify derives a key of the stored hash's length and compares, as
// argon2-cffi's verify does.
func (h *argon2Hash) verify(raw string) (bool, error) {
	trace(Argon2, uint64(h.m)*uint64(h.t))
	var key []byte
	if h.variant == "argon2id" {
		key = argon2.IDKey([]byte(raw), h.salt, h.t, h.m, h.p, uint32(len(h.sum)))
	} else {
		key = argon2.Key([]byte(raw), h.salt, h.t, h.m, h.p, uint32(len(h.sum)))
	}
	return subtle.ConstantTimeCompare(key, h.sum) == 1, nil
}

func (h *argon2Hash) current(q Policy) bool {
	a := q.Argon2
	return h.variant == "argon2id" && h.m == a.Memory && h.t == a.Time && h.p == a.Threads &&
		len(h.sum) == Argon2KeyLen && len(h.salt) >= SaltLen
}

func encodeArgon2(raw, salt string, a Argon2Params) string {
	trace(Argon2, uint64(a.Memory)*uint64(a.Time))
	key := argon2.IDKey([]byte(raw), []byte(salt), a.Time, a.Memory, a.Threads, Argon2KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("argon2$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", a.Memory, a.Time, a.Threads,
		b64.EncodeToString([]byte(salt)), b64.EncodeToString(key))
}

// bcrypt_sha256$$2b$<cost>$<22 salt><31 hash>: bcrypt of the lowercase hex
// SHA-256 of the password (64 ASCII bytes, under bcrypt's 72).
type bcryptHash struct {
	data []byte
	cost int
}

func parseBcrypt(stored string) (storedHash, error) {
	data := strings.TrimPrefix(stored, string(BCryptSHA256)+"$")
	if len(data) != 60 || data[0] != '$' || data[1] != '2' || !strings.ContainsRune("aby", rune(data[2])) ||
		data[3] != '$' || data[6] != '$' || data[4] < '0' || data[4] > '9' || data[5] < '0' || data[5] > '9' {
		return nil, fmt.Errorf("%w: bcrypt_sha256: want $2a$, $2b$ or $2y$, a cost and 53 characters", ErrMalformed)
	}
	// The salt and hash are read by bcrypt's own base64; a character
	// outside its alphabet is found here, before any work (bcrypt would
	// refuse it only after Check had chosen not to spend its dummy hash).
	if strings.IndexFunc(data[7:], func(r rune) bool { return !strings.ContainsRune(bcryptAlphabet, r) }) >= 0 {
		return nil, fmt.Errorf("%w: bcrypt_sha256: salt or hash outside bcrypt's base64 alphabet", ErrMalformed)
	}
	cost := int(data[4]-'0')*10 + int(data[5]-'0')
	if cost < bcrypt.MinCost {
		return nil, fmt.Errorf("%w: bcrypt_sha256: cost below %d", ErrMalformed, bcrypt.MinCost)
	}
	if cost > MaxBcryptCost {
		return nil, fmt.Errorf("%w: bcrypt_sha256: cost above %d", ErrLimit, MaxBcryptCost)
	}
	return &bcryptHash{data: []byte(data), cost: cost}, nil
}

// bcryptAlphabet is the alphabet of bcrypt's base64.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func (h *bcryptHash) algorithm() Algorithm { return BCryptSHA256 }

func (h *bcryptHash) verify(raw string) (bool, error) {
	trace(BCryptSHA256, uint64(h.cost))
	sum := sha256.Sum256([]byte(raw))
	switch err := bcrypt.CompareHashAndPassword(h.data, []byte(hex.EncodeToString(sum[:]))); {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		// x/crypto's texts may quote the stored hash: not passed on.
		return false, fmt.Errorf("%w: bcrypt_sha256: unreadable salt or hash", ErrMalformed)
	}
}

func (h *bcryptHash) current(Policy) bool { return false }

// scrypt$<N>$<salt>$<r>$<p>$<base64 of the 64-byte key, padded>. The salt
// is used as its bytes.
type scryptHash struct {
	n, r, p int
	salt    string
	stored  string
}

// scryptKeyLen is Django's dklen.
const scryptKeyLen = 64

func parseScrypt(stored string) (storedHash, error) {
	parts := strings.Split(stored, "$")
	if len(parts) != 6 {
		return nil, fmt.Errorf("%w: scrypt: want 6 fields separated by $", ErrMalformed)
	}
	n, err := parseUint(Scrypt, "N", parts[1], MaxScryptN)
	if err != nil {
		return nil, err
	}
	r, err := parseUint(Scrypt, "r", parts[3], MaxScryptMemory/256)
	if err != nil {
		return nil, err
	}
	p, err := parseUint(Scrypt, "p", parts[4], MaxScryptWork/2)
	if err != nil {
		return nil, err
	}
	switch {
	case n < 2 || n&(n-1) != 0:
		return nil, fmt.Errorf("%w: scrypt: N is not a power of 2 above 1", ErrMalformed)
	case r < 1 || p < 1:
		return nil, fmt.Errorf("%w: scrypt: r and p must be at least 1", ErrMalformed)
	case parts[2] == "":
		return nil, fmt.Errorf("%w: scrypt: empty salt", ErrMalformed)
	case 128*r*(n+p) > MaxScryptMemory:
		// V takes 128×r×N bytes and B 128×r×p: a large p alone (N=2,
		// r=1, p=2^23) would make B 1 GiB.
		return nil, fmt.Errorf("%w: scrypt: 128×r×(N+p) above %d bytes", ErrLimit, MaxScryptMemory)
	case n*r*p > MaxScryptWork:
		return nil, fmt.Errorf("%w: scrypt: N×r×p above %d", ErrLimit, MaxScryptWork)
	}
	return &scryptHash{n: int(n), r: int(r), p: int(p), salt: parts[2], stored: stored}, nil
}

func (h *scryptHash) algorithm() Algorithm { return Scrypt }

// verify re-encodes raw with the stored parameters and compares the whole
// strings, as Django does.
func (h *scryptHash) verify(raw string) (bool, error) {
	trace(Scrypt, uint64(h.n))
	key, err := scrypt.Key([]byte(raw), []byte(h.salt), h.n, h.r, h.p, scryptKeyLen)
	if err != nil {
		return false, fmt.Errorf("password: scrypt: %w", err)
	}
	enc := fmt.Sprintf("scrypt$%d$%s$%d$%d$%s", h.n, h.salt, h.r, h.p, base64.StdEncoding.EncodeToString(key))
	return equal(enc, h.stored), nil
}

func (h *scryptHash) current(Policy) bool { return false }
