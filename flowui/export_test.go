package flowui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/internal/tmplexec"
)

// What the black-box tests reach inside.

// Samples are the challenges New renders.
var Samples = samples

// Locales are an ak-locale field's choices' codes.
var Locales = func() []string {
	var ls []string
	for _, l := range locales {
		ls = append(ls, l.code)
	}
	return ls
}()

// SecretComponents are the components whose pages are never kept.
var SecretComponents = secretComponents

// UserInfoOf says whether a challenge shows a pending user.
func UserInfoOf(ch executor.Challenge) (*executor.UserInfo, bool) {
	ui := userInfo(ch)
	return ui, ui != nil
}

// EnvelopeOf is a challenge's envelope.
var EnvelopeOf = envelope

// ImgSource is imgSource: a background's or avatar's CSP source.
var ImgSource = imgSource

// Render writes ch's page to a visitor not logged in; posted is the
// form answered with it, nil for none.
func (u *UI) Render(w http.ResponseWriter, r *http.Request, nonce string, ch executor.Challenge, csrf string, posted url.Values) {
	u.RenderAs(w, r, nonce, ch, csrf, posted, "")
}

// RenderAs is Render to the visitor logged in as visitor, "" for one
// not logged in.
func (u *UI) RenderAs(w http.ResponseWriter, r *http.Request, nonce string, ch executor.Challenge, csrf string, posted url.Values, visitor string) {
	var f *form
	if posted != nil {
		f = &form{values: posted, component: posted.Get("component")}
	}
	u.render(w, r, nonce, http.StatusOK, ch, csrf, f, visitor)
}

// Decode is the response a form of values gives.
func (u *UI) Decode(values url.Values) (json.RawMessage, error) {
	b, ferr := u.decode(&form{values: values, component: values.Get("component")})
	if ferr != nil {
		return nil, ferr
	}
	return b, nil
}

// DecodeRequest is the response a POST's form gives.
func (u *UI) DecodeRequest(w http.ResponseWriter, r *http.Request) (json.RawMessage, error) {
	f, ferr := u.readForm(w, r)
	if ferr != nil {
		return nil, ferr
	}
	b, ferr := u.decode(f)
	if ferr != nil {
		return nil, ferr
	}
	return b, nil
}

// CachedPages is the number of pages kept.
func (u *UI) CachedPages() int {
	u.cache.mu.Lock()
	defer u.cache.mu.Unlock()
	return len(u.cache.m)
}

// Covers says whether the UI has a decoder and a template of c.
func (u *UI) Covers(c string) (decoder, template bool) {
	_, decoder = components[c]
	_, template = u.views.components[c]
	return decoder, template
}

// CachedBytes is the size of the pages kept, their keys included.
func (u *UI) CachedBytes() int {
	u.cache.mu.Lock()
	defer u.cache.mu.Unlock()
	return u.cache.bytes
}

// Shells is the number of page shells kept, -1 when the UI renders
// every page whole (a host's page.html, or a style.css with actions).
func (u *UI) Shells() int {
	if u.shells == nil {
		return -1
	}
	u.shells.mu.Lock()
	defer u.shells.mu.Unlock()
	return len(u.shells.m)
}

// ShellsHold says whether a page shell kept holds s.
func (u *UI) ShellsHold(s string) bool {
	if u.shells == nil {
		return false
	}
	u.shells.mu.Lock()
	defer u.shells.mu.Unlock()
	for _, sh := range u.shells.m {
		for _, rd := range []*rendered{sh.head, sh.tail} {
			for _, p := range rd.parts {
				if u.holds(string(p), s) {
					return true
				}
			}
		}
	}
	return false
}

// CSRF is the CSRF token of a session's forms.
func (u *UI) CSRF(session string) string { return u.csrf(session) }

// CacheHolds says whether a page kept holds s.
func (u *UI) CacheHolds(s string) bool {
	u.cache.mu.Lock()
	defer u.cache.mu.Unlock()
	for k, rd := range u.cache.m {
		if u.holds(k, s) {
			return true
		}
		for _, p := range rd.parts {
			if u.holds(string(p), s) {
				return true
			}
		}
	}
	return false
}

// holds says whether text holds s outside u's placeholders, whose
// random hex digits may hold anything short.
func (u *UI) holds(text, s string) bool {
	return strings.Contains(strings.ReplaceAll(text, u.ph.prefix, ""), s)
}

// NotCompiled are the templates of u's that ran by html/template rather
// than compiled (internal/tmplexec), and why: "set name: reason".
func (u *UI) NotCompiled() []string {
	sets := map[string]*tmplexec.Set{"landing": u.views.landing, "status": u.views.status, "prompt": u.views.prompt}
	for c, s := range u.views.components {
		sets[c] = s
	}
	for c, s := range u.views.visitor {
		sets["visitor "+c] = s
	}
	if u.shells != nil {
		sets["shell"] = u.shells.t
	}
	var out []string
	for k, s := range sets {
		if s == nil {
			continue
		}
		for _, name := range []string{templatePage, templateContent, "who", "username", "errors", "nonfield", "options"} {
			if ok, why := s.Compiled(name); !ok && why != "not run yet" {
				out = append(out, k+" "+name+": "+why)
			}
		}
	}
	slices.Sort(out)
	return out
}
