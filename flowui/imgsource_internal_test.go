package flowui

import (
	"net/url"
	"testing"
)

// parsedSource is imgSource as url.Parse finds it: the reference that
// plainSource's URLs, not parsed, are checked against.
func parsedSource(bg string) string {
	u, err := url.Parse(bg)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || !hostSource(u.Host) {
		return ""
	}
	return " " + u.Scheme + "://" + u.Host
}

var imgSources = []string{
	"https://secure.gravatar.com/avatar/0123abcd?size=158&rating=g&default=404",
	"https://img.example.org", "https://img.example.org/", "https://img.example.org?x", "https://img.example.org#f",
	"https://a-b.c9/x_y~z/+=&", "https://IMG.example.org/a", "https://img.example.org:8443/a", "https://u@img.example.org/a",
	"https://img.example.org/a%20b", "https://img.example.org/a b", "https://img.example.org/a\x7f", "https://img.example.org/\xff",
	"https://", "https:///a", "https://?a", "https://[::1]/a", "https://img.example.org/A;B", "https://a;b/", "https://a'b/",
	"HTTPS://img.example.org/a", "http://img.example.org/a", "https:/img.example.org", "data:image/png;base64,AAAA",
	"/static/a.png", "", "img.example.org/a", "HtTp://img.example.org/a", "https:img.example.org", "ftp://img.example.org/a",
	"data:image/svg+xml;base64,PHN2Zz4=", "data:text/html,<a href='http://x'>", ":https://x", "x:https://img.example.org/",
	"h ttps://img.example.org/", "https\x00://img.example.org/", "http://img.example.org/\x00",
}

// imgSource is url.Parse's scheme and host of a background or avatar,
// byte for byte, whether or not the URL is parsed (plainSource).
func TestImgSource(t *testing.T) {
	for _, bg := range imgSources {
		if got, want := imgSource(bg), parsedSource(bg); got != want {
			t.Errorf("%q: %q, want %q", bg, got, want)
		}
	}
}

func FuzzImgSource(f *testing.F) {
	for _, bg := range imgSources {
		f.Add(bg)
	}
	f.Fuzz(func(t *testing.T, bg string) {
		if got, want := imgSource(bg), parsedSource(bg); got != want {
			t.Errorf("%q: %q, want %q", bg, got, want)
		}
	})
}
