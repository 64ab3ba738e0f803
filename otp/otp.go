package otp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Defaults of authentik's TOTP devices (django-otp's).
const (
	// DefaultStep is the time step, in seconds.
	DefaultStep = 30
	// DefaultDigits is the number of digits of a code (authentik's
	// stages offer 6 and 8).
	DefaultDigits = 6
	// DefaultTolerance is how many steps before and after the current
	// one a code may be from.
	DefaultTolerance = 1
	// KeySize is the size of a key NewKey makes, in bytes (django-otp's
	// random_hex(20)).
	KeySize = 20
	// StaticTokenLength and StaticTokenCount are the defaults of
	// authentik's static setup stage (token_length, token_count).
	StaticTokenLength = 12
	StaticTokenCount  = 6
)

// StaticAlphabet is the alphabet of static codes: ASCII letters and
// digits, as authentik's generate_id.
const StaticAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// pow10 are the moduli of codes of 0…9 digits.
var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

// HOTP is the RFC 4226 code of key at counter, with digits digits (1…9;
// others are taken as DefaultDigits), as a number: format it with
// Format.
func HOTP(key []byte, counter uint64, digits int) uint32 {
	if digits < 1 || digits > 9 {
		digits = DefaultDigits
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	h := m.Sum(nil)
	off := h[len(h)-1] & 0x0f
	bin := binary.BigEndian.Uint32(h[off:off+4]) & 0x7fffffff
	return bin % pow10[digits]
}

// Format writes code with digits digits, zero-padded, as an app shows
// it.
func Format(code uint32, digits int) string {
	s := strconv.FormatUint(uint64(code), 10)
	if len(s) < digits {
		s = strings.Repeat("0", digits-len(s)) + s
	}
	return s
}

// TOTP is a time-based code generator (RFC 6238) with a device's
// parameters: the key, the step in seconds (zero: DefaultStep), the Unix
// time steps count from (T0), the digits (zero: DefaultDigits) and the
// drift in steps.
type TOTP struct {
	Key    []byte
	Step   int64
	T0     int64
	Digits int
	Drift  int64
}

func (t TOTP) step() int64 {
	if t.Step <= 0 {
		return DefaultStep
	}
	return t.Step
}

func (t TOTP) digits() int {
	if t.Digits == 0 {
		return DefaultDigits
	}
	return t.Digits
}

// T is the time step at now, drift included (django-otp's t()): floor((now
// − T0) / Step) + Drift, now in whole seconds.
func (t TOTP) T(now time.Time) int64 {
	d := now.Unix() - t.T0
	q := d / t.step()
	if d%t.step() != 0 && d < 0 {
		q--
	}
	return q + t.Drift
}

// Code is the code at now, formatted.
func (t TOTP) Code(now time.Time) string {
	return Format(HOTP(t.Key, uint64(t.T(now)), t.digits()), t.digits())
}

// Match is a verified code's step and the drift that matched it.
type Match struct {
	// T is the matched time step: the device's new last step.
	T int64
	// Drift is the device's new drift.
	Drift int64
}

// Verify checks code at now (see the package documentation): the steps
// T(now)-tolerance … T(now)+tolerance, earliest first, skipping any at
// or before lastT (-1: none accepted yet). code is a number, as
// django-otp reads it (surrounding spaces allowed); anything else never
// matches. Every candidate step is compared in constant time.
func (t TOTP) Verify(code string, now time.Time, tolerance int, lastT int64) (Match, bool) {
	n, ok := parseCode(code)
	if !ok || tolerance < 0 {
		return Match{}, false
	}
	found, m := 0, Match{}
	for off := -int64(tolerance); off <= int64(tolerance); off++ {
		c := t
		c.Drift = t.Drift + off
		step := c.T(now)
		if step <= lastT || step < 0 {
			continue
		}
		eq := subtle.ConstantTimeEq(int32(HOTP(t.Key, uint64(step), t.digits())), int32(n))
		if eq == 1 && found == 0 {
			found, m = 1, Match{T: step, Drift: c.Drift}
		}
	}
	return m, found == 1
}

// parseCode reads a code as a non-negative number of at most 10 digits
// (a code has at most 9; leading zeros count).
func parseCode(s string) (uint32, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 10 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<31-1 {
		return 0, false
	}
	return uint32(n), true
}

// NewKey returns a random key of KeySize bytes.
func NewKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, nil
}

// URI is the otpauth:// URI of a TOTP key as authentik builds it for its
// setup stage: the label issuer:username and the query secret (base32),
// algorithm SHA1, digits, period 30 and issuer, percent-encoded as
// Python's urllib does (authentik puts the brand title in as issuer).
//
//	otpauth://totp/<issuer>%3A<username>?secret=<base32>&algorithm=SHA1&digits=<n>&period=30&issuer=<issuer>
func URI(issuer, username string, key []byte, digits int) string {
	if digits == 0 {
		digits = DefaultDigits
	}
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	b.WriteString(quote(issuer, "/"))
	b.WriteString("%3A")
	b.WriteString(quote(username, "/"))
	b.WriteString("?secret=")
	b.WriteString(quotePlus(base32.StdEncoding.EncodeToString(key)))
	b.WriteString("&algorithm=SHA1&digits=")
	b.WriteString(strconv.Itoa(digits))
	b.WriteString("&period=")
	b.WriteString(strconv.Itoa(DefaultStep))
	b.WriteString("&issuer=")
	b.WriteString(quote(issuer, "/"))
	return b.String()
}

// quote is Python's urllib.parse.quote(s, safe): UTF-8 bytes other than
// letters, digits, "_.-~" and safe are %XX-encoded (upper-case hex).
func quote(s, safe string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '_', c == '.', c == '-', c == '~', strings.IndexByte(safe, c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// quotePlus is Python's quote_plus (urlencode's): quote without "/" safe
// and spaces as "+".
func quotePlus(s string) string {
	return strings.ReplaceAll(quote(s, " "), " ", "+")
}

// StaticToken returns a random static code of length characters of
// StaticAlphabet, each drawn uniformly (authentik's generate_id).
func StaticToken(length int) (string, error) {
	if length <= 0 {
		length = StaticTokenLength
	}
	out := make([]byte, length)
	n62 := big.NewInt(int64(len(StaticAlphabet)))
	for i := range out {
		n, err := rand.Int(rand.Reader, n62)
		if err != nil {
			return "", err
		}
		out[i] = StaticAlphabet[n.Int64()]
	}
	return string(out), nil
}

// StaticTokens returns count static codes of length characters.
func StaticTokens(count, length int) ([]string, error) {
	out := make([]string, count)
	for i := range out {
		t, err := StaticToken(length)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// EqualStatic compares a static code with another in constant time (in
// their contents; their lengths are not secret).
func EqualStatic(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
