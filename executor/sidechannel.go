package executor

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/validate"
)

// The side-channel devices (SMS and email) of authentik's
// SideChannelDevice: a code of sideChannelDigits random digits is sent
// to the user and works until it expires, once.
//
// While an authenticator_sms or authenticator_email stage sets a device
// up, authentik keeps the unsaved device in the session; authflow keeps
// it in the plan context (ContextSMSDevice, ContextEmailDevice: the
// number or address, the code, its expiry and the wrong codes tried),
// so that it lives as long as the execution, and survives re-renders;
// the inspector shows the code as "********". It is removed when the
// device is saved.
const (
	// sideChannelDigits is the length of a code (authentik's default).
	sideChannelDigits = 6
	// DefaultSMSCodeTTL is how long an SMS code works (authentik's
	// generate_token default).
	DefaultSMSCodeTTL = 300 * time.Second
	// MaxSetupCodeAttempts is how many wrong codes a setup stage takes
	// for one code (authflow's bound; authentik has none): past it, the
	// code is dropped, and the user asks for a new one by giving the
	// number or address again.
	MaxSetupCodeAttempts = 5
)

// Messages of the SMS and email setup stages, in authentik's words but
// MsgCodesLimit and MsgSetupNoUser, besides MsgCodeMismatch (a
// non-field error here) and MsgNoDevices.
const (
	// MsgCodesLimit is the non-field error of a number or address given
	// when MaxEmailsPerUser codes were sent to the user within
	// EmailWindow.
	MsgCodesLimit = "Too many codes were sent. Wait a few minutes and try again."
	// MsgSetupNoUser is the error_message of a setup stage reached
	// without a user to set a device up for.
	MsgSetupNoUser = "No pending user."
)

// sideChannelSetup is a side-channel device being set up.
type sideChannelSetup struct {
	// Address is the number or the email address; "" until given.
	Address string
	directory.SideChannel
	// Attempts counts the wrong codes given for the current code.
	Attempts int
	// Ask says the address known beforehand was refused (a device's
	// already): the user gives one.
	Ask bool
}

// loadSetup reads the device being set up under key; false when none.
func loadSetup(c map[string]any, key string) (sideChannelSetup, bool) {
	m, ok := c[key].(map[string]any)
	if !ok {
		return sideChannelSetup{}, false
	}
	var st sideChannelSetup
	st.Address, _ = m["address"].(string)
	st.Token, _ = m["token"].(string)
	if v, ok := m["valid_until"].(string); ok {
		st.ValidUntil, _ = time.Parse(time.RFC3339Nano, v)
	}
	st.Ask, _ = m["ask"].(bool)
	switch n := m["attempts"].(type) {
	case float64:
		st.Attempts = int(n)
	case int:
		st.Attempts = n
	}
	return st, true
}

// save keeps st under key.
func (st sideChannelSetup) save(c map[string]any, key string) {
	c[key] = map[string]any{
		"address": st.Address, "token": st.Token,
		"valid_until": st.ValidUntil.UTC().Format(time.RFC3339Nano), "attempts": st.Attempts, "ask": st.Ask,
	}
}

// stale says st's code cannot be sent again: given wrong too often
// (dropped), or expired (authentik sends the expired code again). A
// number or address given then gets a new code.
func (st sideChannelSetup) stale(now time.Time) bool {
	return st.Token == "" || !now.Before(st.ValidUntil)
}

// newCode gives sc a new code that works for ttl from now.
func newCode(sc *directory.SideChannel, now time.Time, ttl time.Duration) error {
	var b strings.Builder
	for range sideChannelDigits {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			return err
		}
		b.WriteByte(byte('0' + d.Int64()))
	}
	sc.Token, sc.ValidUntil = b.String(), now.Add(ttl)
	return nil
}

// checkSideChannel reports whether code is sc's code and has not
// expired; when it is, the code is used: cleared, and ValidUntil set to
// now (authentik's verify_token).
func checkSideChannel(sc *directory.SideChannel, code string, now time.Time) bool {
	if sc.Token == "" || subtle.ConstantTimeCompare([]byte(code), []byte(sc.Token)) != 1 || !now.Before(sc.ValidUntil) {
		return false
	}
	sc.Token, sc.ValidUntil = "", now
	return true
}

