package reputation_test

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	"github.com/authflow/authflow/reputation"
)

// BenchmarkMem100k measures the heap that 100,000 distinct failing
// identifiers take in a Mem (a flood of random usernames), from one
// client address and from as many addresses, and that the bound holds:
// 900,000 more leave it at MaxRecords pairs.
func BenchmarkMem100k(b *testing.B) {
	ctx := context.Background()
	for _, spread := range []bool{false, true} {
		name := "one IP"
		if spread {
			name = "distinct IPs"
		}
		b.Run(name, func(b *testing.B) {
			var heap uint64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				m, err := reputation.NewMem(reputation.Options{MaxRecords: 100_000})
				if err != nil {
					b.Fatal(err)
				}
				ip := netip.MustParseAddr("198.51.100.7")
				for i := range 1_000_000 {
					if spread {
						ip = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
					}
					if err := m.Add(ctx, ip, fmt.Sprintf("user-%08d@example.com", i), reputation.LoginFailed); err != nil {
						b.Fatal(err)
					}
					if i == 99_999 {
						runtime.GC()
						runtime.ReadMemStats(&after)
						heap = after.HeapAlloc - before.HeapAlloc
					}
				}
				if n, evicted := m.Len(); n != 100_000 || evicted != 900_000 {
					b.Fatalf("held %d, evicted %d", n, evicted)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "MB/after-1M")
				runtime.KeepAlive(m)
			}
			b.ReportMetric(float64(heap)/1e6, "MB/100k")
			b.ReportMetric(float64(heap)/100_000, "B/pair")
		})
	}
}
