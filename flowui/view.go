package flowui

import (
	"html/template"
	"strings"

	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
)

// Prompt is one field of a prompt page, ready to render.
type Prompt struct {
	executor.StagePrompt
	Field
	// Input is how the field is shown: an input's type ("text",
	// "email", "password", "number", "date", "datetime-local", "file",
	// "checkbox", "hidden"), or "textarea", "select", "radio", "locale",
	// "static", "separator"; ReadOnly for the read-only types.
	Input    string
	ReadOnly bool
	// Autocomplete is the input's autocomplete attribute ("" for none);
	// Value the value shown (the posted one after an error, else the
	// initial value; never a password's or a file's); Checked a
	// checkbox's state.
	Autocomplete, Value string
	Checked             bool
}

// inputs are the prompt types' inputs and autocomplete attributes.
var inputs = map[stage.PromptType][2]string{
	"text": {"text", "off"}, "text_area": {"textarea", "off"},
	"text_read_only": {"text", ""}, "text_area_read_only": {"textarea", ""},
	"username": {"text", "username"}, "email": {"email", "email"}, "password": {"password", "new-password"},
	"number": {"number", "off"}, "checkbox": {"checkbox", ""}, "radio-button-group": {"radio", ""},
	"dropdown": {"select", ""}, "date": {"date", "off"}, "date-time": {"datetime-local", "off"},
	"file": {"file", ""}, "separator": {"separator", ""}, "hidden": {"hidden", ""}, "static": {"static", ""},
	"ak-locale": {"locale", "off"},
}

// focusable says whether a prompt type's field takes input.
func focusable(t stage.PromptType) bool {
	switch t {
	case "hidden", "static", "separator", "text_read_only", "text_area_read_only":
		return false
	}
	return true
}

// promptFields are a prompt page's fields that take input, in order.
func promptFields(ch executor.Challenge) []string {
	c, ok := ch.(*executor.PromptChallenge)
	if !ok {
		return nil
	}
	var keys []string
	for _, f := range c.Fields {
		if focusable(f.Type) {
			keys = append(keys, f.FieldKey)
		}
	}
	return keys
}

// prompts are a prompt challenge's fields for page p; posted is the
// form that was answered with p, nil for none.
func prompts(p *Page, c *executor.PromptChallenge, posted *form) []Prompt {
	out := make([]Prompt, 0, len(c.Fields))
	for _, f := range c.Fields {
		in := inputs[f.Type]
		v := Prompt{StagePrompt: f, Field: p.Field(f.FieldKey, f.SubText != ""), Input: in[0], Autocomplete: in[1], Value: f.InitialValue,
			ReadOnly: f.Type == "text_read_only" || f.Type == "text_area_read_only"}
		if v.Input == "" {
			v.Input = "text"
		}
		if f.Type == "static" && v.Value == "" {
			v.Value = f.Placeholder
		}
		if f.Type == "date-time" {
			if t, ok := validate.ParseDateTime(v.Value); ok {
				v.Value = t.UTC().Format("2006-01-02T15:04:05")
			}
		}
		if posted != nil && focusable(f.Type) && posted.has(f.FieldKey) {
			v.Value = posted.get(f.FieldKey)
		}
		switch f.Type {
		case "password", "file":
			v.Value = ""
		case "checkbox":
			v.Checked = truthy(v.Value)
			if posted != nil {
				v.Checked = truthy(posted.get(f.FieldKey))
			}
		}
		out = append(out, v)
	}
	return out
}

// locales are the choices of an ak-locale prompt: authentik's UI
// languages.
var locales = []string{"de", "en", "es", "fr", "it", "ko", "nl", "pl", "pt", "pt-BR", "ru", "tr", "zh-Hans", "zh-Hant"}

// funcs are the templates' functions.
var funcs = template.FuncMap{
	// captchaClass is the widget class of a captcha's provider, by its
	// script's URL: hCaptcha, Turnstile, else reCAPTCHA.
	"captchaClass": func(jsURL string) string {
		switch {
		case strings.Contains(jsURL, "hcaptcha"):
			return "h-captcha"
		case strings.Contains(jsURL, "turnstile") || strings.Contains(jsURL, "challenges.cloudflare.com"):
			return "cf-turnstile"
		}
		return "g-recaptcha"
	},
	"locales":        func() []string { return locales },
	"image":          imageURL,
	"userFieldLabel": userFieldLabel,
	"userFieldType": func(fields []string) string {
		if len(fields) == 1 && fields[0] == "email" {
			return "email"
		}
		return "text"
	},
}

// imageURL is an image's URL for an img element's src: a data: URI of an
// image (the executor's avatars are SVG data: URIs) as it is, which
// html/template would otherwise replace as an unsafe URL (an image runs
// no script, and the CSP allows data: images); any other URL is checked
// by html/template as usual.
func imageURL(u string) any {
	if rest, ok := strings.CutPrefix(u, "data:image/"); ok && !strings.ContainsAny(rest, "\"'<> ") {
		return template.URL(u)
	}
	return u
}

// userFieldLabel is the label of the identification's user field, as
// authentik words it.
func userFieldLabel(fields []string) string {
	names := map[string]string{"email": "Email", "username": "Username", "upn": "UPN"}
	var ls []string
	for _, f := range fields {
		if n, ok := names[f]; ok {
			ls = append(ls, n)
		}
	}
	switch len(ls) {
	case 0:
		return "Username"
	case 1:
		return ls[0]
	}
	return strings.Join(ls[:len(ls)-1], ", ") + " or " + ls[len(ls)-1]
}
