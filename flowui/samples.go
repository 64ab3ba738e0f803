package flowui

import (
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/stage"
	"github.com/google/uuid"
)

// samples are challenges of every component the UI renders, with every
// optional part set: New renders each through its template, so that a
// template that fails on a challenge fails at once, not on a visitor.
func samples() []executor.Challenge {
	fi := &executor.FlowInfo{Title: "Sample", Background: BackgroundPath, CancelURL: executor.CancelURL, Layout: "stacked"}
	env := func(c string) executor.Envelope {
		return executor.Envelope{FlowInfo: fi, Component: c, ResponseErrors: map[string][]executor.ErrorDetail{
			"non_field_errors": {{String: "Sample error.", Code: "invalid"}},
		}}
	}
	withErr := func(c, field string) executor.Envelope {
		e := env(c)
		e.ResponseErrors[field] = []executor.ErrorDetail{{String: "Sample field error.", Code: "invalid"}}
		return e
	}
	user := executor.UserInfo{PendingUser: "sample", PendingUserAvatar: directory.Avatar(directory.User{Username: "sample"})}
	captcha := &executor.CaptchaChallenge{Envelope: env(executor.ComponentCaptcha), UserInfo: user, SiteKey: "key", JSURL: "https://js.hcaptcha.com/1/api.js", Interactive: true}
	header := "Sample header"
	maskedEmail := "s*****@e******.com"
	var fields []executor.StagePrompt
	for i, t := range stage.PromptTypes {
		f := executor.StagePrompt{FieldKey: "field_" + string(t), Label: "Label " + string(t), Type: t, Required: i%2 == 0,
			Placeholder: "placeholder", InitialValue: "", Order: int32(i), SubText: "Sub text"}
		switch t {
		case "dropdown", "radio-button-group":
			f.Choices = []string{"a", "b"}
			f.InitialValue = "b"
		case "date-time":
			f.InitialValue = "2026-01-02T03:04:05Z"
		case "checkbox":
			f.InitialValue = "true"
		}
		fields = append(fields, f)
	}
	return []executor.Challenge{
		&executor.IdentificationChallenge{Envelope: withErr(executor.ComponentIdentification, "uid_field"), UserFields: []string{"username", "email"},
			PasswordFields: true, AllowShowPassword: true, ApplicationPre: "App", FlowDesignation: "authentication", CaptchaStage: captcha,
			EnrollURL: "/if/flow/enroll/", RecoveryURL: "/if/flow/recover/", PasswordlessURL: "/if/flow/passwordless/",
			PrimaryAction: "Log in", Sources: []executor.LoginSource{}, EnableRememberMe: true},
		&executor.PasswordChallenge{Envelope: withErr(executor.ComponentPassword, "password"), UserInfo: user, RecoveryURL: "/if/flow/recover/", AllowShowPassword: true},
		&executor.PromptChallenge{Envelope: withErr(executor.ComponentPrompt, "field_text"), Fields: fields},
		&executor.ConsentChallenge{Envelope: env(executor.ComponentConsent), UserInfo: user, HeaderText: &header,
			Permissions: []executor.ConsentPermission{{Name: "Read", ID: "read"}}, AdditionalPermissions: []executor.ConsentPermission{{Name: "Write", ID: "write"}}, Token: "token"},
		captcha,
		&executor.AuthenticatorValidationChallenge{Envelope: withErr(executor.ComponentAuthenticatorValidate, "code"), UserInfo: user,
			DeviceChallenges: []executor.DeviceChallenge{{DeviceClass: "static", DeviceUID: "1"}, {DeviceClass: "totp", DeviceUID: "1"},
				{DeviceClass: "webauthn", DeviceUID: "1", Challenge: map[string]any{"challenge": "Y2hhbGxlbmdlY2hhbGxlbmdl", "timeout": 60000, "rpId": "example.com",
					"allowCredentials": []any{map[string]any{"type": "public-key", "id": "AQID"}}, "userVerification": "preferred"}},
				{DeviceClass: "duo", DeviceUID: "2"}, {DeviceClass: "sms", DeviceUID: "3"}, {DeviceClass: "email", DeviceUID: "4", Challenge: map[string]any{"email": maskedEmail}}},
			ConfigurationStages: []executor.SelectableStage{{PK: uuid.Nil, Name: "totp", VerboseName: "TOTP Authenticator Setup Stage"}}},
		&executor.AuthenticatorTOTPChallenge{Envelope: withErr(executor.ComponentAuthenticatorTOTP, "code"), UserInfo: user,
			ConfigURL: "otpauth://totp/authentik%3Asample?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30&issuer=authentik"},
		&executor.AuthenticatorStaticChallenge{Envelope: env(executor.ComponentAuthenticatorStatic), UserInfo: user, Codes: []string{"aB3dE5fG7hJ9", "kL2mN4pQ6rS8"}},
		&executor.AuthenticatorWebAuthnChallenge{Envelope: withErr(executor.ComponentAuthenticatorWebAuthn, "response"), UserInfo: user,
			Registration: map[string]any{"rp": map[string]any{"id": "example.com", "name": "authentik"}, "user": map[string]any{"id": "dWlk", "name": "sample", "displayName": "Sample"},
				"challenge": "Y2hhbGxlbmdlY2hhbGxlbmdl", "pubKeyCredParams": []any{map[string]any{"type": "public-key", "alg": -7}}, "timeout": 60000,
				"excludeCredentials": []any{map[string]any{"type": "public-key", "id": "AQID"}}, "attestation": "direct",
				"authenticatorSelection": map[string]any{"residentKey": "preferred", "requireResidentKey": false, "userVerification": "preferred"}}},
		&executor.EmailChallenge{Envelope: env(executor.ComponentEmail)},
		&executor.AuthenticatorSMSChallenge{Envelope: withErr(executor.ComponentAuthenticatorSMS, "phone_number"), UserInfo: user, PhoneNumberRequired: true},
		&executor.AuthenticatorEmailChallenge{Envelope: withErr(executor.ComponentAuthenticatorEmail, "code"), UserInfo: user, Email: &maskedEmail},
		&executor.AuthenticatorDuoChallenge{Envelope: env(executor.ComponentAuthenticatorDuo), UserInfo: user,
			ActivationBarcode: "https://api-1.duosecurity.com/frame/qr?value=sample", ActivationCode: "duo://sample-activation", StageUUID: uuid.Nil.String()},
		&executor.DummyChallenge{Envelope: env(executor.ComponentDummy), Name: "dummy"},
		&executor.UserLoginChallenge{Envelope: env(executor.ComponentUserLogin), UserInfo: user},
		&executor.AccessDenied{Envelope: env(executor.ComponentAccessDenied), UserInfo: user, ErrorMessage: "Denied."},
		&executor.FlowError{Envelope: executor.Envelope{Component: executor.ComponentFlowError}, RequestID: "0123456789abcdef"},
	}
}
