package flowui

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/authflow/authflow/executor"
)

// form is a posted form: its values and files, and the component it
// answers.
type form struct {
	values    url.Values
	files     map[string][]*multipart.FileHeader
	component string
}

func (f *form) get(k string) string { return f.values.Get(k) }

func (f *form) has(k string) bool { _, ok := f.values[k]; return ok }

// ErrForm is a posted form the UI cannot read: too large, malformed,
// with too many keys, or for no known component. The page says so (413
// for a body too large, else 400).
var ErrForm = errors.New("flowui: the form cannot be read")

// formError is an ErrForm with the sentence the page shows; a body too
// large is 413, any other 400.
type formError struct {
	msg     string
	tooLong bool
}

func (e *formError) Error() string { return e.msg }
func (e *formError) Unwrap() error { return ErrForm }

// The sentences of formError.
const (
	msgFormTooLarge = "The form is too large."
	msgFormBad      = "The form could not be read."
	msgFormFields   = "The form has too many fields."
	msgFormUnknown  = "The form does not answer a step of this flow."
	msgFormFile     = "A file of the form could not be read."
)

// readForm reads a POST's form within the UI's bounds: a body of at
// most Options.MaxBody (Options.MaxUpload with files, kept in memory),
// Options.MaxFields values, and a known component.
func (u *UI) readForm(w http.ResponseWriter, r *http.Request) (*form, *formError) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	f := &form{}
	switch ct {
	// The body alone: net/http's ParseForm and ParseMultipartForm also
	// parse the URL's query, the executor's, and fail on a semicolon in
	// it (next=/app;id=1, as browsers send it).
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, u.o.MaxUpload)
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, &formError{msg: msgFormBad}
		}
		mf, err := mr.ReadForm(u.o.MaxUpload)
		if err != nil {
			return nil, tooLarge(err)
		}
		defer mf.RemoveAll()
		f.values, f.files = url.Values(mf.Value), mf.File
	case "application/x-www-form-urlencoded":
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, u.o.MaxBody))
		if err != nil {
			return nil, tooLarge(err)
		}
		if f.values, err = url.ParseQuery(string(b)); err != nil {
			return nil, &formError{msg: msgFormBad}
		}
	default:
		return nil, &formError{msg: msgFormBad}
	}
	n := 0
	for _, vs := range f.values {
		n += len(vs)
	}
	for _, fs := range f.files {
		n += len(fs)
	}
	if n > u.o.MaxFields {
		return nil, &formError{msg: msgFormFields}
	}
	f.component = f.get("component")
	if _, ok := components[f.component]; !ok && f.component != continueComponent {
		return nil, &formError{msg: msgFormUnknown}
	}
	return f, nil
}

// tooLarge is the formError of a body that did not parse.
func tooLarge(err error) *formError {
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return &formError{msg: msgFormTooLarge, tooLong: true}
	}
	return &formError{msg: msgFormBad}
}

