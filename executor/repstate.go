package executor

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/authflow/authflow/reputation"
)

// MaxPairsPerKey bounds the pairs RunStateScores keeps for one client IP
// or one identifier: past it, the pair that expires first is dropped.
// A client trying many identifiers keeps its newest MaxPairsPerKey
// scores, whose sum stays far below any threshold of failures.
const MaxPairsPerKey = 64

// casRetries bounds the retries of a RunStateScores change that lost a
// race.
const casRetries = 16

// RunStateScores is reputation.Scores on a RunState, in its Reputation
// namespace, so that scores live where executions do: beside the
// configuration in a bbolt file or on etcd (NewStoreRunState), shared by
// replicas, or in a MemRunState within its bounds. It keeps one record
// per client IP and one per identifier, each listing at most
// MaxPairsPerKey pairs (identifier or IP, score, expiry), and expiring
// with its last pair; RunState.Sweep removes them. A change saves the
// IP's record, then the identifier's, each by compare-and-swap, retried
// when it loses a race; the identifier's record takes the pair's state
// from the IP's, and never an older one than it holds (each pair counts
// its changes), so that concurrent changes all count. The two are not
// one transaction: a change that fails between them leaves the
// identifier's record behind the IP's until the next change. A pair dropped from its IP's record
// (MaxPairsPerKey) still counts in its identifier's, for a policy that
// checks the username only.
type RunStateScores struct {
	rs RunState
	o  reputation.Options
}

// NewRunStateScores returns scores kept in rs. o.MaxRecords is unused:
// the RunState bounds what it holds. It fails with reputation.ErrInvalid
// for limits that cannot hold.
func NewRunStateScores(rs RunState, o reputation.Options) (*RunStateScores, error) {
	o, err := o.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("executor: %w", err)
	}
	return &RunStateScores{rs: rs, o: o}, nil
}

// repPair is one pair as an IP's or an identifier's record lists it:
// other is the identifier (in an IP's record) or the IP (in an
// identifier's).
type repPair struct {
	other   string
	score   int64
	expires int64 // unix nanoseconds
	// seq counts the pair's changes, so that an identifier's record is
	// never set back to an older score by a change that saved the IP's
	// record first and the identifier's last.
	seq uint64
}

// newer reports whether p is a later state of its pair than q: a pair
// created later, or changed more often.
func (p repPair) newer(q repPair) bool {
	return p.expires > q.expires || p.expires == q.expires && p.seq > q.seq
}

func ipKey(ip netip.Addr) string { return "i" + reputation.IP(ip).String() }
func idKey(id string) string     { return "u" + reputation.Identifier(id) }

// Add implements reputation.Scores.
func (r *RunStateScores) Add(ctx context.Context, ip netip.Addr, identifier string, amount int64) error {
	ip, identifier = reputation.IP(ip), reputation.Identifier(identifier)
	now := r.o.Now()
	var changed repPair
	err := r.change(ctx, ipKey(ip), now, func(ps []repPair) []repPair {
		i := slices.IndexFunc(ps, func(p repPair) bool { return p.other == identifier })
		if i < 0 {
			ps = append(ps, repPair{other: identifier, expires: now.Add(r.o.Expiry).UnixNano()})
			i = len(ps) - 1
		}
		ps[i].score = r.o.Limits.Clamp(ps[i].score + amount)
		ps[i].seq++
		changed = ps[i]
		return ps
	})
	if err != nil {
		return err
	}
	return r.change(ctx, idKey(identifier), now, func(ps []repPair) []repPair {
		p := changed
		p.other = ip.String()
		if i := slices.IndexFunc(ps, func(q repPair) bool { return q.other == p.other }); i >= 0 {
			if p.newer(ps[i]) {
				ps[i] = p
			}
			return ps
		}
		return append(ps, p)
	})
}

