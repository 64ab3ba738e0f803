package executor

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/validate"
)

// SMTPMailer sends one multipart message through the stage's server,
// authenticating with PLAIN; headers are encoded, bodies survive.
func TestSMTPMailer(t *testing.T) {
	tcp, got := testutil.SMTPServer(t)
	addr := tcp.String()
	host, p := splitAddr(t, addr)
	m := &SMTPMailer{Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }}
	const link = "https://auth.example.com/if/flow/f/?next=%2Fapp%2F&flow_token=abc"
	msg := Mail{
		Settings: MailSettings{Host: host, Port: p, Username: "smtp-user", Password: validate.NewSecret("smtp-pass"), Timeout: 5 * time.Second, From: "auth@example.com"},
		To:       []Address{{Name: "Ünïcode Name", Email: "to@example.com"}},
		Subject:  "Réinitialiser\r\nBcc: evil@example.com",
		Text:     "Open " + link + "\n",
		HTML:     `<a href="` + link + `">link</a>` + strings.Repeat("x", 100),
	}
	if err := m.SendMail(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	s := <-got
	auth := "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00smtp-user\x00smtp-pass"))
	want := []string{"EHLO localhost", auth, "MAIL FROM:<auth@example.com>", "RCPT TO:<to@example.com>", "DATA", "QUIT"}
	if strings.Join(s.Commands, "|") != strings.Join(want, "|") {
		t.Errorf("commands %q, want %q", s.Commands, want)
	}
	parsed, err := mail.ReadMessage(strings.NewReader(s.Data))
	if err != nil {
		t.Fatalf("%v: %s", err, s.Data)
	}
	dec := new(mime.WordDecoder)
	subj, _ := dec.DecodeHeader(parsed.Header.Get("Subject"))
	if subj != msg.Subject || parsed.Header.Get("Bcc") != "" {
		t.Errorf("Subject %q, Bcc %q", subj, parsed.Header.Get("Bcc"))
	}
	to, err := parsed.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Ünïcode Name" || to[0].Address != "to@example.com" {
		t.Errorf("To %v %v", to, err)
	}
	if parsed.Header.Get("Date") != "Fri, 02 Jan 2026 03:04:05 +0000" || parsed.Header.Get("From") != "<auth@example.com>" {
		t.Errorf("header %v", parsed.Header)
	}
	mt, params, _ := mime.ParseMediaType(parsed.Header.Get("Content-Type"))
	if mt != "multipart/alternative" {
		t.Fatalf("Content-Type %s", mt)
	}
	mr := multipart.NewReader(parsed.Body, params["boundary"])
	var bodies []string
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(quotedprintable.NewReader(part))
		bodies = append(bodies, part.Header.Get("Content-Type")+"\n"+string(b))
	}
	if len(bodies) != 2 || bodies[0] != "text/plain; charset=utf-8\n"+msg.Text || bodies[1] != "text/html; charset=utf-8\n"+msg.HTML {
		t.Errorf("bodies %q", bodies)
	}
}

// use_global_settings sends through Global; no host is ErrNoSMTPHost;
// a refused connection names the server only.
func TestSMTPMailerSettings(t *testing.T) {
	tcp, got := testutil.SMTPServer(t)
	addr := tcp.String()
	host, p := splitAddr(t, addr)
	m := &SMTPMailer{Global: MailSettings{Host: host, Port: p, From: "global@example.com"}}
	msg := Mail{Settings: MailSettings{UseGlobalSettings: true}, To: []Address{{Email: "to@example.com"}}, Subject: "s", Text: "t", HTML: "h"}
	if err := m.SendMail(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if s := <-got; len(s.Commands) < 2 || s.Commands[1] != "MAIL FROM:<global@example.com>" {
		t.Errorf("commands %q", s.Commands)
	}
	if err := (&SMTPMailer{}).SendMail(context.Background(), msg); !errors.Is(err, ErrNoSMTPHost) {
		t.Errorf("no host: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	_, p = splitAddr(t, closed)
	msg.Settings = MailSettings{Host: "127.0.0.1", Port: p, Username: "u", Password: validate.NewSecret("smtp-pass"), From: "a@example.com"}
	err = (&SMTPMailer{}).SendMail(context.Background(), msg)
	if err == nil || !strings.Contains(err.Error(), closed) || strings.Contains(err.Error(), "smtp-pass") {
		t.Errorf("refused: %v", err)
	}
}

func splitAddr(t *testing.T, addr string) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return host, p
}

// email's test_template_address: a recipient's name that looks like an
// address, or any other, reads back as that name beside the address.
// Django quotes only a name that needs it (some-name <foo@bar.baz>);
// net/mail quotes every name, which reads the same.
func TestBuildMessageAddresses(t *testing.T) {
	for _, name := range []string{"foo@bar.baz", "some-name", `a "q" b`} {
		b, err := buildMessage("authflow@example.com", Mail{To: []Address{{Name: name, Email: "foo@bar.baz"}}, Subject: "s"}, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		to, err := m.Header.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Name != name || to[0].Address != "foo@bar.baz" {
			t.Errorf("%q: To %q: %+v %v", name, m.Header.Get("To"), to, err)
		}
	}
}
