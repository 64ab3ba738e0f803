package executor

import "sync"

// keyLocks serializes, in this process, the requests of one execution
// (a double-clicked button, a replayed POST, two tabs), so that the
// second runs after the first saved and sees its step: a stage's side
// effects (a user written, an email sent, an invitation used, a login)
// happen once. Requests of different executions do not wait for each
// other. Between processes (replicas on etcd) the run state's
// compare-and-swap still keeps the record consistent, but both requests
// may run the stage.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
	// free are unused keyLocks, for the next key (a request of an
	// execution nobody else runs, the usual case, allocates none).
	free []*keyLock
}

// maxFreeKeyLocks bounds keyLocks.free.
const maxFreeKeyLocks = 64

type keyLock struct {
	mu sync.Mutex
	n  int // requests holding or waiting for mu
}

// testHookContended, when set (by tests), runs when a request is about
// to wait for another of the same execution.
var testHookContended func()

// lock waits until no other request of key runs, and returns the lock
// for unlock.
func (l *keyLocks) lock(key string) *keyLock {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*keyLock{}
	}
	k := l.m[key]
	if k == nil {
		if n := len(l.free); n > 0 {
			k, l.free = l.free[n-1], l.free[:n-1]
		} else {
			k = &keyLock{}
		}
		l.m[key] = k
	}
	k.n++
	contended := k.n > 1
	l.mu.Unlock()
	if contended && testHookContended != nil {
		testHookContended()
	}
	k.mu.Lock()
	return k
}

// unlock releases k, which lock(key) returned.
func (l *keyLocks) unlock(key string, k *keyLock) {
	k.mu.Unlock()
	l.mu.Lock()
	if k.n--; k.n == 0 {
		// Nobody holds or waits for k: it is free for another key.
		delete(l.m, key)
		if len(l.free) < maxFreeKeyLocks {
			l.free = append(l.free, k)
		}
	}
	l.mu.Unlock()
}
