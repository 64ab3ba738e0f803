package flowui_test

import (
	"html"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/flowui"
	"github.com/authflow/authflow/stage"
)

// cachedAndFresh are a UI that keeps pages and one that renders every
// page whole.
func cachedAndFresh(t testing.TB) (cached, fresh *flowui.UI) {
	t.Helper()
	var err error
	if cached, err = newTestUI(t, flowui.Options{}); err == nil {
		fresh, err = newTestUI(t, flowui.Options{CachePages: -1})
	}
	if err != nil {
		t.Fatal(err)
	}
	return cached, fresh
}

// keptWithout fails unless u keeps n pages, none of which holds any of
// values (in its key or its text), nor any page shell.
func keptWithout(t *testing.T, u *flowui.UI, n int, values ...string) {
	t.Helper()
	for _, v := range values {
		if u.CacheHolds(v) {
			t.Errorf("the cache holds %q", v)
		}
		if u.ShellsHold(v) {
			t.Errorf("a page shell holds %q", v)
		}
	}
	if got := u.CachedPages(); got != n {
		t.Errorf("%d pages kept, want %d", got, n)
	}
}

// sameAsWhole renders ch's page twice with cached (a miss, then a
// hit) and once with fresh (every page rendered whole), to a visitor
// not logged in, and fails unless the three are the same bytes.
func sameAsWhole(t *testing.T, cached, fresh *flowui.UI, uri string, ch executor.Challenge, posted url.Values, what string) string {
	t.Helper()
	return sameAsWholeAs(t, cached, fresh, uri, ch, posted, "", what)
}

// sameAsWholeAs is sameAsWhole to the visitor logged in as visitor, ""
// for one not logged in.
func sameAsWholeAs(t *testing.T, cached, fresh *flowui.UI, uri string, ch executor.Challenge, posted url.Values, visitor, what string) string {
	t.Helper()
	var pages [3]string
	for i, u := range []*flowui.UI{cached, cached, fresh} {
		w := httptest.NewRecorder()
		u.RenderAs(w, httptest.NewRequest("GET", uri, nil), "nonce", ch, "csrf", posted, visitor)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", what, w.Code, w.Body)
		}
		pages[i] = w.Body.String()
	}
	if pages[0] != pages[2] || pages[1] != pages[2] {
		t.Fatalf("%s: the page from the cache differs from the page rendered whole:\n%s\n%s", what, pages[1], pages[2])
	}
	return pages[0]
}

// Every sample challenge's page, with and without its errors, shown or
// answered, for pending users and avatars of every kind, URLs with
// hostile queries, and visitors logged in or not, is from the cache
// byte for byte the page rendered whole; the cache holds no pending
// user and no visitor.
func TestPageCacheEverySample(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	names := []string{"zelda-alice", "<b>zelda-bob</b>", `zelda-"q'&+`, "zelda-nul\x00", "zelda-bad\xff"}
	avatars := []string{"", "data:image/svg+xml;base64,QUJD", "https://img.example.com/a.png", "javascript:alert(1)", `data:image/png"><script>`}
	uris := []string{flowui.FlowPath + "f/", flowui.FlowPath + "f/?next=%2F%22%3E%3Cscript%3E", flowui.FlowPath + "f/?a=<b>&c='"}
	for _, s := range flowui.Samples() {
		users := []executor.UserInfo{{}}
		if reflect.ValueOf(s).Elem().FieldByName("UserInfo").IsValid() {
			users = nil
			for _, name := range names {
				for _, avatar := range avatars {
					users = append(users, executor.UserInfo{PendingUser: name, PendingUserAvatar: avatar})
				}
			}
		}
		for _, errs := range []bool{false, true} {
			for _, uri := range uris {
				for _, user := range users {
					ch := reflect.New(reflect.TypeOf(s).Elem())
					ch.Elem().Set(reflect.ValueOf(s).Elem())
					env := ch.Elem().FieldByName("Envelope").Addr().Interface().(*executor.Envelope)
					if !errs {
						env.ResponseErrors = nil
					}
					if ui := ch.Elem().FieldByName("UserInfo"); ui.IsValid() {
						ui.Set(reflect.ValueOf(user))
					}
					for k, answered := range []bool{false, true, false, true} {
						visitor := ""
						if k >= 2 {
							visitor = "zelda-in"
						}
						var posted url.Values
						if answered {
							posted = url.Values{"component": {env.Component}, "uid_field": {"typed-" + user.PendingUser}}
							if pc, ok := s.(*executor.PromptChallenge); ok {
								for _, f := range pc.Fields {
									posted.Set(f.FieldKey, "typed-"+user.PendingUser)
								}
							}
						}
						sameAsWholeAs(t, cached, fresh, uri, ch.Interface().(executor.Challenge), posted, visitor, env.Component+" "+user.PendingUser+" "+user.PendingUserAvatar+" "+uri+" "+visitor)
					}
				}
			}
		}
	}
	if cached.CacheHolds("zelda-") || cached.CacheHolds("typed-") {
		t.Errorf("the cache holds a pending user, a visitor or a value typed")
	}
}

