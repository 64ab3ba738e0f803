package validate

import (
	"net/netip"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/invopop/validation"
)

// CodeEmail is the error code of [Email].
const CodeEmail = "authflow_email"

var (
	reEmailUser = regexp.MustCompile(`(?i)^(?:[-!#$%&'*+/=?^_` + "`" + `{}|~0-9A-Z]+(?:\.[-!#$%&'*+/=?^_` + "`" + `{}|~0-9A-Z]+)*` +
		`|"(?:[\x01-\x08\x0b\x0c\x0e-\x1f!#-\[\]-\x7f]|\\[\x01-\x09\x0b\x0c\x0e-\x7f])*")$`)
	// The top-level label may not end with "-" (Django's (?<!-), which
	// RE2 lacks, is checked by hand).
	reEmailDomain  = regexp.MustCompile(`(?i)^(?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+[A-Z0-9-]{2,63}$`)
	reEmailLiteral = regexp.MustCompile(`(?i)^\[([A-F0-9:.]+)\]$`)
)

// Email accepts what Django's EmailValidator (behind DRF's EmailField)
// accepts and fails anything else with "Enter a valid email address.":
// at most 320 characters, a dot-atom or quoted local part, and a domain
// that is "localhost", a dotted name whose labels are at most 63
// characters (after IDNA encoding of non-ASCII labels), or an IPv4 or
// IPv6 literal in brackets. IDNA encoding is Python's "idna" codec with
// nameprep reduced to lower-casing: a label that nameprep would refuse
// may pass. Pair it with [MaxLen](254) in [All], as the field does.
var Email Rule = textRule(func(s string) error {
	if validEmail(s) {
		return nil
	}
	return validation.NewError(CodeEmail, MsgEmail)
})

func validEmail(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 320 {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return false
	}
	user, domain := s[:at], s[at+1:]
	if !reEmailUser.MatchString(user) {
		return false
	}
	if domain == "localhost" || validEmailDomain(domain) {
		return true
	}
	if ascii, ok := idnaASCII(domain); ok && ascii != domain {
		return validEmailDomain(ascii)
	}
	return false
}

func validEmailDomain(d string) bool {
	if reEmailDomain.MatchString(d) {
		return !strings.HasSuffix(d, "-")
	}
	m := reEmailLiteral.FindStringSubmatch(d)
	if m == nil {
		return false
	}
	ip, err := netip.ParseAddr(m[1])
	if err != nil || ip.Zone() != "" {
		return false
	}
	return ip.Is4() || len(m[1]) <= 39 // Django caps IPv6 text at 39 characters
}

// idnaASCII encodes a domain as Python's "idna" codec does, apart from
// nameprep (only lower-casing here): each non-ASCII label becomes
// "xn--" and its Punycode, and every label must have 1 to 63 characters
// (a final empty label, after a trailing dot, is kept).
func idnaASCII(domain string) (string, bool) {
	domain = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".").Replace(domain)
	labels := strings.Split(domain, ".")
	trailing := len(labels) > 1 && labels[len(labels)-1] == ""
	if trailing {
		labels = labels[:len(labels)-1]
	}
	for i, l := range labels {
		if !isASCII(l) {
			enc, ok := punycode(strings.ToLower(l))
			if !ok {
				return "", false
			}
			l = "xn--" + enc
		}
		if len(l) == 0 || len(l) > 63 {
			return "", false
		}
		labels[i] = l
	}
	s := strings.Join(labels, ".")
	if trailing {
		s += "."
	}
	return s, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// punycode is RFC 3492's encoder. ok is false on overflow.
func punycode(s string) (string, bool) {
	const (
		base, tmin, tmax, skew, damp = 36, 1, 26, 38, 700
		initialBias, initialN        = 72, 128
	)
	digit := func(d int) byte {
		if d < 26 {
			return byte('a' + d)
		}
		return byte('0' + d - 26)
	}
	adapt := func(delta, numPoints int, first bool) int {
		if first {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / numPoints
		k := 0
		for delta > ((base-tmin)*tmax)/2 {
			delta /= base - tmin
			k += base
		}
		return k + (base-tmin+1)*delta/(delta+skew)
	}
	runes := []rune(s)
	var out []byte
	for _, r := range runes {
		if r < 0x80 {
			out = append(out, byte(r))
		}
	}
	b := len(out)
	h := b
	if b > 0 {
		out = append(out, '-')
	}
	n, delta, bias := initialN, 0, initialBias
	for h < len(runes) {
		m := int(^uint(0) >> 1)
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		if (m-n)*(h+1) < 0 || delta+(m-n)*(h+1) < delta {
			return "", false
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
				if delta == 0 {
					return "", false
				}
			}
			if int(r) == n {
				q := delta
				for k := base; ; k += base {
					t := k - bias
					if t < tmin {
						t = tmin
					} else if t > tmax {
						t = tmax
					}
					if q < t {
						break
					}
					out = append(out, digit(t+(q-t)%(base-t)))
					q = (q - t) / (base - t)
				}
				out = append(out, digit(q))
				bias = adapt(delta, h+1, h == b)
				delta = 0
				h++
			}
		}
		delta++
		n++
	}
	return string(out), true
}
