package store

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/authflow/authflow/store/kv"
	"github.com/google/uuid"
)

// ErrCorrupt is returned when the file, or a record in it, is damaged: a
// record that fails its checksum, an index that points nowhere, a file
// whose structure bbolt cannot read. The error names what is damaged. It
// is kv.ErrCorrupt, so a backend's own reports match it too.
var ErrCorrupt = kv.ErrCorrupt

// Every record is stored in an envelope: a format byte, the CRC-32C of
// the JSON that follows, and the JSON. A record whose checksum does not
// match is reported as ErrCorrupt instead of being served.
const recordV2 byte = 0x02

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// seal wraps a record's JSON in its envelope.
func seal(js []byte) []byte {
	out := make([]byte, 5, 5+len(js))
	out[0] = recordV2
	binary.BigEndian.PutUint32(out[1:5], crc32.Checksum(js, castagnoli))
	return append(out, js...)
}

// unseal checks a record's envelope and returns its JSON.
func unseal(bucket string, pk []byte, raw []byte) ([]byte, error) {
	if len(raw) < 5 || raw[0] != recordV2 {
		return nil, fmt.Errorf("store: %s record %s: %w: not a version-2 record", bucket, idFrom(pk), ErrCorrupt)
	}
	js := raw[5:]
	if crc32.Checksum(js, castagnoli) != binary.BigEndian.Uint32(raw[1:5]) {
		return nil, fmt.Errorf("store: %s record %s: %w: checksum mismatch", bucket, idFrom(pk), ErrCorrupt)
	}
	return js, nil
}

// orderKey encodes a signed order so that byte order is numeric order:
// big-endian with the sign bit flipped.
func orderKey(order int32) [4]byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(order)^0x80000000)
	return b
}

func orderFromKey(b []byte) int32 {
	return int32(binary.BigEndian.Uint32(b) ^ 0x80000000)
}

func idFrom(b []byte) uuid.UUID {
	var id uuid.UUID
	copy(id[:], b)
	return id
}

// hashKey is the index key of an unbounded text value: its SHA-256.
func hashKey(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// appendValue appends the index encoding of a field value: text as its
// bytes and a NUL (field text never holds NUL), an integer as orderKey, a
// UUID as its 16 bytes, a bool as one byte, null as nothing.
func appendValue(dst []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return append(append(dst, x...), 0)
	case int64:
		o := orderKey(int32(x))
		return append(dst, o[:]...)
	case uuid.UUID:
		return append(dst, x[:]...)
	case bool:
		if x {
			return append(dst, 1)
		}
		return append(dst, 0)
	case nil:
		return dst
	}
	return append(dst, fmt.Sprint(v)...)
}