// Prompt pages of random fields (every type, odd and repeated keys),
// initial values, forms answered and errors: each is from the cache
// byte for byte the page rendered whole, and the cache holds no value
// typed, no initial value and no error. The seed is fixed.
func TestPromptPagesRandom(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	rng := rand.New(rand.NewPCG(22, 1))
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	keys := []string{"a", "b", "a b", "non_field_errors", "component", "x<y", `"q`, "a_b", ""}
	config := []string{"", "ph<", `ph"&+`}
	values := []string{"", "de", "<b>", "qqvis<s>", `qqvis"'&+`, "qqvis\x00", "qqvis\nnext", "\nqqvis", "qqvis\xff", "2026-01-02T03:04:05Z"}
	errs := []string{"qqerr<b>", `qqerr"'&`, "qqerr"}
	fillable := []stage.PromptType{"text", "text_area", "hidden", "static", "separator", "password", "text_read_only", "email", "date-time", "dropdown", "ak-locale"}
	for range 3000 {
		c := &executor.PromptChallenge{Envelope: executor.Envelope{Component: executor.ComponentPrompt}}
		for range rng.IntN(4) {
			ty := fillable[rng.IntN(len(fillable))]
			if rng.IntN(6) == 0 {
				ty = stage.PromptTypes[rng.IntN(len(stage.PromptTypes))]
			}
			f := executor.StagePrompt{FieldKey: pick(keys), Label: pick(config), Type: ty, Required: rng.IntN(2) == 0, Placeholder: pick(config), SubText: pick(config)}
			if rng.IntN(2) == 0 {
				f.InitialValue = pick(values)
			}
			if rng.IntN(3) == 0 {
				f.Choices = []string{"a", "<b>"}
			}
			c.Fields = append(c.Fields, f)
		}
		var posted url.Values
		if rng.IntN(2) == 0 {
			posted = url.Values{"component": {executor.ComponentPrompt}}
			for range rng.IntN(4) {
				posted.Add(pick(keys), pick(values))
			}
			if rng.IntN(2) == 0 {
				c.ResponseErrors = map[string][]executor.ErrorDetail{}
				for range 1 + rng.IntN(3) {
					k := pick(keys)
					c.ResponseErrors[k] = append(c.ResponseErrors[k], executor.ErrorDetail{String: pick(errs), Code: "invalid"})
				}
			}
		}
		sameAsWhole(t, cached, fresh, flowui.FlowPath+"f/", c, posted, "prompt")
		if cached.CacheHolds("qqvis") || cached.CacheHolds("qqerr") || cached.CacheHolds("2026-01-02") {
			t.Fatalf("the cache holds a visitor's value or error: %+v %v", c, posted)
		}
	}
}

