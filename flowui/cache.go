package flowui

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"sync"
)

// DefaultCachePages bounds the rendered pages a UI keeps (Options.CachePages).
const DefaultCachePages = 256

// MaxCacheBytes bounds the size of the rendered pages a UI keeps, their
// keys included, whatever Options.CachePages; a page over a 64th of it
// (a long query string, repeated in the page) is not kept.
const MaxCacheBytes = 8 << 20

// A page is rendered with placeholders for its nonce and CSRF token,
// which change with every answer and every session, and filled in as it
// is written; a challenge's page shown again (the login page, which is
// the same for every visitor) is then written without running its
// template.

// holes is what a rendered page's placeholders stand for.
type hole uint8

const (
	holeNonce hole = iota + 1
	holeCSRF
)

// rendered is a page's text cut at its placeholders: parts[i] is
// followed by holes[i] (the last part by none).
type rendered struct {
	parts [][]byte
	holes []hole
}

// size is the page's length without its holes.
func (rd *rendered) size() int {
	n := 0
	for _, p := range rd.parts {
		n += len(p)
	}
	return n
}

// placeholders are a UI's: random, so that no configuration or input
// holds them by chance, and letters and digits only, which every
// escaper leaves as they are. They share their prefix, so that a page is
// cut in one pass.
type placeholders struct{ prefix, nonce, csrf string }

func newPlaceholders() placeholders {
	var b [16]byte
	_, _ = rand.Read(b[:])
	p := "ZQ" + hex.EncodeToString(b[:]) // a rare first byte: a fast search
	return placeholders{prefix: p, nonce: p + "n", csrf: p + "c"}
}

// cut cuts a page rendered with ph.
func (ph placeholders) cut(b []byte) *rendered {
	rd := &rendered{}
	prefix := []byte(ph.prefix)
	for start := 0; ; {
		i := bytes.Index(b[start:], prefix)
		if i < 0 {
			rd.parts = append(rd.parts, b)
			return rd
		}
		at := start + i
		end := at + len(prefix)
		if end < len(b) && (b[end] == 'n' || b[end] == 'c') {
			h := holeNonce
			if b[end] == 'c' {
				h = holeCSRF
			}
			rd.parts, rd.holes = append(rd.parts, b[:at]), append(rd.holes, h)
			b, start = b[end+1:], 0
			continue
		}
		start = end
	}
}

// writeTo writes the page with its nonce and CSRF token.
func (rd *rendered) writeTo(w io.Writer, nonce, csrf string) error {
	for i, p := range rd.parts {
		if _, err := w.Write(p); err != nil {
			return err
		}
		if i < len(rd.holes) {
			v := nonce
			if rd.holes[i] == holeCSRF {
				v = csrf
			}
			if _, err := io.WriteString(w, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// pageCache keeps rendered pages by everything their template reads
// but the placeholders, at most max of them and MaxCacheBytes (bytes,
// keys included); a full cache drops arbitrary pages for a new one.
type pageCache struct {
	mu    sync.Mutex
	max   int
	bytes int
	m     map[string]*rendered
}

func (c *pageCache) get(key string) *rendered {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

func (c *pageCache) put(key string, rd *rendered) {
	if c == nil {
		return
	}
	size := len(key) + rd.size()
	if size > MaxCacheBytes/64 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok {
		c.bytes -= len(key) + old.size()
		delete(c.m, key)
	}
	for k, v := range c.m {
		if len(c.m) < c.max && c.bytes+size <= MaxCacheBytes {
			break
		}
		c.bytes -= len(k) + v.size()
		delete(c.m, k)
	}
	c.m[key], c.bytes = rd, c.bytes+size
}
