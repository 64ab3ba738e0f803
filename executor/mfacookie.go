package executor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// CookieMFA is the name of authentik's remembered-MFA cookie, which an
// authenticator_validate stage with a last_auth_threshold sets after a
// device was validated and reads to skip the next validation within the
// threshold.
const CookieMFA = "authentik_mfa"

// MFACookie is the remembered-MFA cookie a response asks the client to
// keep (Response.MFA): its value, a signed token that holds no secret,
// and when it expires. HTTPSessions.Apply sets it (Path /, HttpOnly,
// SameSite=Lax, Secure as the session cookie); a host with its own HTTP
// layer sets it as CookieMFA and gives its value back in Request.MFA.
type MFACookie struct {
	Value   string
	Expires time.Time
}

// mfaClaims are the cookie's claims, as authentik's: the device's pk,
// the stage's pk in hex, and the expiry (a Unix time with a fraction).
type mfaClaims struct {
	Device int64   `json:"device"`
	Stage  string  `json:"stage"`
	Exp    float64 `json:"exp"`
}

// mfaJWTHeader is PyJWT's header of an HS256 token (its keys sorted).
var mfaJWTHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// mfaKey is the cookie's signing key for a stage and a user: authentik's
// sha256("<secret>:<stage pk hex>") hex digest, with the user's pk
// added so that a cookie of one user's device does not skip another
// user's validation in the same browser (authentik's cookie names a
// device pk only). nil without a secret: no cookie is set or honoured.
func (e *Executor) mfaKey(st uuid.UUID, user int64) []byte {
	if len(e.mfaSecret) == 0 {
		return nil
	}
	sum := sha256.Sum256([]byte(string(e.mfaSecret) + ":" + hexPK(st) + ":" + strconv.FormatInt(user, 10)))
	return []byte(hex.EncodeToString(sum[:]))
}

// hexPK is a pk as Python's UUID.hex: 32 hex digits.
func hexPK(id uuid.UUID) string { return hex.EncodeToString(id[:]) }

// signMFA is an HS256 JWT of c under key.
func signMFA(key []byte, c mfaClaims) string {
	body, _ := json.Marshal(c)
	msg := mfaJWTHeader + "." + base64.RawURLEncoding.EncodeToString(body)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return msg + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// readMFA checks token's signature under key (HS256 only) and returns its
// claims; ok is false for anything malformed or forged. Its size is
// bounded by the cookie's.
func readMFA(key []byte, token string) (mfaClaims, bool) {
	if len(key) == 0 || len(token) > 1024 {
		return mfaClaims{}, false
	}
	head, rest, ok := strings.Cut(token, ".")
	if !ok {
		return mfaClaims{}, false
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return mfaClaims{}, false
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil || json.Unmarshal(hb, &hdr) != nil || hdr.Alg != "HS256" {
		return mfaClaims{}, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return mfaClaims{}, false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(head + "." + payload))
	if !hmac.Equal(got, m.Sum(nil)) {
		return mfaClaims{}, false
	}
	pb, err := base64.RawURLEncoding.DecodeString(payload)
	var c mfaClaims
	if err != nil || json.Unmarshal(pb, &c) != nil {
		return mfaClaims{}, false
	}
	return c, true
}

// mfaRemembered says whether the request's cookie remembers, for the
// stage and user, one of devices within threshold (authentik's
// check_mfa_cookie): a good signature, this stage, not expired, an
// expiry no later than now plus the threshold, and a device among them.
func (s *Step) mfaRemembered(user int64, threshold time.Duration, devices []int64) bool {
	if s.Request.MFA == "" || threshold <= 0 {
		return false
	}
	c, ok := readMFA(s.ex.mfaKey(s.Stage.PK, user), s.Request.MFA)
	if !ok || c.Stage != hexPK(s.Stage.PK) {
		return false
	}
	now := s.ex.now()
	exp := time.UnixMicro(int64(c.Exp * 1e6))
	if !exp.After(now) || exp.After(now.Add(threshold)) {
		return false
	}
	for _, d := range devices {
		if d == c.Device {
			return true
		}
	}
	return false
}

// rememberMFA asks the client to keep the cookie that remembers device
// for threshold (at least a second, as authentik).
func (s *Step) rememberMFA(user, device int64, threshold time.Duration) {
	key := s.ex.mfaKey(s.Stage.PK, user)
	if threshold < time.Second || key == nil {
		return
	}
	exp := s.ex.now().Add(threshold)
	v := signMFA(key, mfaClaims{Device: device, Stage: hexPK(s.Stage.PK), Exp: float64(exp.UnixMicro()) / 1e6})
	s.run.mfa = &MFACookie{Value: v, Expires: exp}
}