// settingsPage is the user settings' prompt page (the shipped
// default-user-settings-flow) of a user: their username, name, email
// and locale as the fields' initial values, as the executor's
// expressions give them.
func settingsPage(username, name, email, locale string) *executor.PromptChallenge {
	return &executor.PromptChallenge{
		Envelope: executor.Envelope{Component: executor.ComponentPrompt, FlowInfo: &executor.FlowInfo{Title: "Update your info", CancelURL: executor.CancelURL, Layout: "stacked"}},
		Fields: []executor.StagePrompt{
			{FieldKey: "username", Label: "Username", Type: "username", Required: true, Placeholder: "Username", InitialValue: username, Order: 200},
			{FieldKey: "name", Label: "Name", Type: "text", Required: true, Placeholder: "Name", InitialValue: name, Order: 201},
			{FieldKey: "email", Label: "Email", Type: "email", Required: true, Placeholder: "Email", InitialValue: email, Order: 202},
			{FieldKey: "attributes.settings.locale", Label: "Locale", Type: "ak-locale", Required: true, Placeholder: "Locale", InitialValue: locale, Order: 203},
		},
	}
}

// A logged-in visitor's user settings page, shown with their own
// values or answered with an error, is kept once for every user, with
// holes for the values, the errors and the locale selected: each
// user's page is from the cache byte for byte the page rendered whole,
// shows their own values and no one else's, and the cache holds none.
func TestPageCacheLoggedInSettings(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	type user struct{ username, name, email, locale string }
	users := []user{
		{"alice", "Alice <A>", "alice@example.com", "de"},
		{"bob", `Bob "B" & co`, "bob@example.org", ""},
		{"alice", "Alice <A>", "alice@example.com", "de"},
		{"carol", "Carol", "carol@example.net", "pt-BR"},
		{"dave", "Dave", "dave@example.net", "zh-Hant"},
		{"ezra", "Ezra", "ezra@example.net", "xx-none"}, // no locale of the list: kept, its own option
	}
	for _, answered := range []bool{false, true} {
		for _, u := range users {
			ch := settingsPage(u.username, u.name, u.email, u.locale)
			var posted url.Values
			if answered {
				posted = url.Values{"component": {executor.ComponentPrompt}, "username": {u.username}, "name": {u.name}, "email": {"new-" + u.email}, "attributes.settings.locale": {u.locale}}
				ch.ResponseErrors = map[string][]executor.ErrorDetail{"non_field_errors": {{String: "Not allowed to change email address.", Code: "invalid"}}}
			}
			page := sameAsWholeAs(t, cached, fresh, flowui.FlowPath+"default-user-settings-flow/", ch, posted, u.username, u.username)
			email := u.email
			if answered {
				email = "new-" + email
			}
			if !strings.Contains(page, `value="`+email+`"`) || !strings.Contains(page, `value="`+html.EscapeString(u.name)+`"`) ||
				u.locale != "" && !strings.Contains(page, `<option value="`+u.locale+`" selected>`) {
				t.Fatalf("%s's page does not show their values: %s", u.username, page)
			}
			if answered != strings.Contains(page, "Not allowed to change email address.") {
				t.Fatalf("%s's page, answered %v: %s", u.username, answered, page)
			}
			for _, o := range users {
				if o.username != u.username && (strings.Contains(page, o.email) || strings.Contains(page, o.username)) {
					t.Fatalf("%s's page shows %s's values: %s", u.username, o.username, page)
				}
			}
			if strings.Count(page, " selected>") > 1 || u.locale == "" && strings.Contains(page, " selected>") {
				t.Fatalf("%s's page selects another locale: %s", u.username, page)
			}
		}
	}
	// Each locale selected (its options rendered once, when the UI is
	// made) is the page rendered whole.
	for _, l := range flowui.Locales {
		if page := sameAsWholeAs(t, cached, fresh, flowui.FlowPath+"default-user-settings-flow/", settingsPage("frank", "Frank", "frank@example.net", l), nil, "frank", l); !strings.Contains(page, `<option value="`+l+`" selected>`) {
			t.Fatalf("locale %s is not selected: %s", l, page)
		}
	}
	keptWithout(t, cached, 1, "alice", "bob", "carol", "dave", "ezra", "frank", "Alice", "Bob", "Not allowed", " selected", "xx-none")
}

