// Package qr draws QR codes (ISO/IEC 18004, model 2) of byte strings at
// error correction level M: byte mode, the smallest of versions 1 to 40
// that holds the text, and the mask of the lowest penalty by the four
// rules of the standard, scored as ZXing's encoder scores them (so the
// modules match ZXing's module for module).
//
// Modules live one bit each in 64-bit words, the symbol and its
// transpose side by side, so the eight candidate masks are scored by
// word operations on rows and columns rather than module by module: a
// code of an otpauth link takes microseconds.
package qr
