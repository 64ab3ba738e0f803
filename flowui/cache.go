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
// but the placeholders, at most max of them; a full cache drops an
// arbitrary page for a new one.
type pageCache struct {
	mu  sync.Mutex
	max int
	m   map[string]*rendered
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
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = rd
}
