package reputation

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Amounts by which the executor changes scores, as authentik's signals
// (policies/reputation/signals.py).
const (
	// LoginFailed is login_failed's: a password that every backend
	// refused.
	LoginFailed = -1
	// IdentificationFailed is identification_failed's: an identifier
	// that matches no user.
	IdentificationFailed = -1
	// LoggedIn is user_logged_in's.
	LoggedIn = 1
)

// Defaults of Options, authentik 2025.6's (tenants/models.py,
// lib/default.yml).
const (
	DefaultLower  = -5
	DefaultUpper  = 5
	DefaultExpiry = 86400 * time.Second
	// DefaultMaxRecords bounds a Mem: 25 to 45 MB of pairs (BenchmarkMem100k).
	DefaultMaxRecords = 100_000
)

// MaxIdentifierSize is the longest identifier kept, in bytes; a longer
// one is cut (at a byte, so that two long identifiers sharing their
// first MaxIdentifierSize bytes share a score). authentik's usernames
// have at most 150 characters and e-mail addresses 254.
const MaxIdentifierSize = 320

// ErrInvalid: options that cannot hold, such as a positive lower limit.
var ErrInvalid = errors.New("reputation: invalid options")

// Limits bound a score: authentik's tenant reputation_lower_limit
// ("Zero or negative.") and reputation_upper_limit ("Zero or
// positive.").
type Limits struct {
	Lower, Upper int64
}

// DefaultLimits returns authentik's default limits, -5 and 5.
func DefaultLimits() Limits { return Limits{Lower: DefaultLower, Upper: DefaultUpper} }

// Clamp returns v within the limits, as authentik's clamp.
func (l Limits) Clamp(v int64) int64 { return min(max(v, l.Lower), l.Upper) }

// Options configure a Scores implementation. Every zero field means its
// default.
type Options struct {
	// Limits bound each score. The zero Limits means DefaultLimits; a
	// positive Lower or a negative Upper is ErrInvalid.
	Limits Limits
	// Expiry is how long a pair lives after it was created. Zero means
	// DefaultExpiry.
	Expiry time.Duration
	// MaxRecords bounds the pairs a Mem holds. Zero means
	// DefaultMaxRecords.
	MaxRecords int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// WithDefaults returns o with its zero fields set to their defaults. It
// fails with ErrInvalid for limits that cannot hold. Implementations of
// Scores outside this package start from it.
func (o Options) WithDefaults() (Options, error) {
	if o.Limits == (Limits{}) {
		o.Limits = DefaultLimits()
	}
	if o.Limits.Lower > 0 || o.Limits.Upper < 0 {
		return o, fmt.Errorf("%w: limits %d and %d: the lower limit must be zero or negative and the upper limit zero or positive", ErrInvalid, o.Limits.Lower, o.Limits.Upper)
	}
	if o.Expiry <= 0 {
		o.Expiry = DefaultExpiry
	}
	if o.MaxRecords <= 0 {
		o.MaxRecords = DefaultMaxRecords
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// Query selects the pairs whose scores a reputation policy sums: those
// of IP when CheckIP, and those of Identifier when CheckIdentifier; a
// pair matching both counts once.
type Query struct {
	IP              netip.Addr
	Identifier      string
	CheckIP         bool
	CheckIdentifier bool
}

// Scores keeps the scores of (client IP, identifier) pairs. Its methods
// are safe for concurrent use and fail with an error wrapping ctx.Err()
// when ctx is done before they start.
type Scores interface {
	// Add adds amount to the score of (ip, identifier), creating the
	// pair at amount when it has none, within the implementation's
	// limits.
	Add(ctx context.Context, ip netip.Addr, identifier string, amount int64) error
	// Sum returns the sum of the live scores q selects; 0 for none.
	Sum(ctx context.Context, q Query) (int64, error)
}

// UnknownIP is the address of a client whose address is unknown, as
// authentik's ClientIPMiddleware.default_ip.
var UnknownIP = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// IP returns the address a score is kept under: ip without an IPv4
// mapping, or UnknownIP for the zero Addr.
func IP(ip netip.Addr) netip.Addr {
	if !ip.IsValid() {
		return UnknownIP
	}
	return ip.Unmap().WithZone("")
}

// Identifier returns the identifier a score is kept under: id cut to
// MaxIdentifierSize bytes.
func Identifier(id string) string {
	if len(id) > MaxIdentifierSize {
		return id[:MaxIdentifierSize]
	}
	return id
}
