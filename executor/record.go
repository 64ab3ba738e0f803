package executor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/authflow/authflow/internal/jsonvalue"
	"github.com/authflow/authflow/plan"
	"github.com/google/uuid"
)

// execution is a flow in progress: what authentik keeps in the session
// (authentik/flows/plan and authentik/flows/get), per session and flow.
type execution struct {
	// Flow is the pk of the flow planned: a flow re-created under the
	// same slug has another, and the execution starts over.
	Flow uuid.UUID
	// Stages are the stages left; the first is the current one.
	Stages []plan.Stage
	// Context is the plan context.
	Context map[string]any
	// Query is the query string of the last request (authentik's
	// authentik/flows/get).
	Query string
	// Shown is the component of the last challenge shown, which a POST
	// must answer.
	Shown string
	// ctxJSON, when not nil, is Context as JSON, already encoded: set by
	// a pass between its history entry and its save, while Context does
	// not change, so that the context is encoded once.
	ctxJSON []byte
	// from, when not nil, is the entry of the execCache this execution
	// was taken from (execCache.take), out of the cache: a context that
	// encodes as its ctxJSON is kept as those bytes, and its save reuses
	// it (execCache.saved).
	from *savedExec
	// ctxDecoded says that Context is, as it is, what decoding the bytes
	// contextJSON returned makes of it: set by contextJSON, while Context
	// does not change, so that its save keeps it as it is.
	ctxDecoded bool
}

// The encoding of an execution: a format byte, the flow pk, the stages
// (count, then for each binding pk, stage pk, order, marker, name and
// redirect), the query, the shown component and the context as JSON.
// Strings are length-prefixed (uvarint). A plan of four stages with an
// empty context takes about 220 bytes.
const recordFormat = 1

var errRecord = errors.New("executor: malformed execution record")

// encode encodes x, its context left as it is (a copy's, a token's).
func (x *execution) encode() ([]byte, error) {
	ctxJSON, bp := x.ctxJSON, (*[]byte)(nil)
	if ctxJSON == nil {
		var err error
		if ctxJSON, bp, err = x.encodeContext(false); err != nil {
			return nil, err
		}
	}
	data := x.encodeWith(ctxJSON)
	putCtxBuf(bp, ctxJSON)
	return data, nil
}

// encodeParts encodes x for its save, and returns its context's encoding
// too (contextJSON): a context encoded afresh is encoded once, into
// data, and ctxJSON is that part of data (never written to, as data
// once saved).
func (x *execution) encodeParts() (data, ctxJSON []byte, err error) {
	ctxJSON, bp := x.ctxJSON, (*[]byte)(nil)
	if ctxJSON == nil {
		if ctxJSON, bp, err = x.encodeContext(true); err != nil {
			return nil, nil, err
		}
	}
	data = x.encodeWith(ctxJSON)
	if bp != nil {
		putCtxBuf(bp, ctxJSON)
		ctxJSON = data[len(data)-len(ctxJSON):]
	}
	return data, ctxJSON, nil
}

// contextJSON is the context as its save writes it: the bytes it was
// loaded as when it encodes the same (one allocation, of its size, only
// for a context that changed). A context unchanged since it was loaded
// is not encoded: it is checked against those bytes
// (jsonvalue.EncodesAs). Another is encoded and made, in place, what
// decoding its encoding makes of it (jsonvalue.AppendNormalize), as its
// save keeps it: its values are the executor's (see Step). It sets
// ctxDecoded.
func (x *execution) contextJSON() ([]byte, error) {
	b, bp, err := x.encodeContext(true)
	if bp != nil {
		c := bytes.Clone(b)
		putCtxBuf(bp, b)
		return c, nil
	}
	return b, err
}

// encodeContext is contextJSON, except that a context encoded afresh is
// left in bp, a buffer of ctxBufs the caller copies it out of and then
// gives back (putCtxBuf); bp is nil when the encoding is kept elsewhere
// (shared, never written to). It changes no value of the context unless
// adopt.
func (x *execution) encodeContext(adopt bool) (ctxJSON []byte, bp *[]byte, err error) {
	x.ctxDecoded = false
	if len(x.Context) == 0 {
		x.ctxDecoded = x.Context != nil
		return emptyContext, nil, nil
	}
	if f := x.from; f != nil && len(x.Context) == f.ctxKeys && jsonvalue.EncodesAs(x.Context, f.ctxJSON) {
		x.ctxDecoded = true
		return f.ctxJSON, nil, nil
	}
	bp = ctxBufs.Get().(*[]byte)
	var b []byte
	if adopt {
		b, _, x.ctxDecoded, err = jsonvalue.AppendNormalize((*bp)[:0], x.Context)
	} else {
		b, err = jsonvalue.Append((*bp)[:0], x.Context)
	}
	if err != nil {
		x.ctxDecoded = false
		ctxBufs.Put(bp)
		return nil, nil, fmt.Errorf("executor: the plan context is not JSON: %w", err)
	}
	if x.from != nil && bytes.Equal(b, x.from.ctxJSON) {
		putCtxBuf(bp, b)
		return x.from.ctxJSON, nil, nil
	}
	return b, bp, nil
}