// status is the HTTP status of a form that cannot be read.
func (e *formError) status() int {
	if e.tooLong {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// decode converts a form into the JSON response of its component.
func (u *UI) decode(f *form) (json.RawMessage, *formError) {
	body, ferr := components[f.component].decode(f)
	if ferr != nil {
		return nil, ferr
	}
	if body == nil {
		body = map[string]any{}
	}
	body["component"] = f.component
	b, err := json.Marshal(body)
	if err != nil {
		return nil, &formError{msg: msgFormBad}
	}
	return b, nil
}

// component is what the UI knows of a challenge component besides its
// template: how its form becomes the stage's response, and the fields
// its page shows, in order (for focus and errors).
type component struct {
	decode func(*form) (map[string]any, *formError)
	fields func(executor.Challenge) []string
}

// components are the challenge components the UI renders, by name.
// executor.ComponentRedirect is an HTTP redirect, never a page.
var components = map[string]component{
	executor.ComponentIdentification:        {decodeIdentification, identificationFields},
	executor.ComponentPassword:              {one("password", value("password")), fixed("password")},
	executor.ComponentPrompt:                {decodePrompt, promptFields},
	executor.ComponentConsent:               {one("token", value("token")), nil},
	executor.ComponentCaptcha:               {one("token", func(f *form) any { return captchaToken(f, "token") }), nil},
	executor.ComponentUserLogin:             {one("remember_me", func(f *form) any { return truthy(f.get("remember_me")) }), nil},
	executor.ComponentAuthenticatorValidate: {decodeAuthValidate, authValidateFields},
	executor.ComponentAuthenticatorSMS:      {decodeSetup("phone_number"), setupFields},
	executor.ComponentAuthenticatorEmail:    {decodeSetup("email"), setupFields},
	executor.ComponentAuthenticatorDuo:      {empty, nil},
	executor.ComponentAuthenticatorTOTP:     {one("code", value("code")), fixed("code")},
	executor.ComponentAuthenticatorStatic:   {empty, nil},
	executor.ComponentAuthenticatorWebAuthn: {decodeWebAuthnSetup, fixed("response")},
	executor.ComponentEmail:                 {empty, nil},
	executor.ComponentDummy:                 {empty, nil},
	executor.ComponentAccessDenied:          {empty, nil},
	executor.ComponentFlowError:             {empty, nil},
	executor.ComponentRedirect:              {empty, nil},
}

// empty decodes a form without fields.
func empty(*form) (map[string]any, *formError) { return nil, nil }

// one decodes a form of one field, key, whose value v reads.
func one(key string, v func(*form) any) func(*form) (map[string]any, *formError) {
	return func(f *form) (map[string]any, *formError) { return map[string]any{key: v(f)}, nil }
}

// value reads the form's field k as text.
func value(k string) func(*form) any { return func(f *form) any { return f.get(k) } }

// fixed are the fields of a page that always shows the same.
func fixed(fields ...string) func(executor.Challenge) []string {
	return func(executor.Challenge) []string { return fields }
}

func identificationFields(ch executor.Challenge) []string {
	if c, ok := ch.(*executor.IdentificationChallenge); ok && c.PasswordFields {
		return []string{"uid_field", "password"}
	}
	return []string{"uid_field"}
}

func authValidateFields(ch executor.Challenge) []string {
	c, ok := ch.(*executor.AuthenticatorValidationChallenge)
	if !ok {
		return nil
	}
	var fields []string
	if needsCode(c.DeviceChallenges) {
		fields = append(fields, "code")
	}
	if webauthnOptions(c.DeviceChallenges) != nil {
		fields = append(fields, "webauthn")
	}
	return fields
}

// decodeSetup decodes the form of an SMS or email setup page: the code
// when it has one, else the number or address (its field key).
func decodeSetup(key string) func(*form) (map[string]any, *formError) {
	return func(f *form) (map[string]any, *formError) {
		if f.has("code") {
			return map[string]any{"code": f.get("code")}, nil
		}
		if f.has(key) {
			return map[string]any{key: f.get(key)}, nil
		}
		return nil, nil
	}
}

// setupFields are the fields of an SMS or email setup page: the number
// or address while it is asked for, then the code.
func setupFields(ch executor.Challenge) []string {
	switch c := ch.(type) {
	case *executor.AuthenticatorSMSChallenge:
		if c.PhoneNumberRequired {
			return []string{"phone_number"}
		}
	case *executor.AuthenticatorEmailChallenge:
		if c.EmailRequired {
			return []string{"email"}
		}
	}
	return []string{"code"}
}

// captchaFields are where the captcha providers' widgets put their
// token in a form: reCAPTCHA, hCaptcha and Turnstile.
var captchaFields = []string{"g-recaptcha-response", "h-captcha-response", "cf-turnstile-response"}

// captchaToken is the form's captcha token: a widget's field, else
// field.
func captchaToken(f *form, field string) string {
	for _, k := range captchaFields {
		if v := f.get(k); v != "" {
			return v
		}
	}
	return f.get(field)
}

func decodeIdentification(f *form) (map[string]any, *formError) {
	body := map[string]any{"uid_field": f.get("uid_field")}
	if f.has("password") {
		body["password"] = f.get("password")
	}
	if t := captchaToken(f, "captcha_token"); t != "" {
		body["captcha_token"] = t
	}
	return body, nil
}

func decodeAuthValidate(f *form) (map[string]any, *formError) {
	body := map[string]any{}
	if f.has("selected_stage") {
		body["selected_stage"] = f.get("selected_stage")
	}
	if f.has("code") {
		body["code"] = f.get("code")
	}
	if f.has("webauthn") {
		v, ferr := jsonObject(f, "webauthn")
		if ferr != nil {
			return nil, ferr
		}
		body["webauthn"] = v
	}
	if f.has("duo") {
		body["duo"] = f.get("duo")
	}
	if f.has("selected_challenge") {
		ch, ferr := jsonObject(f, "selected_challenge")
		if ferr != nil {
			return nil, ferr
		}
		body["selected_challenge"] = ch
	}
	return body, nil
}

// decodeWebAuthnSetup reads the WebAuthn setup page's form: the
// credential its script put in the field response, as JSON.
func decodeWebAuthnSetup(f *form) (map[string]any, *formError) {
	v, ferr := jsonObject(f, "response")
	if ferr != nil {
		return nil, ferr
	}
	return map[string]any{"response": v}, nil
}

// jsonObject reads the form's field k, a JSON object that a page's
// script wrote; one that is not is a form the UI cannot read.
func jsonObject(f *form, k string) (map[string]any, *formError) {
	var v map[string]any
	if err := json.Unmarshal([]byte(f.get(k)), &v); err != nil || v == nil {
		return nil, &formError{msg: msgFormBad}
	}
	return v, nil
}

// truthy reads a checkbox's or a button's value.
func truthy(s string) bool {
	switch strings.ToLower(s) {
	case "true", "on", "yes", "1":
		return true
	}
	return false
}

// typePrefix names a prompt page's hidden fields that give each
// field's prompt type: typePrefix + field key.
const typePrefix = "type:"

// decodePrompt converts a prompt page's form: each field by its type,
// given by the page's hidden typePrefix fields (a client could send
// others, as it could send any JSON to the API; the stage validates).
// Text answers are sent as typed, "" included; an empty number, date,
// date-time, choice or file is left out, so that the prompt's default
// or "required" applies; a checkbox is true when sent; a file is a data:
// URI of its bytes; the read-only types are left out (the stage sets
// them).
func decodePrompt(f *form) (map[string]any, *formError) {
	body := map[string]any{}
	for k, vs := range f.values {
		key, ok := strings.CutPrefix(k, typePrefix)
		if !ok || len(vs) == 0 {
			continue
		}
		switch vs[0] {
		case "hidden", "static", "separator", "text_read_only", "text_area_read_only":
		case "checkbox":
			body[key] = truthy(f.get(key))
		case "number", "date", "date-time", "dropdown", "radio-button-group":
			if v := f.get(key); v != "" {
				body[key] = v
			}
		case "file":
			v, err := dataURI(f.files[key])
			if err != nil {
				return nil, err
			}
			if v != "" {
				body[key] = v
			}
		default:
			if f.has(key) {
				body[key] = f.get(key)
			}
		}
	}
	return body, nil
}

// dataURI is a file field's data: URI, "" when no file was chosen. A
// file longer than the URI's bound is read to the bound and one byte
// more, so that the stage refuses it with its message.
func dataURI(fhs []*multipart.FileHeader) (string, *formError) {
	if len(fhs) == 0 || (fhs[0].Filename == "" && fhs[0].Size == 0) {
		return "", nil
	}
	fh := fhs[0]
	file, err := fh.Open()
	if err != nil {
		return "", &formError{msg: msgFormFile}
	}
	defer file.Close()
	b, err := io.ReadAll(io.LimitReader(file, executor.MaxFileLength/4*3+1))
	if err != nil {
		return "", &formError{msg: msgFormFile}
	}
	ct := fh.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || strings.ContainsAny(mt, ",;") {
		ct = "application/octet-stream"
	} else {
		ct = mt
	}
	return fmt.Sprintf("data:%s;base64,%s", ct, base64.StdEncoding.EncodeToString(b)), nil
}