// A logged-in visitor's page that shows them outside the holes (their
// username in a flow's title, their email in a placeholder an
// expression computed) is rendered whole and never kept; a short
// initial value (a locale) found elsewhere in the challenge by chance
// does not stop a page from being kept.
func TestPageCacheLoggedInOutsideHoles(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	uri := flowui.FlowPath + "default-user-settings-flow/"
	for _, u := range []string{"alice", "bob"} {
		titled := settingsPage(u, "Zed Q", u+"@example.com", "")
		titled.FlowInfo.Title = "Settings of " + u
		if page := sameAsWholeAs(t, cached, fresh, uri, titled, nil, u, "title "+u); !strings.Contains(page, "Settings of "+u) {
			t.Fatalf("the title: %s", page)
		}
		placeholder := settingsPage(u, "Zed Q", u+"@example.com", "")
		placeholder.FlowInfo.Title = "Placeholder"
		placeholder.Fields[2].Placeholder = u + "@example.com"
		sameAsWholeAs(t, cached, fresh, uri, placeholder, nil, u, "placeholder "+u)
		// The same page without the visitor outside the holes is kept;
		// a page without values that shows the visitor's name is not.
		sameAsWholeAs(t, cached, fresh, uri, settingsPage(u, "Zed Q", u+"@example.com", "en"), nil, u, "kept "+u)
		password := &executor.PromptChallenge{Envelope: executor.Envelope{Component: executor.ComponentPrompt, FlowInfo: &executor.FlowInfo{Title: "Change password of " + u}},
			Fields: []executor.StagePrompt{{FieldKey: "password", Label: "Password", Type: "password", Required: true}}}
		sameAsWholeAs(t, cached, fresh, uri, password, nil, u, "password "+u)
	}
	keptWithout(t, cached, 1, "alice", "bob")
}

// A select's choices may be the visitor's (an expression's, a source's
// prompt_data "__choices"), as its initial values may be: a page whose
// select has choices but no choice made (its first choice "") is kept
// once for every visitor with a hole for its options, not once per
// visitor under a key that holds their choices; a radio group's, whose
// choices are in its markup, is rendered whole.
func TestPageCacheChoicesNotInKey(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	uri := flowui.FlowPath + "f/"
	for _, u := range []string{"alice", "bob", "alice"} {
		team := map[string]string{"alice": "red", "bob": "blue"}[u]
		choices := []string{"", "team-" + team + "-1", "team-" + team + "-2"}
		for _, ty := range []stage.PromptType{"dropdown", "radio-button-group"} {
			ch := &executor.PromptChallenge{Envelope: executor.Envelope{Component: executor.ComponentPrompt, FlowInfo: &executor.FlowInfo{Title: "Team"}},
				Fields: []executor.StagePrompt{{FieldKey: "team", Label: "Team", Type: ty, Choices: choices}}}
			if page := sameAsWholeAs(t, cached, fresh, uri, ch, nil, u, u+" "+string(ty)); !strings.Contains(page, `value="team-`+team+`-2"`) {
				t.Fatalf("%s's choices are not shown: %s", u, page)
			}
		}
	}
	keptWithout(t, cached, 1, "team-")
}