// putCtxBuf gives bp, whose bytes are now b, back to ctxBufs, unless it
// is nil; one grown beyond maxCtxBuf is dropped.
func putCtxBuf(bp *[]byte, b []byte) {
	if bp == nil {
		return
	}
	if cap(b) <= maxCtxBuf {
		*bp = b[:0]
	}
	ctxBufs.Put(bp)
}

// emptyContext is an empty context's encoding, shared: a context's
// encoding is never written to.
var emptyContext = []byte("{}")[:2:2]

// ctxBufs are the buffers contextJSON encodes into (*[]byte); one
// grown beyond maxCtxBuf is not kept.
var ctxBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxCtxBuf = 64 << 10

// encodeWith encodes x with its context already encoded as ctxJSON.
func (x *execution) encodeWith(ctxJSON []byte) []byte {
	// The exact size: one allocation of no more than is written.
	n := 1 + 16 + uvarintLen(uint64(len(x.Stages))) + stringLen(x.Query) + stringLen(x.Shown) + uvarintLen(uint64(len(ctxJSON))) + len(ctxJSON)
	for _, s := range x.Stages {
		n += 32 + varintLen(int64(s.Order)) + 1 + stringLen(s.Name) + stringLen(s.Redirect)
	}
	b := make([]byte, 0, n)
	b = append(b, recordFormat)
	b = append(b, x.Flow[:]...)
	b = binary.AppendUvarint(b, uint64(len(x.Stages)))
	for _, s := range x.Stages {
		b = append(b, s.Binding[:]...)
		b = append(b, s.Stage[:]...)
		b = binary.AppendVarint(b, int64(s.Order))
		m := byte(0)
		if s.Marker == plan.MarkerReevaluate {
			m = 1
		}
		b = append(b, m)
		b = appendString(b, s.Name)
		b = appendString(b, s.Redirect)
	}
	b = appendString(b, x.Query)
	b = appendString(b, x.Shown)
	b = binary.AppendUvarint(b, uint64(len(ctxJSON)))
	return append(b, ctxJSON...)
}

// uvarintLen is the length of v's uvarint encoding.
func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// varintLen is the length of v's varint encoding.
func varintLen(v int64) int {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return uvarintLen(u)
}

// stringLen is the length of appendString's encoding of s.
func stringLen(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads an encoded execution, remembering the first failure.
type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) bytes(n int) []byte {
	if d.err || n < 0 || len(d.b) < n {
		d.err = true
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) uuid() (u uuid.UUID) {
	copy(u[:], d.bytes(16))
	return u
}

func (d *decoder) uvarint() uint64 {
	if d.err {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string { return string(d.raw()) }

// raw reads a string's bytes, a part of the input.
func (d *decoder) raw() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = true
		return nil
	}
	return d.bytes(int(n))
}

func decodeExecution(b []byte) (*execution, error) {
	x, _, err := decodeRecord(b)
	return x, err
}

// decodeRecord decodes an execution, and returns its context's encoding
// too (a part of b).
func decodeRecord(b []byte) (*execution, []byte, error) {
	d := &decoder{b: b}
	if f := d.bytes(1); d.err || f[0] != recordFormat {
		return nil, nil, errRecord
	}
	x := &execution{Flow: d.uuid()}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return nil, nil, errRecord
	}
	x.Stages = make([]plan.Stage, 0, n)
	for range n {
		s := plan.Stage{Binding: d.uuid(), Stage: d.uuid(), Order: int32(d.varint()), Marker: plan.MarkerStage}
		if m := d.bytes(1); !d.err && m[0] == 1 {
			s.Marker = plan.MarkerReevaluate
		}
		s.Name, s.Redirect = d.string(), d.string()
		x.Stages = append(x.Stages, s)
	}
	x.Query, x.Shown = d.string(), d.string()
	ctxJSON := d.raw()
	if d.err || len(d.b) != 0 {
		return nil, nil, errRecord
	}
	if err := json.Unmarshal(ctxJSON, &x.Context); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errRecord, err)
	}
	if x.Context == nil {
		x.Context = map[string]any{}
	}
	return x, ctxJSON, nil
}
