package executor

import (
	"sync"
	"testing"
)

// keyLocks serializes the holders of one key while another key's run
// beside them, with locks reused from one key to the next: a lock
// freed is never handed out while held, and an uncontended lock and
// unlock allocates nothing once a lock is free.
func TestKeyLocksReuse(t *testing.T) {
	var l keyLocks
	var wg sync.WaitGroup
	counts := map[string]*int{"a": new(int), "b": new(int), "c": new(int)}
	for key, n := range counts {
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 200 {
					k := l.lock(key)
					*n++ // a data race (go test -race) if two held key at once
					l.unlock(key, k)
				}
			}()
		}
	}
	wg.Wait()
	for key, n := range counts {
		if *n != 8*200 {
			t.Errorf("%s: %d", key, *n)
		}
	}
	if len(l.m) != 0 || len(l.free) == 0 || len(l.free) > maxFreeKeyLocks {
		t.Errorf("%d held, %d free", len(l.m), len(l.free))
	}
	if n := testing.AllocsPerRun(100, func() { l.unlock("k", l.lock("k")) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
