package directory

import (
	"strconv"
	"testing"
)

// Avatar answers from what it kept the avatar it would make, and keeps
// at most maxAvatars, past which it starts over.
func TestAvatarKept(t *testing.T) {
	if a, b := Avatar(User{Name: " Ada Lovelace "}), Avatar(User{Username: "x", Name: "Ada Lovelace"}); a != b || a != initialsAvatar("Ada Lovelace") {
		t.Errorf("the same name: %q, %q", a, b)
	}
	if Avatar(User{Username: "ada"}) == Avatar(User{Username: "bob"}) {
		t.Error("two usernames, one avatar")
	}
	for i := range 2*maxAvatars + 1 {
		name := "user " + strconv.Itoa(i)
		if got := Avatar(User{Name: name}); got != initialsAvatar(name) {
			t.Fatalf("%s: %q", name, got)
		}
	}
	avatars.Lock()
	n := len(avatars.m)
	avatars.Unlock()
	if n > maxAvatars {
		t.Errorf("%d avatars kept, over %d", n, maxAvatars)
	}
}
