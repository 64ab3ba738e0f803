package qr

import "math/bits"

// place draws the codewords' bits (stream: bit i is bit 63-i%64 of word
// i/64, the first the most significant bit of the first codeword; zero
// past the last) on the data modules of cols, the symbol's columns
// matrix (as symbol has it, zero so far), a column pair at a time: each
// of the pair's runs takes the next bits of the stream into its place
// in a sequence of the pair's 2n modules in visiting order, which
// alternate right and left, so that the sequence's even and odd places
// are the two columns (from the bottom for a pair that goes up).
func (s *symbol) place(stream, cols []uint64) {
	n, w := s.n, s.w
	off, lo := 0, 0
	for _, p := range s.pairs {
		var seq [8]uint64 // 2n <= 354 modules, the first at the top, and a spare word
		for _, r := range s.runs[lo:p.end] {
			b := bitsAt(stream, off, uint(r.n))
			off += int(r.n)
			i, sh := uint(r.at>>6), uint(r.at&63)
			seq[i&7] |= b >> sh
			seq[(i+1)&7] |= b << 1 << (63 - sh) // b << (64 - sh), 0 for sh 0
		}
		lo = p.end
		// Each column's modules in visiting order, from the top: the
		// right ones are seq's odd bits, the left ones its even bits.
		var right, left [3]uint64
		for k := range (2*n + 63) / 64 {
			u, sh := unshuffle(seq[k]), 32*uint(k%2)
			right[k/2] |= u & 0xFFFFFFFF00000000 >> sh
			left[k/2] |= u << 32 >> sh
		}
		if p.up {
			reverse(right[:w], n)
			reverse(left[:w], n)
		}
		for j := range w {
			cols[j*n+p.right] = right[j]
			cols[j*n+p.right-1] = left[j]
		}
	}
}

// bitsAt is the k (1 to 64) bits of stream from bit i on, at the top.
func bitsAt(stream []uint64, i int, k uint) uint64 {
	j, sh := i>>6, uint(i&63)
	return (stream[j]<<sh | stream[j+1]>>1>>(63-sh)) &^ (^uint64(0) >> 1 >> ((k - 1) & 63))
}

// unshuffle gathers x's even bits into its low half and its odd bits
// into its high half, each in order.
func unshuffle(x uint64) uint64 {
	t := (x ^ x>>1) & 0x2222222222222222
	x ^= t ^ t<<1
	t = (x ^ x>>2) & 0x0C0C0C0C0C0C0C0C
	x ^= t ^ t<<2
	t = (x ^ x>>4) & 0x00F000F000F000F0
	x ^= t ^ t<<4
	t = (x ^ x>>8) & 0x0000FF000000FF00
	x ^= t ^ t<<8
	t = (x ^ x>>16) & 0x00000000FFFF0000
	x ^= t ^ t<<16
	return x
}

// reverse reverses the order of the first n bits of a (from the top of
// a[0]; the rest zero).
func reverse(a []uint64, n int) {
	w := len(a)
	for i, j := 0, w-1; i <= j; i, j = i+1, j-1 {
		a[i], a[j] = bits.Reverse64(a[j]), bits.Reverse64(a[i])
	}
	k := uint(64*w-n) & 63 // bit y is now bit n-1-y's, k places on
	for i := range w {
		var next uint64
		if i+1 < w {
			next = a[i+1]
		}
		a[i] = a[i]<<k | next>>1>>(63-k)
	}
}

// transpose writes the transpose of the n x n bit matrix src (n rows of
// w words, a word column at a time as symbol stores them) to dst, 64 x
// 64 bits at a time.
func transpose(dst, src []uint64, n, w int) {
	var a [64]uint64
	for bi := range w {
		for bj := range w {
			// Rows 64bi on of word column bj, zero past the last.
			k := copy(a[:], src[bj*n+64*bi:bj*n+n])
			clear(a[k:])
			transpose64(&a)
			copy(dst[bi*n+64*bj:bi*n+n], a[:])
		}
	}
}

// transpose64 transposes the 64 x 64 bit matrix a (bit 63-j of a[i] is
// row i's column j) by swapping its off-diagonal halves, then within
// each half its quarters' and so on down to single bits.
func transpose64(a *[64]uint64) {
	swap(a, 32, 0x00000000FFFFFFFF)
	swap(a, 16, 0x0000FFFF0000FFFF)
	swap(a, 8, 0x00FF00FF00FF00FF)
	swap(a, 4, 0x0F0F0F0F0F0F0F0F)
	swap(a, 2, 0x3333333333333333)
	swap(a, 1, 0x5555555555555555)
}

// swap swaps, in each pair of rows k and k+j (k with bit j clear), the
// bits of row k that m selects with those of row k+j that m<<j does.
func swap(a *[64]uint64, j uint, m uint64) {
	for k := uint(0); k < 64; k = (k + j + 1) &^ j {
		t := (a[k&63] ^ a[(k+j)&63]>>j) & m
		a[k&63] ^= t
		a[(k+j)&63] ^= t << j
	}
}
