package store

import (
	"errors"
	"testing"
)

// A record's format byte says whether its secrets are sealed; format 5's
// checksum covers it, so a damaged byte is ErrCorrupt rather than sealed
// text served as a secret (or clear text read as sealed).
func TestRecordFormatByteChecked(t *testing.T) {
	key := []byte("0123456789abcdef")
	js := []byte(`{"pk":"x"}`)
	for _, tt := range []struct {
		sealed bool
		to     byte
	}{{true, recordV4}, {false, recordV5}} {
		raw := wrap("stages", key, js, 7, tt.sealed)
		if got, err := unwrap("stages", key, raw); err != nil || string(got) != string(js) {
			t.Fatalf("unwrap = %s, %v", got, err)
		}
		raw[0] = tt.to
		if _, err := unwrap("stages", key, raw); !errors.Is(err, ErrCorrupt) {
			t.Errorf("sealed %v, format byte made %d: %v, want ErrCorrupt", tt.sealed, tt.to, err)
		}
	}
}
