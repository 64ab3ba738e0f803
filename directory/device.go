package directory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// DeviceClass is a class of authenticator device, as authentik's
// authenticator_validate stage names them (its device_classes).
type DeviceClass string

// The device classes of authentik 2025.6.
const (
	DeviceStatic   DeviceClass = "static"
	DeviceTOTP     DeviceClass = "totp"
	DeviceWebAuthn DeviceClass = "webauthn"
	DeviceDuo      DeviceClass = "duo"
	DeviceSMS      DeviceClass = "sms"
	DeviceEmail    DeviceClass = "email"
)

// DeviceClasses are the device classes, in the order in which a user's
// devices are listed.
var DeviceClasses = []DeviceClass{DeviceStatic, DeviceTOTP, DeviceWebAuthn, DeviceDuo, DeviceSMS, DeviceEmail}

// Errors of a Devices implementation, beside ErrNotFound (no such
// device, or no such user at create) and ErrReadOnly. Compare with
// errors.Is.
var (
	// ErrDeviceExists means a create would give a second device a value
	// that is unique among devices: a WebAuthn credential id (among all
	// devices), an SMS number for one setup stage, an email address for
	// one user (authentik's unique constraints).
	ErrDeviceExists = errors.New("directory: device exists")
	// ErrDeviceUnchanged is what an UpdateDevice function returns to say
	// that it changes nothing: UpdateDevice then writes nothing and
	// returns it (wrapped), so a caller can tell "no match" from a
	// failure.
	ErrDeviceUnchanged = errors.New("directory: device unchanged")
)

// Device is one authenticator device of a user, of any class: the
// fields every device has (authentik's Device model), the setup stage
// for the classes that keep one, and the class's own fields in the
// matching pointer (TOTP for DeviceTOTP, and so on; the others nil).
//
// A Device holds secrets (a TOTP key, the hashes of static codes, a
// pending SMS or email code): its String and GoString say only its class
// and pk, so that printing one in a log or an error never shows them.
type Device struct {
	// Class is the device's class; PK its number, which the directory
	// gives at create, unique within the class and never reused.
	Class DeviceClass
	PK    int64
	// User is the pk of the user who owns it.
	User int64
	// Name is the device's name (at most 64 characters; 200 for
	// WebAuthn), as authentik's.
	Name string
	// Confirmed is false while a device is being set up (authentik
	// validates only confirmed devices).
	Confirmed bool
	// Created and LastUpdated are set by the directory; LastUsed is nil
	// until the device is used.
	Created, LastUpdated time.Time
	LastUsed             *time.Time
	// Stage is the setup stage of an SMS, email or Duo device (deleting
	// the stage deletes its devices, as in authentik); uuid.Nil for the
	// other classes.
	Stage uuid.UUID

	TOTP     *TOTPDevice
	Static   *StaticDevice
	WebAuthn *WebAuthnDevice
	SMS      *SMSDevice
	Email    *EmailDevice
	Duo      *DuoDevice
}

// String is the device's class and pk, never its secrets.
func (d Device) String() string {
	return "device " + string(d.Class) + "/" + strconv.FormatInt(d.PK, 10)
}

// GoString is String: %#v prints no secret either.
func (d Device) GoString() string { return d.String() }

// TOTPDevice is a TOTP device's own fields (authentik's TOTPDevice, with
// django-otp's defaults: a 30 s step from t0 0, a tolerance of one step).
// Key is the shared secret, raw bytes (authentik keeps it hex-encoded);
// LastT is the time step of the last code accepted, so that no code of
// that step or an earlier one is accepted again (-1 for none).
type TOTPDevice struct {
	Key       []byte
	Digits    int
	Step      int
	T0        int64
	Tolerance int
	Drift     int
	LastT     int64
}

// StaticDevice is a static device's own field: its remaining codes, each
// as the hash that [HashStaticToken] gives, so that a code is checked
// without being kept. A code used is removed.
type StaticDevice struct {
	TokenHashes []string
}

// WebAuthnDevice is a WebAuthn credential (authentik's WebAuthnDevice):
// the credential id and public key as the WebAuthn library gives them,
// the signature count, the relying party it was made for, and the
// authenticator's AAGUID (uuid.Nil when unknown).
type WebAuthnDevice struct {
	CredentialID []byte
	PublicKey    []byte
	SignCount    uint32
	RPID         string
	AAGUID       uuid.UUID
	// Transports are the transports the browser reported at
	// registration ("usb", "internal", ...), offered back in assertions.
	Transports []string
}

// SideChannel is the code of an SMS or email device, sent to the user:
// Token is empty when no code is pending, ValidUntil when it expires.
type SideChannel struct {
	Token      string
	ValidUntil time.Time
}

// SMSDevice is an SMS device's own fields. Phone is the number, or its
// hash (authentik's "hash:" form) for a stage with verify_only, which
// can only confirm a number, not send to it again.
type SMSDevice struct {
	Phone string
	SideChannel
}

// EmailDevice is an email device's own fields.
type EmailDevice struct {
	Email string
	SideChannel
}

// DuoDevice is a Duo device's own field: the user's id at Duo.
type DuoDevice struct {
	DuoUserID string
}

// DeviceFind names one device by a value that is unique among devices
// (see ErrDeviceExists): a WebAuthn credential id, an SMS number of one
// stage, or an email address of one user. Exactly one of the three
// forms is set.
type DeviceFind struct {
	CredentialID []byte
	// Stage and Phone find an SMS device.
	Stage uuid.UUID
	Phone string
	// User and Email find an email device.
	User  int64
	Email string
}

