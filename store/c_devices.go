package store

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Authenticator devices: one collection per class, each a Declaration
// under authentik's model name, numbered (a Django AutoField pk, per
// class), with a reference to its user (deleting the user deletes the
// device; the user's used_by lists it) and, for sms, email and duo, to
// its setup stage (the same). The unique values are declared: a WebAuthn
// credential id across devices, an SMS number per setup stage, an email
// address per user. The secrets are validate.Secret fields, sealed by a
// store with keys: a TOTP key (hex, as authentik keeps it) and a pending
// SMS or email code; a static device keeps its codes only as
// directory.HashStaticToken hashes. Times are DRF date-times (UTC, to the
// microsecond). Directory's Devices methods (devices.go) are the one
// writer; no API path serves these collections as they are stored (package
// api renders authentik's device shapes from directory.Device).

// The device models, authentik's.
const (
	ModelTOTPDevice     = "authentik_stages_authenticator_totp.totpdevice"
	ModelStaticDevice   = "authentik_stages_authenticator_static.staticdevice"
	ModelWebAuthnDevice = "authentik_stages_authenticator_webauthn.webauthndevice"
	ModelSMSDevice      = "authentik_stages_authenticator_sms.smsdevice"
	ModelEmailDevice    = "authentik_stages_authenticator_email.emaildevice"
	ModelDuoDevice      = "authentik_stages_authenticator_duo.duodevice"
)

// DeviceModels maps each device class to its collection's model.
var DeviceModels = map[directory.DeviceClass]string{
	directory.DeviceTOTP:     ModelTOTPDevice,
	directory.DeviceStatic:   ModelStaticDevice,
	directory.DeviceWebAuthn: ModelWebAuthnDevice,
	directory.DeviceSMS:      ModelSMSDevice,
	directory.DeviceEmail:    ModelEmailDevice,
	directory.DeviceDuo:      ModelDuoDevice,
}

// deviceRecord is a stored device of any class.
type deviceRecord interface {
	device() (directory.Device, error)
}

// deviceCommon are the fields every device record has (each record spells
// them out: validate takes no embedded structs), as device reads them.
type deviceCommon struct {
	PK, User                       int64
	Name                           string
	Confirmed                      bool
	Created, LastUpdated, LastUsed string
	HasLastUsed                    bool
}

// common fills d's common fields from a record's.
func (c deviceCommon) device(class directory.DeviceClass) (directory.Device, error) {
	d := directory.Device{Class: class, PK: c.PK, User: c.User, Name: c.Name, Confirmed: c.Confirmed}
	var err error
	if d.Created, err = parseTime(c.Created); err != nil {
		return d, err
	}
	if d.LastUpdated, err = parseTime(c.LastUpdated); err != nil {
		return d, err
	}
	if c.HasLastUsed {
		t, err := parseTime(c.LastUsed)
		if err != nil {
			return d, err
		}
		d.LastUsed = &t
	}
	return d, nil
}

// parseTime reads a stored DRF date-time ("" is the zero time).
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, ok := validate.ParseDateTime(s)
	if !ok {
		return t, fmt.Errorf("store: %w: a device holds the time %q", ErrCorrupt, s)
	}
	return t.UTC(), nil
}

// formatTime is t as stored ("" for the zero time).
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return validate.FormatDateTime(t)
}

// lastUsed is a device's LastUsed as stored.
func lastUsed(d directory.Device) *string {
	if d.LastUsed == nil {
		return nil
	}
	s := validate.FormatDateTime(*d.LastUsed)
	return &s
}

func strOr(p *string) (string, bool) {
	if p == nil {
		return "", false
	}
	return *p, true
}

// totpRecord is a stored TOTP device.
type totpRecord struct {
	PK          int64   `json:"pk" af:"readonly"`
	User        int64   `json:"user" af:"required,ref=authentik_core.user,on_delete=cascade"`
	Name        string  `json:"name" af:"blank"`
	Confirmed   bool    `json:"confirmed"`
	Created     string  `json:"created" af:"blank"`
	LastUpdated string  `json:"last_updated" af:"blank"`
	LastUsed    *string `json:"last_used"`
	// Key is the shared secret, hex-encoded.
	Key       validate.Secret `json:"key" af:"blank,writeonly"`
	Digits    int64           `json:"digits"`
	Step      int64           `json:"step"`
	T0        int64           `json:"t0"`
	Tolerance int64           `json:"tolerance"`
	Drift     int64           `json:"drift"`
	LastT     int64           `json:"last_t"`
}

