package testutil

import (
	"io"
	"net"
	"net/textproto"
	"strings"
	"testing"
)

// SMTPSession is what SMTPServer received on its connection: the
// commands, in order, and the message the DATA command carried.
type SMTPSession struct {
	Commands []string
	Data     string
}

// SMTPServer serves one SMTP connection on loopback, accepting
// everything (AUTH PLAIN included), and returns its address and, once
// the connection ends, what it received. It stops with the test.
func SMTPServer(t testing.TB) (*net.TCPAddr, <-chan SMTPSession) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan SMTPSession, 1)
	go func() {
		var s SMTPSession
		defer func() { out <- s }()
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		tc := textproto.NewConn(conn)
		_ = tc.PrintfLine("220 127.0.0.1 ESMTP loopback")
		for {
			line, err := tc.ReadLine()
			if err != nil {
				return
			}
			s.Commands = append(s.Commands, line)
			switch strings.ToUpper(strings.SplitN(line, " ", 2)[0]) {
			case "EHLO", "HELO":
				_ = tc.PrintfLine("250-127.0.0.1\r\n250 AUTH PLAIN")
			case "AUTH":
				_ = tc.PrintfLine("235 2.7.0 Authentication successful")
			case "DATA":
				_ = tc.PrintfLine("354 go ahead")
				b, err := io.ReadAll(tc.DotReader())
				if err != nil {
					return
				}
				s.Data = string(b)
				_ = tc.PrintfLine("250 2.0.0 queued")
			case "QUIT":
				_ = tc.PrintfLine("221 2.0.0 bye")
				return
			default:
				_ = tc.PrintfLine("250 2.0.0 ok")
			}
		}
	}()
	return ln.Addr().(*net.TCPAddr), out
}
