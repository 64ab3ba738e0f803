// Package seal seals small secrets (a stage's client secret, an SMTP
// password, later a TOTP seed) with AES-256-GCM from the standard library,
// under keys the host supplies, each sealed value bound to the place it
// belongs to.
//
// # Sealed values
//
// A sealed value is
//
//	format (1 byte, 0x01) ‖ key id (4 bytes, big-endian) ‖ nonce (12 bytes) ‖ ciphertext and tag (16 bytes more than the value)
//
// The additional data that GCM authenticates is the caller's place (the
// store passes the collection, the object's pk and the field): a value
// copied to another place fails to open with [ErrOpen], never opening to
// something else. The header needs no authentication of its own: a key id
// changed to another key's makes GCM's tag fail under that key.
//
// The nonce is synthetic, as in AES-SIV (RFC 5297) and AES-GCM-SIV (RFC
// 8452): the first 12 bytes of an HMAC-SHA256, under a key derived from
// the sealing key, of the place and the value. Two different values, or
// one value for two places, get independent nonces, so a nonce never
// repeats with different plaintexts (the failure that breaks GCM), and no
// random source is needed; sealing one value for one place twice under
// one key gives the same bytes, so a store that writes an object again
// unchanged writes the same record. What this reveals, to someone who
// compares two copies of a file, is only whether a secret in one place is
// the same in both.
//
// # Keys
//
// A key is 32 random bytes; [NewKey] makes one. Its text form, the form
// of a key file or an environment variable, is the standard base64
// encoding of the 32 bytes (44 characters; [ParseKey] accepts surrounding
// whitespace and the URL alphabet too). Its id is the first four bytes of
// the SHA-256 of a fixed label and the key, so a host never names ids:
// the sealed value says which key sealed it. A [Keyring] has one primary
// key, which seals, and older keys, which only open: rotating is making
// the new key primary, keeping the old one until every value has been
// sealed again (the store's Rekey), then dropping it.
//
// Errors never hold a value, a key or a plaintext.
package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
)

// Format is the format byte that starts every sealed value.
const Format byte = 0x01

// Sizes of keys and sealed values.
const (
	// KeySize is the size of a key: AES-256.
	KeySize = 32
	// NonceSize is GCM's standard nonce size.
	NonceSize = 12
	// Overhead is what sealing adds to a value: the header, the nonce
	// and GCM's tag.
	Overhead = headerSize + NonceSize + 16

	headerSize = 5
)

// Errors of opening a sealed value. Each is wrapped with what went wrong,
// never with the value.
var (
	// ErrFormat: the input is not a sealed value (too short, or another
	// format byte).
	ErrFormat = errors.New("seal: not a sealed value")
	// ErrUnknownKey: the value was sealed under a key the keyring does not
	// hold.
	ErrUnknownKey = errors.New("seal: sealed under a key the keyring does not hold")
	// ErrOpen: the keyring holds the value's key id but the value does not
	// open: it was sealed for another place (copied from another record or
	// field), or it was changed.
	ErrOpen = errors.New("seal: the value does not open (sealed for another place, or damaged)")
	// ErrKey is returned by [ParseKey] and [NewKeyring] for a malformed
	// key or keyring.
	ErrKey = errors.New("seal: bad key")
)

// Key is one AES-256 key. Its zero value is no key. It prints as its id
// only, never its bytes.
type Key struct {
	b  [KeySize]byte
	id uint32
	ok bool
}

// NewKey returns a new random key.
func NewKey() (Key, error) {
	var b [KeySize]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Key{}, fmt.Errorf("seal: making a key: %w", err)
	}
	return KeyFromBytes(b[:])
}

// KeyFromBytes returns the key of b, which must be KeySize bytes (an error
// wrapping [ErrKey] otherwise). b is copied.
func KeyFromBytes(b []byte) (Key, error) {
	if len(b) != KeySize {
		return Key{}, fmt.Errorf("%w: a key is %d bytes, not %d", ErrKey, KeySize, len(b))
	}
	var k Key
	copy(k.b[:], b)
	if k.b == ([KeySize]byte{}) {
		return Key{}, fmt.Errorf("%w: the key is all zero bytes", ErrKey)
	}
	sum := sha256.Sum256(append([]byte("authflow seal key id\x00"), b...))
	k.id, k.ok = binary.BigEndian.Uint32(sum[:4]), true
	return k, nil
}

// ParseKey reads a key in its text form: the base64 of its 32 bytes
// (standard or URL alphabet, padded or not), surrounding whitespace
// ignored. The error, wrapping [ErrKey], never holds the text.
func ParseKey(text []byte) (Key, error) {
	t := bytes.TrimSpace(text)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b := make([]byte, enc.DecodedLen(len(t)))
		n, err := enc.Decode(b, t)
		if err == nil {
			return KeyFromBytes(b[:n])
		}
	}
	return Key{}, fmt.Errorf("%w: not the base64 of %d bytes (make one with authflow keygen, or: head -c 32 /dev/urandom | base64)", ErrKey, KeySize)
}

