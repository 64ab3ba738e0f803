package etcd_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/etcd"
	"github.com/authflow/authflow/etcd/internal/etcdtest"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// The benchmarks run authflow and a raw etcd client side by side on one
// embedded etcd (fsync on, as in production), at each database size of
// -sizes (flows besides the one measured):
//
//	go test -run=NONE -bench=. ./ -args -sizes=0,2000
//
// Each iteration runs the raw operation and authflow's in turn; the
// authflow/raw metric is their ratio. Targets: Get <= 2, Patch <= 1.5.
var sizes = flag.String("sizes", "0,2000", "comma-separated numbers of other flows in the store")

func benchSizes(b *testing.B) []int {
	var out []int
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			b.Fatalf("-sizes: %v", err)
		}
		out = append(out, n)
	}
	return out
}

type benchEnv struct {
	s    *store.Store
	cli  *clientv3.Client
	key  string // the measured flow's record key
	slug string
	pk   string
}

func newBenchEnv(b *testing.B, others int) *benchEnv {
	b.Helper()
	ctx := context.Background()
	c := etcdtest.Start(b, 1, &etcdtest.Options{Fsync: true})
	prefix := nextPrefix()
	db, err := etcd.Open(ctx, etcd.Config{Endpoints: c.Endpoints(), Prefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	s, err := store.New(db, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for i := 0; i < others; i += 200 {
		if err := s.Update(ctx, func(tx *store.Tx) error {
			for j := i; j < min(others, i+200); j++ {
				if _, err := store.Flows.Create(tx, flow.New(fmt.Sprintf("Other %d", j), fmt.Sprintf("other-%d", j), "t", flow.DesignationAuthentication), nil); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	var f flow.Flow
	err = s.Update(ctx, func(tx *store.Tx) error {
		f, err = store.Flows.Create(tx, flow.New("Login", "login", "Welcome", flow.DesignationAuthentication), nil)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	pkb, _ := f.PK.MarshalBinary()
	return &benchEnv{s: s, cli: db.Client(), key: db.Key("flows", pkb), slug: "login", pk: f.PK.String()}
}

// raw decodes a stored record's JSON, past its envelope (format 3: a
// byte, the revision, the checksum).
func rawDecode(b *testing.B, v []byte) {
	var m map[string]any
	if err := json.Unmarshal(v[13:], &m); err != nil {
		b.Fatal(err)
	}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// alternate runs raw and authflow in turn in one loop, so that both see
// the same machine at the same moment, and reports the time of each and
// their ratio.
func alternate(b *testing.B, raw, authflow func(i int)) {
	var tr, ta time.Duration
	i := 0
	for b.Loop() {
		t0 := time.Now()
		raw(i)
		t1 := time.Now()
		authflow(i)
		ta += time.Since(t1)
		tr += t1.Sub(t0)
		i++
	}
	b.ReportMetric(float64(tr.Nanoseconds())/float64(i), "raw-ns/op")
	b.ReportMetric(float64(ta.Nanoseconds())/float64(i), "authflow-ns/op")
	b.ReportMetric(float64(ta)/float64(tr), "authflow/raw")
}

// BenchmarkGet: a flow by slug through the store, against a client get of
// its record's key and a decode of its JSON.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes(b) {
		e := newBenchEnv(b, n)
		b.Run(fmt.Sprintf("others=%d", n), func(b *testing.B) {
			alternate(b, func(int) {
				resp, err := e.cli.Get(ctx, e.key)
				if err != nil || len(resp.Kvs) != 1 {
					b.Fatal(err, resp)
				}
				rawDecode(b, resp.Kvs[0].Value)
			}, func(int) {
				if _, err := flowBySlug(ctx, e.s, e.slug); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkPatch: a merge patch of the flow's title through the store,
// against a client get of the record, a decode, an encode with a new
// checksum, and a transaction writing it on condition of its mod revision.
func BenchmarkPatch(b *testing.B) {
	ctx := context.Background()
	titles := []string{"Welcome!", "Welcome back!"}
	for _, n := range benchSizes(b) {
		e := newBenchEnv(b, n)
		b.Run(fmt.Sprintf("others=%d", n), func(b *testing.B) {
			alternate(b, func(i int) {
				resp, err := e.cli.Get(ctx, e.key)
				if err != nil || len(resp.Kvs) != 1 {
					b.Fatal(err, resp)
				}
				kv := resp.Kvs[0]
				var m map[string]any
				if err := json.Unmarshal(kv.Value[13:], &m); err != nil {
					b.Fatal(err)
				}
				m["title"] = titles[i%2]
				out, _ := json.Marshal(m)
				val := append(kv.Value[:9:9], 0, 0, 0, 0)
				binary.BigEndian.PutUint32(val[9:], crc32.Checksum(append(kv.Value[1:9:9], out...), castagnoli))
				val = append(val, out...)
				t, err := e.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(e.key), "=", kv.ModRevision)).
					Then(clientv3.OpPut(e.key, string(val))).Commit()
				if err != nil || !t.Succeeded {
					b.Fatal(err)
				}
			}, func(i int) {
				if err := patchFlow(ctx, e.s, e.slug, fmt.Appendf(nil, `{"title":%q}`, titles[(i+1)%2]), nil); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
