// Package qr draws QR codes (ISO/IEC 18004, model 2) of byte strings at
// error correction level M: byte mode, the smallest of versions 1 to 40
// that holds the text, and the mask of the lowest penalty by the four
// rules of the standard, scored as ZXing's encoder scores them (so the
// modules match ZXing's module for module).
//
// Modules live one bit each in 64-bit words, the symbol and its
// transpose side by side, so the eight candidate masks are scored by
// word operations on rows and columns rather than module by module, and
// a version's function patterns and the order of its data modules are
// drawn once and copied: a code of an otpauth link takes some 20 µs,
// where github.com/skip2/go-qrcode took over a millisecond.
//
// Its tests compare every version's modules with ZXing's encoder and
// read codes back with ZXing's reader (package qrtest).
package qr
