// Package webauthnx is the relying party of authflow's WebAuthn stages: a
// small layer over github.com/go-webauthn/webauthn that speaks in the
// terms of authentik's authenticator_webauthn and authenticator_validate
// stages. It makes the options a browser passes to
// navigator.credentials.create and .get (as JSON objects, in the shape
// authentik's py_webauthn gives them), keeps the state of one ceremony
// as an opaque string for the executor to keep between the options and
// the answer, and verifies the answers: the attestation of a new
// credential, and the assertion of a known one with its signature count.
//
// It holds no credentials and reads no store: the caller passes the
// credentials a ceremony concerns.
package webauthnx

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"
)

// Errors, compared with errors.Is.
var (
	// ErrConfig is a relying party that cannot work: no RP id, an RP
	// id that is not a domain, no origin.
	ErrConfig = errors.New("webauthnx: bad relying party configuration")
	// ErrMalformed is an answer that is not a credential of the kind
	// expected (bad JSON, missing fields, bad encodings).
	ErrMalformed = errors.New("webauthnx: malformed credential")
	// ErrVerify is an answer that does not verify: wrong challenge,
	// origin or RP id, a bad signature or attestation, a user not
	// verified when required, a signature count that did not grow.
	ErrVerify = errors.New("webauthnx: verification failed")
	// ErrSession is ceremony state that cannot be read.
	ErrSession = errors.New("webauthnx: bad ceremony state")
)

// timeout is the ceremonies' timeout, py_webauthn's default (60 s).
const timeout = 60 * time.Second

// RP is a WebAuthn relying party: its id and the origins its pages run
// in. It is safe for concurrent use.
type RP struct {
	w *webauthn.WebAuthn
}

// New returns the relying party rpID (a host name, "auth.example.com")
// whose pages run in origins ("https://auth.example.com"). It fails
// with ErrConfig when either is missing or malformed.
func New(rpID string, origins []string) (*RP, error) {
	if rpID == "" || len(origins) == 0 || slices.Contains(origins, "") {
		return nil, fmt.Errorf("%w: an RP id and at least one origin are needed", ErrConfig)
	}
	w, err := webauthn.New(&webauthn.Config{
		RPID: rpID,
		// Every ceremony names the RP (the brand's title); this one is
		// never shown.
		RPDisplayName: rpID,
		RPOrigins:     slices.Clone(origins),
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: timeout, TimeoutUVD: timeout},
			Registration: webauthn.TimeoutConfig{Timeout: timeout, TimeoutUVD: timeout},
		},
		// Answers from browsers that add extension outputs nobody asked
		// for are not refused for it (py_webauthn ignores them too).
		ExtensionsUnsolicitedOutputPolicy: protocol.UnsolicitedOutputPolicyIgnore,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return &RP{w: w}, nil
}

// RPID is the relying party's id.
func (rp *RP) RPID() string { return rp.w.Config.RPID }

// User is the account a credential is made for: ID is the user handle
// (authentik's: the bytes of the user's uid), Name the username,
// DisplayName the user's name.
type User struct {
	ID          []byte
	Name        string
	DisplayName string
}

// Credential is a credential the relying party knows: its id and COSE
// public key, its signature count, the authenticator's AAGUID (uuid.Nil
// when it gives none) and the transports the browser reported.
type Credential struct {
	ID         []byte
	PublicKey  []byte
	SignCount  uint32
	AAGUID     uuid.UUID
	Transports []string
}

// Registration is what a registration asks of the authenticator, as
// the authenticator_webauthn stage configures it: user_verification,
// resident_key_requirement and authenticator_attachment ("" for any)
// in WebAuthn's words; RPName is the name the browser shows (the
// brand's title); Exclude are the user's credentials, which the
// authenticator must not register again.
type Registration struct {
	RPName           string
	UserVerification string
	ResidentKey      string
	Attachment       string
	Exclude          []Credential
}

