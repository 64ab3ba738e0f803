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

// Every record is stored in an envelope: a format byte, the revision of
// the transaction that last wrote it (format 3; big-endian), the CRC-32C
// of what follows the format byte (the revision and the JSON), and the
// JSON. A record whose checksum does not match is reported as ErrCorrupt
// instead of being served. Records of format 2 (without a revision) are
// still read, as revision 0, until they are next written.
const (
	recordV2 byte = 0x02
	recordV3 byte = 0x03
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// seal wraps a record's JSON in its envelope.
func seal(js []byte, rev int64) []byte {
	out := make([]byte, 13, 13+len(js))
	out[0] = recordV3
	binary.BigEndian.PutUint64(out[1:9], uint64(rev))
	out = append(out, js...)
	crc := crc32.Update(crc32.Checksum(out[1:9], castagnoli), castagnoli, js)
	binary.BigEndian.PutUint32(out[9:13], crc)
	return out
}

// unseal checks a record's envelope and returns its JSON.
func unseal(bucket string, pk []byte, raw []byte) ([]byte, error) {
	js, _, err := unsealRev(bucket, pk, raw)
	return js, err
}

// unsealRev checks a record's envelope and returns its JSON and revision.
func unsealRev(bucket string, pk []byte, raw []byte) ([]byte, int64, error) {
	switch {
	case len(raw) >= 13 && raw[0] == recordV3:
		js := raw[13:]
		if crc32.Update(crc32.Checksum(raw[1:9], castagnoli), castagnoli, js) != binary.BigEndian.Uint32(raw[9:13]) {
			return nil, 0, fmt.Errorf("store: %s record %s: %w: checksum mismatch", bucket, idFrom(pk), ErrCorrupt)
		}
		return js, int64(binary.BigEndian.Uint64(raw[1:9])), nil
	case len(raw) >= 5 && raw[0] == recordV2:
		js := raw[5:]
		if crc32.Checksum(js, castagnoli) != binary.BigEndian.Uint32(raw[1:5]) {
			return nil, 0, fmt.Errorf("store: %s record %s: %w: checksum mismatch", bucket, idFrom(pk), ErrCorrupt)
		}
		return js, 0, nil
	}
	return nil, 0, fmt.Errorf("store: %s record %s: %w: not a record of format 2 or 3", bucket, idFrom(pk), ErrCorrupt)
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
