package flowui_test

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"

	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/flowui"
	"github.com/authflow/authflow/stage"
)

// cachedAndFresh are a UI that keeps pages and one that renders every
// page whole.
func cachedAndFresh(t *testing.T) (cached, fresh *flowui.UI) {
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
// values (in its key or its text).
func keptWithout(t *testing.T, u *flowui.UI, n int, values ...string) {
	t.Helper()
	for _, v := range values {
		if u.CacheHolds(v) {
			t.Errorf("the cache holds %q", v)
		}
	}
	if got := u.CachedPages(); got != n {
		t.Errorf("%d pages kept, want %d", got, n)
	}
}

// sameAsWhole renders ch's page twice with cached (a miss, then a
// hit) and once with fresh (every page rendered whole), and fails
// unless the three are the same bytes.
func sameAsWhole(t *testing.T, cached, fresh *flowui.UI, uri string, ch executor.Challenge, posted url.Values, what string) string {
	t.Helper()
	var pages [3]string
	for i, u := range []*flowui.UI{cached, cached, fresh} {
		w := httptest.NewRecorder()
		u.Render(w, httptest.NewRequest("GET", uri, nil), "nonce", ch, "csrf", posted)
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
// answered, for pending users and avatars of every kind and URLs with
// hostile queries, is from the cache byte for byte the page rendered
// whole; the cache holds no pending user.
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
					for _, answered := range []bool{false, true} {
						var posted url.Values
						if answered {
							posted = url.Values{"component": {env.Component}, "uid_field": {"typed-" + user.PendingUser}}
							if pc, ok := s.(*executor.PromptChallenge); ok {
								for _, f := range pc.Fields {
									posted.Set(f.FieldKey, "typed-"+user.PendingUser)
								}
							}
						}
						sameAsWhole(t, cached, fresh, uri, ch.Interface().(executor.Challenge), posted, env.Component+" "+user.PendingUser+" "+user.PendingUserAvatar+" "+uri)
					}
				}
			}
		}
	}
	if cached.CacheHolds("zelda-") || cached.CacheHolds("typed-") {
		t.Errorf("the cache holds a pending user or a value typed")
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
	values := []string{"", "qqvis<s>", `qqvis"'&+`, "qqvis\x00", "qqvis\nnext", "\nqqvis", "qqvis\xff", "2026-01-02T03:04:05Z"}
	errs := []string{"qqerr<b>", `qqerr"'&`, "qqerr"}
	fillable := []stage.PromptType{"text", "text_area", "hidden", "static", "separator", "password", "text_read_only", "email", "date-time"}
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