// BeginRegistration returns the options of a new credential for u
// (PublicKeyCredentialCreationOptionsJSON, attestation "direct") and
// the state to keep until the answer.
func (rp *RP) BeginRegistration(u User, r Registration) (map[string]any, string, error) {
	sel := protocol.AuthenticatorSelection{
		AuthenticatorAttachment: protocol.AuthenticatorAttachment(r.Attachment),
		ResidentKey:             protocol.ResidentKeyRequirement(r.ResidentKey),
		RequireResidentKey:      new(r.ResidentKey == string(protocol.ResidentKeyRequirementRequired)),
		UserVerification:        protocol.UserVerificationRequirement(r.UserVerification),
	}
	opts := []webauthn.RegistrationOption{
		webauthn.WithAuthenticatorSelection(sel),
		webauthn.WithConveyancePreference(protocol.PreferDirectAttestation),
		webauthn.WithExclusions(descriptors(r.Exclude)),
	}
	if r.RPName != "" {
		opts = append(opts, webauthn.WithRegistrationRelyingPartyName(r.RPName))
	}
	creation, session, err := rp.w.BeginRegistration(user{u: u}, opts...)
	if err != nil {
		return nil, "", fmt.Errorf("webauthnx: registration options: %w", err)
	}
	m, err := toMap(creation.Response, "excludeCredentials")
	if err != nil {
		return nil, "", err
	}
	st, err := encodeSession(session)
	return m, st, err
}

// FinishRegistration verifies response, the JSON of the browser's
// PublicKeyCredential (RegistrationResponseJSON), against the state
// BeginRegistration gave for u: the challenge, origin, RP id, user
// verification when required, and the attestation statement. It
// returns the new credential. A response that cannot be parsed fails
// with ErrMalformed, one that does not verify with ErrVerify; both
// errors' texts say why, and hold no secret.
func (rp *RP) FinishRegistration(state string, u User, response []byte) (Credential, error) {
	session, err := decodeSession(state)
	if err != nil {
		return Credential{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %s", ErrMalformed, reason(err))
	}
	c, err := rp.w.CreateCredential(user{u: u}, session, parsed)
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %s", ErrVerify, reason(err))
	}
	out := Credential{ID: c.ID, PublicKey: c.PublicKey, SignCount: c.Authenticator.SignCount}
	if a, err := uuid.FromBytes(c.Authenticator.AAGUID); err == nil {
		out.AAGUID = a
	}
	for _, t := range c.Transport {
		out.Transports = append(out.Transports, string(t))
	}
	return out, nil
}

// BeginLogin returns the options of an assertion
// (PublicKeyCredentialRequestOptionsJSON) allowing the credentials
// allow (none: any discoverable credential, for a login without a
// username), with user verification uv, and the state to keep until the
// answer.
func (rp *RP) BeginLogin(uv string, allow []Credential) (map[string]any, string, error) {
	opts := []webauthn.LoginOption{webauthn.WithUserVerification(protocol.UserVerificationRequirement(uv))}
	if len(allow) > 0 {
		opts = append(opts, webauthn.WithAllowedCredentials(descriptors(allow)))
	}
	// The owner is not known until the answer names a credential.
	a, s, err := rp.w.BeginDiscoverableLogin(opts...)
	if err != nil {
		return nil, "", fmt.Errorf("webauthnx: assertion options: %w", err)
	}
	m, err := toMap(a.Response, "allowCredentials")
	if err != nil {
		return nil, "", err
	}
	st, err := encodeSession(s)
	return m, st, err
}

// Assertion is a parsed answer to BeginLogin's options.
type Assertion struct {
	// CredentialID is the credential the browser used, which names the
	// device to verify it with.
	CredentialID []byte
	parsed       *protocol.ParsedCredentialAssertionData
}

// ParseAssertion parses response, the JSON of the browser's
// PublicKeyCredential (AuthenticationResponseJSON); ErrMalformed when it
// is not one.
func ParseAssertion(response []byte) (*Assertion, error) {
	p, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrMalformed, reason(err))
	}
	return &Assertion{CredentialID: p.RawID, parsed: p}, nil
}

