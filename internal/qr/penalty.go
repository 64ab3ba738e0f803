package qr

import "math/bits"

// padAbove and padBelow are the zero rows penalty keeps above and below
// a masked word column: the light modules rule 3 looks for beyond the
// symbol's edge, and room for lines' windows to run past the last row.
const padAbove, padBelow = 4, 6

// penalty is the symbol's penalty under mask m: rule 1 (runs of 5 and
// more of one colour: 3, plus 1 a module beyond 5) and rule 3 (a
// dark-light-dark-dark-dark-light-dark with 4 light modules on either
// side, or the symbol's edge: 40) on rows and columns, rule 2 (each 2x2
// block of one colour: 3) and rule 4 (10 for each full 5% the dark
// modules are away from half). sym is the unmasked symbol's matrices;
// scratch holds s.scratch() words, zero but where penalty writes.
func (s *symbol) penalty(m int, sym, scratch []uint64) int {
	if s.w == 1 {
		return s.narrowPenalty(m, sym)
	}
	return s.widePenalty(m, sym, scratch)
}

// widePenalty is penalty for a symbol of any size (scratch holds
// s.wideScratch() words, zero but where it writes). Rows and columns are
// scored alike, down the word columns of the rows matrix and of the
// columns matrix (its rows are the symbol's columns), each masked into
// scratch with zero rows around: rules 1 and 3 compare words of 64
// modules, each with the module above and below it.
func (s *symbol) widePenalty(m int, sym, scratch []uint64) int {
	n, w := s.n, s.w
	h := n + padAbove + padBelow
	mask := s.mask[m]
	for k := range 2 * w {
		c := scratch[k*h+padAbove : k*h+padAbove+n]
		src, msk := sym[k*n:(k+1)*n], mask[k*n:(k+1)*n]
		for y := range c {
			c[y] = src[y] ^ msk[y]
		}
	}
	zero, l := scratch[2*w*h:(2*w+1)*h], scratch[(2*w+1)*h:(2*w+2)*h]
	p, dark := 0, 0
	for k := range 2 * w {
		c := scratch[k*h : (k+1)*h]
		p += lines(c, l, n, s.valid[k%w])
		if k < w {
			next := zero
			if k+1 < w {
				next = scratch[(k+1)*h : (k+2)*h]
			}
			sq, d := blocks(c, next, n, s.valid2[k])
			p, dark = p+3*sq, dark+d
		}
	}
	total := n * n
	return p + abs(2*dark-total)*10/total*10
}

// scratch is the words penalty's scratch holds: none for narrowPenalty,
// wideScratch for widePenalty.
func (s *symbol) scratch() int {
	if s.w == 1 {
		return 0
	}
	return s.wideScratch()
}

// wideScratch is the words widePenalty's scratch holds: the masked word
// columns of the rows and columns matrices, a zero one, and one for
// lines.
func (s *symbol) wideScratch() int {
	return (2*s.w + 2) * (s.n + padAbove + padBelow)
}

// lines scores rules 1 and 3 down the masked word column c of n rows
// (row y at c[padAbove+y]), of which valid are modules, with l as
// scratch (as long as c).
func lines(c, l []uint64, n int, valid uint64) int {
	c = c[:n+padAbove+padBelow]
	l = l[:len(c)-3]
	for i := range l {
		l[i] = c[i] | c[i+1] | c[i+2] | c[i+3] // dark among rows i-4 to i-1
	}
	runs, starts, finders := 0, 0, 0
	// Rule 1: a run of L >= 5 has L-4 windows of 5 and one start; ne
	// are the modules unlike the next row's, from row y on.
	var prev uint64
	ne0, ne1, ne2 := c[4]^c[5], c[5]^c[6], c[6]^c[7]
	for y := 0; y+4 < n; y++ {
		r := c[y+4 : y+11 : y+11] // rows y to y+6
		ne3 := r[3] ^ r[4]
		w5 := valid &^ (ne0 | ne1 | ne2 | ne3)
		runs += bits.OnesCount64(w5)
		starts += bits.OnesCount64(w5 &^ prev)
		prev, ne0, ne1, ne2 = w5, ne1, ne2, ne3
		// Rule 3, the pattern from row y on (none past row n-7: it
		// would end on a light row of padding).
		core := r[0] &^ r[1] & r[2] & r[3] & r[4] &^ r[5] & r[6]
		finders += bits.OnesCount64(core &^ (l[y] & l[y+11]))
	}
	return runs + 2*starts + 40*finders
}

