package flowui

import (
	"bytes"
	"html/template"
	"testing"
)

// htmlEscape escapes a string as html/template does in HTML text, a
// quoted attribute's value and RCDATA.
func FuzzHTMLEscape(f *testing.F) {
	for _, s := range []string{"", "plain", `<a href="x">'+&</a>`, "\x00", "\xff\xfe", "héllo ☃", "\ufdd0\uffff"} {
		f.Add(s)
	}
	t := template.Must(template.New("").Parse(`<p title="{{.}}">{{.}}</p><textarea>{{.}}</textarea><input value='{{.}}'>`))
	f.Fuzz(func(tt *testing.T, s string) {
		var b bytes.Buffer
		if err := t.Execute(&b, s); err != nil {
			tt.Fatal(err)
		}
		e := htmlEscape.Replace(s)
		want := `<p title="` + e + `">` + e + `</p><textarea>` + e + `</textarea><input value='` + e + `'>`
		if b.String() != want {
			tt.Fatalf("%q: html/template %q, htmlEscape %q", s, b.String(), want)
		}
	})
}
