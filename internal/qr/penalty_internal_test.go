package qr

import (
	"math/rand/v2"
	"testing"
)

// narrowPenalty, penalty's way for versions 1 to 11, scores every mask
// as widePenalty, the way for all versions, does, on random modules.
func TestNarrowPenalty(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for ver := 1; ver <= 11; ver++ {
		s := symbolOf(ver)
		n := s.n
		for range 20 {
			sym := make([]uint64, 2*n)
			for y := range n {
				sym[y] = rnd.Uint64() & s.valid[0]
			}
			transpose(sym[n:], sym[:n], n, 1)
			scratch := make([]uint64, s.wideScratch())
			for m := range 8 {
				if a, b := s.narrowPenalty(m, sym), s.widePenalty(m, sym, scratch); a != b {
					t.Fatalf("version %d, mask %d: %d, widePenalty %d", ver, m, a, b)
				}
			}
		}
	}
}