// A page that shows its own URL (access denied's "Try again", a host's
// template) would be kept by its query: an anonymous visitor asking for
// a flow that denies them, a new query each time, would fill the cache
// and drop every page others share, at will, so that whether the next
// visitor's page is from the cache (its timing) tells whether someone
// saw it since (the user settings). Such a page with a query is
// rendered whole, and the pages kept stay kept.
func TestPageCacheQueryFlood(t *testing.T) {
	host, err := newTestUI(t, flowui.Options{Templates: fstest.MapFS{"ak-stage-dummy.html": {Data: []byte(`<p>{{.Action}}</p>`)}}})
	if err != nil {
		t.Fatal(err)
	}
	cached, fresh := cachedAndFresh(t)
	var denied executor.Challenge
	for _, ch := range flowui.Samples() {
		if flowui.EnvelopeOf(ch).Component == executor.ComponentAccessDenied {
			denied = ch
		}
	}
	dummy := &executor.DummyChallenge{Envelope: executor.Envelope{Component: executor.ComponentDummy}, Name: "d"}
	settings := flowui.FlowPath + "default-user-settings-flow/"
	sameAsWholeAs(t, cached, fresh, settings, settingsPage("alice", "Alice", "alice@example.com", "de"), nil, "alice", "settings")
	host.Render(httptest.NewRecorder(), httptest.NewRequest("GET", flowui.FlowPath+"f/", nil), "n", dummy, "t", nil)
	for i := range 2 * flowui.DefaultCachePages {
		uri := flowui.FlowPath + "f/?x=" + strconv.Itoa(i)
		if page := sameAsWhole(t, cached, fresh, uri, denied, nil, "denied"); !strings.Contains(page, "?x="+strconv.Itoa(i)+`"`) {
			t.Fatalf("access denied's link does not keep its query: %s", page)
		}
		host.Render(httptest.NewRecorder(), httptest.NewRequest("GET", uri, nil), "n", dummy, "t", nil)
	}
	keptWithout(t, cached, 1, "?x=")
	keptWithout(t, host, 1, "?x=")
}

// A select's choices are holes, as its initial value is (they may be
// the visitor's: a source's prompt_data "__choices", the user's email
// addresses): a page whose challenge shows one of them of 4 bytes or
// more elsewhere (another field's placeholder) is rendered whole and
// not kept under a key that holds it.
func TestPageCacheChoiceOutsideHoles(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	for _, u := range []string{"alice", "bob"} {
		emails := []string{u + "-work@example.com", u + "-home@example.com"}
		ch := &executor.PromptChallenge{Envelope: executor.Envelope{Component: executor.ComponentPrompt, FlowInfo: &executor.FlowInfo{Title: "Email"}},
			Fields: []executor.StagePrompt{
				{FieldKey: "email", Label: "Email", Type: "dropdown", Required: true, InitialValue: emails[0], Choices: emails},
				{FieldKey: "other", Label: "Other", Type: "text", Placeholder: emails[1]},
			}}
		sameAsWholeAs(t, cached, fresh, flowui.FlowPath+"f/", ch, nil, "", u)
	}
	keptWithout(t, cached, 0, "@example.com")
}

// A flow's title may show the visitor (authentik's "%(user)s"): the
// page is rendered whole, and so is the page around it (page.html: the
// head and the title), whose shell would otherwise be kept by the
// title, so that whether it is kept (its timing) told who else saw the
// flow: the password page of a login, an authenticator's page, a page
// answered, a logged-in visitor's prompt page.
func TestPageShellKeepsNoName(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	uri := flowui.FlowPath + "f/"
	env := func(c, title string) executor.Envelope {
		return executor.Envelope{Component: c, FlowInfo: &executor.FlowInfo{Title: title, CancelURL: executor.CancelURL}}
	}
	for _, name := range []string{"zelda", "zorro"} {
		user := executor.UserInfo{PendingUser: name, PendingUserAvatar: executor.DefaultAvatar}
		sameAsWhole(t, cached, fresh, uri, &executor.PasswordChallenge{Envelope: env(executor.ComponentPassword, "Welcome, "+name), UserInfo: user}, nil, "password")
		sameAsWhole(t, cached, fresh, uri, &executor.PasswordChallenge{Envelope: env(executor.ComponentPassword, "Welcome, "+name), UserInfo: user},
			url.Values{"component": {executor.ComponentPassword}}, "password answered")
		sameAsWhole(t, cached, fresh, uri, &executor.AuthenticatorStaticChallenge{Envelope: env(executor.ComponentAuthenticatorStatic, "Codes of "+name), UserInfo: user, Codes: []string{"c1"}}, nil, "static")
		sameAsWholeAs(t, cached, fresh, uri, &executor.PromptChallenge{Envelope: env(executor.ComponentPrompt, "Change password of "+name),
			Fields: []executor.StagePrompt{{FieldKey: "password", Label: "Password", Type: "password", Required: true}}}, nil, name, "prompt")
	}
	keptWithout(t, cached, 0, "zelda", "zorro")
}

