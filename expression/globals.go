package expression

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"unicode"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// builtins are the globals every expression has (EXPRESSIONS.md §2):
// those that need no host, and, for the rest, values that fail with a
// clear error when used.
var builtins = starlark.StringDict{
	"regex_match":   starlark.NewBuiltin("regex_match", regexMatch),
	"regex_replace": starlark.NewBuiltin("regex_replace", regexReplace),
	"list_flatten":  starlark.NewBuiltin("list_flatten", listFlatten),
	"slugify":       starlark.NewBuiltin("slugify", slugify),
	"ip_address":    starlark.NewBuiltin("ip_address", ipAddress),
	"ak_logger":     logger,
	"__ak_try":      starlark.NewBuiltin("__ak_try", akTry),

	"ak_user_by":         starlark.NewBuiltin("ak_user_by", akUserBy),
	"ak_is_group_member": starlark.NewBuiltin("ak_is_group_member", akIsGroupMember),
	"ak_call_policy":     starlark.NewBuiltin("ak_call_policy", akCallPolicy),
	"ak_create_event":    starlark.NewBuiltin("ak_create_event", akCreateEvent),
	"ip_network":         starlark.NewBuiltin("ip_network", ipNetwork),
	"ak_create_jwt":      starlark.NewBuiltin("ak_create_jwt", akCreateJWT),
	"requests":           session{},
	"resolve_dns":        starlark.NewBuiltin("resolve_dns", resolveDNS),
	"reverse_dns":        starlark.NewBuiltin("reverse_dns", reverseDNS),
}

func init() { builtins.Freeze() }

// modules are what 'from M import name' may import.
var modules = map[string]starlark.StringDict{
	"authentik.core.models": {
		"USER_ATTRIBUTE_CHANGE_EMAIL":    starlark.String("goauthentik.io/user/can-change-email"),
		"USER_ATTRIBUTE_CHANGE_NAME":     starlark.String("goauthentik.io/user/can-change-name"),
		"USER_ATTRIBUTE_CHANGE_USERNAME": starlark.String("goauthentik.io/user/can-change-username"),
	},
	// Flow for one idiom, and its enums (orm.go).
	"authentik.flows.models": flowModels,
	"django.http":            {"QueryDict": newQueryDictBuiltin},
}

func moduleMsg(m string) string {
	return fmt.Sprintf("module %q is not available in authflow: %s", m, notProvided(m))
}

func notProvided(m string) string {
	if strings.HasPrefix(m, "authentik.") || strings.HasPrefix(m, "django.") {
		return "it is part of authentik's Django server (models, ORM, database), which an embedded evaluator does not have"
	}
	return "expressions import only the names authflow provides"
}

// akTry calls its first argument and, if that fails, its second: the
// rewrite's form of 'try: return A / except: return B'. A cancelled or
// step-exhausted thread fails the second too, so a limit is never
// swallowed.
func akTry(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 2 || len(kw) != 0 {
		return nil, fmt.Errorf("__ak_try: internal: want 2 arguments")
	}
	v, err := starlark.Call(th, args[0], nil, nil)
	if err == nil {
		return v, nil
	}
	return starlark.Call(th, args[1], nil, nil)
}

// regexMatch is re.search(regex, value) is not None, with Go's RE2.
func regexMatch(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var value, pattern string
	if err := starlark.UnpackArgs(b.Name(), args, kw, "value", &value, "regex", &pattern); err != nil {
		return nil, err
	}
	if err := charge(th, len(value)+len(pattern)); err != nil {
		return nil, err
	}
	re, err := compileRegex(b.Name(), pattern)
	if err != nil {
		return nil, err
	}
	return starlark.Bool(re.MatchString(value)), nil
}

// regexReplace is re.sub(regex, repl, value): Python's replacement
// syntax (\1, \g<1>, \g<name>, \n, \\) is translated to Go's.
func regexReplace(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var value, pattern, repl string
	if err := starlark.UnpackArgs(b.Name(), args, kw, "value", &value, "regex", &pattern, "repl", &repl); err != nil {
		return nil, err
	}
	if err := charge(th, len(value)+len(pattern)+len(repl)); err != nil {
		return nil, err
	}
	re, err := compileRegex(b.Name(), pattern)
	if err != nil {
		return nil, err
	}
	tmpl, err := pythonRepl(repl)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return starlark.String(re.ReplaceAllString(value, tmpl)), nil
}

