package executor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Errors of a RunState, wrapped with what was asked; compare with
// errors.Is.
var (
	// ErrNotFound means there is no record under the key, or it was
	// removed (taken, deleted, swept or evicted).
	ErrNotFound = errors.New("executor: no such run state")
	// ErrExpired means the record's expiry has passed: it is not
	// returned, and cannot be saved over with its version.
	ErrExpired = errors.New("executor: run state expired")
	// ErrConflict means a Save's version is not the live record's: the
	// record changed (or was removed, or created) since it was read.
	ErrConflict = errors.New("executor: run state changed since it was read")
	// ErrInvalid means a call's arguments are unusable: an unknown
	// namespace, an empty or too long key, data over MaxDataSize, an
	// expiry not after now.
	ErrInvalid = errors.New("executor: invalid run state")
)

// Size limits of run state.
const (
	// MaxKeySize bounds a key, in bytes.
	MaxKeySize = 1024
	// MaxDataSize bounds a record's data, in bytes.
	MaxDataSize = 512 << 10
)

// Sweep bounds.
const (
	// DefaultSweep is the number of records a Sweep removes at most when
	// its limit is zero or less.
	DefaultSweep = 500
	// MaxSweep bounds a Sweep's limit, so that one Sweep on etcd stays
	// one transaction within etcd's recommended --max-txn-ops (two
	// operations per record).
	MaxSweep = 1000
)

// Namespace is a kind of run state. Keys of two namespaces never collide.
type Namespace uint8

// The namespaces.
const (
	// Executions are the flows in progress, keyed by ExecutionKey.
	Executions Namespace = iota + 1
	// FlowTokens are suspended plans restored from an emailed link,
	// keyed by token.
	FlowTokens
	// Sessions are the logged-in sessions of HTTPHandler's own cookie
	// (see SessionStore): a session's user, keyed by session id, and
	// each user's list of sessions.
	Sessions
	// Consents are the consents a consent stage keeps (consent.go), keyed
	// by user and application, expiring as the consent does.
	Consents
	// Reputation holds reputation scores (RunStateScores): each client
	// IP's and each identifier's pairs.
	Reputation
)

// Namespaces lists every namespace.
var Namespaces = []Namespace{Executions, FlowTokens, Sessions, Consents, Reputation}

// String returns the namespace's name: "executions", "flow_tokens",
// "sessions", "consents", "reputation".
func (n Namespace) String() string {
	switch n {
	case Executions:
		return "executions"
	case FlowTokens:
		return "flow_tokens"
	case Sessions:
		return "sessions"
	case Consents:
		return "consents"
	case Reputation:
		return "reputation"
	}
	return "namespace " + strconv.Itoa(int(n))
}

func (n Namespace) valid() bool { return n >= Executions && n <= Reputation }

// ExecutionKey is the key of the execution of flow slug in session: one
// execution per session and flow. Every key of a session begins with
// ExecutionKey(session, ""). It holds the SHA-256 of the session id, not
// the id: a reader of the run state cannot take over a session's flows.
func ExecutionKey(session, slug string) string {
	sum := sumOf(session)
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], sum[:])
	// One allocation: the key is built where it is kept.
	var b strings.Builder
	b.Grow(len("64:") + len(hx) + len(slug))
	b.WriteString(strconv.Itoa(len(hx)))
	b.WriteByte(':')
	b.Write(hx[:])
	b.WriteString(slug)
	return b.String()
}

// Record is one piece of run state.
type Record struct {
	// Data is the state, opaque to the RunState. A RunState keeps its own
	// copy and returns a copy the caller may keep and modify.
	Data []byte
	// Expires is when the record stops being returned.
	Expires time.Time
	// Version identifies the saved state. Load and Take return it; Save
	// replaces only the live record of this version, or, for 0, creates
	// a record where none is live. Versions are random and compared for
	// equality only; a Save never gives 0 nor the version it replaced.
	Version uint64
}