// The validation page of a user whose devices are all answered with a
// code they hold (TOTP, static codes) is kept, with the pending user in
// its holes, by the device classes alone: every user with the same
// classes shares it, shown or answered (a wrong code's page), and it is
// byte for byte the page rendered whole; the cache holds no user, no
// device uid, no last use and no code typed. A page that offers a
// WebAuthn assertion, a code sent (SMS, email), a Duo push, or that a
// host's template shows, is never kept.
func TestValidationPageKept(t *testing.T) {
	cached, fresh := cachedAndFresh(t)
	uri := flowui.FlowPath + "default-authentication-flow/"
	used := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	validation := func(user string, uid int, errs bool, classes ...string) *executor.AuthenticatorValidationChallenge {
		c := &executor.AuthenticatorValidationChallenge{
			Envelope: executor.Envelope{Component: executor.ComponentAuthenticatorValidate, FlowInfo: &executor.FlowInfo{Title: "Welcome", CancelURL: executor.CancelURL, Layout: "stacked"}},
			UserInfo: executor.UserInfo{PendingUser: user, PendingUserAvatar: "data:image/svg+xml;base64,QUJD" + user},
		}
		if errs {
			c.ResponseErrors = map[string][]executor.ErrorDetail{"code": {{String: executor.MsgInvalidToken, Code: "invalid"}}}
		}
		for i, cl := range classes {
			d := executor.DeviceChallenge{DeviceClass: cl, DeviceUID: strconv.Itoa(uid + i), Challenge: map[string]any{}}
			if i == 0 {
				d.LastUsed = &used
			}
			c.DeviceChallenges = append(c.DeviceChallenges, d)
		}
		return c
	}
	kinds := [][]string{{"totp"}, {"static"}, {"static", "totp"}}
	for u, user := range []string{"zelda-alice", "<b>zelda-bob</b>"} {
		for _, classes := range kinds {
			for _, errs := range []bool{false, true} {
				var posted url.Values
				if errs {
					posted = url.Values{"component": {executor.ComponentAuthenticatorValidate}, "code": {"typed-" + user}}
				}
				for _, visitor := range []string{"", "zelda-in"} {
					ch := validation(user, 7310+10*u, errs, classes...)
					page := sameAsWholeAs(t, cached, fresh, uri, ch, posted, visitor, user+" "+strings.Join(classes, "+"))
					if !strings.Contains(page, "A code from your authenticator app") && !strings.Contains(page, "static backup codes") {
						t.Fatalf("no device on the page: %s", page)
					}
				}
			}
		}
	}
	keptWithout(t, cached, 2*len(kinds), "zelda", "731", "732", "2026-01-02", "typed-", "QUJD")
	for _, other := range []string{"webauthn", "sms", "email", "duo"} {
		ch := validation("zelda-carol", 7400, false, "totp", other)
		if other == "webauthn" {
			ch.DeviceChallenges[1].Challenge = map[string]any{"challenge": "Y2hhbGxlbmdl", "rpId": "example.com"}
		}
		sameAsWhole(t, cached, fresh, uri, ch, nil, other)
	}
	sameAsWhole(t, cached, fresh, uri, validation("zelda-carol", 7400, false), nil, "no device")
	keptWithout(t, cached, 2*len(kinds))
	host, err := newTestUI(t, flowui.Options{Templates: fstest.MapFS{executor.ComponentAuthenticatorValidate + ".html": {
		Data: []byte(`{{range .Challenge.DeviceChallenges}}<p>{{.DeviceUID}}</p>{{end}}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, uid := range []int{7500, 7600} {
		w := httptest.NewRecorder()
		host.Render(w, httptest.NewRequest("GET", uri, nil), "n", validation("zelda-dave", uid, false, "totp"), "t", nil)
		if !strings.Contains(w.Body.String(), "<p>"+strconv.Itoa(uid)+"</p>") {
			t.Fatalf("the host's page: %s", w.Body)
		}
	}
	keptWithout(t, host, 0)
}
