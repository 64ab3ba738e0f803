package flowui

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// The QR image's path draws exactly the QR code's dark modules.
func TestQRImage(t *testing.T) {
	text := "otpauth://totp/authentik%3Aalice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30&issuer=authentik"
	u := string(qrImage(text))
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(u, "data:image/svg+xml;base64,"))
	if err != nil || !strings.HasPrefix(u, "data:image/svg+xml;base64,") {
		t.Fatalf("%.60s: %v", u, err)
	}
	q, _ := qrcode.New(text, qrcode.Medium)
	want := q.Bitmap()
	n := len(want)
	if !strings.Contains(string(raw), fmt.Sprintf(`viewBox="0 0 %d %d"`, n, n)) {
		t.Fatalf("%.200s", raw)
	}
	got := make([][]bool, n)
	for i := range got {
		got[i] = make([]bool, n)
	}
	for _, m := range regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`).FindAllStringSubmatch(string(raw), -1) {
		var x, y, w int
		fmt.Sscan(m[1], &x)
		fmt.Sscan(m[2], &y)
		fmt.Sscan(m[3], &w)
		for i := x; i < x+w; i++ {
			if got[y][i] {
				t.Fatalf("module %d,%d drawn twice", i, y)
			}
			got[y][i] = true
		}
	}
	for y := range want {
		for x := range want[y] {
			if got[y][x] != want[y][x] {
				t.Fatalf("module %d,%d: %v, want %v", x, y, got[y][x], want[y][x])
			}
		}
	}
	if qrImage(strings.Repeat("x", 8000)) != "" {
		t.Fatal("a text too long for a QR code")
	}
}