// RunState keeps run state. Its methods are safe for concurrent use; each
// fails with an error wrapping ctx.Err() when ctx is done before it
// starts, and with one wrapping ErrInvalid for an unknown namespace or an
// empty key or one over MaxKeySize.
type RunState interface {
	// Load returns the live record under key. It fails with ErrExpired
	// for an expired record not yet swept, and ErrNotFound for none.
	Load(ctx context.Context, ns Namespace, key string) (Record, error)
	// Save keeps rec.Data under key until rec.Expires, replacing the live
	// record of version rec.Version, or, when rec.Version is 0, creating
	// one where none is live (an expired one is replaced). It returns
	// the new version. It fails with ErrConflict when the live record
	// is of another version, or when there is none to replace; with
	// ErrExpired when the record of version rec.Version has expired;
	// and with ErrInvalid when rec.Data is over MaxDataSize (or the
	// implementation's bound) or rec.Expires is not after now. A Save
	// that fails writes nothing.
	Save(ctx context.Context, ns Namespace, key string, rec Record) (uint64, error)
	// Delete removes the record under key, live or expired; a missing
	// one is not an error.
	Delete(ctx context.Context, ns Namespace, key string) error
	// Take returns the live record under key and removes it, atomically:
	// of concurrent Takes of one record, one gets it and the others
	// ErrNotFound. An expired record is removed too, and Take fails with
	// ErrExpired; with none, ErrNotFound.
	Take(ctx context.Context, ns Namespace, key string) (Record, error)
	// Sweep removes up to limit records, of every namespace, that expired
	// at or before before (never a live one: a later before counts as
	// now), and returns how many it removed. A limit of zero or less
	// means DefaultSweep, and one over MaxSweep means MaxSweep. Passing
	// a before some time ago keeps recently expired records answering
	// ErrExpired a while.
	Sweep(ctx context.Context, before time.Time, limit int) (int, error)
}

// Bounded is implemented by a RunState that bounds what it holds, such as
// MemRunState.
type Bounded interface {
	// Usage reports what the RunState holds and its bounds.
	Usage() Usage
}

// Usage is what a Bounded RunState holds, and its bounds.
type Usage struct {
	// Records and Bytes are what it holds, live and expired, Bytes as
	// the implementation counts them (see MemRunState).
	Records int
	Bytes   int64
	// MaxRecords and MaxBytes are its bounds.
	MaxRecords int
	MaxBytes   int64
	// Evicted counts the live records removed to stay within the
	// bounds.
	Evicted int64
}

// checkKey checks the namespace and key of a call.
func checkKey(ctx context.Context, op string, ns Namespace, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("executor: %s: %w", op, err)
	}
	switch {
	case !ns.valid():
		return fmt.Errorf("executor: %s: %w: unknown %s", op, ErrInvalid, ns)
	case key == "":
		return fmt.Errorf("executor: %s %s: %w: empty key", op, ns, ErrInvalid)
	case len(key) > MaxKeySize:
		return fmt.Errorf("executor: %s %s: %w: key of %d bytes, over %d", op, ns, ErrInvalid, len(key), MaxKeySize)
	}
	return nil
}

// checkSave checks the arguments of a Save.
func checkSave(ctx context.Context, ns Namespace, key string, rec Record, now time.Time) error {
	if err := checkKey(ctx, "save", ns, key); err != nil {
		return err
	}
	switch {
	case len(rec.Data) > MaxDataSize:
		return fmt.Errorf("executor: save %s: %w: data of %d bytes, over %d", ns, ErrInvalid, len(rec.Data), MaxDataSize)
	case !rec.Expires.After(now):
		return fmt.Errorf("executor: save %s: %w: expiry %s is not after now (%s)", ns, ErrInvalid, rec.Expires.UTC().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// cas checks a Save of version want over the record found (of version
// have, expiring at exp; have 0 for none).
func cas(ns Namespace, want, have uint64, exp, now int64) error {
	live := have != 0 && exp > now
	switch {
	case want == 0 && live:
		return fmt.Errorf("executor: save %s: %w: a live record exists", ns, ErrConflict)
	case want == 0:
		return nil
	case have == want && !live:
		return fmt.Errorf("executor: save %s: %w", ns, ErrExpired)
	case have != want:
		return fmt.Errorf("executor: save %s: %w", ns, ErrConflict)
	}
	return nil
}

// newVersion returns a random version, neither 0 nor old.
func newVersion(old uint64) uint64 {
	for {
		if v := rand.Uint64(); v != 0 && v != old {
			return v
		}
	}
}

// sweepLimit normalizes a Sweep's limit.
func sweepLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultSweep
	case limit > MaxSweep:
		return MaxSweep
	}
	return limit
}