// blocks counts rule 2's 2x2 blocks of one colour and the dark modules
// in the masked word column c of a rows matrix (laid out as for lines),
// next the word column to its right (zero if none), valid2 the modules
// with a module to their right.
func blocks(c, next []uint64, n int, valid2 uint64) (squares, dark int) {
	c, next = c[padAbove:padAbove+n], next[padAbove:padAbove+n]
	h := c[0] ^ (c[0]<<1 | next[0]>>63) // differs from its right
	dark = bits.OnesCount64(c[0])
	for y := 1; y < len(c); y++ {
		h2 := c[y] ^ (c[y]<<1 | next[y]>>63)
		squares += bits.OnesCount64(valid2 &^ (h | h2 | (c[y-1] ^ c[y])))
		dark += bits.OnesCount64(c[y])
		h = h2
	}
	return squares, dark
}

// narrowPenalty is penalty for a symbol of at most 64 modules a side
// (versions 1 to 11), a row or column a word: each is scored on its own
// by shifting it against itself, row y and column y in one step.
func (s *symbol) narrowPenalty(m int, sym []uint64) int {
	n := s.n
	rows, cols := sym[:n], sym[n:2*n]
	mask := s.mask[m][:2*n]
	mrows, mcols := mask[:len(rows)], mask[n:n+len(rows)]
	cols = cols[:len(rows)]
	in := s.valid[0]
	in5, in2 := in&(in<<4), in&(in<<1) // where windows of 5 and of 2 start
	p, dark := 0, 0
	above, neAbove := uint64(0), ^uint64(0) // none above row 0: all unlike
	for y, r := range rows {
		r ^= mrows[y]
		c := cols[y] ^ mcols[y]
		// Rules 1 and 3 on the row and the column, rules 2 and 4 on the
		// row (with the one above).
		ne, wr := runsOf(r, in5)
		_, wc := runsOf(c, in5)
		sq := in2 &^ (ne | neAbove | (r ^ above))
		p += bits.OnesCount64(wr) + bits.OnesCount64(wc) + 3*bits.OnesCount64(sq)
		for f := findersOf(r); f != 0; f &= f - 1 { // rarely any
			p += 40
		}
		for f := findersOf(c); f != 0; f &= f - 1 {
			p += 40
		}
		dark += bits.OnesCount64(r)
		above, neAbove = r, ne
	}
	total := n * n
	return p + abs(2*dark-total)*10/total*10
}

// runsOf is, for a row or column r of at most 64 modules (from the top
// bit: a module's next is a bit down), the modules unlike the next
// (ne), and, for rule 1, as many modules as r's runs of L >= 5 score
// (L-2 each): its windows of 3 of one colour that start where a window
// of 5 (that fits: in5) does or up to 2 modules on.
func runsOf(r, in5 uint64) (ne, w uint64) {
	ne = r ^ r<<1
	o := ne | ne<<1
	w5 := in5 &^ (o | o<<2) // no module unlike the next among the 4 from here
	return ne, w5 | w5>>1 | w5>>2
}

// findersOf is, for a row or column r of at most 61 modules (from the
// top bit, as for runsOf), the modules where rule 3's 1011101 starts,
// with no dark module among the 4 before or the 4 after (none past the
// edge: there are 3 bits past the last module, and the windows past
// them are past it too).
func findersOf(r uint64) uint64 {
	a := r & (r << 1) // dark then dark
	d := r ^ a        // dark then light
	core := d & (d << 4) & (a << 2) & (r << 6)
	b4 := r | r>>1
	b4 |= b4 >> 2 // some dark module among the 4 up to here
	return core &^ (b4 >> 1 & (b4 << 10))
}
