package flowui

import (
	"encoding/json"
	"html/template"
	"slices"
	"strings"

	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
)

// Prompt is one field of a prompt page, ready to render. Its fields are
// its own, not embedded: a template reaches a promoted field by a slow
// search.
type Prompt struct {
	// FieldKey, Label, Type, Required, Placeholder, SubText and Choices
	// are the prompt's (executor.StagePrompt).
	FieldKey, Label string
	Type            stage.PromptType
	Required        bool
	Placeholder     string
	SubText         string
	Choices         []string
	// Field is the field's id, errors and focus.
	Field Field
	// Input is the type of the input that shows the field ("text",
	// "email", "password", "number", "date", "datetime-local", "file"),
	// when Is names no other way; ReadOnly for the read-only types.
	Input    string
	ReadOnly bool
	// Is says how the field is shown, when not as an input of type Input.
	Is Shown
	// Autocomplete is the input's autocomplete attribute ("" for none);
	// Value the value shown (the posted one after an error, else the
	// initial value; never a password's or a file's); Checked a
	// checkbox's state.
	Autocomplete, Value string
	Checked             bool
	// Options are a select's or a radio group's choices (an ak-locale
	// prompt's: authentik's UI languages); Empty the label of a select's
	// empty choice, "" for none.
	Options []Option
	Empty   string
	// Flags are the attributes of a text area's or an input's own
	// after its value, made by the UI from the type and Required
	// alone: autocomplete, readonly or required, and a username's
	// autocapitalize="none" spellcheck="false". One action rather
	// than four.
	Flags template.HTMLAttr
}

// Shown says how a prompt is shown: as a hidden input, a separator,
// static text, a checkbox, radio buttons, a text area or a select, or
// else as an input (a file input, a username's). Labelled is a text
// area, a select or an input: a field with a label before it.
type Shown struct {
	Hidden, Separator, Static, Checkbox, Radio, Textarea, Select, File, Username bool
	Labelled                                                                     bool
}

// Option is a choice of a select or a radio group: its value, and the
// text shown for it when not the value (Label, an ak-locale choice's
// language).
type Option struct {
	Value, Label        string
	Selected, Autofocus bool
}

// inputs are the prompt types' input types (see Prompt.Input) and
// autocomplete attributes.
var inputs = map[stage.PromptType][2]string{
	"text": {"text", "off"}, "text_area": {"", "off"}, "text_read_only": {"text", ""}, "text_area_read_only": {"", ""},
	"username": {"text", "username"}, "email": {"email", "email"}, "password": {"password", "new-password"},
	"number": {"number", "off"}, "date": {"date", "off"}, "date-time": {"datetime-local", "off"}, "file": {"file", ""},
	"ak-locale": {"", "off"},
}

// shown is how a prompt type is shown.
func shown(t stage.PromptType) Shown {
	s := Shown{Hidden: t == "hidden", Separator: t == "separator", Static: t == "static", Checkbox: t == "checkbox",
		Radio: t == "radio-button-group", Textarea: t == "text_area" || t == "text_area_read_only",
		Select: t == "dropdown" || t == "ak-locale", File: t == "file", Username: t == "username"}
	s.Labelled = !s.Hidden && !s.Separator && !s.Static && !s.Checkbox && !s.Radio
	return s
}

// flags are a prompt's Flags: the UI's own words (autocomplete values
// of inputs), no value of the prompt's.
func flags(v *Prompt) template.HTMLAttr {
	var a string
	if v.Autocomplete != "" {
		a = ` autocomplete="` + v.Autocomplete + `"`
	}
	if v.ReadOnly {
		a += ` readonly`
	} else if v.Required {
		a += ` required`
	}
	if v.Is.Username {
		a += ` autocapitalize="none" spellcheck="false"`
	}
	return template.HTMLAttr(a)
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
		v := Prompt{FieldKey: f.FieldKey, Label: f.Label, Type: f.Type, Required: f.Required, Placeholder: f.Placeholder,
			SubText: f.SubText, Choices: f.Choices, Field: p.Field(f.FieldKey, f.SubText != ""), Input: in[0], Autocomplete: in[1], Value: f.InitialValue,
			ReadOnly: f.Type == "text_read_only" || f.Type == "text_area_read_only"}
		v.Is = shown(f.Type)
		v.Flags = flags(&v)
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
		choices := f.Choices
		switch f.Type {
		case "ak-locale":
			// Blank is a choice (the executor allows it): the browser
			// must not refuse it as a required select's placeholder.
			choices, v.Empty, v.Required = nil, "Auto-detect (based on your browser)", false
			listed := v.Value == ""
			for _, l := range locales {
				v.Options = append(v.Options, Option{Value: l.code, Label: l.label, Selected: l.code == v.Value})
				listed = listed || l.code == v.Value
			}
			if !listed {
				// A locale of no choice (set elsewhere, or of another
				// list) is kept, shown by its code: selecting none would
				// replace it with blank when the user saves anything else.
				v.Options = append(v.Options, Option{Value: v.Value, Selected: true})
			}
		case "dropdown":
			if !f.Required {
				v.Empty = " "
				if f.Placeholder != "" {
					v.Empty = f.Placeholder
				}
			}
		}
		if v.Is.Select || v.Is.Radio {
			for i, c := range choices {
				v.Options = append(v.Options, Option{Value: c, Selected: c == v.Value, Autofocus: v.Is.Radio && i == 0 && v.Field.Autofocus})
			}
		}
		if f.Type == "file" {
			p.Multipart = true
		}
		out = append(out, v)
	}
	return out
}

