package qr

import "math/bits"

// pad is the zero rows penalty keeps above (4) and below (6) a masked
// matrix's word columns: the light modules rule 3 looks for beyond the
// symbol's edge, and room for its windows to run past the last row.
const padAbove, padBelow = 4, 6

// penalty is the symbol's penalty under mask m: rule 1 (runs of 5 and
// more of one colour: 3, plus 1 a module beyond 5) and rule 3 (a
// dark-light-dark-dark-dark-light-dark with 4 light modules on either
// side, or the symbol's edge: 40) on rows and columns, rule 2 (each 2x2
// block of one colour: 3) and rule 4 (10 for each full 5% the dark
// modules are away from half). sym is the unmasked symbol, rows then
// columns (as symbol's matrices); scratch holds s.scratch() words,
// zero but where penalty writes.
//
// Rows and columns are scored alike, down the word columns of the rows
// matrix and of the columns matrix (its rows are the symbol's columns),
// each masked into scratch a word column at a time with zero rows
// around: rules 1 and 3 then compare whole words of 64 modules, each
// with the module above and below it.
func (s *symbol) penalty(m int, sym, scratch []uint64) int {
	n, w := s.n, s.w
	h := n + padAbove + padBelow
	mask := s.mask[m]
	for k := range 2 * w { // the word columns, rows matrix's then columns'
		c := scratch[k*h+padAbove : k*h+padAbove+n]
		i, j := k/w*n*w, k%w
		for y := range c {
			c[y] = sym[i+y*w+j] ^ mask[i+y*w+j]
		}
	}
	zero := scratch[2*w*h : 2*w*h+h]
	p, dark := 0, 0
	for k := range 2 * w {
		c := scratch[k*h : (k+1)*h]
		p += s.lines(c, s.valid[k%w])
		if k < w {
			next := zero
			if k+1 < w {
				next = scratch[(k+1)*h : (k+2)*h]
			}
			p += 3 * s.blocks(c, next, s.valid2[k])
			for _, x := range c {
				dark += bits.OnesCount64(x)
			}
		}
	}
	total := n * n
	return p + abs(2*dark-total)*10/total*10
}

// scratch is the words penalty's scratch holds: the word columns of the
// masked rows and columns matrices, and a zero one.
func (s *symbol) scratch() int {
	return (2*s.w + 1) * (s.n + padAbove + padBelow)
}

// lines scores rules 1 and 3 down a word column c of a masked matrix
// (row y is c[padAbove+y]), whose modules are valid.
func (s *symbol) lines(c []uint64, valid uint64) int {
	n := s.n
	c = c[:n+padAbove+padBelow]
	runs, finders := 0, 0
	var prev uint64
	for y := 0; y+4 < n; y++ {
		r := c[y : y+11 : y+11] // rows y-4 to y+6
		// Rule 1: a run of L >= 5 has L-4 windows of 5 and one start.
		w5 := valid &^ ((r[4] ^ r[5]) | (r[5] ^ r[6]) | (r[6] ^ r[7]) | (r[7] ^ r[8]))
		runs += bits.OnesCount64(w5) + 2*bits.OnesCount64(w5&^prev)
		prev = w5
		// Rule 3, its pattern starting at row y (none past row n-7: it
		// would end on a light row of padding).
		core := r[4] &^ r[5] & r[6] & r[7] & r[8] &^ r[9] & r[10]
		dark := (r[0] | r[1] | r[2] | r[3]) & (c[y+11] | c[y+12] | c[y+13] | c[y+14])
		finders += bits.OnesCount64(core &^ dark)
	}
	return runs + 40*finders
}

// blocks counts rule 2's 2x2 blocks of one colour in word column c of
// a masked rows matrix (laid out as for lines), next the word column
// to its right (zero if none), valid2 the modules with a module to
// their right.
func (s *symbol) blocks(c, next []uint64, valid2 uint64) int {
	n := s.n
	c, next = c[padAbove:padAbove+n], next[padAbove:padAbove+n]
	squares := 0
	h := c[0] ^ (c[0]>>1 | next[0]<<63) // differs from its right
	for y := 1; y < n; y++ {
		h2 := c[y] ^ (c[y]>>1 | next[y]<<63)
		squares += bits.OnesCount64(valid2 &^ (h | h2 | (c[y-1] ^ c[y])))
		h = h2
	}
	return squares
}
