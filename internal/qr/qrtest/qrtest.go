// Package qrtest reads QR codes back in tests, with a reader of its own
// (ZXing's Go port, a module only tests import): the check that a code
// drawn by package qr, or an image made of one, says what it should.
package qrtest

import (
	"image"
	"image/color"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
)

// Decode reads the QR code of size modules a side (dark(x, y) for
// column x, row y) with a reader of its own (ZXing's), from an image of
// it with a quiet zone, and fails t if it does not read.
func Decode(t testing.TB, size int, dark func(x, y int) bool) string {
	t.Helper()
	const scale, quiet = 4, 4
	side := (size + 2*quiet) * scale
	img := image.NewGray(image.Rect(0, 0, side, side))
	for y := range side {
		for x := range side {
			mx, my := x/scale-quiet, y/scale-quiet
			v := uint8(255)
			if mx >= 0 && my >= 0 && mx < size && my < size && dark(mx, my) {
				v = 0
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("QR code does not read: %v", err)
	}
	return res.GetText()
}