// ID returns the key's id, which every value it seals carries.
func (k Key) ID() uint32 { return k.id }

// IsZero reports whether k is the zero Key (no key).
func (k Key) IsZero() bool { return !k.ok }

// Text returns the key's text form, the base64 of its bytes: what a key
// file holds. Keep it secret.
func (k Key) Text() string { return base64.StdEncoding.EncodeToString(k.b[:]) }

// String returns the key's id, never its bytes.
func (k Key) String() string { return fmt.Sprintf("key %08x", k.id) }

// GoString returns the key's id, never its bytes.
func (k Key) GoString() string { return k.String() }

// Format writes the key's id whatever the verb (%x included), never its
// bytes.
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// Keyring seals under its primary key and opens under any of its keys. It
// is immutable and safe for concurrent use.
type Keyring struct {
	primary uint32
	aeads   map[uint32]cipher.AEAD
	ids     []uint32 // primary first, then the old keys in order
	// macs pools HMAC-SHA256 states keyed with the primary key's nonce
	// key (see the package documentation).
	macs sync.Pool
}

// NewKeyring returns a keyring whose primary key is primary and which
// also opens values sealed under old. It fails with an error wrapping
// [ErrKey] for a zero key or two keys with one id (the same key twice).
func NewKeyring(primary Key, old ...Key) (*Keyring, error) {
	r := &Keyring{primary: primary.id, aeads: map[uint32]cipher.AEAD{}}
	for i, k := range append([]Key{primary}, old...) {
		if k.IsZero() {
			return nil, fmt.Errorf("%w: key %d of the keyring is the zero Key", ErrKey, i)
		}
		if _, dup := r.aeads[k.id]; dup {
			return nil, fmt.Errorf("%w: %s is in the keyring twice", ErrKey, k)
		}
		block, err := aes.NewCipher(k.b[:])
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		r.aeads[k.id] = aead
		r.ids = append(r.ids, k.id)
	}
	m := hmac.New(sha256.New, primary.b[:])
	m.Write([]byte("authflow seal nonce key"))
	nonceKey := m.Sum(nil)
	r.macs.New = func() any { return hmac.New(sha256.New, nonceKey) }
	return r, nil
}

// Primary returns the id of the key that seals.
func (r *Keyring) Primary() uint32 { return r.primary }

// IDs returns the ids of the keyring's keys, the primary's first.
func (r *Keyring) IDs() []uint32 { return append([]uint32(nil), r.ids...) }

// header writes the format byte and the key id into dst[:5].
func header(dst []byte, id uint32) {
	dst[0] = Format
	binary.BigEndian.PutUint32(dst[1:headerSize], id)
}

// Seal appends to dst the value sealed under the primary key for place
// (any bytes naming where the value belongs; the same place must be given
// to open it), and returns the result. The same value and place give the
// same bytes (see the package documentation).
func (r *Keyring) Seal(dst, value, place []byte) ([]byte, error) {
	aead := r.aeads[r.primary]
	start := len(dst)
	dst = append(dst, make([]byte, headerSize+NonceSize)...)
	header(dst[start:start+headerSize], r.primary)
	m := r.macs.Get().(hash.Hash)
	defer func() { m.Reset(); r.macs.Put(m) }()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(place)))
	m.Write(n[:])
	m.Write(place)
	m.Write(value)
	var sum [sha256.Size]byte
	nonce := dst[start+headerSize:]
	copy(nonce, m.Sum(sum[:0]))
	return aead.Seal(dst, nonce, value, place), nil
}

// Open appends to dst the value that sealed holds, sealed for place, and
// returns the result. It fails with an error wrapping [ErrFormat] for
// input that is no sealed value, [ErrUnknownKey] for a key the keyring
// lacks, and [ErrOpen] for a value sealed for another place or changed.
func (r *Keyring) Open(dst, sealed, place []byte) ([]byte, error) {
	id, err := KeyID(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := r.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w (key %08x)", ErrUnknownKey, id)
	}
	nonce := sealed[headerSize : headerSize+NonceSize]
	out, err := aead.Open(dst, nonce, sealed[headerSize+NonceSize:], place)
	if err != nil {
		return nil, fmt.Errorf("%w (key %08x)", ErrOpen, id)
	}
	return out, nil
}

// KeyID returns the id of the key that sealed a value, failing with an
// error wrapping [ErrFormat] for input that is no sealed value.
func KeyID(sealed []byte) (uint32, error) {
	switch {
	case len(sealed) < Overhead:
		return 0, fmt.Errorf("%w: %d bytes, fewer than the %d of an empty one", ErrFormat, len(sealed), Overhead)
	case sealed[0] != Format:
		return 0, fmt.Errorf("%w: format byte %#02x, not %#02x", ErrFormat, sealed[0], Format)
	}
	return binary.BigEndian.Uint32(sealed[1:headerSize]), nil
}
