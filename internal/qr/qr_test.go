package qr_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/encoder"

	"github.com/authflow/authflow/internal/qr"
	"github.com/authflow/authflow/internal/qr/qrtest"
)

const otpauth = "otpauth://totp/authentik%3Aalice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30&issuer=authentik"

// texts are byte-mode texts (each has a lower-case letter, so ZXing
// picks byte mode too) of lengths across the versions.
func texts() []string {
	rnd := rand.New(rand.NewPCG(1, 2))
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789%&=?/:.-_ "
	out := []string{otpauth, "a", "otpauth://totp/x?secret=AB", "ünïcödé ✓"}
	for _, n := range []int{2, 7, 13, 14, 15, 26, 27, 41, 42, 61, 62, 83, 84, 106, 107, 121, 122, 151, 152, 179, 180, 213, 250, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666, 711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809, 1911, 1989, 2099, 2213, 2331} {
		b := []byte{'z'}
		for len(b) < n {
			b = append(b, chars[rnd.IntN(len(chars))])
		}
		out = append(out, string(b))
	}
	return out
}

// Encode's modules are ZXing's encoder's, module for module: the same
// version, codewords, function patterns and mask choice, for texts of
// every version.
func TestEncodeMatchesZXing(t *testing.T) {
	versions := map[int]bool{}
	for _, text := range texts() {
		versions[sameAsZXing(t, text)] = true
	}
	if len(versions) != 40 {
		t.Fatalf("the texts cover versions %v, not all 40", versions)
	}
}

// sameAsZXing fails t unless Encode draws text as ZXing's encoder does
// (text must make ZXing choose byte mode: a byte that is not a digit or
// of the alphanumeric set) and returns the version.
func sameAsZXing(t *testing.T, text string) int {
	t.Helper()
	c, err := qr.Encode(text)
	if err != nil {
		t.Fatalf("%d bytes: %v", len(text), err)
	}
	z, err := encoder.Encoder_encodeWithoutHint(text, decoder.ErrorCorrectionLevel_M)
	if err != nil {
		t.Fatalf("%d bytes: zxing: %v", len(text), err)
	}
	m := z.GetMatrix()
	if m.GetWidth() != c.Size {
		t.Fatalf("%d bytes: size %d, zxing %d", len(text), c.Size, m.GetWidth())
	}
	for y := range c.Size {
		for x := range c.Size {
			if c.Dark(x, y) != (m.Get(x, y) == 1) {
				t.Fatalf("%d bytes (zxing mask %d): module %d,%d differs", len(text), z.GetMaskPattern(), x, y)
			}
		}
	}
	return z.GetVersion().GetVersionNumber()
}

// Any text: ErrTooLong past 2331 bytes; else a code, ZXing's for the
// texts ZXing writes in byte mode (valid UTF-8, which its encoder
// takes as it is, with a byte outside the digits and the alphanumeric
// set).
func FuzzEncode(f *testing.F) {
	for _, text := range texts()[:20] {
		f.Add(text)
	}
	f.Add("")
	f.Add("12345")
	f.Add("HELLO WORLD")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := qr.Encode(text)
		if len(text) > 2331 {
			if !errors.Is(err, qr.ErrTooLong) {
				t.Fatalf("%d bytes: %v", len(text), err)
			}
			return
		}
		if err != nil || c.Size < 21 || c.Size > 177 || (c.Size-17)%4 != 0 {
			t.Fatalf("%d bytes: %v", len(text), err)
		}
		if utf8.ValidString(text) && strings.IndexFunc(text, func(r rune) bool {
			return !strings.ContainsRune("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", r)
		}) >= 0 {
			sameAsZXing(t, text)
		}
	})
}

// A QR reader (ZXing's) reads the text back from the drawn code.
func TestEncodeDecodes(t *testing.T) {
	for _, text := range texts()[:12] {
		c, err := qr.Encode(text)
		if err != nil {
			t.Fatal(err)
		}
		if got := qrtest.Decode(t, c.Size, c.Dark); got != text {
			t.Fatalf("decoded %q, want %q", got, text)
		}
	}
}

// Encode may be called from several goroutines at once, each version's
// first code among them (what a version's codes share is drawn once;
// run alone, this test draws the first codes): each gets the code a
// lone call draws.
func TestEncodeConcurrent(t *testing.T) {
	ts := texts()
	got := make([][]qr.Code, 4)
	var wg sync.WaitGroup
	for g := range got {
		got[g] = make([]qr.Code, len(ts))
		wg.Go(func() {
			for i := range ts {
				i = (i + g*len(ts)/4) % len(ts)
				got[g][i], _ = qr.Encode(ts[i])
			}
		})
	}
	wg.Wait()
	for i, text := range ts {
		want, _ := qr.Encode(text)
		for g := range got {
			if !slices.EqualFunc(rows(got[g][i]), rows(want), slices.Equal) {
				t.Fatalf("%d bytes: not the lone call's code", len(text))
			}
		}
	}
}

func rows(c qr.Code) [][]uint64 {
	var rs [][]uint64
	for y := range c.Size {
		rs = append(rs, c.Row(y))
	}
	return rs
}

// 2331 bytes fill a version 40 code; one more is too long.
func TestEncodeTooLong(t *testing.T) {
	if c, err := qr.Encode(strings.Repeat("x", 2331)); err != nil || c.Size != 177 {
		t.Fatalf("%v", err)
	}
	if _, err := qr.Encode(strings.Repeat("x", 2332)); !errors.Is(err, qr.ErrTooLong) {
		t.Fatalf("%v", err)
	}
}

// BenchmarkEncode is an otpauth link's code.
func BenchmarkEncode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := qr.Encode(otpauth); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleEncode() {
	c, _ := qr.Encode("hello")
	for y := range 7 {
		var b strings.Builder
		for x := range 8 {
			if c.Dark(x, y) {
				b.WriteString("#")
			} else {
				b.WriteString(".")
			}
		}
		fmt.Println(b.String())
	}
	fmt.Println(c.Size)
	// Output:
	// #######.
	// #.....#.
	// #.###.#.
	// #.###.#.
	// #.###.#.
	// #.....#.
	// #######.
	// 21
}

// Row gives each row's modules as Dark does, 64 a word from the most
// significant bit, and zeros past the last, for codes of several sizes.
func TestRow(t *testing.T) {
	for _, text := range []string{"x", otpauth, strings.Repeat("z", 700), strings.Repeat("y", 2331)} {
		c, err := qr.Encode(text)
		if err != nil {
			t.Fatal(err)
		}
		for y := range c.Size {
			row := c.Row(y)
			if len(row) != (c.Size+63)/64 {
				t.Fatalf("%d bytes: row %d has %d words", len(text), y, len(row))
			}
			for x := range len(row) * 64 {
				got := row[x/64]>>(63-x%64)&1 != 0
				if want := x < c.Size && c.Dark(x, y); got != want {
					t.Fatalf("%d bytes: module %d,%d: %v, want %v", len(text), x, y, got, want)
				}
			}
		}
	}
}
