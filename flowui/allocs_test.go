package flowui_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/flowui"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/internal/tmplexec"
)

// headerOnly is a ResponseWriter that keeps nothing but its header,
// and takes strings as net/http's does, without a copy.
type headerOnly struct{ h http.Header }

func (w *headerOnly) Header() http.Header               { return w.h }
func (w *headerOnly) Write(b []byte) (int, error)       { return len(b), nil }
func (w *headerOnly) WriteString(s string) (int, error) { return len(s), nil }
func (w *headerOnly) WriteHeader(int)                   {}

// A page found in the cache costs its key no allocation (the key is
// built in a pooled buffer and looked up without a copy; a TOTP setup
// page's shape written directly, not copied from its challenge and
// encoded): the TOTP setup page, kept with holes, costs 7 allocations:
// its headers', the avatar's value and the QR code's.
func TestKeptPageAllocs(t *testing.T) {
	if testutil.Race {
		t.Skip("allocation counts differ under the race detector")
	}
	// Not checked against html/template here (main_test's Verify): its
	// allocations are not the page's.
	verify := tmplexec.Verify
	tmplexec.Verify = nil
	defer func() { tmplexec.Verify = verify }()
	u, _ := cachedAndFresh(t)
	r := httptest.NewRequest("GET", flowui.FlowPath+"f/", nil)
	user := executor.UserInfo{PendingUser: "alice", PendingUserAvatar: executor.DefaultAvatar}
	ch := &executor.AuthenticatorTOTPChallenge{Envelope: executor.Envelope{Component: executor.ComponentAuthenticatorTOTP, FlowInfo: &executor.FlowInfo{Title: "t", Layout: "stacked"}},
		UserInfo: user, ConfigURL: "otpauth://totp/authentik%3Aalice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30&issuer=authentik"}
	w := &headerOnly{h: http.Header{}}
	for range 3 {
		u.Render(w, r, "n", ch, "t", nil)
	}
	if u.CachedPages() != 1 {
		t.Fatalf("%d pages kept", u.CachedPages())
	}
	n := testing.AllocsPerRun(200, func() {
		clear(w.h)
		u.Render(w, r, "n", ch, "t", nil)
	})
	if n > 7 {
		t.Errorf("%v allocations, want at most 7", n)
	}
}

// An avatar (at each page of a user's) is not parsed: on another origin
// (a Gravatar URL) its CSP source is its one allocation, a data: URI
// has none.
func TestImgSourceAllocs(t *testing.T) {
	if testutil.Race {
		t.Skip("allocation counts differ under the race detector")
	}
	bg := "https://secure.gravatar.com/avatar/0123abcd?size=158&rating=g&default=404"
	if n := testing.AllocsPerRun(100, func() { _ = flowui.ImgSource(bg) }); n > 1 {
		t.Errorf("%v allocations, want 1", n)
	}
	// An avatar's data: URI (the directory's initials) is not parsed
	// either: no source, no allocation.
	data := "data:image/svg+xml;base64," + strings.Repeat("PHN2Zz4=", 200)
	if n := testing.AllocsPerRun(100, func() { _ = flowui.ImgSource(data) }); n != 0 {
		t.Errorf("a data: URI: %v allocations, want none", n)
	}
}
