// Package webauthnxtest is a software WebAuthn authenticator and client
// for tests: it answers the options package webauthnx makes as a
// browser with a security key would, with an ES256 key and "none" or
// "packed" (self) attestation, so that registration and login are tested
// without a browser.
package webauthnxtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/google/uuid"
)

// Authenticator flags (authenticator data).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagAT = 0x40
)

// Authenticator is a software authenticator with one credential at a
// time: Register makes one (a new key), Assert signs with it. Its
// fields say how it answers; change them between calls to make bad
// answers.
type Authenticator struct {
	// Origin is the origin the client reports ("https://auth.example.com").
	Origin string
	// AAGUID is the authenticator's model.
	AAGUID uuid.UUID
	// Packed gives "packed" self attestation instead of "none".
	Packed bool
	// UV says the user was verified.
	UV bool
	// SignCount is the counter of the next signature (0: the
	// authenticator keeps none).
	SignCount uint32
	// RPID, when set, is the RP id hashed into the authenticator data
	// instead of the options' (to make a wrong one).
	RPID string
	// Challenge, when set, is answered instead of the options' (to make
	// a wrong one).
	Challenge string
	// ID, when set, is the id of the next credential Register makes
	// (else a random one).
	ID []byte

	key    *ecdsa.PrivateKey
	credID []byte
	user   []byte
}

// CredentialID is the id of the authenticator's credential.
func (a *Authenticator) CredentialID() []byte { return a.credID }

var b64 = base64.RawURLEncoding

// Register answers options (PublicKeyCredentialCreationOptionsJSON) with
// a new credential: the RegistrationResponseJSON a browser posts.
func (a *Authenticator) Register(options map[string]any) ([]byte, error) {
	rp, _ := options["rp"].(map[string]any)
	rpID, _ := rp["id"].(string)
	user, _ := options["user"].(map[string]any)
	uid, _ := user["id"].(string)
	challenge, _ := options["challenge"].(string)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	a.key, a.credID = key, a.ID
	if a.credID == nil {
		a.credID = make([]byte, 32)
		if _, err := rand.Read(a.credID); err != nil {
			return nil, err
		}
	}
	if a.user, err = b64.DecodeString(uid); err != nil {
		return nil, fmt.Errorf("webauthnxtest: user id: %w", err)
	}
	ecdh, err := key.PublicKey.ECDH()
	if err != nil {
		return nil, err
	}
	raw := ecdh.Bytes() // 0x04 || x || y
	cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         1, XCoord: raw[1:33], YCoord: raw[33:],
	})
	if err != nil {
		return nil, err
	}
	auth := a.authData(rpID, flagAT)
	auth = append(auth, a.AAGUID[:]...)
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(a.credID)))
	auth = append(auth, a.credID...)
	auth = append(auth, cose...)
	cdj := a.clientData("webauthn.create", challenge)
	stmt := map[string]any{}
	format := "none"
	if a.Packed {
		sig, err := a.sign(auth, cdj)
		if err != nil {
			return nil, err
		}
		format, stmt = "packed", map[string]any{"alg": int64(webauthncose.AlgES256), "sig": sig}
	}
	att, err := webauthncbor.Marshal(map[string]any{"fmt": format, "attStmt": stmt, "authData": auth})
	if err != nil {
		return nil, err
	}
	return a.credential(map[string]any{
		"clientDataJSON": b64.EncodeToString(cdj), "attestationObject": b64.EncodeToString(att), "transports": []string{"usb"},
	})
}

// Assert answers options (PublicKeyCredentialRequestOptionsJSON) with
// the credential Register made: the AuthenticationResponseJSON a browser
// posts, with the user handle of the registration. The signature count
// grows by one before it signs, when it is not zero.
func (a *Authenticator) Assert(options map[string]any) ([]byte, error) {
	if a.key == nil {
		return nil, fmt.Errorf("webauthnxtest: no credential registered")
	}
	rpID, _ := options["rpId"].(string)
	challenge, _ := options["challenge"].(string)
	if a.SignCount > 0 {
		a.SignCount++
	}
	auth := a.authData(rpID, 0)
	cdj := a.clientData("webauthn.get", challenge)
	sig, err := a.sign(auth, cdj)
	if err != nil {
		return nil, err
	}
	return a.credential(map[string]any{
		"clientDataJSON": b64.EncodeToString(cdj), "authenticatorData": b64.EncodeToString(auth),
		"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(a.user),
	})
}

// credential is the JSON of the PublicKeyCredential of the
// authenticator's credential with response.
func (a *Authenticator) credential(response map[string]any) ([]byte, error) {
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.credID), "rawId": b64.EncodeToString(a.credID), "type": "public-key",
		"authenticatorAttachment": "cross-platform", "clientExtensionResults": map[string]any{}, "response": response,
	})
}

// authData is the authenticator data's fixed part: the RP id's hash,
// the flags (user present, verified when UV, and extra) and the count.
func (a *Authenticator) authData(rpID string, extra byte) []byte {
	if a.RPID != "" {
		rpID = a.RPID
	}
	h := sha256.Sum256([]byte(rpID))
	flags := flagUP | extra
	if a.UV {
		flags |= flagUV
	}
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, a.SignCount)
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	if a.Challenge != "" {
		challenge = a.Challenge
	}
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

// sign is the ES256 signature of auth || sha256(clientData).
func (a *Authenticator) sign(auth, clientData []byte) ([]byte, error) {
	h := sha256.Sum256(clientData)
	msg := sha256.Sum256(append(append([]byte{}, auth...), h[:]...))
	return ecdsa.SignASN1(rand.Reader, a.key, msg[:])
}
