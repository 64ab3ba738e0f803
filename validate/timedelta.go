package validate

import (
	"math"
	"strconv"
	"strings"

	"github.com/invopop/validation"
)

// CodeTimedelta is the error code of [Timedelta].
const CodeTimedelta = "authflow_timedelta"

// timedeltaUnits are the keys a timedelta string may use, and
// timedeltaSeconds their lengths in seconds.
var (
	timedeltaUnits   = [...]string{"microseconds", "milliseconds", "seconds", "minutes", "hours", "days", "weeks"}
	timedeltaSeconds = [len(timedeltaUnits)]float64{1e-6, 1e-3, 1, 60, 3600, 86400, 7 * 86400}
)

// timedeltaUnit is the index in timedeltaUnits of key in any case (as
// Python's str.lower() reads it), -1 for none.
func timedeltaUnit(key string) int {
	ascii := true
	for i := 0; i < len(key); i++ {
		if key[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		key = strings.ToLower(key)
	}
	for i, u := range timedeltaUnits {
		if key == u || ascii && strings.EqualFold(key, u) {
			return i
		}
	}
	return -1
}

// maxTimedelta is Python's timedelta.max, in seconds.
const maxTimedelta = 999999999*86400 + 86399

// Timedelta accepts authentik's timedelta strings, such as
// "hours=3;minutes=1": "key=value" pairs separated by ";", whose keys are
// any case of microseconds, milliseconds, seconds, minutes, hours, days
// and weeks, and whose values are numbers as Python's float() reads them
// (negative ones too). Pairs with other keys are ignored, but at least
// one must be known, and every pair must be exactly one "key=value".
// Anything else fails with authentik's message, `<value> is not in the
// correct format of 'hours=3;minutes=1'.`. So does a duration beyond
// Python's timedelta range, or infinite or NaN, which authentik answers
// with a server error.
var Timedelta Rule = textRule(func(s string) error {
	if _, ok := ParseTimedelta(s); ok {
		return nil
	}
	return validation.NewError(CodeTimedelta, s+" is not in the correct format of 'hours=3;minutes=1'.")
})

// ParseTimedelta reads a timedelta string as [Timedelta] accepts it and
// returns its length in seconds; ok is false for one it refuses.
func ParseTimedelta(s string) (seconds float64, ok bool) {
	var (
		kw    [len(timedeltaUnits)]float64
		set   [len(timedeltaUnits)]bool
		known bool
	)
	for pair := range strings.SplitSeq(s, ";") {
		key, value, found := strings.Cut(pair, "=")
		if !found || strings.Contains(value, "=") {
			return 0, false
		}
		i := timedeltaUnit(key)
		if i < 0 {
			continue
		}
		v, ok := parsePyFloat(value)
		if !ok {
			return 0, false
		}
		kw[i], set[i], known = v*timedeltaSeconds[i], true, true // the last of a repeated key wins
	}
	if !known {
		return 0, false
	}
	for i, v := range kw {
		if set[i] {
			seconds += v
		}
	}
	if math.IsNaN(seconds) || math.Abs(seconds) > maxTimedelta {
		return 0, false
	}
	return seconds, true
}

// parsePyFloat reads s as Python's float() does for decimal text: surrounding
// whitespace, a sign, digits with single underscores between them, a
// fraction and an exponent, or inf, infinity and nan in any case.
func parsePyFloat(s string) (float64, bool) {
	s = pyStrip(s)
	if s == "" || strings.ContainsAny(s, "xXpP") {
		return 0, false // Go reads hexadecimal floats; Python does not
	}
	if strings.Contains(s, "_") {
		b := make([]byte, 0, len(s))
		for i := 0; i < len(s); i++ {
			if s[i] == '_' {
				if i == 0 || i == len(s)-1 || !isDigit(s[i-1]) || !isDigit(s[i+1]) {
					return 0, false
				}
				continue
			}
			b = append(b, s[i])
		}
		s = string(b)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return v, true // ±Inf or 0, as Python rounds: the range check follows
		}
		return 0, false
	}
	return v, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
