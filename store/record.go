package store

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sync"

	"github.com/google/uuid"
)

// Every record is stored in an envelope: a format byte, the revision of
// the transaction that last wrote it (big-endian), the CRC-32C of what
// identifies and holds it, and the JSON. Format 4 (written today) seals
// the bucket's name, a NUL, the record's key, the revision and the JSON,
// so that a record read under another key or in another bucket (a
// damaged key) fails its checksum; format 3 sealed the revision and the
// JSON only. A record whose checksum does not match is reported as
// ErrCorrupt instead of being served. Records of formats 2 (without a
// revision, read as revision 0) and 3 are still read, until they are
// next written. Format 5 is format 4 whose JSON holds its secrets sealed
// (see sealing.go): a store with a key writes it for every object that
// has secrets; format 4 holds them in the clear.
const (
	recordV2 byte = 0x02
	recordV3 byte = 0x03
	recordV4 byte = 0x04
	recordV5 byte = 0x05
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordCRC is the checksum of a record of format 4: over bucket, a NUL,
// the key, and body (the revision and the JSON).
func recordCRC(bucket string, key, body []byte) uint32 {
	crc := crc32.Update(bucketCRC(bucket), castagnoli, key)
	return crc32.Update(crc, castagnoli, body)
}

// bucketCRCs caches the CRC-32C of each bucket name and its NUL, which
// starts every record's checksum: computing it converts the name to bytes,
// an allocation per record read. The names are the schema's, a few dozen.
var bucketCRCs sync.Map // string -> uint32

func bucketCRC(bucket string) uint32 {
	if v, ok := bucketCRCs.Load(bucket); ok {
		return v.(uint32)
	}
	crc := crc32.Update(crc32.Checksum([]byte(bucket), castagnoli), castagnoli, []byte{0})
	bucketCRCs.Store(bucket, crc)
	return crc
}

// wrap wraps the JSON of the record under key in bucket in its envelope:
// of format 5 when sealed says its secrets are sealed, 4 otherwise.
func wrap(bucket string, key, js []byte, rev int64, sealed bool) []byte {
	out := make([]byte, 13, 13+len(js))
	out[0] = recordV4
	if sealed {
		out[0] = recordV5
	}
	binary.BigEndian.PutUint64(out[1:9], uint64(rev))
	crc := recordCRC(bucket, key, out[crcStart(out[0]):9])
	crc = crc32.Update(crc, castagnoli, js)
	binary.BigEndian.PutUint32(out[9:13], crc)
	return append(out, js...)
}

// crcStart is where the checksum of a record of format 4 or 5 starts:
// format 5's covers its format byte too, so that a damaged byte cannot
// make a record with sealed secrets read as one with clear ones.
func crcStart(format byte) int {
	if format == recordV5 {
		return 0
	}
	return 1
}

// unwrapRev checks a record's envelope and returns its JSON and revision.
func unwrapRev(bucket string, pk []byte, raw []byte) ([]byte, int64, error) {
	js, err := unwrap(bucket, pk, raw)
	if err != nil {
		return nil, 0, err
	}
	return js, sealedRevision(raw), nil
}

// sealedRevision is the revision in the envelope of a record whose
// checksum was checked (0 for format 2, which has none).
func sealedRevision(raw []byte) int64 {
	if raw[0] == recordV2 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(raw[1:9]))
}

// unwrap checks a record's envelope and returns its JSON.
func unwrap(bucket string, pk []byte, raw []byte) ([]byte, error) {
	mismatch := func() error {
		return fmt.Errorf("store: %s record %s: %w: checksum mismatch", bucket, idFrom(pk), ErrCorrupt)
	}
	switch {
	case len(raw) >= 13 && (raw[0] == recordV4 || raw[0] == recordV5):
		js := raw[13:]
		if crc32.Update(recordCRC(bucket, pk, raw[crcStart(raw[0]):9]), castagnoli, js) != binary.BigEndian.Uint32(raw[9:13]) {
			return nil, mismatch()
		}
		return js, nil
	case len(raw) >= 13 && raw[0] == recordV3:
		js := raw[13:]
		if crc32.Update(crc32.Checksum(raw[1:9], castagnoli), castagnoli, js) != binary.BigEndian.Uint32(raw[9:13]) {
			return nil, mismatch()
		}
		return js, nil
	case len(raw) >= 5 && raw[0] == recordV2:
		js := raw[5:]
		if crc32.Checksum(js, castagnoli) != binary.BigEndian.Uint32(raw[1:5]) {
			return nil, mismatch()
		}
		return js, nil
	}
	return nil, fmt.Errorf("store: %s record %s: %w: not a record of format 2 to 5", bucket, idFrom(pk), ErrCorrupt)
}

// An ordered index whose entries carry a field's value (a binding's
// stage under its flow) stores, after the value, the CRC-32C of the
// bucket's name, a NUL, the key and the value: a view that reads the
// value from the index, without loading the object, can then tell a
// damaged entry from another object.
func sealValue(bucket string, key, val []byte) []byte {
	out := make([]byte, len(val), len(val)+4)
	copy(out, val)
	return binary.BigEndian.AppendUint32(out, recordCRC(bucket, key, val))
}

// unsealValue checks an index value sealed by sealValue and returns the
// value.
func unsealValue(bucket string, key, v []byte) ([]byte, error) {
	if len(v) < 4 || recordCRC(bucket, key, v[:len(v)-4]) != binary.BigEndian.Uint32(v[len(v)-4:]) {
		return nil, fmt.Errorf("store: %s: %w: the entry of key %x fails its checksum", bucket, ErrCorrupt, key)
	}
	return v[:len(v)-4], nil
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
