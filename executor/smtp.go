package executor

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// ErrNoSMTPHost: an SMTPMailer was asked to send without a host (the
// stage's, or Global for use_global_settings).
var ErrNoSMTPHost = errors.New("executor: no SMTP host is configured")

// SMTPMailer is a Mailer over SMTP (package net/smtp): each Mail goes
// through the stage's server, or, for use_global_settings, through
// Global (authentik's email settings). It connects with TLS from the
// start (use_ssl) or upgrades with STARTTLS (use_tls), authenticates
// with PLAIN when a username is set (net/smtp refuses PLAIN without TLS
// except to localhost), and sends one multipart/alternative message
// (text and HTML, quoted-printable) to every recipient. It does not
// retry. Its errors name the server, never the password or the message.
type SMTPMailer struct {
	// Global are the settings of use_global_settings; Global's own
	// UseGlobalSettings is ignored.
	Global MailSettings
	// TLS configures TLS connections; nil means the system's roots. Its
	// ServerName, when empty, is the server's host.
	TLS *tls.Config
	// Now is the clock of the Date header; nil means time.Now.
	Now func() time.Time
}

var _ Mailer = (*SMTPMailer)(nil)

// SendMail implements Mailer.
func (m *SMTPMailer) SendMail(ctx context.Context, msg Mail) error {
	s := msg.Settings
	if s.UseGlobalSettings {
		s = m.Global
	}
	if s.Host == "" {
		return ErrNoSMTPHost
	}
	if len(msg.To) == 0 {
		return errors.New("executor: smtp: a message without recipients")
	}
	port := s.Port
	if port == 0 {
		port = 25
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	addr := net.JoinHostPort(s.Host, strconv.Itoa(port))
	fail := func(err error) error { return fmt.Errorf("executor: smtp %s: %w", addr, err) }
	cfg := &tls.Config{}
	if m.TLS != nil {
		cfg = m.TLS.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.Host
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := &net.Dialer{}
	var conn net.Conn
	var err error
	if s.UseSSL {
		conn, err = (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fail(err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return fail(err)
	}
	defer c.Close()
	if s.UseTLS && !s.UseSSL {
		if err := c.StartTLS(cfg); err != nil {
			return fail(err)
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password.Reveal(), s.Host)); err != nil {
			return fail(err)
		}
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	body, err := buildMessage(s.From, msg, now())
	if err != nil {
		return fail(err)
	}
	if err := c.Mail(s.From); err != nil {
		return fail(err)
	}
	for _, a := range msg.To {
		if err := c.Rcpt(a.Email); err != nil {
			return fail(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fail(err)
	}
	if _, err := w.Write(body); err != nil {
		return fail(err)
	}
	if err := w.Close(); err != nil {
		return fail(err)
	}
	if err := c.Quit(); err != nil {
		return fail(err)
	}
	return nil
}

// buildMessage is msg as an RFC 5322 message from from: headers encoded
// (no line break a header's value could carry survives), and the text
// and HTML bodies as multipart/alternative, quoted-printable.
func buildMessage(from string, msg Mail, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	to := make([]string, len(msg.To))
	for i, a := range msg.To {
		to[i] = (&mail.Address{Name: a.Name, Address: a.Email}).String()
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	domain := "authflow"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	mw := multipart.NewWriter(&b)
	head := []string{
		"From: " + (&mail.Address{Address: from}).String(),
		"To: " + strings.Join(to, ", "),
		"Subject: " + mime.QEncoding.Encode("utf-8", msg.Subject),
		"Date: " + now.Format(time.RFC1123Z),
		"Message-ID: <" + hex.EncodeToString(id[:]) + "@" + domain + ">",
		"MIME-Version: 1.0",
		"Content-Type: multipart/alternative; boundary=" + mw.Boundary(),
	}
	for _, h := range head {
		if strings.ContainsAny(h, "\r\n") {
			return nil, errors.New("a header holds a line break")
		}
	}
	b.WriteString(strings.Join(head, "\r\n") + "\r\n\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", msg.Text}, {"text/html", msg.HTML}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qw := quotedprintable.NewWriter(pw)
		if _, err := qw.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		if err := qw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
