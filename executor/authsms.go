package executor

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/stage"
)

// The authenticator_sms setup stage (authentik's
// stages/authenticator_sms, EXECUTOR.md §4.16).
const (
	// ComponentAuthenticatorSMS is its challenge.
	ComponentAuthenticatorSMS = "ak-stage-authenticator-sms"
	// ContextSMSDevice is the plan context key of the device being set
	// up (authentik's session key; see sideChannelSetup).
	ContextSMSDevice = "authentik/stages/authenticator_sms/sms_device"
	// PromptPhone is the prompt_data key of a number an earlier prompt
	// stage asked for: the stage sends the code to it at once.
	PromptPhone = "phone"
	// MsgPhoneRequired is the non-field error of a response with
	// neither a number nor a code.
	MsgPhoneRequired = "phone_number required"
	// MsgInvalidPhone is the non-field error of a number that a device
	// of the stage has already.
	MsgInvalidPhone = "Invalid phone number"
	// smsDeviceName is the name of the devices it saves.
	smsDeviceName = "SMS Device"
)

// AuthenticatorSMSChallenge is ak-stage-authenticator-sms: the number
// is asked for while PhoneNumberRequired, then the code.
type AuthenticatorSMSChallenge struct {
	Envelope
	UserInfo
	PhoneNumberRequired bool `json:"phone_number_required"`
}

// authSMSHandler is authentik's authenticator_sms stage: the number
// (from prompt_data["phone"], or asked for), a code sent to it, and the
// code given back; then the device is saved, confirmed, with only the
// hash of the number when the stage is verify_only. It needs
// Options.SMS and a device store.
type authSMSHandler struct{}

// usable checks what the stage needs: the SMS sender and setupUsable's.
func (authSMSHandler) usable(ctx context.Context, s *Step) (stage.AuthenticatorSMS, int64, Result, bool, error) {
	cfg := s.Stage.Config.(stage.AuthenticatorSMS)
	if r, ok := smsUsable(s, cfg); !ok {
		return cfg, 0, r, false, nil
	}
	pk, r, ok, err := setupUsable(ctx, s)
	return cfg, pk, r, ok, err
}

func (h authSMSHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	cfg, pk, r, ok, err := h.usable(ctx, s)
	if !ok {
		return r, err
	}
	if _, ok := loadSetup(s.Context, ContextSMSDevice); !ok {
		st, err := h.start(s)
		if err != nil {
			return Result{}, err
		}
		if phone := promptValue(s.Context, PromptPhone); phone != "" {
			st.Address = phone
			if _, sent, err := h.send(ctx, s, cfg, pk, st); err != nil {
				return Result{}, err
			} else if !sent {
				// A number of another device, or refused: forget it,
				// and ask for one.
				dropPromptValue(s.Context, PromptPhone)
				st.Address = ""
			}
		}
		st.save(s.Context, ContextSMSDevice)
	}
	return Show(h.challenge(s)), nil
}

// start is a new device's state, with its code.
func (authSMSHandler) start(s *Step) (sideChannelSetup, error) {
	var st sideChannelSetup
	err := newCode(&st.SideChannel, s.ex.now(), DefaultSMSCodeTTL)
	return st, err
}

func (authSMSHandler) challenge(s *Step) *AuthenticatorSMSChallenge {
	st, _ := loadSetup(s.Context, ContextSMSDevice)
	has := promptValue(s.Context, PromptPhone) != "" || st.Address != ""
	return &AuthenticatorSMSChallenge{Envelope: s.Envelope(ComponentAuthenticatorSMS), UserInfo: s.UserInfo(), PhoneNumberRequired: !has}
}

// send checks that no device of the stage has st's number and sends
// st's code to it (authentik's validate_and_send): sent false with the
// Retry to answer when not.
func (authSMSHandler) send(ctx context.Context, s *Step, cfg stage.AuthenticatorSMS, pk int64, st sideChannelSetup) (Result, bool, error) {
	for _, n := range []string{st.Address, hashPhoneNumber(st.Address)} {
		_, err := s.ex.devices.FindDevice(ctx, directory.DeviceFind{Stage: s.Stage.PK, Phone: n})
		if err == nil {
			return Retry(nonField(MsgInvalidPhone)), false, nil
		}
		if !errors.Is(err, directory.ErrNotFound) {
			return Result{}, false, err
		}
	}
	if r, ok, err := countCode(ctx, s, "sms:", pk); !ok || err != nil {
		return r, false, err
	}
	return sendSMS(ctx, s, cfg, st.Address, st.Token)
}

func (h authSMSHandler) Respond(ctx context.Context, s *Step, body json.RawMessage) (Result, error) {
	cfg, pk, r, ok, err := h.usable(ctx, s)
	if !ok {
		return r, err
	}
	resp, verr, err := DecodeResponse[setupResponse](body)
	if err != nil {
		return Result{}, err
	} else if verr != nil {
		return Retry(verr), nil
	}
	st, ok := loadSetup(s.Context, ContextSMSDevice)
	if !ok {
		if st, err = h.start(s); err != nil {
			return Result{}, err
		}
	}
	if resp.Code == nil {
		if resp.PhoneNumber == nil {
			return Retry(nonField(MsgPhoneRequired)), nil
		}
		st.Address = *resp.PhoneNumber
		if st.stale(s.ex.now()) {
			if err := newCode(&st.SideChannel, s.ex.now(), DefaultSMSCodeTTL); err != nil {
				return Result{}, err
			}
			st.Attempts = 0
		}
		r, sent, err := h.send(ctx, s, cfg, pk, st)
		if err != nil || !sent {
			return r, err
		}
		st.save(s.Context, ContextSMSDevice)
		// The same challenge again, now for the code.
		return Show(h.challenge(s)), nil
	}
	phone := st.Address
	if cfg.VerifyOnly {
		phone = hashPhoneNumber(phone)
	}
	return confirmSetup(ctx, s, st, ContextSMSDevice, *resp.Code, directory.Device{
		Class: directory.DeviceSMS, User: pk, Name: smsDeviceName, Confirmed: true, Stage: s.Stage.PK,
		SMS: &directory.SMSDevice{Phone: phone},
	}, MsgInvalidPhone)
}

// selectSMS is the SMS class's selected hook of authenticator_validate
// (authentik's select_challenge_sms): a new code for the device, sent
// to its number through its setup stage's provider.
func selectSMS(ctx context.Context, s *Step, dev directory.Device) error {
	st, ok, err := s.stageOf(ctx, &dev.Stage)
	if err != nil {
		return err
	}
	cfg, isSMS := st.Config.(stage.AuthenticatorSMS)
	if !ok || !isSMS {
		return nonField(MsgStageGone)
	}
	if r, ok := smsUsable(s, cfg); !ok {
		return nonField(r.message)
	}
	if _, ok, err := countCode(ctx, s, "sms:", dev.User); err != nil {
		return err
	} else if !ok {
		return nonField(MsgCodesLimit)
	}
	dev, err = newDeviceCode(ctx, s, dev, DefaultSMSCodeTTL)
	if err != nil {
		return err
	}
	if err := s.ex.sms.SendSMS(ctx, cfg, dev.SMS.Phone, dev.SMS.Token); err != nil {
		s.Event(EventConfigurationError, MsgSMSError)
		return err
	}
	return nil
}

// checkSMSCode is the SMS class's checkCode: the device's code, once,
// before it expires.
func checkSMSCode(dev *directory.Device, code string, now time.Time) bool {
	return dev.SMS != nil && checkSideChannel(&dev.SMS.SideChannel, code, now)
}
