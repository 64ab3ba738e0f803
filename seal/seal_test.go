package seal_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/authflow/authflow/seal"
)

func mustKey(t testing.TB) seal.Key {
	t.Helper()
	k, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustRing(t testing.TB, primary seal.Key, old ...seal.Key) *seal.Keyring {
	t.Helper()
	r, err := seal.NewKeyring(primary, old...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSealOpen(t *testing.T) {
	r := mustRing(t, mustKey(t))
	for _, v := range []string{"", "s3cret", strings.Repeat("x", 5000)} {
		sealed, err := r.Seal(nil, []byte(v), []byte("place"))
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != len(v)+seal.Overhead {
			t.Errorf("sealed %d bytes into %d, want %d", len(v), len(sealed), len(v)+seal.Overhead)
		}
		if v != "" && bytes.Contains(sealed, []byte(v)) {
			t.Errorf("the sealed value holds the clear one")
		}
		got, err := r.Open(nil, sealed, []byte("place"))
		if err != nil || string(got) != v {
			t.Fatalf("Open = %q, %v; want %q", got, err, v)
		}
		if id, err := seal.KeyID(sealed); err != nil || id != r.Primary() {
			t.Errorf("KeyID = %08x, %v; want %08x", id, err, r.Primary())
		}
	}
}

func TestSealNonce(t *testing.T) {
	r := mustRing(t, mustKey(t))
	a, _ := r.Seal(nil, []byte("v"), []byte("p"))
	b, _ := r.Seal(nil, []byte("v"), []byte("p"))
	if !bytes.Equal(a, b) {
		t.Error("two seals of one value for one place differ: a no-op write would change the record")
	}
	nonce := func(s []byte) []byte { return s[5 : 5+seal.NonceSize] }
	for _, other := range [][2]string{{"w", "p"}, {"v", "q"}, {"", "vp"}} {
		c, _ := r.Seal(nil, []byte(other[0]), []byte(other[1]))
		if bytes.Equal(nonce(a), nonce(c)) {
			t.Errorf("value %q at %q has the nonce of \"v\" at \"p\"", other[0], other[1])
		}
	}
	// Another key gives another nonce for the same value and place.
	d, _ := mustRing(t, mustKey(t)).Seal(nil, []byte("v"), []byte("p"))
	if bytes.Equal(nonce(a), nonce(d)) {
		t.Error("two keys give one nonce")
	}
}

func TestOpenOtherPlace(t *testing.T) {
	r := mustRing(t, mustKey(t))
	sealed, _ := r.Seal(nil, []byte("s3cret"), []byte("stage\x00A\x00client_secret"))
	for _, place := range []string{"stage\x00B\x00client_secret", "stage\x00A\x00admin_secret_key", ""} {
		if _, err := r.Open(nil, sealed, []byte(place)); !errors.Is(err, seal.ErrOpen) {
			t.Errorf("Open at %q: %v, want ErrOpen", place, err)
		}
	}
}

func TestOpenWrongKey(t *testing.T) {
	a, b := mustKey(t), mustKey(t)
	sealed, _ := mustRing(t, a).Seal(nil, []byte("s3cret"), nil)
	if _, err := mustRing(t, b).Open(nil, sealed, nil); !errors.Is(err, seal.ErrUnknownKey) {
		t.Errorf("Open under another key: %v, want ErrUnknownKey", err)
	}
	// A header rewritten to name the other key does not open either.
	forged := bytes.Clone(sealed)
	copy(forged[1:5], []byte{byte(b.ID() >> 24), byte(b.ID() >> 16), byte(b.ID() >> 8), byte(b.ID())})
	if _, err := mustRing(t, b).Open(nil, forged, nil); !errors.Is(err, seal.ErrOpen) {
		t.Errorf("Open of a forged header: %v, want ErrOpen", err)
	}
}

func TestRotation(t *testing.T) {
	old, cur := mustKey(t), mustKey(t)
	sealed, _ := mustRing(t, old).Seal(nil, []byte("v"), nil)
	r := mustRing(t, cur, old)
	if got, err := r.Open(nil, sealed, nil); err != nil || string(got) != "v" {
		t.Fatalf("an old key does not open: %q, %v", got, err)
	}
	resealed, _ := r.Seal(nil, []byte("v"), nil)
	if id, _ := seal.KeyID(resealed); id != cur.ID() {
		t.Errorf("sealed under %08x, want the primary %08x", id, cur.ID())
	}
	if _, err := seal.NewKeyring(cur, cur); !errors.Is(err, seal.ErrKey) {
		t.Errorf("a key twice: %v, want ErrKey", err)
	}
	if _, err := seal.NewKeyring(seal.Key{}); !errors.Is(err, seal.ErrKey) {
		t.Errorf("the zero key: %v, want ErrKey", err)
	}
}

func TestHostileInput(t *testing.T) {
	k := mustKey(t)
	r := mustRing(t, k)
	good, _ := r.Seal(nil, []byte("s3cret"), nil)
	other := mustKey(t)
	unknown := bytes.Clone(good)
	unknown[1], unknown[2], unknown[3], unknown[4] = byte(other.ID()>>24), byte(other.ID()>>16), byte(other.ID()>>8), byte(other.ID())
	flipped := bytes.Clone(good)
	flipped[len(flipped)-1] ^= 1
	for _, tt := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, seal.ErrFormat},
		{"truncated header", good[:3], seal.ErrFormat},
		{"truncated tag", good[:seal.Overhead-1], seal.ErrFormat},
		{"cut value", good[:len(good)-1], seal.ErrOpen},
		{"wrong format byte", append([]byte{0x02}, good[1:]...), seal.ErrFormat},
		{"unknown key id", unknown, seal.ErrUnknownKey},
		{"flipped tag bit", flipped, seal.ErrOpen},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.Open(nil, tt.in, nil); !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzOpen(f *testing.F) {
	k, _ := seal.KeyFromBytes(bytes.Repeat([]byte{7}, seal.KeySize))
	r, _ := seal.NewKeyring(k)
	good, _ := r.Seal(nil, []byte("s3cret"), []byte("p"))
	f.Add(good, []byte("p"))
	f.Add(good[:10], []byte("p"))
	f.Add([]byte{seal.Format, 0, 0, 0, 0}, []byte(""))
	f.Fuzz(func(t *testing.T, in, place []byte) {
		out, err := r.Open(nil, in, place)
		if err == nil {
			// Only a value sealed under k for this place opens.
			if len(in) != len(out)+seal.Overhead {
				t.Fatalf("opened %d bytes into %d", len(in), len(out))
			}
			return
		}
		if !errors.Is(err, seal.ErrFormat) && !errors.Is(err, seal.ErrUnknownKey) && !errors.Is(err, seal.ErrOpen) {
			t.Fatalf("Open: unexpected error %v", err)
		}
	})
}

func TestParseKey(t *testing.T) {
	k := mustKey(t)
	raw, _ := base64.StdEncoding.DecodeString(k.Text())
	for _, text := range []string{k.Text(), " " + k.Text() + "\n", base64.RawURLEncoding.EncodeToString(raw)} {
		got, err := seal.ParseKey([]byte(text))
		if err != nil || got.ID() != k.ID() {
			t.Errorf("ParseKey(%q) = %v, %v", text, got, err)
		}
	}
	for _, text := range []string{"", "not base64!", base64.StdEncoding.EncodeToString(make([]byte, 16)), base64.StdEncoding.EncodeToString(make([]byte, 32))} {
		_, err := seal.ParseKey([]byte(text))
		if !errors.Is(err, seal.ErrKey) {
			t.Errorf("ParseKey(%q) = %v, want ErrKey", text, err)
		}
		if err != nil && text != "" && strings.Contains(err.Error(), text) {
			t.Errorf("the error shows the key text: %v", err)
		}
	}
}

func TestKeyNeverPrints(t *testing.T) {
	k := mustKey(t)
	raw, _ := base64.StdEncoding.DecodeString(k.Text())
	hexKey := fmt.Sprintf("%x", raw)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %x %X %q", k, k, k, k, k, k, k), fmt.Sprintf("%v", []seal.Key{k})} {
		if strings.Contains(strings.ToLower(s), hexKey[:8]) {
			t.Errorf("a key prints its bytes in hex: %s", s)
		}
		if strings.Contains(s, k.Text()) || strings.Contains(s, k.Text()[:8]) {
			t.Errorf("a key prints its bytes: %s", s)
		}
	}
}

func Example() {
	key, _ := seal.NewKey() // or seal.ParseKey(the contents of a key file)
	ring, _ := seal.NewKeyring(key)
	place := []byte("authentik_flows.stage\x00<pk>\x00client_secret")
	sealed, _ := ring.Seal(nil, []byte("s3cret"), place)
	clear, _ := ring.Open(nil, sealed, place)
	fmt.Println(string(clear))
	_, err := ring.Open(nil, sealed, []byte("authentik_flows.stage\x00<another pk>\x00client_secret"))
	fmt.Println(err != nil)
	// Output:
	// s3cret
	// true
}
