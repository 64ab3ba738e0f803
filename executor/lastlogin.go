package executor

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/authflow/authflow/directory"
)

// LastLoginTimeout bounds one write of the logins recorded since the last
// (directory.LoginRecorder.RecordLogins).
const LastLoginTimeout = time.Minute

// lastLoginWindow is how long the worker gathers logins before it
// writes them: the logins of one window cost one write.
const lastLoginWindow = 100 * time.Millisecond

// lastLogins records users' last_login in the background, as authentik's
// user_logged_in signal does in the request: a login only notes its user
// and time, and one worker writes the logins noted in one call, within
// lastLoginWindow of the first, so that a server's logins cost one write
// (with the store's directory, one configuration revision) per window
// rather than one each, and no login waits for it.
type lastLogins struct {
	e   *Executor
	rec directory.LoginRecorder

	mu      sync.Mutex
	pending map[int64]time.Time
	busy    bool
	closed  bool
	// waiting counts the callers of wait: while there are any, and
	// after close, the worker writes without gathering.
	waiting int
	// window is lastLoginWindow (a test's own under mu).
	window time.Duration
	idle   *sync.Cond
	wake   chan struct{}
	hurry  chan struct{}
	done   chan struct{}
}

func newLastLogins(e *Executor, rec directory.LoginRecorder) *lastLogins {
	l := &lastLogins{e: e, rec: rec, pending: map[int64]time.Time{}, window: lastLoginWindow, wake: make(chan struct{}, 1), hurry: make(chan struct{}, 1), done: make(chan struct{})}
	l.idle = sync.NewCond(&l.mu)
	go l.work()
	return l
}

// note notes a login of the user numbered pk at at; after close it is
// written at once.
func (l *lastLogins) note(ctx context.Context, pk int64, at time.Time) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.write(context.WithoutCancel(ctx), map[int64]time.Time{pk: at})
		return
	}
	l.pending[pk] = at
	select { // under mu: close closes wake under mu too
	case l.wake <- struct{}{}:
	default:
	}
	l.mu.Unlock()
}

func (l *lastLogins) work() {
	defer close(l.done)
	for range l.wake {
		l.gather()
		l.mu.Lock()
		batch := l.pending
		if len(batch) == 0 {
			l.mu.Unlock()
			continue
		}
		l.pending, l.busy = map[int64]time.Time{}, true
		l.mu.Unlock()
		l.write(context.Background(), batch)
		l.mu.Lock()
		l.busy = false
		if len(l.pending) == 0 {
			l.idle.Broadcast()
		}
		l.mu.Unlock()
	}
}

// gather waits lastLoginWindow for more logins to note, unless a caller
// waits or the recorder closes.
func (l *lastLogins) gather() {
	l.mu.Lock()
	now, window := l.waiting > 0 || l.closed, l.window
	l.mu.Unlock()
	if now {
		return
	}
	t := time.NewTimer(window)
	defer t.Stop()
	select {
	case <-t.C:
	case <-l.hurry:
	}
}

// hasten ends the worker's gathering; l.mu is held.
func (l *lastLogins) hasten() {
	select {
	case l.hurry <- struct{}{}:
	default:
	}
}

func (l *lastLogins) write(ctx context.Context, batch map[int64]time.Time) {
	ctx, cancel := context.WithTimeout(ctx, LastLoginTimeout)
	defer cancel()
	if err := l.rec.RecordLogins(ctx, batch); err != nil {
		l.e.event(Event{Action: EventSystemException, Message: fmt.Sprintf("Recording the last login of %d users failed: %v", len(batch), err)})
	}
}

// wait waits until every login noted is written, hastening the worker.
func (l *lastLogins) wait() {
	l.mu.Lock()
	l.waiting++
	for l.busy || len(l.pending) > 0 {
		l.hasten()
		l.idle.Wait()
	}
	l.waiting--
	l.mu.Unlock()
}

// close writes what is noted and stops the worker.
func (l *lastLogins) close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.hasten()
	close(l.wake)
	l.mu.Unlock()
	<-l.done
}