func compileRegex(fn, pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: %v (authflow uses Go's RE2: no look-arounds, back-references or possessive quantifiers)", fn, err)
	}
	return re, nil
}

// pythonRepl translates a Python re.sub replacement into a Go template.
func pythonRepl(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '$' {
			b.WriteString("$$")
			continue
		}
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch d := s[i]; {
		case d >= '0' && d <= '9':
			j := i
			for j < len(s) && j < i+2 && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			b.WriteString("${" + s[i:j] + "}")
			i = j - 1
		case d == 'g':
			end := strings.IndexByte(s[i:], '>')
			if i+1 >= len(s) || s[i+1] != '<' || end < 0 {
				return "", fmt.Errorf("missing group name in \\g<...>")
			}
			b.WriteString("${" + s[i+2:i+end] + "}")
			i += end
		case d == 'n':
			b.WriteByte('\n')
		case d == 't':
			b.WriteByte('\t')
		case d == 'r':
			b.WriteByte('\r')
		case d == '\\':
			b.WriteByte('\\')
		case d < 0x80 && unicode.IsLetter(rune(d)):
			return "", fmt.Errorf("bad escape \\%c", d)
		default:
			b.WriteByte('\\')
			b.WriteByte(d)
		}
	}
	return b.String(), nil
}

// listFlatten is authentik's list_flatten: a list gives its first
// element, or None when empty; anything else itself.
func listFlatten(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &v); err != nil {
		return nil, err
	}
	if l, ok := v.(*starlark.List); ok {
		if l.Len() == 0 {
			return starlark.None, nil
		}
		return l.Index(0), nil
	}
	return v, nil
}

// textArg is b's one argument as Python's str() gives it: a string's
// text, str() of another value.
func textArg(b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (string, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &v); err != nil {
		return "", err
	}
	if s, ok := starlark.AsString(v); ok {
		return s, nil
	}
	return v.String(), nil
}

// slugify is Django's slugify(value) without allow_unicode, except that
// non-ASCII letters are dropped rather than transliterated (Django's
// NFKD step turns "é" into "e"; here it is removed).
func slugify(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	s, err := textArg(b, args, kw)
	if err != nil {
		return nil, err
	}
	if err := charge(th, len(s)); err != nil {
		return nil, err
	}
	var kept strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 0x80:
		case r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r):
			kept.WriteRune(r)
		}
	}
	var out strings.Builder
	dash := false
	for _, r := range kept.String() {
		if r == '-' || unicode.IsSpace(r) {
			dash = true
			continue
		}
		if dash && out.Len() > 0 {
			out.WriteByte('-')
		}
		dash = false
		out.WriteRune(r)
	}
	return starlark.String(strings.Trim(out.String(), "-_")), nil
}

// ipAddress is Python's ipaddress.ip_address on a string: an address
// whose str() is its canonical form, with version and the is_* flags.
func ipAddress(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &s); err != nil {
		return nil, err
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return nil, fmt.Errorf("'%s' does not appear to be an IPv4 or IPv6 address", s)
	}
	return ipAddr{a}, nil
}

// ipAddr is an IPv4Address or IPv6Address.
type ipAddr struct{ a netip.Addr }

var (
	_ starlark.HasAttrs   = ipAddr{}
	_ starlark.Comparable = ipAddr{}
)

func (a ipAddr) String() string { return a.a.String() }
func (a ipAddr) Type() string {
	return map[bool]string{true: "IPv4Address", false: "IPv6Address"}[a.a.Is4()]
}
func (a ipAddr) Freeze()               {}
func (a ipAddr) Truth() starlark.Bool  { return true }
func (a ipAddr) Hash() (uint32, error) { return starlark.String(a.a.String()).Hash() }
func (a ipAddr) AttrNames() []string {
	return []string{"is_global", "is_link_local", "is_loopback", "is_multicast", "is_private", "is_unspecified", "version"}
}

func (a ipAddr) Attr(name string) (starlark.Value, error) {
	switch name {
	case "version":
		if a.a.Is4() {
			return starlark.MakeInt(4), nil
		}
		return starlark.MakeInt(6), nil
	case "is_private":
		return starlark.Bool(a.a.IsPrivate() || a.a.IsLoopback() || a.a.IsLinkLocalUnicast()), nil
	case "is_global":
		return starlark.Bool(a.a.IsGlobalUnicast() && !a.a.IsPrivate()), nil
	case "is_loopback":
		return starlark.Bool(a.a.IsLoopback()), nil
	case "is_multicast":
		return starlark.Bool(a.a.IsMulticast()), nil
	case "is_link_local":
		return starlark.Bool(a.a.IsLinkLocalUnicast()), nil
	case "is_unspecified":
		return starlark.Bool(a.a.IsUnspecified()), nil
	}
	return nil, nil
}

