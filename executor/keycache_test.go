package executor

import (
	"hash/maphash"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/authflow/authflow/internal/testutil"
)

// A keyCache's key is ExecutionKey's, whichever pairs share a slot,
// whichever of a pair's parts differs, however long they are; a key it
// keeps is served without a SHA-256 nor an allocation, and it keeps no
// caller's string.
func TestKeyCache(t *testing.T) {
	c := newKeyCache()
	check := func(session, slug string) {
		t.Helper()
		if got, want := c.key(session, slug), ExecutionKey(session, slug); got != want {
			t.Fatalf("key(%q, %q) = %q, want %q", session, slug, got, want)
		}
	}
	for range 2 {
		for i := range 3 * keyCacheSlots {
			s := "s" + strconv.Itoa(i)
			check(s, "f")
			check(s, "g")
			check(s+"f", "")
			check(s, "f")
			check("", s)
		}
		check("", "")
		long := strings.Repeat("x", maxKeyCacheID)
		check(long, "f")
		check(long, "f")
		check(long[1:], "f")
		check(long[1:], "f")
	}

	big := strings.Repeat("s", 1000)
	for _, slug := range []string{"f", ""} {
		session := big[:40]
		c.key(session, slug)
		e := c.slots[maphash.String(c.seed, session)%keyCacheSlots].Load()
		if e == nil || e.id != session+slug {
			t.Fatalf("the key of %q was not kept", slug)
		}
		p, lo := uintptr(unsafe.Pointer(unsafe.StringData(e.id))), uintptr(unsafe.Pointer(unsafe.StringData(big)))
		if p >= lo && p < lo+uintptr(len(big)) {
			t.Errorf("the cache keeps the caller's string (slug %q)", slug)
		}
	}

	if testutil.Race {
		return
	}
	session, slug := "kept-session", "default-authentication-flow"
	want := c.key(session, slug)
	if n := testing.AllocsPerRun(100, func() {
		if c.key(session, slug) != want {
			t.Fatal("a kept key changed")
		}
	}); n != 0 {
		t.Errorf("a kept key allocates %v objects", n)
	}
}
