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
//	go test -run=NONE -bench=. -benchmem ./ -args -sizes=0,2000
//
// Targets: Get/authflow <= 2x Get/raw (a client get of the flow's key and
// a decode of its JSON), Patch/authflow <= 1.5x Patch/raw (a get and a
// transaction on the key's mod revision writing the patched JSON).
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
				if _, err := tx.CreateFlow(flow.New(fmt.Sprintf("Other %d", j), fmt.Sprintf("other-%d", j), "t", flow.DesignationAuthentication)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	f, err := s.CreateFlow(ctx, flow.New("Login", "login", "Welcome", flow.DesignationAuthentication))
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

func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes(b) {
		e := newBenchEnv(b, n)
		b.Run(fmt.Sprintf("others=%d/raw", n), func(b *testing.B) {
			for b.Loop() {
				resp, err := e.cli.Get(ctx, e.key)
				if err != nil || len(resp.Kvs) != 1 {
					b.Fatal(err, resp)
				}
				rawDecode(b, resp.Kvs[0].Value)
			}
		})
		b.Run(fmt.Sprintf("others=%d/authflow", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := e.s.GetFlowBySlug(ctx, e.slug); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPatch(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes(b) {
		e := newBenchEnv(b, n)
		titles := []string{"Welcome!", "Welcome back!"}
		b.Run(fmt.Sprintf("others=%d/raw", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
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
				i++
				out, _ := json.Marshal(m)
				val := append(kv.Value[:9:9], 0, 0, 0, 0)
				binary.BigEndian.PutUint32(val[9:], crc32.Checksum(append(kv.Value[1:9:9], out...), castagnoli))
				val = append(val, out...)
				t, err := e.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(e.key), "=", kv.ModRevision)).
					Then(clientv3.OpPut(e.key, string(val))).Commit()
				if err != nil || !t.Succeeded {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("others=%d/authflow", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := e.s.PatchFlow(ctx, e.slug, fmt.Appendf(nil, `{"title":%q}`, titles[i%2])); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
