package qr

import (
	"encoding/binary"
	"errors"
	"sync"
)

// ErrTooLong is Encode's error for a text longer than a version 40 code
// at level M holds (2331 bytes).
var ErrTooLong = errors.New("qr: text too long for a QR code")

// Code is a QR code of Size modules a side, without its quiet zone. Its
// modules do not change once drawn.
type Code struct {
	Size int
	w    int      // words a row
	rows []uint64 // row y's module x is bit 63-x%64 of rows[y*w+x/64]
}

// Dark reports whether module x, y (column, row from the top left) is
// dark.
func (c Code) Dark(x, y int) bool {
	return c.rows[y*c.w+x>>6]>>(63-x&63)&1 != 0
}

// Row is row y's modules, 64 a word, the first in the most significant
// bit (as image formats have them): module x is bit 63-x%64 of word
// x/64, 1 for dark; the bits past the last module are 0. The words are
// the code's own, for reading only.
func (c Code) Row(y int) []uint64 {
	return c.rows[y*c.w : (y+1)*c.w : (y+1)*c.w]
}

// Level M's error correction codewords a block and blocks, by version.
var (
	eccPerBlock = [41]int{0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28}
	numBlocks   = [41]int{0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49}
)

// rawCodewords is the number of 8-module codewords of a version's data
// area (its modules outside the function patterns, less the remainder).
func rawCodewords(ver int) int {
	n := (16*ver+128)*ver + 64
	if ver >= 2 {
		a := ver/7 + 2
		n -= (25*a-10)*a - 55
		if ver >= 7 {
			n -= 36
		}
	}
	return n / 8
}

func dataCodewords(ver int) int {
	return rawCodewords(ver) - eccPerBlock[ver]*numBlocks[ver]
}

// Encode is the QR code of text's bytes. It is safe for concurrent use.
func Encode(text string) (Code, error) {
	ver, count := 1, 8
	for ; 4+count+8*len(text) > 8*dataCodewords(ver); ver++ {
		if ver == 40 {
			return Code{}, ErrTooLong
		}
		if ver == 9 {
			count = 16
		}
	}
	s := symbolOf(ver)
	n, w := s.n, s.w
	nd, nr := dataCodewords(ver), rawCodewords(ver)

	// Scratch, on the stack up to version 11 (64 modules a side): the
	// data codewords, then all the codewords in their order (and zeros
	// to a whole word); their bits, 64 a word; the unmasked symbol's
	// rows and columns (as symbol's matrices); penalty's scratch.
	nbuf := nd + (nr+7)/8*8
	nwords := (nr+7)/8 + 1 + 2*n*w + s.scratch()
	var smallBuf [768]byte
	var smallWords [176]uint64
	buf, words := smallBuf[:], smallWords[:]
	if nbuf > len(buf) {
		buf = make([]byte, nbuf)
	}
	if nwords > len(words) {
		words = make([]uint64, nwords)
	}
	stream, words := words[:(nr+7)/8+1], words[(nr+7)/8+1:]
	sym, scratch := words[:2*n*w], words[2*n*w:2*n*w+s.scratch()]

	// Byte mode (0100) and the byte count (12 or 20 bits), so that
	// each byte of the text is half a byte on; the terminator (0000)
	// ends the last one's byte; pad.
	data := buf[:nd]
	h, k := 4<<count|len(text), 0
	for sh := count - 4; sh >= 0; sh, k = sh-8, k+1 {
		data[k] = byte(h >> sh)
	}
	half := byte(h << 4) // the half byte before the next, high
	for i := 0; i < len(text); i, k = i+1, k+1 {
		data[k] = half | text[i]>>4
		half = text[i] << 4
	}
	data[k] = half
	for i, pad := k+1, byte(0xEC); i < nd; i, pad = i+1, pad^0xEC^0x11 {
		data[i] = pad
	}
	cw := buf[nd:nbuf]
	interleave(data, ver, cw)
	for i := range stream[:len(stream)-1] {
		stream[i] = binary.BigEndian.Uint64(cw[8*i:])
	}

	rows, cols := sym[:n*w], sym[n*w:]
	s.place(stream, cols)
	for i, f := range s.fn[n*w:] {
		cols[i] |= f
	}
	transpose(rows, cols, n, w)
	best, least := 0, int(^uint(0)>>1)
	for m := range 8 {
		if p := s.penalty(m, sym, scratch); p < least {
			best, least = m, p
		}
	}
	c := Code{Size: n, w: w, rows: make([]uint64, n*w)}
	for j := range w {
		for y := range n {
			c.rows[y*w+j] = rows[j*n+y] ^ s.mask[best][j*n+y]
		}
	}
	return c, nil
}

