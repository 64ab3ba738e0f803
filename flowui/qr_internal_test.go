package flowui

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/authflow/authflow/internal/qr"
	"github.com/authflow/authflow/internal/qr/qrtest"
)

// The QR image is an img's src, width and height: a PNG data: URI that
// image/png decodes, one black or white pixel a module inside a
// 4-module white quiet zone, shown qrScale pixels a module, and a QR
// reader reads the text back from it; so for every version's size.
func TestQRImage(t *testing.T) {
	link := "otpauth://totp/authentik%3Aalice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30&issuer=authentik"
	attrs := regexp.MustCompile(`^src="data:image/png;base64,([A-Za-z0-9+/=]+)" width="(\d+)" height="(\d+)"$`)
	for _, text := range []string{"x", link, strings.Repeat("long link ", 120), strings.Repeat("y", 2331)} {
		m := attrs.FindStringSubmatch(string(qrImage(text)))
		if m == nil {
			t.Fatalf("%d bytes: %.100s", len(text), qrImage(text))
		}
		raw, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%d bytes: %v", len(text), err)
		}
		n := img.Bounds().Dx()
		if img.Bounds().Dy() != n || m[2] != m[3] || m[2] != strconv.Itoa(n*qrScale) {
			t.Fatalf("%d bytes: %v, %s x %s", len(text), img.Bounds(), m[2], m[3])
		}
		dark := func(x, y int) bool {
			r, g, b, _ := img.At(x, y).RGBA()
			switch {
			case r == 0 && g == 0 && b == 0:
				return true
			case r == 0xffff && g == 0xffff && b == 0xffff:
				return false
			}
			t.Fatalf("pixel %d,%d neither black nor white", x, y)
			return false
		}
		for y := range n {
			for x := range n {
				if (x < qrQuiet || y < qrQuiet || x >= n-qrQuiet || y >= n-qrQuiet) && dark(x, y) {
					t.Fatalf("%d bytes: module %d,%d of the quiet zone dark", len(text), x, y)
				}
			}
		}
		c, _ := qr.Encode(text)
		for y := range c.Size {
			for x := range c.Size {
				if dark(x+qrQuiet, y+qrQuiet) != c.Dark(x, y) {
					t.Fatalf("%d bytes: module %d,%d differs from the code's", len(text), x, y)
				}
			}
		}
		if got := qrtest.Decode(t, n-2*qrQuiet, func(x, y int) bool { return dark(x+qrQuiet, y+qrQuiet) }); got != text {
			t.Fatalf("QR code reads %q, want %q", got, text)
		}
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
