package qr

import (
	"errors"
	"math/bits"
	"sync"
)

// ErrTooLong is Encode's error for a text longer than a version 40 code
// at level M holds (2331 bytes).
var ErrTooLong = errors.New("qr: text too long for a QR code")

// Code is a QR code of Size modules a side, without its quiet zone.
type Code struct {
	Size int
	st   int      // words a row, a zero word either side of the row's own
	rows []uint64 // row y's module x is bit x%64 of rows[y*st+1+x/64]
}

// Dark reports whether module x, y (column, row from the top left) is
// dark.
func (c *Code) Dark(x, y int) bool {
	return c.rows[y*c.st+1+x>>6]>>(x&63)&1 != 0
}

// RowBytes writes row y's modules into dst, eight a byte, the leftmost
// in the most significant bit, 1 for dark, 0 past the last module; dst
// holds at least (c.Size+7)/8 bytes.
func (c *Code) RowBytes(y int, dst []byte) {
	row := c.rows[y*c.st+1 : (y+1)*c.st-1]
	for i := range (c.Size + 7) / 8 {
		dst[i] = bits.Reverse8(uint8(row[i>>3] >> (i & 7 * 8)))
	}
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

// Encode is the QR code of text's bytes.
func Encode(text string) (*Code, error) {
	ver, count := 1, 8
	for ; 4+count+8*len(text) > 8*dataCodewords(ver); ver++ {
		if ver == 40 {
			return nil, ErrTooLong
		}
		if ver == 9 {
			count = 16
		}
	}
	nd, nr := dataCodewords(ver), rawCodewords(ver)
	buf := make([]byte, 0, 2*nr)
	// Byte mode (0100), the byte count, the bytes, the terminator (the
	// 4 bits after the 4-bit mode leave the stream byte aligned), pad.
	acc, n := uint64(4)<<count|uint64(len(text)), 4+count
	for i := 0; i < len(text); i++ {
		acc, n = acc<<8|uint64(text[i]), n+8
		for ; n >= 8; n -= 8 {
			buf = append(buf, byte(acc>>(n-8)))
		}
	}
	for acc <<= 4; n+4 >= 8; n -= 8 {
		buf = append(buf, byte(acc>>(n+4-8)))
	}
	for pad := byte(0xEC); len(buf) < nd; pad ^= 0xEC ^ 0x11 {
		buf = append(buf, pad)
	}
	cw := interleave(buf, ver, buf[nd:nd+nr])

	b := newBuilder(ver)
	b.drawCodewords(layoutOf(ver), cw)
	best, least := 0, int(^uint(0)>>1)
	for m := range 8 {
		b.drawFormat(m)
		if p := b.penalty(m); p < least {
			best, least = m, p
		}
	}
	b.drawFormat(best)
	b.applyMask(best)
	return &Code{Size: b.n, st: b.st, rows: b.m[:b.n*b.st]}, nil
}

// interleave splits data into the version's blocks, appends each
// block's Reed-Solomon codewords and writes the codewords in the
// standard's order (the blocks' data byte by byte, then their error
// correction) to out.
func interleave(data []byte, ver int, out []byte) []byte {
	e, nb, nr := eccPerBlock[ver], numBlocks[ver], rawCodewords(ver)
	short := nb - nr%nb    // blocks one data codeword shorter than the rest
	shortData := nr/nb - e // their data codewords
	var div, rem [30]byte  // e <= 30
	divisor(div[:e])
	for i, d := range div[:e] {
		div[i] = gfLog[d]
	}
	k := 0
	for i := 0; i <= shortData; i++ {
		for j := range nb {
			if i < shortData || j >= short {
				out[k] = data[j*shortData+max(0, j-short)+i]
				k++
			}
		}
	}
	for j := range nb {
		start := j*shortData + max(0, j-short)
		end := start + shortData
		if j >= short {
			end++
		}
		remainder(data[start:end], div[:e], rem[:e])
		for i := range e {
			out[k+i*nb+j] = rem[i]
		}
	}
	return out
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

// remainder writes the Reed-Solomon remainder of data by the divisor
// whose coefficients' logarithms are logDiv (none is 0) to rem.
func remainder(data, logDiv, rem []byte) {
	clear(rem)
	for _, c := range data {
		f := c ^ rem[0]
		copy(rem, rem[1:])
		rem[len(rem)-1] = 0
		if f == 0 {
			continue
		}
		lf := int(gfLog[f])
		for i, d := range logDiv {
			rem[i] ^= gfExp[int(d)+lf]
		}
	}
}

// builder holds a symbol being drawn: its modules m, the function
// modules f, each also transposed (t, ft: row x is column x), and
// scratch rows for the masked symbol and its transpose (s, u), one
// after the other in all.
type builder struct {
	ver, n, st             int
	all, m, t, f, ft, s, u []uint64
}

func newBuilder(ver int) *builder {
	n := 17 + 4*ver
	st := (n+63)/64 + 2
	w := n * st
	all := make([]uint64, 6*w)
	return &builder{ver: ver, n: n, st: st, all: all,
		m: all[:w:w], t: all[w : 2*w : 2*w], f: all[2*w : 3*w : 3*w], ft: all[3*w : 4*w : 4*w],
		s: all[4*w : 5*w : 5*w], u: all[5*w:]}
}

// layout is a version's function patterns (the format modules light),
// m, t, f and ft as a builder has them, and the columns and rows of
// the modules its codewords' bits go to, in the standard's zigzag
// (x<<16 | y): drawn once a version, copied into each builder.
type layout struct {
	rows []uint64
	data []uint32
}

var layouts [41]struct {
	once sync.Once
	l    layout
}

func layoutOf(ver int) *layout {
	l := &layouts[ver]
	l.once.Do(func() {
		b := newBuilder(ver)
		b.drawFunctions()
		n := b.n
		data := make([]uint32, 0, 8*rawCodewords(ver)+7)
		for right := n - 1; right >= 1; right -= 2 {
			if right == 6 {
				right = 5
			}
			up := (right+1)&2 == 0
			for vert := range n {
				y := vert
				if up {
					y = n - 1 - vert
				}
				for x := right; x >= right-1; x-- {
					if !b.isFn(x, y) {
						data = append(data, uint32(x)<<16|uint32(y))
					}
				}
			}
		}
		l.l = layout{rows: b.all[:4*n*b.st], data: data}
	})
	return &l.l
}

func setBit(rows []uint64, st, y, x int, v bool) {
	i, bit := y*st+1+x>>6, uint64(1)<<(x&63)
	if v {
		rows[i] |= bit
	} else {
		rows[i] &^= bit
	}
}

// fn draws function module x, y.
func (b *builder) fn(x, y int, dark bool) {
	setBit(b.m, b.st, y, x, dark)
	setBit(b.t, b.st, x, y, dark)
	setBit(b.f, b.st, y, x, true)
	setBit(b.ft, b.st, x, y, true)
}

func (b *builder) isFn(x, y int) bool {
	return b.f[y*b.st+1+x>>6]>>(x&63)&1 != 0
}

func (b *builder) drawFunctions() {
	n := b.n
	for i := range n {
		b.fn(6, i, i%2 == 0)
		b.fn(i, 6, i%2 == 0)
	}
	for _, c := range [3][2]int{{3, 3}, {n - 4, 3}, {3, n - 4}} {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := c[0]+dx, c[1]+dy
				if x >= 0 && x < n && y >= 0 && y < n {
					d := max(abs(dx), abs(dy))
					b.fn(x, y, d != 2 && d != 4)
				}
			}
		}
	}
	var pos [7]int
	ps := alignment(b.ver, pos[:0])
	for i, x := range ps {
		for j, y := range ps {
			last := len(ps) - 1
			if i == 0 && j == 0 || i == 0 && j == last || i == last && j == 0 {
				continue
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					b.fn(x+dx, y+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
	b.drawFormat(0) // reserves the format modules
	if b.ver >= 7 {
		r := b.ver
		for range 12 {
			r = r<<1 ^ r>>11*0x1F25
		}
		v := b.ver<<12 | r
		for i := range 18 {
			a, c := n-11+i%3, i/3
			b.fn(a, c, v>>i&1 != 0)
			b.fn(c, a, v>>i&1 != 0)
		}
	}
}

// alignment appends the centres of the version's alignment patterns on
// either axis.
func alignment(ver int, ps []int) []int {
	if ver == 1 {
		return ps
	}
	k := ver/7 + 2
	step := (ver*8 + k*3 + 5) / (k*4 - 4) * 2
	ps = ps[:k]
	ps[0] = 6
	for i, p := k-1, 17+4*ver-7; i >= 1; i, p = i-1, p-step {
		ps[i] = p
	}
	return ps
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// drawFormat draws the format information (level M, mask) in both its
// places, and the dark module.
func (b *builder) drawFormat(mask int) {
	data := mask // level M's bits are 00
	r := data
	for range 10 {
		r = r<<1 ^ r>>9*0x537
	}
	v := (data<<10 | r) ^ 0x5412
	bit := func(i int) bool { return v>>i&1 != 0 }
	n := b.n
	for i := range 6 {
		b.fn(8, i, bit(i))
	}
	b.fn(8, 7, bit(6))
	b.fn(8, 8, bit(7))
	b.fn(7, 8, bit(8))
	for i := 9; i < 15; i++ {
		b.fn(14-i, 8, bit(i))
	}
	for i := range 8 {
		b.fn(n-1-i, 8, bit(i))
	}
	for i := 8; i < 15; i++ {
		b.fn(8, n-15+i, bit(i))
	}
	b.fn(8, n-8, true)
}

// drawCodewords draws the version's function patterns (l) and places
// the codewords' bits on its data modules; the remainder modules stay
// light.
func (b *builder) drawCodewords(l *layout, cw []byte) {
	copy(b.all, l.rows)
	for i, p := range l.data[:8*len(cw)] {
		if cw[i>>3]>>(7-i&7)&1 != 0 {
			x, y := int(p>>16), int(p&0xFFFF)
			setBit(b.m, b.st, y, x, true)
			setBit(b.t, b.st, x, y, true)
		}
	}
}

// maskTables' rows[m][y%12][w] is mask m's pattern of row y's word w
// (bit i: module 64w+i, 1 where the mask inverts it): every mask repeats
// every 12 modules down and 6 across. cols is the same for the
// transpose: cols[m][x%12][w] is column x's word w.
var maskTables = sync.OnceValues(func() (rows, cols *[8][12][3]uint64) {
	rows, cols = new([8][12][3]uint64), new([8][12][3]uint64)
	for m := range 8 {
		for a := range 12 {
			for w := range 3 {
				for i := range 64 {
					if maskBit(m, 64*w+i, a) {
						rows[m][a][w] |= 1 << i
					}
					if maskBit(m, a, 64*w+i) {
						cols[m][a][w] |= 1 << i
					}
				}
			}
		}
	}
	return rows, cols
})

// maskBit reports whether mask m inverts module x, y (outside the
// function patterns).
func maskBit(m, x, y int) bool {
	switch m {
	case 0:
		return (x+y)%2 == 0
	case 1:
		return y%2 == 0
	case 2:
		return x%3 == 0
	case 3:
		return (x+y)%3 == 0
	case 4:
		return (x/3+y/2)%2 == 0
	case 5:
		return x*y%2+x*y%3 == 0
	case 6:
		return (x*y%2+x*y%3)%2 == 0
	default:
		return ((x+y)%2+x*y%3)%2 == 0
	}
}

// masked writes src with mask pattern tab applied outside fn to dst.
func (b *builder) masked(dst, src, fn []uint64, tab *[12][3]uint64) {
	n, st := b.n, b.st
	for y := range n {
		for j := 1; j < st-1; j++ {
			i := y*st + j
			dst[i] = (src[i] ^ tab[y%12][j-1]&^fn[i]) & below(n, j)
		}
	}
}

// applyMask applies mask m to the symbol.
func (b *builder) applyMask(m int) {
	rows, _ := maskTables()
	b.masked(b.m, b.m, b.f, &rows[m])
}

// below is the bits of word j (1 the first) of a row for the positions
// before k.
func below(k, j int) uint64 {
	k -= 64 * (j - 1)
	switch {
	case k <= 0:
		return 0
	case k >= 64:
		return ^uint64(0)
	}
	return 1<<k - 1
}

// penalty is the symbol's penalty under mask m: rule 1 (runs of 5 and
// more of one colour: 3, plus 1 a module beyond 5) and rule 3 (a
// dark-light-dark-dark-dark-light-dark with 4 light modules on either
// side, or the symbol's edge: 40) on rows and columns, rule 2 (each 2x2
// block of one colour: 3) and rule 4 (10 for each full 5% the dark
// modules are away from half).
func (b *builder) penalty(m int) int {
	rows, cols := maskTables()
	b.masked(b.s, b.m, b.f, &rows[m])
	b.masked(b.u, b.t, b.ft, &cols[m])
	p, dark := b.lines(b.s, true)
	q, _ := b.lines(b.u, false)
	total := b.n * b.n
	return p + q + abs(2*dark-total)*10/total*10
}

// lines scores rules 1 and 3 on the rows of a, and rule 2 if blocks,
// and counts its dark modules.
func (b *builder) lines(a []uint64, blocks bool) (p, dark int) {
	n, st := b.n, b.st
	// The positions (of a window's first module) each rule looks at,
	// word by word: windows of 5 (rule 1), 7 (rule 3), 2 (rule 2).
	var lim5, lim7, lim2 [3]uint64
	for j := 1; j < st-1; j++ {
		lim5[j-1], lim7[j-1], lim2[j-1] = below(n-4, j), below(n-6, j), below(n-1, j)
	}
	runs, finders, squares := 0, 0, 0
	for y := range n {
		for j := 1; j < st-1; j++ {
			i := y*st + j
			r, prev, next := a[i], a[i-1], a[i+1]
			s := func(k uint) uint64 { return r>>k | next<<(64-k) } // module x+k
			l := func(k uint) uint64 { return r<<k | prev>>(64-k) } // module x-k
			s1, s2, s3, s4 := s(1), s(2), s(3), s(4)
			dark += bits.OnesCount64(r)

			// Rule 1: a run of L >= 5 has L-4 windows of 5 and one start.
			w5 := ^(r ^ s1) & ^(r ^ s2) & ^(r ^ s3) & ^(r ^ s4) & lim5[j-1]
			cont := ^(r ^ l(1)) // same as the module before
			if j == 1 {
				cont &^= 1
			}
			runs += bits.OnesCount64(w5) + 2*bits.OnesCount64(w5&^cont)

			core := r & ^s1 & s2 & s3 & s4 & ^s(5) & s(6) & lim7[j-1]
			light := ^(l(1) | l(2) | l(3) | l(4)) | ^(s(7) | s(8) | s(9) | s(10))
			finders += bits.OnesCount64(core & light)

			if blocks && y+1 < n {
				r2 := a[i+st]
				t1 := r2>>1 | a[i+st+1]<<63
				squares += bits.OnesCount64(^(r ^ s1) & ^(r2 ^ t1) & ^(r ^ r2) & lim2[j-1])
			}
		}
	}
	return runs + 40*finders + 3*squares, dark
}
