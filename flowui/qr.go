package flowui

import (
	"encoding/base64"
	"encoding/binary"
	"hash/adler32"
	"hash/crc32"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"sync"

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
//
// The code's modules and the attributes' string are its only
// allocations: the PNG is drawn in a pooled buffer and base64'd through
// one on the stack into the string.
func qrImage(text string) template.HTMLAttr {
	c, err := qr.Encode(text)
	if err != nil {
		return ""
	}
	buf := pngBufs.Get().(*[]byte)
	defer pngBufs.Put(buf)
	*buf = qrPNG((*buf)[:0], c)
	img := *buf
	var num [8]byte
	side := strconv.AppendInt(num[:0], int64((c.Size+2*qrQuiet)*qrScale), 10)
	const prefix, width, height = `src="data:image/png;base64,`, `" width="`, `" height="`
	var a strings.Builder
	a.Grow(len(prefix) + base64.StdEncoding.EncodedLen(len(img)) + len(width) + len(height) + 2*len(side) + 1)
	a.WriteString(prefix)
	var chunk [1024]byte
	for len(img) >= 3 {
		k := min(len(img), len(chunk)/4*3) / 3 * 3 // whole groups of 3 bytes
		appendBase64(chunk[:0], img[:k])
		a.Write(chunk[:k/3*4])
		img = img[k:]
	}
	a.Write(base64.StdEncoding.AppendEncode(chunk[:0], img)) // the last 1 or 2 bytes, padded
	a.WriteString(width)
	a.Write(side)
	a.WriteString(height)
	a.Write(side)
	a.WriteByte('"')
	return template.HTMLAttr(a.String())
}

// appendBase64 appends src, whole groups of 3 bytes, to dst in base64,
// two digits a lookup (encoding/base64 takes one a lookup).
func appendBase64(dst, src []byte) []byte {
	t := base64Pairs()
	for ; len(src) >= 3; src = src[3:] {
		v := uint32(src[0])<<16 | uint32(src[1])<<8 | uint32(src[2])
		dst = binary.BigEndian.AppendUint32(dst, uint32(t[v>>12])<<16|uint32(t[v&0xFFF]))
	}
	return dst
}

// base64Pairs is base64's two digits for each 12 bits, the first in the
// high byte.
var base64Pairs = sync.OnceValue(func() *[4096]uint16 {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	t := new([4096]uint16)
	for i := range t {
		t[i] = uint16(digits[i>>6])<<8 | uint16(digits[i&63])
	}
	return t
})

// pngBufs holds qrImage's PNG buffers: hash/crc32 reads its bytes
// through a function value, which would move a buffer on the stack to
// the heap every time.
var pngBufs = sync.Pool{New: func() any { return new([]byte) }}

// qrPNG appends c as a PNG to b: one bit a pixel, grey (0 black, 1
// white), one pixel a module with the quiet zone, its pixels in one
// stored (uncompressed) deflate block: a code of the largest version is
// 185 pixels a side, 24 bytes a row with its filter byte, well under a
// block's 65,535 bytes, and a few hundred bytes for an authenticator's
// link, so that compressing would cost more than it saves.
func qrPNG(b []byte, c qr.Code) []byte {
	side := c.Size + 2*qrQuiet
	stride := 1 + (side+7)/8 // the filter byte (0, none), then the row's bits
	size := side * stride
	b = append(b, "\x89PNG\r\n\x1a\n"...)
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(side))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(side))
	ihdr[8], ihdr[9] = 1, 0 // bit depth 1, greyscale; deflate, no filter method, no interlace
	b = pngChunk(b, "IHDR", ihdr[:])
	// IDAT: a zlib stream (no preset dictionary, the fastest level) of
	// one final stored block, then the pixels' Adler-32.
	b = binary.BigEndian.AppendUint32(b, uint32(2+5+size+4))
	start := len(b)
	b = append(b, "IDAT"...)
	b = append(b, 0x78, 0x01, 1, byte(size), byte(size>>8), ^byte(size), ^byte(size>>8))
	b = slices.Grow(b, size+8)
	raw := b[len(b) : len(b)+size+8] // 8 bytes' room for a row's last word
	for y := range side {
		row := raw[y*stride:]
		row[0] = 0
		if y < qrQuiet || y >= side-qrQuiet {
			for i := range stride - 1 {
				row[1+i] = 0xff
			}
			continue
		}
		// The modules moved right by the quiet zone, 64 a word, the
		// first the most significant bit; dark 0. The words' bytes past
		// the row's are the next row's, drawn over after.
		m := c.Row(y - qrQuiet)
		var prev uint64
		for k := 0; 8*k < stride-1; k++ {
			var cur uint64
			if k < len(m) {
				cur = m[k]
			}
			binary.BigEndian.PutUint64(row[1+8*k:], ^(cur>>qrQuiet | prev<<(64-qrQuiet)))
			prev = cur
		}
	}
	b = b[:len(b)+size]
	b = binary.BigEndian.AppendUint32(b, adler32.Checksum(b[len(b)-size:]))
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
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
