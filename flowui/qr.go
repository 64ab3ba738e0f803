package flowui

import (
	"encoding/base64"
	"encoding/binary"
	"hash/adler32"
	"hash/crc32"
	"html/template"
	"strconv"

	"github.com/authflow/authflow/internal/qr"
)

// qrQuiet is the quiet zone around a QR code, in modules (ISO/IEC
// 18004's 4), and qrScale the CSS pixels a module takes on the page.
const qrQuiet, qrScale = 4, 4

// qrImage is the attributes of an img element showing the QR code of
// text: its src, a data: URI (the CSP allows data: images; no script
// draws it) of a PNG of one pixel a module, the quiet zone included,
// and its width and height, qrScale pixels a module, so that a page's
// style (image-rendering: pixelated) scales it without blurring a
// module's edges. It is the whole attributes, names and quoted values,
// so that html/template writes them as they are rather than checking
// and escaping the base64 a byte at a time (the values are ours: the
// prefix, base64's letters and digits, nothing to escape in a quoted
// attribute). "" when text does not fit a QR code.
func qrImage(text string) template.HTMLAttr {
	c, err := qr.Encode(text)
	if err != nil {
		return ""
	}
	img := qrPNG(c)
	side := strconv.Itoa((c.Size + 2*qrQuiet) * qrScale)
	a := make([]byte, 0, 64+base64.StdEncoding.EncodedLen(len(img)))
	a = append(a, `src="data:image/png;base64,`...)
	a = base64.StdEncoding.AppendEncode(a, img)
	a = append(a, `" width="`+side+`" height="`+side+`"`...)
	return template.HTMLAttr(a)
}

// qrPNG is c as a PNG: one bit a pixel, grey (0 black, 1 white), one
// pixel a module with the quiet zone, its pixels in one stored
// (uncompressed) deflate block: a code of the largest version is 185
// pixels a side, 24 bytes a row with its filter byte, well under a
// block's 65,535 bytes, and a few hundred bytes for an authenticator's
// link, so that compressing would cost more than it saves.
func qrPNG(c *qr.Code) []byte {
	side := c.Size + 2*qrQuiet
	stride := 1 + (side+7)/8 // the filter byte (0, none), then the row's bits
	raw := make([]byte, side*stride)
	var mod [23]byte // a row's modules, 8 a byte (177 at most), and a 0 after them
	for y := range side {
		row := raw[y*stride+1 : (y+1)*stride]
		if y < qrQuiet || y >= side-qrQuiet {
			for i := range row {
				row[i] = 0xff
			}
			continue
		}
		// The modules shifted right by the quiet zone's 4, dark 0.
		c.RowBytes(y-qrQuiet, mod[:])
		prev := byte(0)
		for i := range row {
			m := byte(0)
			if i < len(mod) {
				m = mod[i]
			}
			row[i] = ^(prev<<4 | m>>4)
			prev = m
		}
	}
	b := make([]byte, 0, 8+25+12+2+5+len(raw)+4+12)
	b = append(b, "\x89PNG\r\n\x1a\n"...)
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(side))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(side))
	ihdr[8], ihdr[9] = 1, 0 // bit depth 1, greyscale; deflate, no filter method, no interlace
	b = pngChunk(b, "IHDR", ihdr[:])
	// IDAT: a zlib stream (no preset dictionary, the fastest level) of
	// one final stored block, then the pixels' Adler-32.
	idat := make([]byte, 0, 2+5+len(raw)+4)
	idat = append(idat, 0x78, 0x01, 1, byte(len(raw)), byte(len(raw)>>8), ^byte(len(raw)), ^byte(len(raw)>>8))
	idat = append(idat, raw...)
	idat = binary.BigEndian.AppendUint32(idat, adler32.Checksum(raw))
	b = pngChunk(b, "IDAT", idat)
	return pngChunk(b, "IEND", nil)
}

// pngChunk appends a PNG chunk: its length, type, data and CRC.
func pngChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}