// locale is a choice of an ak-locale prompt: its code, and its label as
// authentik's select shows it ("DE - German").
type locale struct{ code, label string }

// locales are the choices of an ak-locale prompt: authentik 2025.6's UI
// languages (web/src/elements/ak-locale-context/definitions.ts), its
// pseudo-locale for testing aside.
var locales = func() []locale {
	ls := []locale{{"de", "German"}, {"en", "English"}, {"es", "Spanish"}, {"fr", "French"}, {"it", "Italian"},
		{"ko", "Korean"}, {"nl", "Dutch"}, {"pl", "Polish"}, {"ru", "Russian"}, {"tr", "Turkish"},
		{"zh_TW", "Taiwanese Mandarin"}, {"zh-Hans", "Chinese (simplified)"}, {"zh-Hant", "Chinese (traditional)"}}
	for i := range ls {
		ls[i].label = strings.ToUpper(ls[i].code) + " - " + ls[i].label
	}
	return ls
}()

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
	"deviceLabel": deviceLabel,
	"sendsCode":   sendsCode,
	"selection":   selection,
	"image":       imageURL,
	"imageSrc":    imageSrc,
	"qr":          qrImage,
	// json is a value as JSON text, for a data attribute that a page's
	// script reads (WebAuthn's options).
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"needsCode":       needsCode,
	"userFieldLabel":  userFieldLabel,
	"userFieldType":   userFieldType,
	"webauthnOptions": webauthnOptions,
}

// codeClasses are the device classes answered with a code.
var codeClasses = []string{"totp", "static", "sms", "email"}

// needsCode says whether one of a validation page's device challenges
// is answered with a code.
func needsCode(cs []executor.DeviceChallenge) bool {
	return slices.ContainsFunc(cs, func(c executor.DeviceChallenge) bool { return slices.Contains(codeClasses, c.DeviceClass) })
}

// webauthnOptions are the assertion options of a validation page's
// WebAuthn challenge, which its script passes to
// navigator.credentials.get; nil when it has none.
func webauthnOptions(cs []executor.DeviceChallenge) map[string]any {
	for _, c := range cs {
		if c.DeviceClass == "webauthn" && c.Challenge != nil {
			return c.Challenge
		}
	}
	return nil
}

// userFieldType is the input type of the identification's user field.
func userFieldType(fields []string) string {
	if len(fields) == 1 && fields[0] == "email" {
		return "email"
	}
	return "text"
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

// imageSrc is the src attribute, name and quoted value, of an img
// showing u, a data: URI of a base64 image (the directory's avatars, a
// kilobyte or more at each page of a user's), as html/template writes
// it (imageURL), byte for byte: its characters are ones that
// html/template's URL normalizer leaves as they are, and its attribute
// escaper too but '+' (&#43;), so that it is written without checking
// it a byte at a time. "" for any other URL, which parts.html's "who"
// has html/template check (imageURL).
func imageSrc(u string) template.HTMLAttr {
	rest, ok := strings.CutPrefix(u, "data:image/")
	if !ok {
		return ""
	}
	plus := 0
	for i := range len(rest) {
		switch c := rest[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("/=;,.-", c) >= 0:
		case c == '+':
			plus++
		default:
			return ""
		}
	}
	const prefix, plusRef = `src="`, "&#43;"
	var b strings.Builder
	b.Grow(len(prefix) + len(u) + plus*(len(plusRef)-1) + 1)
	b.WriteString(prefix)
	for {
		before, after, found := strings.Cut(u, "+")
		b.WriteString(before)
		if !found {
			break
		}
		b.WriteString(plusRef)
		u = after
	}
	b.WriteByte('"')
	return template.HTMLAttr(b.String())
}

// userFieldNames are the user fields' names in a label.
var userFieldNames = map[string]string{"email": "Email", "username": "Username", "upn": "UPN"}

// userFieldLabel is the label of the identification's user field, as
// authentik words it.
func userFieldLabel(fields []string) string {
	var names [4]string // on the stack: the fields are few
	ls := names[:0]
	for _, f := range fields {
		if n, ok := userFieldNames[f]; ok {
			ls = append(ls, n)
		}
	}
	switch len(ls) {
	case 0:
		return "Username"
	case 1:
		return ls[0]
	case 2:
		return ls[0] + " or " + ls[1] // one allocation, not Join's two
	}
	return strings.Join(ls[:len(ls)-1], ", ") + " or " + ls[len(ls)-1]
}

// deviceLabels name the device classes on the validation page.
var deviceLabels = map[string]string{
	"totp": "A code from your authenticator app", "static": "One of your static backup codes",
	"webauthn": "Your security key or passkey", "duo": "Duo", "sms": "A code sent by SMS", "email": "A code sent by email",
}

// sendsCode says a device class's code is sent when its challenge is
// selected (sms, email): its page offers to send one.
func sendsCode(class string) bool { return class == "sms" || class == "email" }

// selection is the selected_challenge that selects a device challenge.
func selection(c executor.DeviceChallenge) string {
	b, _ := json.Marshal(map[string]string{"device_class": c.DeviceClass, "device_uid": c.DeviceUID})
	return string(b)
}

// deviceLabel names a device challenge's class; the class itself when
// unknown.
func deviceLabel(class string) string {
	if l, ok := deviceLabels[class]; ok {
		return l
	}
	return class
}
