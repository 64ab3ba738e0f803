package executor

import (
	"net/http"
	"slices"
	"strings"

	"github.com/authflow/authflow/internal/jsonresp"
	"github.com/authflow/authflow/internal/jsonvalue"
)

// writeChallenge answers 200 with challenge c, as writeJSON would. The
// challenges of a login (identification, password, user_login, the
// redirect at its end) and the executor's own write their own JSON
// (appendJSON), without encoding/json's reflection: byte for byte what
// encoding/json makes of them, HTML characters unescaped as writeJSON
// leaves them (TestAppendJSON). Their types are matched exactly, not by
// an interface, so that a host's challenge that embeds one of them is
// written whole by encoding/json; an appendJSON returns false for a
// value it does not write (a login source), which encoding/json writes.
func writeChallenge(w http.ResponseWriter, c Challenge) {
	appendJSON := func(b []byte) ([]byte, bool) { return appendChallenge(b, c) }
	jsonresp.WriteAppended(w, http.StatusOK, "application/json", appendJSON, c, internalError)
}

// appendChallenge appends c's JSON, when c writes its own.
func appendChallenge(b []byte, c Challenge) ([]byte, bool) {
	switch c := c.(type) {
	case *IdentificationChallenge:
		return c.appendJSON(b)
	case *PasswordChallenge:
		return c.appendJSON(b)
	case *UserLoginChallenge:
		return c.appendJSON(b)
	case *Redirect:
		return c.appendJSON(b)
	case *CaptchaChallenge:
		return c.appendJSON(b)
	case *AccessDenied:
		return c.appendJSON(b)
	case *FlowError:
		return c.appendJSON(b)
	case *DummyChallenge:
		return c.appendJSON(b)
	}
	return b, false
}

// appendHead appends the object's '{' and the envelope's keys.
func (e *Envelope) appendHead(b []byte) []byte {
	b = append(b, '{')
	if fi := e.FlowInfo; fi != nil {
		b = appendJSONString(append(b, `"flow_info":{"title":`...), fi.Title)
		b = appendJSONString(append(b, `,"background":`...), fi.Background)
		b = appendJSONString(append(b, `,"cancel_url":`...), fi.CancelURL)
		b = appendJSONString(append(b, `,"layout":`...), fi.Layout)
		b = append(b, "},"...)
	}
	b = appendJSONString(append(b, `"component":`...), e.Component)
	if len(e.ResponseErrors) > 0 {
		b = append(b, `,"response_errors":{`...)
		keys := make([]string, 0, len(e.ResponseErrors))
		for k := range e.ResponseErrors {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, strings.Compare)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendJSONString(b, k), ':')
			ds := e.ResponseErrors[k]
			if ds == nil {
				b = append(b, "null"...)
				continue
			}
			b = append(b, '[')
			for j, d := range ds {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(append(b, `{"string":`...), d.String)
				b = append(appendJSONString(append(b, `,"code":`...), d.Code), '}')
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return b
}

// appendTo appends the user-info keys.
func (u *UserInfo) appendTo(b []byte) []byte {
	b = appendJSONString(append(b, `,"pending_user":`...), u.PendingUser)
	return appendJSONString(append(b, `,"pending_user_avatar":`...), u.PendingUserAvatar)
}

func (c *Redirect) appendJSON(b []byte) ([]byte, bool) {
	b = appendJSONString(append(c.appendHead(b), `,"to":`...), c.To)
	return append(b, '}'), true
}

func (c *FlowError) appendJSON(b []byte) ([]byte, bool) {
	b = appendJSONString(append(c.appendHead(b), `,"request_id":`...), c.RequestID)
	return append(b, '}'), true
}

func (c *DummyChallenge) appendJSON(b []byte) ([]byte, bool) {
	b = appendJSONString(append(c.appendHead(b), `,"name":`...), c.Name)
	return append(b, '}'), true
}

func (c *AccessDenied) appendJSON(b []byte) ([]byte, bool) {
	b = c.UserInfo.appendTo(c.appendHead(b))
	if c.ErrorMessage != "" {
		b = appendJSONString(append(b, `,"error_message":`...), c.ErrorMessage)
	}
	return append(b, '}'), true
}

func (c *UserLoginChallenge) appendJSON(b []byte) ([]byte, bool) {
	return append(c.UserInfo.appendTo(c.appendHead(b)), '}'), true
}

func (c *PasswordChallenge) appendJSON(b []byte) ([]byte, bool) {
	b = c.UserInfo.appendTo(c.appendHead(b))
	if c.RecoveryURL != "" {
		b = appendJSONString(append(b, `,"recovery_url":`...), c.RecoveryURL)
	}
	b = appendBool(append(b, `,"allow_show_password":`...), c.AllowShowPassword)
	return append(b, '}'), true
}

func (c *CaptchaChallenge) appendJSON(b []byte) ([]byte, bool) {
	b = c.UserInfo.appendTo(c.appendHead(b))
	b = appendJSONString(append(b, `,"site_key":`...), c.SiteKey)
	b = appendJSONString(append(b, `,"js_url":`...), c.JSURL)
	b = appendBool(append(b, `,"interactive":`...), c.Interactive)
	return append(b, '}'), true
}

func (c *IdentificationChallenge) appendJSON(b []byte) ([]byte, bool) {
	if len(c.Sources) > 0 {
		return b, false
	}
	b = append(c.appendHead(b), `,"user_fields":`...)
	if c.UserFields == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, f := range c.UserFields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f)
		}
		b = append(b, ']')
	}
	b = appendBool(append(b, `,"password_fields":`...), c.PasswordFields)
	b = appendBool(append(b, `,"allow_show_password":`...), c.AllowShowPassword)
	if c.ApplicationPre != "" {
		b = appendJSONString(append(b, `,"application_pre":`...), c.ApplicationPre)
	}
	b = appendJSONString(append(b, `,"flow_designation":`...), c.FlowDesignation)
	b = append(b, `,"captcha_stage":`...)
	if c.CaptchaStage == nil {
		b = append(b, "null"...)
	} else {
		b, _ = c.CaptchaStage.appendJSON(b)
	}
	for _, u := range [...]struct{ key, url string }{
		{`,"enroll_url":`, c.EnrollURL}, {`,"recovery_url":`, c.RecoveryURL}, {`,"passwordless_url":`, c.PasswordlessURL},
	} {
		if u.url != "" {
			b = appendJSONString(append(b, u.key...), u.url)
		}
	}
	b = appendJSONString(append(b, `,"primary_action":`...), c.PrimaryAction)
	if c.Sources == nil {
		b = append(b, `,"sources":null`...)
	} else {
		b = append(b, `,"sources":[]`...)
	}
	b = appendBool(append(b, `,"show_source_labels":`...), c.ShowSourceLabels)
	b = appendBool(append(b, `,"enable_remember_me":`...), c.EnableRememberMe)
	return append(b, '}'), true
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// appendJSONString appends s as a JSON string, as writeJSON's encoder
// writes it (HTML characters unescaped).
func appendJSONString(b []byte, s string) []byte { return jsonvalue.AppendString(b, s, false) }
