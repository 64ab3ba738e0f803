package store_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// The hostile benchmarks measure, on one store of N flows (each bound to
// a stage, so there are N bindings too), a plain one-term search and each
// hostile query a few KB or MB of request can carry, so that the ratio
// hostile/plain can be quoted from one run:
//
//	go test -run=NONE -bench=Hostile -count=3 ./store/
//
// Target: every Hostile* costs at most 2x HostilePlainSearch at the same N.
// A hostile query that reads every flow (SearchMaxTerms, Ordering10000)
// is also compared with the plain query that reads every flow for the same
// reason (PlainSearchAll, PlainOrdering): what its hostility adds. Queries
// go through store.QueryFromValues, as the API's do.
var hostileSizes = flag.String("hostile-sizes", "1000,10000", "comma-separated flow counts for the Hostile benchmarks")

type hostileDB struct {
	s       *store.Store
	binding uuid.UUID
}

var (
	hostileMu  sync.Mutex
	hostileDBs = map[int]*hostileDB{}
)

// hostileStore builds (once per size, in one transaction) the store of n
// flows and n bindings.
func hostileStore(b *testing.B, n int) *hostileDB {
	hostileMu.Lock()
	defer hostileMu.Unlock()
	if d, ok := hostileDBs[n]; ok {
		return d
	}
	dir, err := os.MkdirTemp("", "authflow-hostile")
	if err != nil {
		b.Fatal(err)
	}
	s, err := store.Open(filepath.Join(dir, "hostile.db"), &store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	d := &hostileDB{s: s}
	designations := []flow.Designation{flow.DesignationAuthentication, flow.DesignationEnrollment, flow.DesignationRecovery}
	err = s.Update(context.Background(), func(tx *store.Tx) error {
		var st stage.Stage
		for i := range n {
			if i%100 == 0 { // a stage's flow_set is rebuilt per binding: keep it short
				st, err = store.Stages.Create(tx, stage.Stage{Name: fmt.Sprintf("hostile-write-%d", i), Config: stage.DefaultUserWrite()}, nil)
				if err != nil {
					return err
				}
			}
			f, err := store.Flows.Create(tx, flow.New(fmt.Sprintf("Flow %d", i), fmt.Sprintf("flow-%07d", i), fmt.Sprintf("Welcome to authentik! %d", i), designations[i%len(designations)]), nil)
			if err != nil {
				return err
			}
			bv, err := store.Bindings.Create(tx, binding.New(f.PK, st.PK, 10), nil)
			if err != nil {
				return err
			}
			d.binding = bv.PK
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	hostileDBs[n] = d
	return d
}

func forHostileSizes(b *testing.B, fn func(b *testing.B, d *hostileDB)) {
	for _, f := range strings.Split(*hostileSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("-hostile-sizes: bad size %q", f)
		}
		b.Run(fmt.Sprintf("flows=%d", n), func(b *testing.B) {
			d := hostileStore(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			fn(b, d)
		})
	}
}

// wantInvalid fails b unless err is a *validate.Error on key.
func wantInvalid(b *testing.B, err error, key string) {
	var ve *validate.Error
	if !errors.As(err, &ve) || !ve.Has(key) {
		b.Fatalf("got %v, want a validation error on %q", err, key)
	}
}

// benchFlowList lists flows with the query string v, expecting a
// validation error on key, or success when key is "".
func benchFlowList(b *testing.B, d *hostileDB, v url.Values, key string) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		q, err := store.QueryFromValues(v)
		if err == nil {
			_, err = listIn(ctx, d.s, store.Flows, q)
		}
		if key != "" {
			wantInvalid(b, err, key)
		} else if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHostilePlainSearch is the reference: one search term over
// every flow's search fields.
func BenchmarkHostilePlainSearch(b *testing.B) {
	forHostileSizes(b, func(b *testing.B, d *hostileDB) {
		benchFlowList(b, d, url.Values{"search": {"flow-00001"}}, "")
	})
}

// BenchmarkHostilePlainSearchAll is the reference for searches every flow
// matches: one term each flow holds only in its last search field (its
// denied_action), so every record is decoded and checked.
func BenchmarkHostilePlainSearchAll(b *testing.B) {
	forHostileSizes(b, func(b *testing.B, d *hostileDB) {
		benchFlowList(b, d, url.Values{"search": {"message_continue"}}, "")
	})
}

// BenchmarkHostilePlainOrdering is the reference for orderings: one field
// no index serves, so every flow is read and sorted.
func BenchmarkHostilePlainOrdering(b *testing.B) {
	forHostileSizes(b, func(b *testing.B, d *hostileDB) {
		benchFlowList(b, d, url.Values{"ordering": {"designation"}}, "")
	})
}

// BenchmarkHostileSearchTerms1000 sends 1,000 distinct search terms, short
// enough to be within MaxSearchLength: refused, as more than
// MaxSearchTerms, after they are split and deduplicated.
func BenchmarkHostileSearchTerms1000(b *testing.B) {
	terms := make([]string, 1000)
	for i := range terms {
		terms[i] = strconv.FormatInt(int64(i), 36) // 1 or 2 characters
	}
	forHostileSizes(b, func(b *testing.B, d *hostileDB) {
		benchFlowList(b, d, url.Values{"search": {strings.Join(terms, " ")}}, "search")
	})
}

// BenchmarkHostileSearchRepeated sends the plain search's term again and
// again in mixed case, as many times as MaxSearchLength allows: one term
// after deduplication.
func BenchmarkHostileSearchRepeated(b *testing.B) {
	var terms []string
	for n := 0; n+len("flow-00001,") <= store.MaxSearchLength; n += len("flow-00001,") {
		terms = append(terms, []string{"flow-00001", "FLOW-00001", "Flow-00001"}[len(terms)%3])
	}
	forHostileSizes(b, func(b *testing.B, d *hostileDB) {
		benchFlowList(b, d, url.Values{"search": {strings.Join(terms, ",")}}, "")
	})
}

// BenchmarkHostileSearchMaxTerms sends MaxSearchTerms distinct terms that
// every flow holds only in its last search field (substrings of
// "message_continue" around the underscore, which no name, slug, title or
// designation here has): the costliest search allowed.
func BenchmarkHostileSearchMaxTerms(b *testing.B) {
	const action = "message_continue" // every flow's denied_action
	var terms []string
	for lo := 0; lo <= 7 && len(terms) < store.MaxSearchTerms; lo++ {
		for hi := 8; hi <= len(action) && len(terms) < store.MaxSearchTerms; hi++ {
			terms = append(terms, action[lo:hi])
		}
	}
	forHostileSizes(b, func(b *testing.B, d *hostileDB) {
		benchFlowList(b, d, url.Values{"search": {strings.Join(terms, " ")}}, "")
	})
}

// BenchmarkHostileOrdering10000 orders by "designation," 10,000 times:
// one ordering field after deduplication.
func BenchmarkHostileOrdering10000(b *testing.B) {
	forHostileSizes(b, func(b *testing.B, d *hostileDB) {
		benchFlowList(b, d, url.Values{"ordering": {strings.Repeat("designation,", 10000)}}, "")
	})
}

// BenchmarkHostileFilterInteger1MiB filters bindings by an order of
// 1 MiB of digits: refused, as longer than MaxNumberLength.
func BenchmarkHostileFilterInteger1MiB(b *testing.B) {
	v := url.Values{"order": {strings.Repeat("1", 1<<20)}}
	forHostileSizes(b, func(b *testing.B, d *hostileDB) {
		ctx := context.Background()
		for i := 0; i < b.N; i++ {
			q, err := store.QueryFromValues(v)
			if err == nil {
				_, err = listIn(ctx, d.s, store.Bindings, q)
			}
			wantInvalid(b, err, "order")
		}
	})
}

// BenchmarkHostileBodyInteger1MiB patches a binding's order with a JSON
// number of 1 MiB of digits: refused with DRF's "String value too large.".
func BenchmarkHostileBodyInteger1MiB(b *testing.B) {
	body := []byte(`{"order": ` + strings.Repeat("1", 1<<20) + `}`)
	forHostileSizes(b, func(b *testing.B, d *hostileDB) {
		ctx := context.Background()
		for i := 0; i < b.N; i++ {
			err := d.s.Update(ctx, func(tx *store.Tx) error {
				_, err := store.Bindings.Patch(tx, store.PK(d.binding), body, nil)
				return err
			})
			wantInvalid(b, err, "order")
		}
	})
}
