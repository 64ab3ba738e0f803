package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// The email stage's messages leave through a queue, as authentik's leave
// through its task queue (send_mails): the request that reaches the
// stage returns before the server is reached. So a recovery flow answers
// a known identifier, whose message is sent, as fast as an unknown one,
// whose message is not (no enumeration by timing), and a slow or broken
// mail server never holds a request.
const (
	// DefaultMailQueue is how many messages may wait to be sent when
	// Options.MailQueue is zero. Past it, a message is dropped with a
	// system_exception event, and the flow goes on as if it was sent.
	DefaultMailQueue = 1000
	// MailAttempts is how often a message is tried before it is given up
	// with a system_exception event; the waits between tries are
	// MailRetryWait, then twice that, and so on.
	MailAttempts = 3
	// MailRetryWait is the wait after the first failed try.
	MailRetryWait = 2 * time.Second
	// MailTryTimeout bounds one try: the context Mailer.SendMail gets
	// ends after it.
	MailTryTimeout = time.Minute
	// MailCloseWait bounds how long Close waits for queued messages:
	// after it, the try under way is cancelled and the messages left are
	// given up, each with a system_exception event.
	MailCloseWait = 30 * time.Second
	// mailWorkers send in parallel.
	mailWorkers = 2
)

// queuedMail is one message waiting, with what its events name.
type queuedMail struct {
	ctx   context.Context
	m     Mail
	rcpt  string
	event Event
}

// mailQueue sends the email stage's messages in the background.
type mailQueue struct {
	e  *Executor
	ch chan queuedMail
	// mu guards closed (against a send on a closed channel) and pending.
	mu      sync.Mutex
	closed  bool
	workers sync.WaitGroup
	// pending counts the messages queued and not yet done, under mu; idle
	// is signalled when it drops to zero (wait).
	pending int
	idle    *sync.Cond
	// stopped ends the tries and waits under way when Close has waited
	// MailCloseWait.
	stopped context.Context
	stop    context.CancelFunc
}

func newMailQueue(e *Executor, size int) *mailQueue {
	if size <= 0 {
		size = DefaultMailQueue
	}
	q := &mailQueue{e: e, ch: make(chan queuedMail, size)}
	q.idle = sync.NewCond(&q.mu)
	q.stopped, q.stop = context.WithCancel(context.Background())
	for range mailWorkers {
		q.workers.Add(1)
		go q.work()
	}
	return q
}

// enqueue queues m; it never waits. ev is the email_sent event to send
// once m is sent (its Message is set here).
func (q *mailQueue) enqueue(ctx context.Context, m Mail, rcpt string, ev Event) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		q.fail(ev, fmt.Sprintf("The email to %s was not sent: the executor is closed.", rcpt))
		return
	}
	select {
	case q.ch <- queuedMail{ctx: context.WithoutCancel(ctx), m: m, rcpt: rcpt, event: ev}:
		q.pending++
		q.mu.Unlock()
	default:
		q.mu.Unlock()
		q.fail(ev, fmt.Sprintf("The email to %s was not sent: %d messages are waiting already.", rcpt, cap(q.ch)))
	}
}

func (q *mailQueue) work() {
	defer q.workers.Done()
	for qm := range q.ch {
		q.send(qm)
		q.mu.Lock()
		if q.pending--; q.pending == 0 {
			q.idle.Broadcast()
		}
		q.mu.Unlock()
	}
}

// send tries qm MailAttempts times.
func (q *mailQueue) send(qm queuedMail) {
	wait := MailRetryWait
	var err error
	ctx, cancel := context.WithCancel(qm.ctx)
	defer cancel()
	defer context.AfterFunc(q.stopped, cancel)()
	for try := 1; try <= MailAttempts; try++ {
		if q.stopped.Err() != nil {
			q.fail(qm.event, fmt.Sprintf("The email to %s was not sent: the executor closed.", qm.rcpt))
			return
		}
		tctx, tcancel := context.WithTimeout(ctx, MailTryTimeout)
		err = q.e.mailer.SendMail(tctx, qm.m)
		tcancel()
		if err == nil {
			ev := qm.event
			ev.Action, ev.Message = EventEmailSent, "Email to "+qm.rcpt+" sent"
			q.e.event(ev)
			return
		}
		if errors.Is(err, ErrNoSMTPHost) {
			// No try can succeed: the host's configuration is missing.
			ev := qm.event
			ev.Action, ev.Message = EventConfigurationError, fmt.Sprintf("The email to %s was not sent: %v", qm.rcpt, err)
			q.e.event(ev)
			return
		}
		if try < MailAttempts {
			q.e.sleep(ctx, wait)
			wait *= 2
		}
	}
	q.fail(qm.event, fmt.Sprintf("The email to %s was not sent after %d tries: %v", qm.rcpt, MailAttempts, err))
}

func (q *mailQueue) fail(ev Event, msg string) {
	ev.Action, ev.Message = EventSystemException, msg
	q.e.event(ev)
}

// close stops taking messages and waits, at most wait, for the queued
// ones to be sent; then it gives up the rest.
func (q *mailQueue) close(wait time.Duration) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	close(q.ch)
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.workers.Wait(); close(done) }()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		q.stop()
		<-done
	}
	q.stop()
}

// wait waits until every queued message is sent or given up.
func (q *mailQueue) wait() {
	q.mu.Lock()
	for q.pending > 0 {
		q.idle.Wait()
	}
	q.mu.Unlock()
}