func (a ipAddr) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	c := a.a.Compare(y.(ipAddr).a)
	return threeway(op, c), nil
}

// logger is ak_logger: structured logging goes nowhere yet; calls are
// accepted so that expressions that log still run.
var logger = func() starlark.Value {
	m := starlark.StringDict{}
	for _, lvl := range []string{"debug", "info", "warning", "warn", "error", "exception", "critical"} {
		m[lvl] = starlark.NewBuiltin(lvl, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return starlark.None, nil
		})
	}
	return starlarkstruct.FromStringDict(starlark.String("BoundLogger"), m)
}()

func threeway(op syntax.Token, c int) bool {
	switch op {
	case syntax.EQL:
		return c == 0
	case syntax.NEQ:
		return c != 0
	case syntax.LT:
		return c < 0
	case syntax.LE:
		return c <= 0
	case syntax.GT:
		return c > 0
	}
	return c >= 0
}

// ipNetwork is Python's ipaddress.ip_network(address, strict=True) on a
// string: a network whose str() is its canonical form, with version,
// prefixlen and network_address, that an ip_address can be in.
func ipNetwork(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var s string
	strict := true
	if err := starlark.UnpackArgs(b.Name(), args, kw, "address", &s, "strict?", &strict); err != nil {
		return nil, err
	}
	text := s
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("'%s' does not appear to be an IPv4 or IPv6 network", s)
		}
		text = s + "/" + fmt.Sprint(a.BitLen())
	}
	p, err := netip.ParsePrefix(text)
	if err != nil {
		return nil, fmt.Errorf("'%s' does not appear to be an IPv4 or IPv6 network", s)
	}
	if m := p.Masked(); m != p {
		if strict {
			return nil, fmt.Errorf("%s has host bits set", s)
		}
		p = m
	}
	return ipNet{p}, nil
}

// ipNet is an IPv4Network or IPv6Network.
type ipNet struct{ p netip.Prefix }

var (
	_ starlark.HasAttrs   = ipNet{}
	_ starlark.Container  = ipNet{}
	_ starlark.Comparable = ipNet{}
)

func (n ipNet) String() string { return n.p.String() }
func (n ipNet) Type() string {
	return map[bool]string{true: "IPv4Network", false: "IPv6Network"}[n.p.Addr().Is4()]
}
func (n ipNet) Freeze()               {}
func (n ipNet) Truth() starlark.Bool  { return true }
func (n ipNet) Hash() (uint32, error) { return starlark.String(n.p.String()).Hash() }
func (n ipNet) AttrNames() []string   { return []string{"network_address", "prefixlen", "version"} }

func (n ipNet) Attr(name string) (starlark.Value, error) {
	switch name {
	case "network_address":
		return ipAddr{n.p.Addr()}, nil
	case "prefixlen":
		return starlark.MakeInt(n.p.Bits()), nil
	case "version":
		return ipAddr{n.p.Addr()}.Attr("version")
	}
	return nil, nil
}

// Has is Python's `address in network`: false for an address of the
// other version.
func (n ipNet) Has(x starlark.Value) (bool, error) {
	a, ok := x.(ipAddr)
	if !ok {
		return false, fmt.Errorf("'in %s' needs an ip_address, not %s", n.Type(), x.Type())
	}
	return n.p.Contains(a.a), nil
}

func (n ipNet) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	m := y.(ipNet).p
	c := n.p.Addr().Compare(m.Addr())
	if c == 0 {
		c = n.p.Bits() - m.Bits()
	}
	return threeway(op, c), nil
}

// hasAuthenticator is ak_user_has_authenticator(user, device_type=None):
// authflow stores no authenticator devices yet, so no user has one.
var hasAuthenticator = starlark.NewBuiltin("ak_user_has_authenticator", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var user, deviceType starlark.Value = starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kw, "user", &user, "device_type?", &deviceType); err != nil {
		return nil, err
	}
	if _, ok := deviceType.(starlark.String); deviceType != starlark.None && !ok {
		return nil, fmt.Errorf("%s: device_type must be a string, not %s", b.Name(), deviceType.Type())
	}
	return starlark.False, nil
})