func (r totpRecord) device() (directory.Device, error) {
	used, has := strOr(r.LastUsed)
	d, err := deviceCommon{r.PK, r.User, r.Name, r.Confirmed, r.Created, r.LastUpdated, used, has}.device(directory.DeviceTOTP)
	if err != nil {
		return d, err
	}
	key, err := hex.DecodeString(r.Key.Reveal())
	if err != nil {
		return d, fmt.Errorf("store: %w: totp device %d: its key is not hex", ErrCorrupt, r.PK)
	}
	d.TOTP = &directory.TOTPDevice{Key: key, Digits: int(r.Digits), Step: int(r.Step), T0: r.T0,
		Tolerance: int(r.Tolerance), Drift: int(r.Drift), LastT: r.LastT}
	return d, nil
}

// staticRecord is a stored static device: its codes' hashes.
type staticRecord struct {
	PK          int64    `json:"pk" af:"readonly"`
	User        int64    `json:"user" af:"required,ref=authentik_core.user,on_delete=cascade"`
	Name        string   `json:"name" af:"blank"`
	Confirmed   bool     `json:"confirmed"`
	Created     string   `json:"created" af:"blank"`
	LastUpdated string   `json:"last_updated" af:"blank"`
	LastUsed    *string  `json:"last_used"`
	TokenHashes []string `json:"token_hashes"`
}

func (r staticRecord) device() (directory.Device, error) {
	used, has := strOr(r.LastUsed)
	d, err := deviceCommon{r.PK, r.User, r.Name, r.Confirmed, r.Created, r.LastUpdated, used, has}.device(directory.DeviceStatic)
	d.Static = &directory.StaticDevice{TokenHashes: r.TokenHashes}
	return d, err
}

// webAuthnRecord is a stored WebAuthn credential: the credential id
// and public key in unpadded base64url, as authentik keeps them.
type webAuthnRecord struct {
	PK           int64    `json:"pk" af:"readonly"`
	User         int64    `json:"user" af:"required,ref=authentik_core.user,on_delete=cascade"`
	Name         string   `json:"name" af:"blank"`
	Confirmed    bool     `json:"confirmed"`
	Created      string   `json:"created" af:"blank"`
	LastUpdated  string   `json:"last_updated" af:"blank"`
	LastUsed     *string  `json:"last_used"`
	CredentialID string   `json:"credential_id" af:"blank"`
	PublicKey    string   `json:"public_key" af:"blank"`
	SignCount    int64    `json:"sign_count"`
	RPID         string   `json:"rp_id" af:"blank"`
	AAGUID       string   `json:"aaguid" af:"blank"`
	Transports   []string `json:"transports"`
}

var b64 = base64.RawURLEncoding

func (r webAuthnRecord) device() (directory.Device, error) {
	used, has := strOr(r.LastUsed)
	d, err := deviceCommon{r.PK, r.User, r.Name, r.Confirmed, r.Created, r.LastUpdated, used, has}.device(directory.DeviceWebAuthn)
	if err != nil {
		return d, err
	}
	w := &directory.WebAuthnDevice{SignCount: uint32(r.SignCount), RPID: r.RPID, Transports: r.Transports}
	var e1, e2, e3 error
	w.CredentialID, e1 = b64.DecodeString(r.CredentialID)
	w.PublicKey, e2 = b64.DecodeString(r.PublicKey)
	if r.AAGUID != "" {
		w.AAGUID, e3 = uuid.Parse(r.AAGUID)
	}
	if e1 != nil || e2 != nil || e3 != nil {
		return d, fmt.Errorf("store: %w: webauthn device %d: a malformed credential", ErrCorrupt, r.PK)
	}
	d.WebAuthn = w
	return d, nil
}