// change applies f to the live pairs of key and saves them, bounded to
// MaxPairsPerKey, retrying when another change won the race.
func (r *RunStateScores) change(ctx context.Context, key string, now time.Time, f func([]repPair) []repPair) error {
	for range casRetries {
		rec, err := r.rs.Load(ctx, Reputation, key)
		switch {
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrExpired):
			rec = Record{}
		case err != nil:
			return fmt.Errorf("executor: reputation: %w", err)
		}
		ps, err := decodePairs(rec.Data)
		if err != nil {
			return fmt.Errorf("executor: reputation: %s: %w", Reputation, err)
		}
		ps = livePairs(ps, now.UnixNano())
		ps = f(ps)
		if len(ps) > MaxPairsPerKey {
			slices.SortStableFunc(ps, func(a, b repPair) int { return int(max(min(b.expires-a.expires, 1), -1)) })
			ps = ps[:MaxPairsPerKey]
		}
		var last int64
		for _, p := range ps {
			last = max(last, p.expires)
		}
		_, err = r.rs.Save(ctx, Reputation, key, Record{Data: encodePairs(ps), Expires: time.Unix(0, last), Version: rec.Version})
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrConflict), errors.Is(err, ErrExpired):
			continue
		default:
			return fmt.Errorf("executor: reputation: %w", err)
		}
	}
	return fmt.Errorf("executor: reputation: %w: %d changes lost their race", ErrConflict, casRetries)
}

// Sum implements reputation.Scores.
func (r *RunStateScores) Sum(ctx context.Context, q reputation.Query) (int64, error) {
	now := r.o.Now().UnixNano()
	ip := reputation.IP(q.IP).String()
	var sum int64
	if q.CheckIP {
		ps, err := r.load(ctx, ipKey(q.IP), now)
		if err != nil {
			return 0, err
		}
		for _, p := range ps {
			sum += p.score
		}
	}
	if q.CheckIdentifier {
		ps, err := r.load(ctx, idKey(q.Identifier), now)
		if err != nil {
			return 0, err
		}
		for _, p := range ps {
			if !q.CheckIP || p.other != ip { // else counted under its IP
				sum += p.score
			}
		}
	}
	return sum, nil
}

// load returns the live pairs of key.
func (r *RunStateScores) load(ctx context.Context, key string, now int64) ([]repPair, error) {
	rec, err := r.rs.Load(ctx, Reputation, key)
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrExpired):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("executor: reputation: %w", err)
	}
	ps, err := decodePairs(rec.Data)
	if err != nil {
		return nil, fmt.Errorf("executor: reputation: %s: %w", Reputation, err)
	}
	return livePairs(ps, now), nil
}

func livePairs(ps []repPair, now int64) []repPair {
	return slices.DeleteFunc(ps, func(p repPair) bool { return p.expires <= now })
}

// encodePairs encodes pairs as, for each, the length of other, other,
// the score (zig-zag), the expiry and seq, as varints.
func encodePairs(ps []repPair) []byte {
	var b []byte
	for _, p := range ps {
		b = binary.AppendUvarint(b, uint64(len(p.other)))
		b = append(b, p.other...)
		b = binary.AppendVarint(b, p.score)
		b = binary.AppendVarint(b, p.expires)
		b = binary.AppendUvarint(b, p.seq)
	}
	return b
}

var errPairs = errors.New("a record is not a list of pairs")

func decodePairs(b []byte) ([]repPair, error) {
	var ps []repPair
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, errPairs
		}
		p := repPair{other: string(b[k : k+int(n)])}
		b = b[k+int(n):]
		if p.score, k = binary.Varint(b); k <= 0 {
			return nil, errPairs
		}
		b = b[k:]
		if p.expires, k = binary.Varint(b); k <= 0 {
			return nil, errPairs
		}
		b = b[k:]
		if p.seq, k = binary.Uvarint(b); k <= 0 {
			return nil, errPairs
		}
		b = b[k:]
		ps = append(ps, p)
	}
	return ps, nil
}
