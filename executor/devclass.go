package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/otp"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
)

// deviceClassHandler is authenticator_validate's behaviour for one class
// of device. Every field may be nil; a handler answers its challenge
// with checkCode (the "code" field) or with answer (its own field).
type deviceClassHandler struct {
	// offer says whether dev, a confirmed device of an allowed class,
	// produces this class's challenge (WebAuthn: its device type is
	// allowed); nil: every device does.
	offer func(cfg stage.AuthenticatorValidate, dev directory.Device) bool
	// challenge is the device challenge's payload for dev, the first
	// offered device of its class; all are the user's devices. Nil: {}.
	challenge func(ctx context.Context, s *Step, cfg stage.AuthenticatorValidate, dev directory.Device, all []directory.Device) (map[string]any, error)
	// selected runs when the user selects this class's challenge
	// (sms, email: send a code); nil: nothing.
	selected func(ctx context.Context, s *Step, dev directory.Device) error
	// checkCode, for the classes answered with "code" (totp, static,
	// sms, email): whether code opens dev at now, changing dev (last_t
	// and drift, a used static code removed, a side-channel code
	// cleared). It runs inside Devices.UpdateDevice, so it is atomic: a
	// code is accepted once.
	checkCode func(dev *directory.Device, code string, now time.Time) bool
	// answerField and answer, for the classes answered with a field of
	// their own ("webauthn", "duo"): answer checks the field's value (raw
	// JSON) for user (0: none, passwordless) and returns the device it
	// opens, or a validation message for the field (ok false), having
	// reported what authentik reports (login_failed, ...).
	answerField string
	answer      func(ctx context.Context, s *Step, cfg stage.AuthenticatorValidate, raw json.RawMessage, user int64) (dev directory.Device, msg string, ok bool, err error)
}

// deviceClassHandlers is authenticator_validate's behaviour by device
// class: ONE map, with an entry for every class of
// directory.DeviceClasses, checked by New (checkDeviceClassHandlers).
var deviceClassHandlers = map[directory.DeviceClass]deviceClassHandler{
	directory.DeviceTOTP: {
		checkCode: checkTOTPCode,
	},
	directory.DeviceStatic: {
		checkCode: checkStaticCode,
	},
	// The side-channel classes (authsms.go, authemail.go, authduo.go).
	directory.DeviceSMS: {
		selected: selectSMS, checkCode: checkSMSCode,
	},
	directory.DeviceEmail: {
		challenge: emailChallenge, selected: selectEmail, checkCode: checkEmailCode,
	},
	directory.DeviceDuo: {
		answerField: "duo", answer: answerDuo,
	},
	// WebAuthn (authwebauthn.go).
	directory.DeviceWebAuthn: {
		offer: func(cfg stage.AuthenticatorValidate, dev directory.Device) bool {
			return !webauthnTypeRefused(cfg, dev)
		},
		challenge:   webauthnDeviceChallenge,
		answerField: "webauthn",
		answer:      answerWebAuthn,
	},
}

// checkDeviceClassHandlers checks the map: every class and no other,
// each answered somehow, the answer fields not "code" and distinct.
func checkDeviceClassHandlers(m map[directory.DeviceClass]deviceClassHandler) error {
	for _, c := range directory.DeviceClasses {
		if _, ok := m[c]; !ok {
			return fmt.Errorf("executor: no device class handler for %q", c)
		}
	}
	fields := map[string]directory.DeviceClass{}
	for c, h := range m {
		switch {
		case !slices.Contains(directory.DeviceClasses, c):
			return fmt.Errorf("executor: a device class handler for unknown class %q", c)
		case h.checkCode == nil && h.answer == nil:
			return fmt.Errorf("executor: the %s device class handler answers nothing (checkCode or answer)", c)
		case h.answer != nil && (h.answerField == "" || h.answerField == "code"):
			return fmt.Errorf("executor: the %s device class handler's answer needs its own field", c)
		case store.DeviceModels[c] == "":
			return fmt.Errorf("executor: device class %s has no model in the store", c)
		}
		if h.answer != nil {
			if o, dup := fields[h.answerField]; dup {
				return fmt.Errorf("executor: device classes %s and %s both answer field %q", o, c, h.answerField)
			}
			fields[h.answerField] = c
		}
	}
	return nil
}

// checkTOTPCode is django-otp's TOTPDevice.verify_token: the code of a
// step within the tolerance, after the last accepted one; a match moves
// last_t and the drift.
func checkTOTPCode(dev *directory.Device, code string, now time.Time) bool {
	t := dev.TOTP
	if t == nil {
		return false
	}
	g := otp.TOTP{Key: t.Key, Step: int64(t.Step), T0: t.T0, Digits: t.Digits, Drift: int64(t.Drift)}
	m, ok := g.Verify(code, now, t.Tolerance, t.LastT)
	if !ok {
		return false
	}
	t.LastT, t.Drift = m.T, int(m.Drift)
	return true
}

// checkStaticCode is django-otp's StaticDevice.verify_token: a code
// among the device's, which is removed. Every kept hash is compared, in
// constant time.
func checkStaticCode(dev *directory.Device, code string, _ time.Time) bool {
	if dev.Static == nil || code == "" {
		return false
	}
	h := directory.HashStaticToken(code)
	at := -1
	for i, k := range dev.Static.TokenHashes {
		if otp.EqualStatic(k, h) && at < 0 {
			at = i
		}
	}
	if at < 0 {
		return false
	}
	dev.Static.TokenHashes = slices.Delete(dev.Static.TokenHashes, at, at+1)
	return true
}

// deviceRef is a device as authentik's events and auth_method_args name
// a model instance (sanitize_item): its app, model, pk and name.
func deviceRef(dev directory.Device) map[string]any {
	app, model, _ := strings.Cut(store.DeviceModels[dev.Class], ".")
	return map[string]any{"app": app, "model_name": model, "pk": float64(dev.PK), "name": dev.Name}
}

// codeError is the "code" field's message of a code no device accepts.
func codeError() *validate.Error { return fieldError("code", MsgInvalidToken) }
