package qr

import "sync"

// symbol is what a version's codes share, drawn once a version (by
// symbolOf) and read only afterwards: nothing of a text goes into it.
//
// Its bit matrices are a symbol's rows and its columns, n of w words
// each, stored a word column at a time (so that penalty reads a word
// column's words one after the other): word j of row y (its modules 64j
// to 64j+63, the first in the most significant bit: module x at bit
// 63-x%64) is at j*n+y; word j of column x (its modules from the top,
// likewise) at (w+j)*n+x.
type symbol struct {
	n, w int
	// fn is the function patterns, the format modules light.
	fn []uint64
	// mask[m] is mask m's effect: the data modules it inverts, and the
	// dark format modules that name it.
	mask [8][]uint64
	// valid[j] is the bits of a row's word j that are modules, and
	// valid2[j] those of modules with a module to their right.
	valid, valid2 []uint64
	// pairs is the columns the codewords' bits go up or down two at a
	// time, right to left, and runs the stretches of data modules along
	// them, in the bits' order.
	pairs []pair
	runs  []run
}

// A pair is a column pair of the zigzag: the codewords' bits fill its
// rows, the right module then the left, from the bottom (up) or the
// top; numbering the modules so visited 0 to 2n-1 (row by row in that
// direction), its data modules are its runs, up to index end of
// symbol.runs.
type pair struct {
	right int
	up    bool
	end   int
}

// A run is n (at most 64) data modules of a pair, numbered at to
// at+n-1 as pair says: the next n bits of the codewords.
type run struct{ at, n uint16 }

var symbols [41]struct {
	once sync.Once
	s    *symbol
}

// symbolOf is version ver's symbol.
func symbolOf(ver int) *symbol {
	s := &symbols[ver]
	s.once.Do(func() { s.s = newSymbol(ver) })
	return s.s
}

// grid is a symbol being drawn, a module a bool.
type grid struct {
	n        int
	fn, dark []bool
}

func (g *grid) set(x, y int, dark bool) {
	g.fn[y*g.n+x], g.dark[y*g.n+x] = true, dark
}

func (g *grid) isFn(x, y int) bool { return g.fn[y*g.n+x] }

func newSymbol(ver int) *symbol {
	n := 17 + 4*ver
	w := (n + 63) / 64
	g := &grid{n: n, fn: make([]bool, n*n), dark: make([]bool, n*n)}
	drawFunctions(g, ver)
	s := &symbol{n: n, w: w, valid: make([]uint64, w), valid2: make([]uint64, w)}
	for j := range w {
		s.valid[j], s.valid2[j] = below(n, j), below(n-1, j)
	}
	s.fn = s.words(func(x, y int) bool { return g.dark[y*n+x] })
	fmtBit := make([]int, n*n) // 1 + the format bit a module shows, or 0
	formatModules(n, func(i, x, y int) { fmtBit[y*n+x] = 1 + i })
	for m := range 8 {
		f := format(m)
		s.mask[m] = s.words(func(x, y int) bool {
			if i := fmtBit[y*n+x]; i > 0 {
				return f>>(i-1)&1 != 0
			}
			return !g.isFn(x, y) && maskBit(m, x, y)
		})
	}
	for right := n - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		p := pair{right: right, up: (right+1)&2 == 0}
		first := len(s.runs)
		for k := range 2 * n {
			y := k / 2
			if p.up {
				y = n - 1 - y
			}
			if g.isFn(right-k%2, y) {
				continue
			}
			if last := len(s.runs) - 1; last >= first && int(s.runs[last].at+s.runs[last].n) == k && s.runs[last].n < 64 {
				s.runs[last].n++
			} else {
				s.runs = append(s.runs, run{at: uint16(k), n: 1})
			}
		}
		p.end = len(s.runs)
		s.pairs = append(s.pairs, p)
	}
	return s
}

// words is the bit matrices, rows then columns, of the modules dark
// says.
func (s *symbol) words(dark func(x, y int) bool) []uint64 {
	n, w := s.n, s.w
	b := make([]uint64, 2*n*w)
	for y := range n {
		for x := range n {
			if dark(x, y) {
				b[x>>6*n+y] |= 1 << (63 - x&63)
				b[(w+y>>6)*n+x] |= 1 << (63 - y&63)
			}
		}
	}
	return b
}

// below is the bits of a row's word j for the modules before k.
func below(k, j int) uint64 {
	k = min(max(k-64*j, 0), 64)
	return ^(^uint64(0) >> k)
}

// drawFunctions draws the version's finder, separator, timing and
// alignment patterns, the version information and the dark module, and
// reserves the format modules (light).
func drawFunctions(g *grid, ver int) {
	n := g.n
	for i := range n {
		g.set(6, i, i%2 == 0)
		g.set(i, 6, i%2 == 0)
	}
	for _, c := range [3][2]int{{3, 3}, {n - 4, 3}, {3, n - 4}} {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := c[0]+dx, c[1]+dy
				if x >= 0 && x < n && y >= 0 && y < n {
					d := max(abs(dx), abs(dy))
					g.set(x, y, d != 2 && d != 4)
				}
			}
		}
	}
	var pos [7]int
	ps := alignment(ver, pos[:0])
	for i, x := range ps {
		for j, y := range ps {
			last := len(ps) - 1
			if i == 0 && j == 0 || i == 0 && j == last || i == last && j == 0 {
				continue
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					g.set(x+dx, y+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
	formatModules(n, func(_, x, y int) { g.set(x, y, false) })
	g.set(8, n-8, true)
	if ver >= 7 {
		r := ver
		for range 12 {
			r = r<<1 ^ r>>11*0x1F25
		}
		v := ver<<12 | r
		for i := range 18 {
			a, c := n-11+i%3, i/3
			g.set(a, c, v>>i&1 != 0)
			g.set(c, a, v>>i&1 != 0)
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

// format is the 15 bits of format information of level M and mask m.
func format(m int) int {
	r := m // level M's bits are 00
	for range 10 {
		r = r<<1 ^ r>>9*0x537
	}
	return (m<<10 | r) ^ 0x5412
}

// formatModules calls f with each format bit's index and each of its
// two modules.
func formatModules(n int, f func(i, x, y int)) {
	for i := range 6 {
		f(i, 8, i)
	}
	f(6, 8, 7)
	f(7, 8, 8)
	f(8, 7, 8)
	for i := 9; i < 15; i++ {
		f(i, 14-i, 8)
	}
	for i := range 8 {
		f(i, n-1-i, 8)
	}
	for i := 8; i < 15; i++ {
		f(i, 8, n-15+i)
	}
}

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