// smsRecord is a stored SMS device; Token is the pending code.
type smsRecord struct {
	PK          int64           `json:"pk" af:"readonly"`
	User        int64           `json:"user" af:"required,ref=authentik_core.user,on_delete=cascade"`
	Name        string          `json:"name" af:"blank"`
	Confirmed   bool            `json:"confirmed"`
	Created     string          `json:"created" af:"blank"`
	LastUpdated string          `json:"last_updated" af:"blank"`
	LastUsed    *string         `json:"last_used"`
	Stage       uuid.UUID       `json:"stage" af:"ref=authentik_stages_authenticator_sms.authenticatorsmsstage,on_delete=cascade"`
	PhoneNumber string          `json:"phone_number" af:"blank"`
	Token       validate.Secret `json:"token" af:"blank,writeonly"`
	ValidUntil  string          `json:"valid_until" af:"blank"`
}

func (r smsRecord) device() (directory.Device, error) {
	used, has := strOr(r.LastUsed)
	d, err := deviceCommon{r.PK, r.User, r.Name, r.Confirmed, r.Created, r.LastUpdated, used, has}.device(directory.DeviceSMS)
	if err != nil {
		return d, err
	}
	until, err := parseTime(r.ValidUntil)
	d.Stage = r.Stage
	d.SMS = &directory.SMSDevice{Phone: r.PhoneNumber, SideChannel: directory.SideChannel{Token: r.Token.Reveal(), ValidUntil: until}}
	return d, err
}

// emailRecord is a stored email device; Token is the pending code.
type emailRecord struct {
	PK          int64           `json:"pk" af:"readonly"`
	User        int64           `json:"user" af:"required,ref=authentik_core.user,on_delete=cascade"`
	Name        string          `json:"name" af:"blank"`
	Confirmed   bool            `json:"confirmed"`
	Created     string          `json:"created" af:"blank"`
	LastUpdated string          `json:"last_updated" af:"blank"`
	LastUsed    *string         `json:"last_used"`
	Stage       uuid.UUID       `json:"stage" af:"ref=authentik_stages_authenticator_email.authenticatoremailstage,on_delete=cascade"`
	Email       string          `json:"email" af:"blank"`
	Token       validate.Secret `json:"token" af:"blank,writeonly"`
	ValidUntil  string          `json:"valid_until" af:"blank"`
}

func (r emailRecord) device() (directory.Device, error) {
	used, has := strOr(r.LastUsed)
	d, err := deviceCommon{r.PK, r.User, r.Name, r.Confirmed, r.Created, r.LastUpdated, used, has}.device(directory.DeviceEmail)
	if err != nil {
		return d, err
	}
	until, err := parseTime(r.ValidUntil)
	d.Stage = r.Stage
	d.Email = &directory.EmailDevice{Email: r.Email, SideChannel: directory.SideChannel{Token: r.Token.Reveal(), ValidUntil: until}}
	return d, err
}

// duoRecord is a stored Duo device.
type duoRecord struct {
	PK          int64     `json:"pk" af:"readonly"`
	User        int64     `json:"user" af:"required,ref=authentik_core.user,on_delete=cascade"`
	Name        string    `json:"name" af:"blank"`
	Confirmed   bool      `json:"confirmed"`
	Created     string    `json:"created" af:"blank"`
	LastUpdated string    `json:"last_updated" af:"blank"`
	LastUsed    *string   `json:"last_used"`
	Stage       uuid.UUID `json:"stage" af:"ref=authentik_stages_authenticator_duo.authenticatorduostage,on_delete=cascade"`
	DuoUserID   string    `json:"duo_user_id" af:"blank"`
}

func (r duoRecord) device() (directory.Device, error) {
	used, has := strOr(r.LastUsed)
	d, err := deviceCommon{r.PK, r.User, r.Name, r.Confirmed, r.Created, r.LastUpdated, used, has}.device(directory.DeviceDuo)
	d.Stage = r.Stage
	d.Duo = &directory.DuoDevice{DuoUserID: r.DuoUserID}
	return d, err
}