// checkSetupCode checks the code of a setup response (an integer, as
// authentik's IntegerField takes it, compared with its leading zeros
// restored, so that a code beginning with 0 works: authentik compares
// the integer's digits and refuses it), counting a wrong one against
// MaxSetupCodeAttempts. A code given before the number or address is
// wrong: none was sent.
func checkSetupCode(st *sideChannelSetup, code int64, now time.Time) bool {
	s := strconv.FormatInt(code, 10)
	if code >= 0 && len(s) < len(st.Token) {
		s = strings.Repeat("0", len(st.Token)-len(s)) + s
	}
	if st.Address != "" && st.Attempts < MaxSetupCodeAttempts && checkSideChannel(&st.SideChannel, s, now) {
		return true
	}
	if st.Attempts++; st.Attempts >= MaxSetupCodeAttempts {
		st.Token = ""
	}
	return false
}

// confirmSetup checks a setup response's code against st (kept under
// key): a wrong one is MsgCodeMismatch; the right one saves d, the
// device (dupMsg when another execution saved its number or address
// first), drops st and passes the stage.
func confirmSetup(ctx context.Context, s *Step, st sideChannelSetup, key string, code int64, d directory.Device, dupMsg string) (Result, error) {
	if !checkSetupCode(&st, code, s.ex.now()) {
		st.save(s.Context, key)
		return Retry(nonField(MsgCodeMismatch)), nil
	}
	_, err := s.ex.devices.CreateDevice(ctx, d)
	if errors.Is(err, directory.ErrDeviceExists) {
		return Retry(nonField(dupMsg)), nil
	}
	if err != nil {
		return Result{}, err
	}
	delete(s.Context, key)
	return Pass(), nil
}

// setupResponse is the response of the SMS and email setup challenges:
// the address (under the component's own key, read by the handler) or
// the code.
type setupResponse struct {
	Code        *int64  `json:"code"`
	PhoneNumber *string `json:"phone_number"`
	Email       *string `json:"email"`
}

// setupUsable checks what every setup stage needs: a device store and
// a user; ok false with the result to answer.
func setupUsable(ctx context.Context, s *Step) (int64, Result, bool, error) {
	if s.ex.devices == nil {
		return 0, noDevices(s), false, nil
	}
	pk, _, ok, err := setupUser(ctx, s)
	if err != nil || !ok {
		return 0, Invalid(MsgSetupNoUser), false, err
	}
	return pk, Result{}, true, nil
}

// countCode counts a code sent to user pk against the bound the email
// stage's messages have (MaxEmailsPerUser in EmailWindow), under its
// own prefix: ok false with the Retry to answer past it.
func countCode(ctx context.Context, s *Step, prefix string, pk int64) (Result, bool, error) {
	ok, err := s.ex.countSent(ctx, prefix, pk)
	if err != nil || ok {
		return Result{}, ok, err
	}
	return Retry(nonField(MsgCodesLimit)), false, nil
}

// promptValue is prompt_data[key] of the context, a string; "" when
// none.
func promptValue(c map[string]any, key string) string {
	pd, _ := c[ContextPromptData].(map[string]any)
	v, _ := pd[key].(string)
	return v
}

// dropPromptValue removes prompt_data[key] from the context.
func dropPromptValue(c map[string]any, key string) {
	if pd, ok := c[ContextPromptData].(map[string]any); ok {
		delete(pd, key)
	}
}

// isRefusal says err is a refusal to show (a *validate.Error).
func isRefusal(err error) bool {
	var verr *validate.Error
	return errors.As(err, &verr)
}

// newDeviceCode gives a stored SMS or email device a new code that
// works for ttl, atomically, and returns the device with it.
func newDeviceCode(ctx context.Context, s *Step, dev directory.Device, ttl time.Duration) (directory.Device, error) {
	now := s.ex.now()
	return s.ex.devices.UpdateDevice(ctx, dev.Class, dev.PK, func(d *directory.Device) error {
		switch {
		case d.SMS != nil:
			return newCode(&d.SMS.SideChannel, now, ttl)
		case d.Email != nil:
			return newCode(&d.Email.SideChannel, now, ttl)
		}
		return directory.ErrDeviceUnchanged
	})
}
