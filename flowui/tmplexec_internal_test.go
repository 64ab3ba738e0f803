package flowui

import (
	"bytes"
	"testing"
	"time"

	"github.com/authflow/authflow/executor"
)

// BenchmarkTemplates renders each sample challenge's "content" (the
// page's own part) by html/template and compiled (internal/tmplexec),
// in turn in one loop, and reports the ratio html-x-compiled:
//
//	go test ./flowui -run '^$' -bench BenchmarkTemplates
func BenchmarkTemplates(b *testing.B) {
	v, err := parseViews(nil, newPlaceholders())
	if err != nil {
		b.Fatal(err)
	}
	u := &UI{views: v, ph: newPlaceholders()}
	for _, ch := range samples() {
		env := envelope(ch)
		t := v.components[env.Component]
		b.Run(env.Component, func(b *testing.B) {
			p := u.page("nonce", "csrf")
			p.Challenge, p.Component, p.Title = ch, env.Component, "Sample"
			p.User = userInfo(ch)
			if c := components[p.Component]; c.fields != nil {
				p.fields = c.fields(ch)
			}
			if pc, ok := ch.(*executor.PromptChallenge); ok {
				p.Prompts = prompts(p, pc, nil)
			} else if len(p.fields) > 0 {
				p.Fields = map[string]Field{}
				for _, f := range p.fields {
					p.Fields[f] = p.Field(f)
				}
			}
			var buf bytes.Buffer
			if err := t.Execute(&buf, templateContent, p); err != nil {
				b.Fatal(err)
			}
			if ok, why := t.Compiled(templateContent); !ok {
				b.Fatal(why)
			}
			var html, compiled time.Duration
			for b.Loop() {
				buf.Reset()
				t0 := time.Now()
				if err := t.Template().ExecuteTemplate(&buf, templateContent, p); err != nil {
					b.Fatal(err)
				}
				buf.Reset()
				t1 := time.Now()
				if err := t.Execute(&buf, templateContent, p); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				html, compiled = html+t1.Sub(t0), compiled+t2.Sub(t1)
			}
			b.ReportMetric(float64(html.Nanoseconds())/float64(b.N), "ns/html")
			b.ReportMetric(float64(compiled.Nanoseconds())/float64(b.N), "ns/compiled")
			b.ReportMetric(float64(html)/float64(compiled), "html-x-compiled")
		})
	}
}
