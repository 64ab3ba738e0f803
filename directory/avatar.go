package directory

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Avatar is the avatar authflow shows for u: authentik's "initials" mode,
// an SVG data URI with up to two initials of the user's name (or, when
// the name is blank, of the username) on a colour derived from them.
//
// authentik's default ("gravatar,initials") first asks gravatar.com
// whether it knows the user's email address; authflow makes no network
// request to render a user, so it starts at the second mode. The SVG is
// authflow's own, not authentik's byte for byte.
func Avatar(u User) string {
	src := strings.TrimSpace(u.Name)
	if src == "" {
		src = u.Username
	}
	avatars.Lock()
	a, ok := avatars.m[src]
	avatars.Unlock()
	if !ok {
		a = initialsAvatar(src)
		avatars.Lock()
		if len(avatars.m) >= maxAvatars {
			clear(avatars.m)
		}
		avatars.m[src] = a
		avatars.Unlock()
	}
	return a
}

// avatars keeps the avatars last made, by the name they were made of:
// a login shows its user's on each challenge. At most maxAvatars; when
// full, it starts over.
var avatars = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

const maxAvatars = 1024

// initialsAvatar makes the avatar of name src.
func initialsAvatar(src string) string {
	var initials []rune
	for _, w := range strings.Fields(src) {
		r, _ := utf8.DecodeRuneInString(w)
		initials = append(initials, unicode.ToUpper(r))
		if len(initials) == 2 {
			break
		}
	}
	sum := sha256.Sum256([]byte(src))
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="0 0 100 100">`+
		`<rect width="100" height="100" fill="hsl(%d,45%%,40%%)"/>`+
		`<text x="50" y="50" dy=".35em" text-anchor="middle" font-family="sans-serif" font-size="40" fill="#fff">%s</text></svg>`,
		int(sum[0])*360/256, html.EscapeString(string(initials)))
	return "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(svg))
}