// interleave splits data into the version's blocks, appends each
// block's Reed-Solomon codewords and writes the codewords in the
// standard's order (the blocks' data byte by byte, then their error
// correction) to out.
func interleave(data []byte, ver int, out []byte) {
	e, nb, nr := eccPerBlock[ver], numBlocks[ver], rawCodewords(ver)
	short := nb - nr%nb    // blocks one data codeword shorter than the rest
	shortData := nr/nb - e // their data codewords
	t := rsTable(e)
	block := func(j int) []byte {
		start := j*shortData + max(0, j-short)
		if j >= short {
			return data[start : start+shortData+1]
		}
		return data[start : start+shortData]
	}
	ecc := out[len(data):]
	put := func(j int, r [4]uint64) {
		for i := range e {
			ecc[i*nb+j] = byte(r[i/8] >> (56 - 8*(i%8)))
		}
	}
	for j := 0; j < nb; j++ {
		b := block(j)
		for i, c := range b[:shortData] {
			out[i*nb+j] = c
		}
		if j >= short {
			out[shortData*nb+j-short] = b[shortData]
		}
	}
	// Two blocks at a time: each byte's step waits on the last's, so
	// that two independent ones keep the processor busier.
	j := 0
	for ; j+1 < nb; j += 2 {
		ra, rb := remainder2(block(j), block(j+1), t)
		put(j, ra)
		put(j+1, rb)
	}
	if j < nb {
		ra, _ := remainder2(block(j), nil, t)
		put(j, ra)
	}
}

// rsTable is, for each byte f, f times the coefficients of the
// Reed-Solomon generator of degree e (its highest, 1, left out), the
// highest first, 8 a word from the most significant byte.
func rsTable(e int) *[256][4]uint64 {
	r := &rsTables[e]
	r.once.Do(func() {
		var d [30]byte
		divisor(d[:e])
		t := new([256][4]uint64)
		for f := range 256 {
			for i, c := range d[:e] {
				t[f][i/8] |= uint64(gfMul(byte(f), c)) << (56 - 8*(i%8))
			}
		}
		r.t = t
	})
	return r.t
}

var rsTables [31]struct {
	once sync.Once
	t    *[256][4]uint64
}

// remainder2 is the Reed-Solomon remainders of a and b (at most one
// byte longer, or empty) by the generator whose multiples are t, laid
// out as t's rows are.
func remainder2(a, b []byte, t *[256][4]uint64) (ra, rb [4]uint64) {
	var a0, a1, a2, a3, b0, b1, b2, b3 uint64
	for i, c := range a {
		x := &t[c^byte(a0>>56)]
		a0, a1, a2, a3 = (a0<<8|a1>>56)^x[0], (a1<<8|a2>>56)^x[1], (a2<<8|a3>>56)^x[2], a3<<8^x[3]
		if i < len(b) {
			y := &t[b[i]^byte(b0>>56)]
			b0, b1, b2, b3 = (b0<<8|b1>>56)^y[0], (b1<<8|b2>>56)^y[1], (b2<<8|b3>>56)^y[2], b3<<8^y[3]
		}
	}
	if len(b) > len(a) {
		y := &t[b[len(a)]^byte(b0>>56)]
		b0, b1, b2, b3 = (b0<<8|b1>>56)^y[0], (b1<<8|b2>>56)^y[1], (b2<<8|b3>>56)^y[2], b3<<8^y[3]
	}
	return [4]uint64{a0, a1, a2, a3}, [4]uint64{b0, b1, b2, b3}
}

// GF(2^8) with the QR polynomial x^8+x^4+x^3+x^2+1.
var gfExp, gfLog = func() (exp [512]byte, log [256]byte) {
	x := 1
	for i := range 255 {
		exp[i], exp[i+255] = byte(x), byte(x)
		log[x] = byte(i)
		if x <<= 1; x >= 256 {
			x ^= 0x11D
		}
	}
	return
}()

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// divisor writes the Reed-Solomon generator polynomial of degree
// len(d), highest coefficient (1) omitted, highest first.
func divisor(d []byte) {
	clear(d)
	d[len(d)-1] = 1
	root := byte(1)
	for range d {
		for j := range d {
			d[j] = gfMul(d[j], root)
			if j+1 < len(d) {
				d[j] ^= d[j+1]
			}
		}
		root = gfMul(root, 2)
	}
}
