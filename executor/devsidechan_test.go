package executor

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/memdir"
	"github.com/google/uuid"
)

// sideFlow is an authentication flow validating alice's sms, email and
// duo devices, with their setup stages (unbound).
func sideFlow(smsURL string) string {
	return mfaFlow("authentication", "not_configured_action: deny, device_classes: [sms, email, duo, totp]",
		dummy("f", "after", 20, ""),
		unbound("authentik_stages_authenticator_sms.authenticatorsmsstage", "sms", "provider: generic, from_number: '+1000', account_sid: '"+smsURL+"', auth: tok"),
		unbound("authentik_stages_authenticator_email.authenticatoremailstage", "mail", "token_expiry: minutes=3"),
		unbound("authentik_stages_authenticator_duo.authenticatorduostage", "duo", "client_id: DIKEY, client_secret: duo-secret, api_hostname: "+duoHost))
}

func (h *mfaHarness) addDevice(t *testing.T, d directory.Device) directory.Device {
	t.Helper()
	d.User, d.Confirmed = h.alice.PK, true
	d, err := h.devs.CreateDevice(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// challengeOf is the device challenge of class in a validation
// challenge.
func challengeOf(t *testing.T, r reply, class string) map[string]any {
	t.Helper()
	l, _ := r.body["device_challenges"].([]any)
	for _, c := range l {
		m := c.(map[string]any)
		if m["device_class"] == class {
			return m
		}
	}
	t.Fatalf("no %s challenge: %s", class, r.raw)
	return nil
}

// SMS and email codes in authenticator_validate: selecting the
// challenge sends a code now ("Empty response" when sent alone), the
// code opens the device once, before it expires; the email challenge
// shows the address masked; a verify_only device is not offered.
func TestValidateSideChannelCodes(t *testing.T) {
	f := newFakeSMS(t)
	m := &testMailer{}
	h := newMFAHarness(t, sideFlow(f.srv.URL), withSMS(f), withMailer(m))
	smsPK, mailPK := uuid.MustParse(h.stagePK("sms")), uuid.MustParse(h.stagePK("mail"))
	sms := h.addDevice(t, directory.Device{Class: directory.DeviceSMS, Name: "sms", Stage: smsPK, SMS: &directory.SMSDevice{Phone: "+1555"}})
	h.addDevice(t, directory.Device{Class: directory.DeviceSMS, Name: "hashed", Stage: smsPK, SMS: &directory.SMSDevice{Phone: hashPhoneNumber("+1666")}})
	mail := h.addDevice(t, directory.Device{Class: directory.DeviceEmail, Name: "mail", Stage: mailPK, Email: &directory.EmailDevice{Email: "alice@example.com"}})
	h.login(t)
	r := h.get("f", "")
	r.want(t, ComponentAuthenticatorValidate)
	if l := r.body["device_challenges"].([]any); len(l) != 2 {
		t.Fatalf("challenges %s", r.raw)
	}
	if c := challengeOf(t, r, "email")["challenge"].(map[string]any); c["email"] != "a****@e******.com" {
		t.Fatalf("email challenge %v", c)
	}
	if c := challengeOf(t, r, "sms"); c["device_uid"] != "1" || len(c["challenge"].(map[string]any)) != 0 {
		t.Fatalf("sms challenge %v", c)
	}
	if f.count() != 0 || m.count() != 0 {
		t.Fatal("sent before selection")
	}
	// Selected alone: sent, and "Empty response".
	r = h.post("f", "", postJSON(map[string]any{"selected_challenge": map[string]any{"device_class": "sms", "device_uid": "1", "challenge": map[string]any{}}}))
	if nonFieldOf(r) != MsgEmptyResponse {
		t.Fatalf("selection: %s", r.raw)
	}
	rq := f.last(t)
	if rq.json["To"] != "+1555" {
		t.Fatalf("sms %+v", rq)
	}
	code := rq.json["Body"]
	if d, _ := h.devs.Device(context.Background(), directory.DeviceSMS, sms.PK); d.SMS.Token != code {
		t.Fatal("the code is not the device's")
	}
	// The email's code does not open the SMS device, nor a wrong one.
	if msg := h.codeErr(t, "x"+code); msg != MsgInvalidToken {
		t.Fatal(msg)
	}
	h.post("f", "", postJSON(map[string]any{"code": code})).wantReload(t, h.url("f", ""))
	h.get("f", "").want(t, ComponentDummy)
	d, _ := h.devs.Device(context.Background(), directory.DeviceSMS, sms.PK)
	if d.SMS.Token != "" || d.LastUsed == nil {
		t.Fatalf("after use %+v %v", d.SMS, d.LastUsed)
	}
	args := h.execution("f").Context[ContextAuthMethodArgs].(map[string]any)["mfa_devices"].([]any)
	if ref := args[0].(map[string]any); ref["model_name"] != "smsdevice" || ref["app"] != "authentik_stages_authenticator_sms" {
		t.Fatal(ref)
	}
	// Used once.
	h.login(t)
	h.get("f", "")
	if msg := h.codeErr(t, code); msg != MsgInvalidToken {
		t.Fatal(msg)
	}

	// Email: mailed on selection, expires after the stage's token_expiry.
	h.login(t)
	h.get("f", "")
	h.post("f", "", postJSON(map[string]any{"selected_challenge": map[string]any{"device_class": "email", "device_uid": "1"}}))
	code = mailedCode(t, m)
	if to := m.last(t).To[0].Email; to != "alice@example.com" {
		t.Fatal(to)
	}
	h.advance(3 * 60e9)
	if msg := h.codeErr(t, code); msg != MsgInvalidToken {
		t.Fatal(msg)
	}
	h.post("f", "", postJSON(map[string]any{"selected_challenge": map[string]any{"device_class": "email", "device_uid": "1"}}))
	h.post("f", "", postJSON(map[string]any{"code": mailedCode(t, m)})).wantReload(t, h.url("f", ""))
	h.get("f", "").want(t, ComponentDummy)
	if d, _ := h.devs.Device(context.Background(), directory.DeviceEmail, mail.PK); d.Email.Token != "" {
		t.Fatal("the email code kept")
	}
}

// A provider's refusal on selection is the selected_challenge's
// message; without a sender, the selection says so.
func TestValidateSMSRefused(t *testing.T) {
	f := newFakeSMS(t)
	h := newMFAHarness(t, sideFlow(f.srv.URL), withSMS(f))
	h.addDevice(t, directory.Device{Class: directory.DeviceSMS, Name: "sms", Stage: uuid.MustParse(h.stagePK("sms")), SMS: &directory.SMSDevice{Phone: "+1555"}})
	h.login(t)
	h.get("f", "")
	f.status, f.answer = http.StatusBadRequest, "number blocked"
	r := h.post("f", "", postJSON(map[string]any{"selected_challenge": map[string]any{"device_class": "sms", "device_uid": "1"}}))
	errs, _ := r.body["response_errors"].(map[string]any)
	if l, _ := errs["selected_challenge"].([]any); len(l) != 1 || l[0].(map[string]any)["string"] != "number blocked" {
		t.Fatalf("refusal: %s", r.raw)
	}
	if ev := h.lastEvent(t, EventConfigurationError); ev.Message != MsgSMSError {
		t.Fatal(ev)
	}
}

// Duo in authenticator_validate: the device's pk in "duo" pushes
// synchronously through its stage's integration; an approval passes, a
// denial is "Duo denied access" (code denied) and a login_failed; a
// device of another user is a flow error.
func TestValidateDuo(t *testing.T) {
	f := newFakeDuo(t)
	h := newMFAHarness(t, sideFlow("http://127.0.0.1:1"), withDuo(f))
	duoPK := uuid.MustParse(h.stagePK("duo"))
	dev := h.addDevice(t, directory.Device{Class: directory.DeviceDuo, Name: "duo", Stage: duoPK, Duo: &directory.DuoDevice{DuoUserID: "DU7"}})
	u := directory.DefaultUser()
	u.Username = "bob"
	bob, err := h.devs.(*memdir.Dir).CreateUser(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	other, err := h.devs.CreateDevice(context.Background(), directory.Device{Class: directory.DeviceDuo, User: bob.PK, Name: "bob", Confirmed: true, Stage: duoPK, Duo: &directory.DuoDevice{DuoUserID: "DU8"}})
	if err != nil {
		t.Fatal(err)
	}
	h.login(t)
	challengeOf(t, h.get("f", ""), "duo")
	f.result = "deny"
	r := h.post("f", "", postJSON(map[string]any{"duo": dev.PK}))
	errs, _ := r.body["response_errors"].(map[string]any)
	if l, _ := errs["duo"].([]any); len(l) != 1 || l[0].(map[string]any)["string"] != MsgDuoDenied || l[0].(map[string]any)["code"] != "denied" {
		t.Fatalf("denied: %s", r.raw)
	}
	if ev := h.lastEvent(t, EventLoginFailed); ev.Message != MsgDuoDenied || ev.User != "alice" {
		t.Fatal(ev)
	}
	_, p := f.last()
	if p["user_id"] != "DU7" || p["factor"] != "auto" || p["display_username"] != "alice" || p["type"] != "authentik Login request" {
		t.Fatal(p)
	}
	f.result = "allow"
	h.post("f", "", postJSON(map[string]any{"duo": dev.PK})).wantReload(t, h.url("f", ""))
	h.get("f", "").want(t, ComponentDummy)
	args := h.execution("f").Context[ContextAuthMethodArgs].(map[string]any)["mfa_devices"].([]any)
	if ref := args[0].(map[string]any); ref["model_name"] != "duodevice" {
		t.Fatal(ref)
	}
	h.login(t)
	h.get("f", "")
	h.post("f", "", postJSON(map[string]any{"duo": other.PK})).want(t, ComponentFlowError)
	if ev := h.lastEvent(t, EventSystemException); !strings.Contains(ev.Message, "no Duo device of the user") {
		t.Fatal(ev)
	}
}

// The codes sent on selection are bounded per user: past
// MaxEmailsPerUser in EmailWindow, the selection says MsgCodesLimit and
// nothing is sent, until the window has passed.
func TestValidateSelectionBound(t *testing.T) {
	f := newFakeSMS(t)
	h := newMFAHarness(t, sideFlow(f.srv.URL), withSMS(f))
	h.addDevice(t, directory.Device{Class: directory.DeviceSMS, Name: "sms", Stage: uuid.MustParse(h.stagePK("sms")), SMS: &directory.SMSDevice{Phone: "+1555"}})
	h.login(t)
	h.get("f", "")
	sel := postJSON(map[string]any{"selected_challenge": map[string]any{"device_class": "sms", "device_uid": "1"}})
	for range MaxEmailsPerUser {
		if r := h.post("f", "", sel); nonFieldOf(r) != MsgEmptyResponse {
			t.Fatal(r.raw)
		}
	}
	r := h.post("f", "", sel)
	errs, _ := r.body["response_errors"].(map[string]any)
	if l, _ := errs["selected_challenge"].([]any); len(l) != 1 || l[0].(map[string]any)["string"] != MsgCodesLimit || f.count() != MaxEmailsPerUser {
		t.Fatalf("past the bound: %s (%d sent)", r.raw, f.count())
	}
	h.advance(EmailWindow)
	h.post("f", "", sel)
	if f.count() != MaxEmailsPerUser+1 {
		t.Fatal("not sent after the window")
	}
}

// On the store's own devices (store.Directory): an SMS device set up
// through authenticator_sms, then a login that selects it, sends a code
// and accepts it once; the code sent is never kept in the clear in the
// store's file.
func TestSideChannelOnStoreDevices(t *testing.T) {
	f := newFakeSMS(t)
	h := newStoreMFAHarness(t, sideFlow(f.srv.URL)+
		"- model: authentik_flows.flow\n  id: setup\n  identifiers: {slug: setup}\n  attrs: {name: setup, title: setup, designation: stage_configuration}\n"+
		"- model: authentik_flows.flowstagebinding\n  identifiers: {target: !KeyOf setup, stage: !KeyOf sms, order: 0}\n"+
		policyOn("setup", "pending", true), withSMS(f))
	// alice (pk 1) is the setup flow's pending user.
	if h.alice.PK != 1 {
		t.Fatal(h.alice.PK)
	}
	h.get("setup", "").want(t, ComponentAuthenticatorSMS, "phone_number_required", true)
	h.post("setup", "", `{"phone_number": "+15550009"}`).want(t, ComponentAuthenticatorSMS)
	h.post("setup", "", `{"code": "`+f.last(t).json["Body"]+`"}`)
	devs, err := h.devs.UserDevices(context.Background(), h.alice.PK)
	if err != nil || len(devs) != 1 || devs[0].SMS == nil || devs[0].SMS.Phone != "+15550009" {
		t.Fatalf("devices %+v %v", devs, err)
	}
	h.login(t)
	challengeOf(t, h.get("f", ""), "sms")
	h.post("f", "", postJSON(map[string]any{"selected_challenge": map[string]any{"device_class": "sms", "device_uid": fmt.Sprint(devs[0].PK)}}))
	code := f.last(t).json["Body"]
	h.post("f", "", postJSON(map[string]any{"code": code})).wantReload(t, h.url("f", ""))
	h.get("f", "").want(t, ComponentDummy)
	h.login(t)
	h.get("f", "")
	if msg := h.codeErr(t, code); msg != MsgInvalidToken {
		t.Fatal(msg)
	}
}