// deviceRecordOf is d as the record of its class's collection.
func deviceRecordOf(d directory.Device) (any, error) {
	created, updated, used := formatTime(d.Created), formatTime(d.LastUpdated), lastUsed(d)
	switch d.Class {
	case directory.DeviceTOTP:
		t := d.TOTP
		return totpRecord{d.PK, d.User, d.Name, d.Confirmed, created, updated, used,
			validate.NewSecret(hex.EncodeToString(t.Key)), int64(t.Digits), int64(t.Step), t.T0, int64(t.Tolerance), int64(t.Drift), t.LastT}, nil
	case directory.DeviceStatic:
		hashes := d.Static.TokenHashes
		if hashes == nil {
			hashes = []string{}
		}
		return staticRecord{d.PK, d.User, d.Name, d.Confirmed, created, updated, used, hashes}, nil
	case directory.DeviceWebAuthn:
		w := d.WebAuthn
		aaguid := ""
		if w.AAGUID != uuid.Nil {
			aaguid = w.AAGUID.String()
		}
		tr := w.Transports
		if tr == nil {
			tr = []string{}
		}
		return webAuthnRecord{d.PK, d.User, d.Name, d.Confirmed, created, updated, used,
			b64.EncodeToString(w.CredentialID), b64.EncodeToString(w.PublicKey), int64(w.SignCount), w.RPID, aaguid, tr}, nil
	case directory.DeviceSMS:
		s := d.SMS
		return smsRecord{d.PK, d.User, d.Name, d.Confirmed, created, updated, used, d.Stage, s.Phone,
			validate.NewSecret(s.Token), formatTime(s.ValidUntil)}, nil
	case directory.DeviceEmail:
		e := d.Email
		return emailRecord{d.PK, d.User, d.Name, d.Confirmed, created, updated, used, d.Stage, e.Email,
			validate.NewSecret(e.Token), formatTime(e.ValidUntil)}, nil
	case directory.DeviceDuo:
		return duoRecord{d.PK, d.User, d.Name, d.Confirmed, created, updated, used, d.Stage, d.Duo.DuoUserID}, nil
	}
	return nil, fmt.Errorf("store: unknown device class %q", d.Class)
}

// deviceDecl declares the collection of one class of device, with
// authentik's verbose name and str().
func deviceDecl[T deviceRecord](model, verbose string, str func(T) string, unique, together []string) Declarer {
	return Declaration[T, T]{
		Model:    model,
		Verbose:  verbose,
		Sequence: "pk",
		Defaults: func() T { return *new(T) },
		String:   str,
		Unique:   unique,
		Together: together,
		// A user's devices are found through the reference index (see
		// Tx.userDevices); lists filter on the user and the name, and
		// walk the records in pk order (a record's id ends with its
		// number).
		Filters: []string{"user", "name"},
		Search:  []string{"name"},
	}
}

// nameAndUser is str() of a device of authentik's Device base: the
// name and the user (authentik shows the username; a declaration's
// String reads no other object, so this shows the user's pk).
func nameAndUser(name string, user int64) string {
	return name + " (" + strconv.FormatInt(user, 10) + ")"
}

// nameOrUser is str() of a WebAuthn or SMS device: its name, or its
// user's pk.
func nameOrUser(name string, user int64) string {
	if name != "" {
		return name
	}
	return strconv.FormatInt(user, 10)
}

// deviceDecls are the device collections, in the order of
// directory.DeviceClasses, each with the stage kind its devices' setup
// stage is: a store whose stage registry lacks that kind (a host's own
// registry) has no collection of those devices.
var deviceDecls = []struct {
	decl  Declarer
	stage stage.ModelName
}{
	{deviceDecl(ModelStaticDevice, "Static Device", func(r staticRecord) string { return nameAndUser(r.Name, r.User) }, nil, nil), ""},
	{deviceDecl(ModelTOTPDevice, "TOTP Device", func(r totpRecord) string { return nameAndUser(r.Name, r.User) }, nil, nil), ""},
	{deviceDecl(ModelWebAuthnDevice, "WebAuthn Device", func(r webAuthnRecord) string { return nameOrUser(r.Name, r.User) },
		[]string{"credential_id"}, nil), ""},
	{deviceDecl(ModelDuoDevice, "Duo Device", func(r duoRecord) string { return nameOrUser(r.Name, r.User) }, nil, nil),
		stage.ModelAuthenticatorDuo},
	{deviceDecl(ModelSMSDevice, "SMS Device", func(r smsRecord) string { return nameOrUser(r.Name, r.User) },
		nil, []string{"stage", "phone_number"}), stage.ModelAuthenticatorSMS},
	{deviceDecl(ModelEmailDevice, "Email Device", func(r emailRecord) string { return "Email Device for " + strconv.FormatInt(r.User, 10) },
		nil, []string{"user", "email"}), stage.ModelAuthenticatorEmail},
}
