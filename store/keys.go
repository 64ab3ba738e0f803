package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// bucketID names one of the store's top-level buckets.
type bucketID int

// The buckets. Every one is created when the store is opened.
const (
	bucketMeta        bucketID = iota
	bucketFlows                // flow id -> flow JSON
	bucketFlowSlugs            // slug -> flow id
	bucketStages               // stage id -> stage JSON envelope
	bucketStageNames           // SHA-256 of name -> stage id (names are unbounded; keys are not)
	bucketStageModels          // model \x00 stage id -> empty
	bucketStageRefs            // flow id ‖ stage id -> empty: config references to flows
	bucketBindings             // binding id -> binding JSON
	bucketByFlow               // flow id ‖ order ‖ binding id -> stage id
	bucketByStage              // stage id ‖ binding id -> flow id
)

// noBucket stands for "no collection" where a bucketID is expected: the
// policybindingmodel_ptr_id keys have no bucket of their own.
const noBucket bucketID = -1

// bucketNames are the buckets' names in the file, indexed by bucketID.
var bucketNames = [...][]byte{
	bucketMeta:        []byte("meta"),
	bucketFlows:       []byte("flows"),
	bucketFlowSlugs:   []byte("flows_by_slug"),
	bucketStages:      []byte("stages"),
	bucketStageNames:  []byte("stages_by_name"),
	bucketStageModels: []byte("stages_by_model"),
	bucketStageRefs:   []byte("stages_by_flowref"),
	bucketBindings:    []byte("bindings"),
	bucketByFlow:      []byte("bindings_by_flow"),
	bucketByStage:     []byte("bindings_by_stage"),
}

var keyVersion = []byte("schema_version")

// formatVersion is the on-disk format this code reads and writes.
const formatVersion uint64 = 1

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

// byFlowKey is flow ‖ order ‖ binding.
func byFlowKey(flow uuid.UUID, order int32, binding uuid.UUID) []byte {
	k := make([]byte, 0, 36)
	k = append(k, flow[:]...)
	o := orderKey(order)
	k = append(k, o[:]...)
	return append(k, binding[:]...)
}

// pairKey is a ‖ b, for bindings_by_stage and stages_by_flowref.
func pairKey(a, b uuid.UUID) []byte {
	k := make([]byte, 0, 32)
	k = append(k, a[:]...)
	return append(k, b[:]...)
}

// modelKey is model \x00 stage.
func modelKey(model string, id uuid.UUID) []byte {
	k := make([]byte, 0, len(model)+17)
	k = append(k, model...)
	k = append(k, 0)
	return append(k, id[:]...)
}

func idFrom(b []byte) uuid.UUID {
	var id uuid.UUID
	copy(id[:], b)
	return id
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// nameKey is the stages_by_name key of a stage name: its SHA-256. Stage
// names have no length limit (as in authentik), but bbolt keys do.
func nameKey(name string) []byte {
	sum := sha256.Sum256([]byte(name))
	return sum[:]
}

// refText is a reference as the request sent it, for authentik's
// `Invalid pk "<value>"` message: the string as given, or the integer
// Django turned into a UUID. When the body did not send the field (a PUT or
// patch keeping a stored value) it is the canonical UUID.
func refText(body []byte, field string, id uuid.UUID) string {
	m, err := validate.Object(body)
	if err != nil {
		return id.String()
	}
	raw, ok := m[field]
	if !ok {
		return id.String()
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if t := bytes.TrimSpace(raw); len(t) > 0 && !bytes.ContainsAny(t, ".eE\"{[tfn") {
		return string(t)
	}
	return id.String()
}
