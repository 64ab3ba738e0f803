// Package qr draws QR codes (ISO/IEC 18004, model 2) of byte strings at
// error correction level M: byte mode, the smallest of versions 1 to 40
// that holds the text, and the mask of the lowest penalty by the four
// rules of the standard, scored as ZXing's encoder scores them (so the
// modules match ZXing's module for module).
//
// Modules live one bit each in 64-bit words, a row's first in the most
// significant bit, as image formats have them. What a version's codes
// share is drawn once, on its first code, and only read afterwards
// (nothing of a text goes into it): its function patterns, each mask's
// effect with the format bits that name it, and the zigzag of its data
// modules as runs along the column pairs. A code then takes its
// codewords (Reed-Solomon by a table of the generator's multiples, 64
// bits at a time, two blocks at once), lays their bits into the
// symbol's columns run by run, transposes those into rows, and scores
// the eight masks by word operations on rows and columns rather than
// module by module: up to 64 modules a side (versions 1 to 11, where
// an authenticator's otpauth link falls) a row or column is one word,
// scored by shifting it against itself; wider symbols are scored down
// the word columns of their rows and of their columns. An otpauth
// link's code takes some 4 µs on a quiet machine (5.1 on a busy one:
// BenchmarkEncode, three runs) and one allocation (its modules) where
// an encoder that drew and scored module by module took 20 µs, and
// github.com/skip2/go-qrcode over a millisecond.
//
// Its tests compare every version's modules with ZXing's encoder and
// read codes back with ZXing's reader (package qrtest).
package qr
