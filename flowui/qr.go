package flowui

import (
	"encoding/base64"
	"html/template"
	"strconv"
	"strings"

	"github.com/authflow/authflow/internal/qr"
)

// qrImage is the QR code of text as an SVG data: URI for an img element
// (the CSP allows data: images; no script draws it): one path of the
// dark modules, run by run, with the quiet zone (4 modules) around them.
// "" when text does not fit a QR code.
func qrImage(text string) template.URL {
	c, err := qr.Encode(text)
	if err != nil {
		return ""
	}
	const quiet = 4
	side := strconv.Itoa(c.Size + 2*quiet)
	svg := make([]byte, 0, 256+c.Size*c.Size*5)
	svg = append(svg, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 `...)
	svg = append(svg, side...)
	svg = append(svg, ' ')
	svg = append(svg, side...)
	svg = append(svg, `" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="`...)
	for y := range c.Size {
		for x := 0; x < c.Size; {
			if !c.Dark(x, y) {
				x++
				continue
			}
			run := 1
			for x+run < c.Size && c.Dark(x+run, y) {
				run++
			}
			svg = append(svg, 'M')
			svg = strconv.AppendInt(svg, int64(x+quiet), 10)
			svg = append(svg, ' ')
			svg = strconv.AppendInt(svg, int64(y+quiet), 10)
			svg = append(svg, 'h')
			svg = strconv.AppendInt(svg, int64(run), 10)
			svg = append(svg, "v1h-"...)
			svg = strconv.AppendInt(svg, int64(run), 10)
			svg = append(svg, 'z')
			x += run
		}
	}
	svg = append(svg, `"/></svg>`...)

	// The base64 goes straight into the URI's one buffer, a stack chunk
	// (a multiple of 3 bytes, so padding only ends the last) at a time.
	const prefix = "data:image/svg+xml;base64,"
	enc := base64.StdEncoding
	var b strings.Builder
	b.Grow(len(prefix) + enc.EncodedLen(len(svg)))
	b.WriteString(prefix)
	var chunk [1024]byte
	for len(svg) > 0 {
		n := min(len(svg), 768)
		enc.Encode(chunk[:], svg[:n])
		b.Write(chunk[:enc.EncodedLen(n)])
		svg = svg[n:]
	}
	return template.URL(b.String())
}
