package flowui

import (
	"html/template"
	"net/url"
	"strings"
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

// An avatar's data: URI of a base64 image (the directory's, a kilobyte
// or more) is written as the whole src attribute (imageSrc), byte for
// byte as html/template writes it checked as a URL (imageURL); any other
// URL is left to html/template.
func TestImageSrc(t *testing.T) {
	checked := template.Must(template.New("").Funcs(template.FuncMap{"image": imageURL}).Parse(`<img src="{{image .}}">`))
	whole := template.Must(template.New("").Parse(`<img {{.}}>`))
	for _, u := range []string{
		"data:image/svg+xml;base64," + strings.Repeat("PHN2ZyB4bWxucz0i+/==", 40), "data:image/png;base64,iVBORw0KGgo=", "data:image/gif;base64,",
	} {
		a := imageSrc(u)
		if a == "" {
			t.Errorf("%.40q is left to html/template", u)
			continue
		}
		var want, got strings.Builder
		if err := checked.Execute(&want, u); err != nil {
			t.Fatal(err)
		}
		if err := whole.Execute(&got, a); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%.40q: %s, want %s", u, got.String(), want.String())
		}
	}
	for _, u := range []string{"/static/a.png", "https://img.example.org/a.png", "data:image/svg+xml,<svg/>", "data:image/svg+xml;utf8,%3Csvg%3E",
		"data:image/png;base64,AA\"onerror=x", "data:text/html;base64,AAAA", "data:image/png;base64,A&B", "data:image/png;base64,A B"} {
		if a := imageSrc(u); a != "" {
			t.Errorf("%q: %s, want it left to html/template", u, a)
		}
	}
}
