package etcd_test

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// proxy forwards TCP connections to an etcd member, and can stop passing
// bytes either way, or cut every connection, to play a lost network.
type proxy struct {
	ln       net.Listener
	upstream string
	dropUp   atomic.Bool // client to server bytes are discarded
	dropDown atomic.Bool // server to client bytes are discarded
	refuse   atomic.Bool // new connections are closed at once

	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, upstreamURL string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, upstream: strings.TrimPrefix(upstreamURL, "http://")}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *proxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.refuse.Load() {
			c.Close()
			continue
		}
		u, err := net.Dial("tcp", p.upstream)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		go p.pipe(u, c, &p.dropUp)
		go p.pipe(c, u, &p.dropDown)
	}
}

func (p *proxy) pipe(dst, src net.Conn, drop *atomic.Bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !drop.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
}

// cut closes every connection open now.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// heal passes bytes again both ways and accepts connections.
func (p *proxy) heal() {
	p.dropUp.Store(false)
	p.dropDown.Store(false)
	p.refuse.Store(false)
}
