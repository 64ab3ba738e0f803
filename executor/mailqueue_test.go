package executor

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// blockingMailer holds every message until release is closed.
type blockingMailer struct {
	testMailer
	release chan struct{}
	started chan struct{}
}

func (m *blockingMailer) SendMail(ctx context.Context, msg Mail) error {
	m.started <- struct{}{}
	select {
	case <-m.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return m.testMailer.SendMail(ctx, msg)
}

// A request that sends an email does not wait for the mail server: a
// known identifier in a recovery flow is answered while its message is
// still on its way, as an unknown one is (no enumeration by timing).
func TestEmailDoesNotWaitForTheServer(t *testing.T) {
	m := &blockingMailer{release: make(chan struct{}), started: make(chan struct{}, 10)}
	h := emailFlow(t, "recovery", "", func(o *Options) { o.Mailer, o.BaseURL = m, testBaseURL })
	h.userWith("mail", "mail@example.com", nil, true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := Request{Session: "s"}
	if _, err := h.e.Get(ctx, "f", req); err != nil {
		t.Fatal(err)
	}
	resp, err := h.e.Submit(ctx, "f", req, []byte(`{"uid_field":"mail"}`))
	for err == nil && resp.Reload {
		resp, err = h.e.Get(ctx, "f", req)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := resp.Challenge.(*EmailChallenge); !ok {
		t.Fatalf("challenge %T", resp.Challenge)
	}
	<-m.started // the message is being sent, the client has its answer
	if m.count() != 0 {
		t.Fatal("sent before release")
	}
	close(m.release)
	h.settle()
	if m.count() != 1 {
		t.Errorf("%d emails", m.count())
	}
}

// A full queue drops the message with an event; the client is not told.
func TestMailQueueFull(t *testing.T) {
	m := &blockingMailer{release: make(chan struct{}), started: make(chan struct{}, 10)}
	h := emailFlow(t, "authentication", "", func(o *Options) { o.Mailer, o.BaseURL, o.MailQueue = m, testBaseURL, 1 })
	h.userWith("mail", "mail@example.com", nil, true)
	ctx := context.Background()
	req := Request{Session: "s"}
	if _, err := h.e.Get(ctx, "f", req); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.Submit(ctx, "f", req, []byte(`{"uid_field":"mail"}`)); err != nil {
		t.Fatal(err)
	}
	resend := func() {
		t.Helper()
		resp, err := h.e.Submit(ctx, "f", req, []byte(`{"component":"ak-stage-email"}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := resp.Challenge.(*EmailChallenge); !ok {
			t.Fatalf("challenge %T", resp.Challenge)
		}
	}
	if _, err := h.e.Get(ctx, "f", req); err != nil { // the first message
		t.Fatal(err)
	}
	<-m.started
	// Every worker busy, then one message waiting, then one too many.
	for range mailWorkers - 1 {
		resend()
		<-m.started
	}
	resend()
	resend()
	ev := h.lastEvent(t, EventSystemException)
	if !strings.Contains(ev.Message, "1 messages are waiting already") {
		t.Errorf("event %+v", ev)
	}
	close(m.release)
	h.settle()
	if m.count() != mailWorkers+1 {
		t.Errorf("%d emails sent, want %d", m.count(), mailWorkers+1)
	}
}

// Close sends what is queued, and a message after Close is an event.
func TestMailQueueClose(t *testing.T) {
	m := &blockingMailer{release: make(chan struct{}), started: make(chan struct{}, 10)}
	h := emailFlow(t, "authentication", "", func(o *Options) { o.Mailer, o.BaseURL = m, testBaseURL })
	h.userWith("mail", "mail@example.com", nil, true)
	ctx := context.Background()
	req := Request{Session: "s"}
	h.e.Get(ctx, "f", req)
	h.e.Submit(ctx, "f", req, []byte(`{"uid_field":"mail"}`))
	if _, err := h.e.Get(ctx, "f", req); err != nil {
		t.Fatal(err)
	}
	<-m.started
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); h.e.Close() }()
	close(m.release)
	wg.Wait()
	if m.count() != 1 {
		t.Fatalf("%d emails after Close", m.count())
	}
	h.e.mail.enqueue(ctx, Mail{}, "late@example.com", Event{})
	if ev := h.lastEvent(t, EventSystemException); ev.Message != "The email to late@example.com was not sent: the executor is closed." {
		t.Errorf("event %+v", ev)
	}
}

// A server that never answers does not hold Close past its wait: the try
// under way is cancelled and the messages left are given up with events.
func TestMailQueueCloseGivesUp(t *testing.T) {
	m := &blockingMailer{release: make(chan struct{}), started: make(chan struct{}, 10)}
	h := emailFlow(t, "authentication", "", func(o *Options) { o.Mailer, o.BaseURL = m, testBaseURL })
	h.userWith("mail", "mail@example.com", nil, true)
	ctx := context.Background()
	req := Request{Session: "s"}
	h.e.Get(ctx, "f", req)
	h.e.Submit(ctx, "f", req, []byte(`{"uid_field":"mail"}`))
	if _, err := h.e.Get(ctx, "f", req); err != nil {
		t.Fatal(err)
	}
	for range mailWorkers + 2 {
		if _, err := h.e.Submit(ctx, "f", req, []byte(`{"component":"ak-stage-email"}`)); err != nil {
			t.Fatal(err)
		}
	}
	h.e.mail.close(time.Millisecond)
	if m.count() != 0 {
		t.Fatalf("%d emails", m.count())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var given int
	for _, ev := range h.events {
		if ev.Action == EventSystemException && strings.HasPrefix(ev.Message, "The email to mail@example.com was not sent") {
			given++
		}
	}
	if given != mailWorkers+3 {
		t.Errorf("%d messages given up, want %d: %+v", given, mailWorkers+3, h.events)
	}
}

// A mailer without a host is not tried again: a configuration_error.
func TestMailNoHostNotRetried(t *testing.T) {
	m := &testMailer{fail: fmt.Errorf("wrapped: %w", ErrNoSMTPHost)}
	h := emailFlow(t, "authentication", "", withMailer(m))
	h.userWith("mail", "mail@example.com", nil, true)
	h.get("f", "")
	h.identifyEmail("", "mail").want(t, ComponentEmail)
	if n := h.slept.Load(); n != 0 {
		t.Errorf("%d waits", n)
	}
	if ev := h.lastEvent(t, EventConfigurationError); ev.Message != "The email to mail@example.com was not sent: wrapped: executor: no SMTP host is configured" {
		t.Errorf("event %+v", ev)
	}
}
