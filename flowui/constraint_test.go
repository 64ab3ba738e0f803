package flowui_test

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// emailRE is HTML's valid e-mail address (the spec's own expression).
var emailRE = regexp.MustCompile(`^[a-zA-Z0-9.!#$%&'*+/=?^_` + "`" + `{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$`)

// invalid are the reasons a browser refuses to submit form with set
// (see page.form): HTML's constraint validation of each field that is
// not barred from it (readonly, disabled, hidden and button inputs),
// with the value the field would send.
func invalid(form *html.Node, set map[string]string) []string {
	var bad []string
	radios := map[string]bool{}   // a group's name: one is checked
	radioReq := map[string]bool{} // a group's name: one of its radios is required
	for _, e := range all(form, "") {
		name := attrOf(e, "name")
		if e.Type != html.ElementNode || (e.Data != "input" && e.Data != "select" && e.Data != "textarea") {
			continue
		}
		if _, dis := attr(e, "disabled"); dis {
			continue
		}
		_, required := attr(e, "required")
		_, readonly := attr(e, "readonly")
		typ := strings.ToLower(attrOf(e, "type"))
		if e.Data == "input" && typ == "" {
			typ = "text"
		}
		v, has := set[name]
		switch {
		case e.Data == "select":
			if !has {
				opts := all(e, "option")
				if len(opts) > 0 {
					v = attrOf(opts[0], "value")
				}
				for _, o := range opts {
					if _, sel := attr(o, "selected"); sel {
						v = attrOf(o, "value")
					}
				}
			}
			if required && v == "" {
				bad = append(bad, fmt.Sprintf("%s: required select without a choice", name))
			}
			continue
		case e.Data == "textarea":
			if readonly {
				continue
			}
			if !has {
				v = text(e)
			}
		case typ == "hidden" || typ == "submit" || typ == "button" || typ == "reset" || typ == "image":
			continue
		case typ == "checkbox":
			_, checked := attr(e, "checked")
			if has {
				checked = v != ""
			}
			if required && !checked {
				bad = append(bad, fmt.Sprintf("%s: required checkbox not checked", name))
			}
			continue
		case typ == "radio":
			_, checked := attr(e, "checked")
			if has {
				checked = v == attrOf(e, "value")
			}
			radios[name] = radios[name] || checked
			radioReq[name] = radioReq[name] || required
			continue
		case typ == "file":
			if required && set["file:"+name] == "" {
				bad = append(bad, fmt.Sprintf("%s: required file not chosen", name))
			}
			continue
		default:
			if readonly {
				continue
			}
			if !has {
				v = attrOf(e, "value")
			}
		}
		if msg := check(e, typ, v, required); msg != "" {
			bad = append(bad, fmt.Sprintf("%s=%q: %s", name, v, msg))
		}
	}
	for name, req := range radioReq {
		if req && !radios[name] {
			bad = append(bad, fmt.Sprintf("%s: required radio group without a choice", name))
		}
	}
	return bad
}

// check is why a browser refuses v in text-like field e of type typ
// ("" when it accepts it).
func check(e *html.Node, typ, v string, required bool) string {
	if v == "" {
		if required {
			return "required"
		}
		return ""
	}
	n := utf8.RuneCountInString(v)
	if s, ok := attr(e, "minlength"); ok {
		if m, err := strconv.Atoi(s); err == nil && n < m {
			return "shorter than minlength " + s
		}
	}
	if s, ok := attr(e, "maxlength"); ok {
		if m, err := strconv.Atoi(s); err == nil && n > m {
			return "longer than maxlength " + s
		}
	}
	if s, ok := attr(e, "pattern"); ok {
		if re, err := regexp.Compile("^(?:" + s + ")$"); err == nil && !re.MatchString(v) {
			return "does not match pattern " + s
		}
	}
	switch typ {
	case "email":
		_, multiple := attr(e, "multiple")
		for _, a := range strings.Split(v, ",") {
			if !multiple && strings.Contains(v, ",") || !emailRE.MatchString(strings.TrimSpace(a)) {
				return "not an email address"
			}
		}
		return ""
	case "url":
		if !regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`).MatchString(v) {
			return "not a URL"
		}
		return ""
	case "number", "range", "date", "datetime-local":
	default:
		return ""
	}
	// The value as a number (days for a date, seconds for a date and
	// time), and the default step in those units.
	parse := func(s string) (float64, bool) {
		switch typ {
		case "date":
			d, err := time.Parse("2006-01-02", s)
			return float64(d.Unix() / 86400), err == nil
		case "datetime-local":
			for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999"} {
				if d, err := time.Parse(layout, s); err == nil {
					return float64(d.UnixMilli()) / 1000, true
				}
			}
			return 0, false
		}
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && !strings.ContainsAny(s, "xX_")
	}
	defaultStep := map[string]float64{"number": 1, "range": 1, "date": 1, "datetime-local": 60}[typ]
	num, ok := parse(v)
	if !ok {
		return "not a valid " + typ
	}
	if s, ok := attr(e, "min"); ok {
		if m, ok := parse(s); ok && num < m {
			return "below min " + s
		}
	}
	if s, ok := attr(e, "max"); ok {
		if m, ok := parse(s); ok && num > m {
			return "above max " + s
		}
	}
	step := defaultStep
	if s, ok := attr(e, "step"); ok {
		if strings.EqualFold(s, "any") {
			return ""
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 {
			step = f
		}
	}
	// The step base: min, else the value attribute, else 0.
	base := 0.0
	if s, ok := attr(e, "min"); ok {
		if m, ok := parse(s); ok {
			base = m
		}
	} else if s, ok := attr(e, "value"); ok {
		if m, ok := parse(s); ok {
			base = m
		}
	}
	if step > 0 {
		q := (num - base) / step
		if math.Abs(q-math.Round(q)) > 1e-9 {
			return fmt.Sprintf("not a multiple of step %v", step)
		}
	}
	return ""
}
