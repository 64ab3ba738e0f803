package flowui_test

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/flowui"
)

// The default look's colours meet WCAG 2's contrast minimums, light and
// dark: 4.5:1 for text (body text, muted help text, errors, links, the
// buttons' text, text on the error box) and 3:1 for the fields' borders.
func TestContrast(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := renderSample(t, u, &executor.DummyChallenge{Envelope: executor.Envelope{Component: executor.ComponentDummy}})
	roots := regexp.MustCompile(`:root\{([^}]*)\}`).FindAllStringSubmatch(body, -1)
	if len(roots) != 2 {
		t.Fatalf("%d :root blocks, want light and dark", len(roots))
	}
	for i, root := range roots {
		vars := map[string][3]float64{}
		for _, m := range regexp.MustCompile(`--af-([a-z-]+):#([0-9a-f]{3,6})`).FindAllStringSubmatch(root[1], -1) {
			vars[m[1]] = hexColor(t, m[2])
		}
		card := vars["card"]
		alert := mix(vars["error"], card, 0.1)
		for _, c := range []struct {
			fg, bg string
			on     [3]float64
			min    float64
		}{
			{"text", "card", card, 4.5}, {"muted", "card", card, 4.5}, {"error", "card", card, 4.5},
			{"accent", "card", card, 4.5}, {"accent-text", "accent", vars["accent"], 4.5},
			{"text", "error box", alert, 4.5}, {"border", "field", vars["field"], 3}, {"text", "field", vars["field"], 4.5},
		} {
			if r := contrast(vars[c.fg], c.on); r < c.min {
				t.Errorf("scheme %d: %s on %s: %.2f:1, want %.1f:1", i, c.fg, c.bg, r, c.min)
			}
		}
	}
}

func hexColor(t *testing.T, h string) [3]float64 {
	t.Helper()
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	var c [3]float64
	for i := range c {
		v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			t.Fatal(err)
		}
		c[i] = float64(v) / 255
	}
	return c
}

func mix(a, b [3]float64, wa float64) [3]float64 {
	var c [3]float64
	for i := range c {
		c[i] = a[i]*wa + b[i]*(1-wa)
	}
	return c
}

// contrast is WCAG 2's contrast ratio of two sRGB colours.
func contrast(a, b [3]float64) float64 {
	lum := func(c [3]float64) float64 {
		var l [3]float64
		for i, v := range c {
			if v <= 0.04045 {
				l[i] = v / 12.92
			} else {
				l[i] = math.Pow((v+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
	}
	x, y := lum(a)+0.05, lum(b)+0.05
	return max(x, y) / min(x, y)
}

// The five layouts of flow_info are the page's class; another is
// stacked.
func TestLayouts(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"stacked", "content_left", "content_right", "sidebar_left", "sidebar_right", "nope"} {
		ch := &executor.DummyChallenge{Envelope: executor.Envelope{Component: executor.ComponentDummy, FlowInfo: &executor.FlowInfo{Title: "T", Layout: l}}}
		body, _ := renderSample(t, u, ch)
		want := l
		if l == "nope" {
			want = "stacked"
		}
		if !strings.Contains(body, `<body class="layout-`+want+`">`) {
			t.Errorf("%s: %s", l, body)
		}
		if want != "stacked" && !strings.Contains(body, ".layout-"+want) {
			t.Errorf("%s: no style", l)
		}
	}
}

// The flow's background is the page's, and the CSP allows its origin.
func TestBackground(t *testing.T) {
	u, err := newTestUI(t, flowui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch := &executor.DummyChallenge{Envelope: executor.Envelope{Component: executor.ComponentDummy,
		FlowInfo: &executor.FlowInfo{Title: "T", Layout: "stacked", Background: "https://img.example/bg.jpg?x=1"}}}
	body, hdr := renderSample(t, u, ch)
	if !strings.Contains(body, `background-image:url("https://img.example/bg.jpg?x=1")`) {
		t.Errorf("%s", body)
	}
	if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: https://img.example;") {
		t.Errorf("CSP %s", csp)
	}
	ch.FlowInfo.Background = "javascript:alert(1)"
	if body, hdr = renderSample(t, u, ch); strings.Contains(body, "javascript:") || strings.Contains(hdr.Get("Content-Security-Policy"), "javascript") {
		t.Errorf("%s", body)
	}
}