// FinishLogin verifies a against the state BeginLogin gave, with
// owner's credentials (all of them: those the options allowed must be
// among them) and owner's user handle: the challenge, origin, RP id,
// user verification when required, the signature with the credential's
// public key, and a signature count that grew (unless the
// authenticator keeps none: both zero). It returns the credential used,
// with its new signature count. A failure wraps ErrVerify.
func (rp *RP) FinishLogin(state string, a *Assertion, owner User, creds []Credential) (Credential, error) {
	session, err := decodeSession(state)
	if err != nil {
		return Credential{}, err
	}
	i := slices.IndexFunc(creds, func(c Credential) bool { return string(c.ID) == string(a.CredentialID) })
	if i < 0 {
		return Credential{}, fmt.Errorf("%w: unknown credential", ErrVerify)
	}
	stored := creds[i]
	wc := make([]webauthn.Credential, len(creds))
	for j, c := range creds {
		wc[j] = webauthn.Credential{ID: c.ID, PublicKey: c.PublicKey, Authenticator: webauthn.Authenticator{AAGUID: c.AAGUID[:], SignCount: c.SignCount}}
		// authflow keeps no backup flags: the answer's are taken as
		// they are (py_webauthn does not compare them either).
		wc[j].Flags.BackupEligible = a.parsed.Response.AuthenticatorData.Flags.HasBackupEligible()
	}
	session.UserID = owner.ID
	c, err := rp.w.ValidateLogin(user{u: owner, creds: wc}, session, a.parsed)
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %s", ErrVerify, reason(err))
	}
	count := a.parsed.Response.AuthenticatorData.Counter
	if (count > 0 || stored.SignCount > 0) && count <= stored.SignCount {
		return Credential{}, fmt.Errorf("%w: sign count %d not greater than %d", ErrVerify, count, stored.SignCount)
	}
	stored.SignCount = c.Authenticator.SignCount
	return stored, nil
}

// user is a User as go-webauthn wants one.
type user struct {
	u     User
	creds []webauthn.Credential
}

func (u user) WebAuthnID() []byte                         { return u.u.ID }
func (u user) WebAuthnName() string                       { return u.u.Name }
func (u user) WebAuthnDisplayName() string                { return u.u.DisplayName }
func (u user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// descriptors are the credentials as options list them.
func descriptors(cs []Credential) []protocol.CredentialDescriptor {
	out := make([]protocol.CredentialDescriptor, len(cs))
	for i, c := range cs {
		out[i] = protocol.CredentialDescriptor{Type: protocol.PublicKeyCredentialType, CredentialID: c.ID}
		for _, t := range c.Transports {
			out[i].Transport = append(out[i].Transport, protocol.AuthenticatorTransport(t))
		}
	}
	return out
}

// toMap is options as a JSON object, with list (the credentials) an
// empty list rather than absent, as py_webauthn gives it.
func toMap(options any, list string) (map[string]any, error) {
	b, err := json.Marshal(options)
	if err != nil {
		return nil, fmt.Errorf("webauthnx: options: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("webauthnx: options: %w", err)
	}
	if _, ok := m[list]; !ok {
		m[list] = []any{}
	}
	return m, nil
}

func encodeSession(s *webauthn.SessionData) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("webauthnx: state: %w", err)
	}
	return string(b), nil
}

func decodeSession(state string) (webauthn.SessionData, error) {
	var s webauthn.SessionData
	if state == "" || json.Unmarshal([]byte(state), &s) != nil || s.Challenge == "" {
		return s, ErrSession
	}
	return s, nil
}

// reason is the text of a go-webauthn error: its details, with the
// developer information when there is some.
func reason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		msg := pe.Details
		if pe.DevInfo != "" {
			msg += ": " + pe.DevInfo
		}
		return strings.TrimSpace(msg)
	}
	return err.Error()
}