// Devices is an optional capability of a Directory: a directory that
// keeps users' authenticator devices implements it, and the flow
// executor finds it with a type assertion (d.(directory.Devices)). The
// store's directory keeps them in the store, with their secrets sealed
// when the store has keys; memdir keeps them in memory; a host that
// keeps its own users keeps its own devices and runs the conformance
// suite (package directorytest) on them.
//
// # Contract
//
// Every method is safe for concurrent use; one that fails writes
// nothing. Values returned share no slice with the directory's own.
// Deleting a user deletes the user's devices.
//
//   - UserDevices returns every device of user pk, confirmed or not,
//     ordered by class (as DeviceClasses) and pk; none, and no error,
//     for a user without devices (or an unknown user).
//   - Device returns one device, or an error wrapping ErrNotFound.
//   - FindDevice returns the device that f names, or ErrNotFound.
//   - CreateDevice stores d as a new device of d.Class: it gives PK,
//     Created and LastUpdated (d's are ignored). The user must exist
//     (ErrNotFound), the class's own pointer must be set, and the unique
//     values must be free (ErrDeviceExists).
//   - UpdateDevice reads device (class, pk), calls fn with it, and
//     stores what fn left, atomically: no other update of the device
//     runs between the read and the write, so that a one-time code
//     checked in fn is accepted once. Class, PK, User and Created are
//     kept whatever fn does, and LastUpdated moves to now. An error from
//     fn writes nothing and is returned wrapped (ErrDeviceUnchanged is
//     how fn says "nothing to change"). It returns the stored device.
//     fn may be called more than once (a store on etcd retries a
//     transaction that met a concurrent write), each time with the
//     device as then stored: it must depend on nothing but its
//     argument, and have no effect outside it.
//   - DeleteDevice deletes one device (ErrNotFound when there is none).
type Devices interface {
	UserDevices(ctx context.Context, user int64) ([]Device, error)
	Device(ctx context.Context, class DeviceClass, pk int64) (Device, error)
	FindDevice(ctx context.Context, f DeviceFind) (Device, error)
	CreateDevice(ctx context.Context, d Device) (Device, error)
	UpdateDevice(ctx context.Context, class DeviceClass, pk int64, fn func(*Device) error) (Device, error)
	DeleteDevice(ctx context.Context, class DeviceClass, pk int64) error
}

// HashStaticToken is the form in which a static code is kept: the hex
// SHA-256 of the code. Static codes are random (authentik's are 12
// letters and digits by default), so a plain hash is enough to keep them
// from being read back, and a code is checked by hashing it.
func HashStaticToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Clone returns a copy of d that shares no slice or pointer with it.
func (d Device) Clone() Device {
	if d.LastUsed != nil {
		t := *d.LastUsed
		d.LastUsed = &t
	}
	if d.TOTP != nil {
		t := *d.TOTP
		t.Key = slices.Clone(t.Key)
		d.TOTP = &t
	}
	if d.Static != nil {
		d.Static = &StaticDevice{TokenHashes: slices.Clone(d.Static.TokenHashes)}
	}
	if d.WebAuthn != nil {
		w := *d.WebAuthn
		w.CredentialID, w.PublicKey = slices.Clone(w.CredentialID), slices.Clone(w.PublicKey)
		w.Transports = slices.Clone(w.Transports)
		d.WebAuthn = &w
	}
	if d.SMS != nil {
		v := *d.SMS
		d.SMS = &v
	}
	if d.Email != nil {
		v := *d.Email
		d.Email = &v
	}
	if d.Duo != nil {
		v := *d.Duo
		d.Duo = &v
	}
	return d
}

// CheckDevice reports whether d is a device a directory can store: a
// known class, exactly its class's own fields set, a setup stage for the
// classes that have one (sms, email, duo) and none for the others. It is
// for implementations of Devices; its errors name the field at fault.
func CheckDevice(d Device) error {
	set := map[DeviceClass]bool{
		DeviceTOTP: d.TOTP != nil, DeviceStatic: d.Static != nil, DeviceWebAuthn: d.WebAuthn != nil,
		DeviceSMS: d.SMS != nil, DeviceEmail: d.Email != nil, DeviceDuo: d.Duo != nil,
	}
	if _, ok := set[d.Class]; !ok {
		return fmt.Errorf("directory: unknown device class %q", d.Class)
	}
	for c, ok := range set {
		if ok != (c == d.Class) {
			if ok {
				return fmt.Errorf("directory: a %s device with the fields of a %s device", d.Class, c)
			}
			return fmt.Errorf("directory: a %s device without its %s fields", d.Class, c)
		}
	}
	staged := d.Class == DeviceSMS || d.Class == DeviceEmail || d.Class == DeviceDuo
	if staged && d.Stage == uuid.Nil {
		return fmt.Errorf("directory: a %s device needs its setup stage", d.Class)
	}
	if !staged && d.Stage != uuid.Nil {
		return fmt.Errorf("directory: a %s device has no setup stage", d.Class)
	}
	if d.WebAuthn != nil && len(d.WebAuthn.CredentialID) == 0 {
		return errors.New("directory: a webauthn device needs a credential id")
	}
	return nil
}

// Key returns the unique value d holds (see DeviceFind), and false for a
// class without one (totp, static, duo).
func (d Device) Key() (DeviceFind, bool) {
	switch {
	case d.WebAuthn != nil:
		return DeviceFind{CredentialID: d.WebAuthn.CredentialID}, true
	case d.SMS != nil:
		return DeviceFind{Stage: d.Stage, Phone: d.SMS.Phone}, true
	case d.Email != nil:
		return DeviceFind{User: d.User, Email: d.Email.Email}, true
	}
	return DeviceFind{}, false
}
