package storetest

import (
	"encoding/binary"
	"sync/atomic"

	"github.com/google/uuid"
)

// CounterIDs returns a store.Options.NewID that yields the ids start,
// start+step, ... in the last 8 bytes, with the version 7 and variant
// bits set (start 1 gives 00000000-0000-7000-8000-000000000001), so that
// a test's pks are the same on every run and their byte order is the
// order of the counter. A negative step makes ids that sort in reverse
// creation order. It is safe for concurrent use.
func CounterIDs(start, step int64) func() (uuid.UUID, error) {
	var n atomic.Int64
	n.Store(start - step)
	return func() (uuid.UUID, error) {
		var id uuid.UUID
		id[6] = 0x70
		binary.BigEndian.PutUint64(id[8:], uint64(n.Add(step))|0x8000000000000000)
		return id, nil
	}
}

// MissingPK returns the i-th pk that no store makes, for a reference to
// nothing: 00000000-0000-4000-8000-dead0000000i (i in hexadecimal).
// Stores make version 7 ids (uuid.NewV7, the default, and CounterIDs
// alike) and these are version 4, so they differ from every pk a store
// made by construction, as neither a random id nor a real pk with a digit
// changed does. Distinct i give distinct pks.
func MissingPK(i uint16) uuid.UUID {
	id := uuid.UUID{6: 0x40, 8: 0x80, 10: 0xde, 11: 0xad}
	binary.BigEndian.PutUint16(id[14:], i)
	return id
}
