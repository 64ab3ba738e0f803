package validate

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/invopop/validation"
)

// reDateTime is what Django's parse_datetime reads: a date, "T" or a
// space, hours and minutes, optional seconds with up to six fraction
// digits used (more are read and dropped), and an optional zone.
var reDateTime = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d{1,6})\d{0,6})?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$`)

// ParseDateTime reads s as DRF's DateTimeField does in authentik: ISO
// 8601 through Django's parser (a date alone is its midnight, as Python's
// fromisoformat reads it), a time without a zone in UTC (authentik's time
// zone). ok is false for anything else, an impossible date included.
func ParseDateTime(s string) (t time.Time, ok bool) {
	var m []string
	if c, ok := canonicalDateTime(s); ok {
		m = c[:]
	} else if m = reDateTime.FindStringSubmatch(s); m == nil {
		return time.Time{}, false
	}
	num := func(i int) int { n, _ := strconv.Atoi(m[i]); return n }
	year, month, day := num(1), num(2), num(3)
	hour, minute, sec := num(4), num(5), num(6)
	micro := 0
	if m[7] != "" {
		micro, _ = strconv.Atoi((m[7] + "00000")[:6])
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	loc := time.UTC
	if z := m[8]; z != "" && z != "Z" {
		digits := strings.ReplaceAll(z[1:], ":", "")
		h, _ := strconv.Atoi(digits[:2])
		mins := 0
		if len(digits) == 4 {
			mins, _ = strconv.Atoi(digits[2:])
		}
		if h > 23 || mins > 59 {
			return time.Time{}, false
		}
		off := h*3600 + mins*60
		if z[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, micro*1000, loc)
	if t.Day() != day || int(t.Month()) != month { // 31 February
		return time.Time{}, false
	}
	return t.UTC(), true
}

// canonicalDateTime is reDateTime.FindStringSubmatch(s) for s in
// FormatDateTime's form ("2006-01-02T15:04:05", up to six fraction
// digits, "Z"), read without the regular expression (nor an
// allocation); false for any other s.
func canonicalDateTime(s string) (m [9]string, ok bool) {
	const base = len("2006-01-02T15:04:05")
	if len(s) < base+1 || s[len(s)-1] != 'Z' {
		return m, false
	}
	for i := range base {
		c := s[i]
		switch i {
		case 4, 7:
			if c != '-' {
				return m, false
			}
		case 10:
			if c != 'T' {
				return m, false
			}
		case 13, 16:
			if c != ':' {
				return m, false
			}
		default:
			if c < '0' || c > '9' {
				return m, false
			}
		}
	}
	frac := s[base : len(s)-1]
	if frac != "" {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 7 {
			return m, false
		}
		frac = frac[1:]
		for i := range len(frac) {
			if frac[i] < '0' || frac[i] > '9' {
				return m, false
			}
		}
	}
	return [9]string{s, s[0:4], s[5:7], s[8:10], s[11:13], s[14:16], s[17:19], frac, "Z"}, true
}

// FormatDateTime writes t as DRF shows a date-time in authentik: UTC,
// ISO 8601, microseconds only when there are any, and "Z".
func FormatDateTime(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += "." + strconv.Itoa(1000000 + us)[1:]
	}
	return s + "Z"
}

// DateTime is the rule of a date-time held as text: [ParseDateTime] must
// read it, or the error is [MsgDateTime].
var DateTime Rule = textRule(func(s string) error {
	if _, ok := ParseDateTime(s); !ok {
		return validation.NewError("invalid", MsgDateTime)
	}
	return nil
})
