package flowui

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/authflow/authflow/internal/qr/qrtest"
)

// The QR image is an img's src attribute, an SVG data: URI of one path, a run of dark modules at a time
// inside a 4-module quiet zone, and a QR reader reads the text back from
// it.
func TestQRImage(t *testing.T) {
	text := "otpauth://totp/authentik%3Aalice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30&issuer=authentik"
	attr := string(qrImage(text))
	u, ok := strings.CutPrefix(attr, `src="data:image/svg+xml;base64,`)
	u, ok2 := strings.CutSuffix(u, `"`)
	raw, err := base64.StdEncoding.DecodeString(u)
	if err != nil || !ok || !ok2 {
		t.Fatalf("%.60s: %v", attr, err)
	}
	vb := regexp.MustCompile(`^<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 (\d+) (\d+)" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="(.*)"/></svg>$`).FindStringSubmatch(string(raw))
	if vb == nil || vb[1] != vb[2] {
		t.Fatalf("%.300s", raw)
	}
	n, _ := strconv.Atoi(vb[1])
	dark := make([][]bool, n)
	for i := range dark {
		dark[i] = make([]bool, n)
	}
	runs := regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
	if rest := runs.ReplaceAllString(vb[3], ""); rest != "" {
		t.Fatalf("path has %.100q besides runs", rest)
	}
	for _, m := range runs.FindAllStringSubmatch(vb[3], -1) {
		var x, y, w int
		fmt.Sscan(m[1], &x)
		fmt.Sscan(m[2], &y)
		fmt.Sscan(m[3], &w)
		if m[3] != m[4] || y < 4 || y >= n-4 || x < 4 || x+w > n-4 {
			t.Fatalf("run %s outside the code", m[0])
		}
		for i := x; i < x+w; i++ {
			if dark[y][i] {
				t.Fatalf("module %d,%d drawn twice", i, y)
			}
			dark[y][i] = true
		}
	}
	got := qrtest.Decode(t, n-8, func(x, y int) bool { return dark[y+4][x+4] })
	if got != text {
		t.Fatalf("QR code reads %q, want %q", got, text)
	}
	if qrImage(strings.Repeat("x", 8000)) != "" {
		t.Fatal("a text too long for a QR code")
	}
}

func BenchmarkQRImage(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		qrImage("otpauth://totp/authentik%3Aalice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30&issuer=authentik")
	}
}

// appendSmall writes what strconv does for every coordinate of a code.
func TestAppendSmall(t *testing.T) {
	for v := range 1000 {
		if got := string(appendSmall([]byte("x"), v)); got != "x"+strconv.Itoa(v) {
			t.Fatalf("%d: %q", v, got)
		}
	}
}
