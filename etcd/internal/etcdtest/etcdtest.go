// Package etcdtest starts real etcd servers in-process, on loopback ports,
// for the tests and benchmarks of the etcd backend: one member, or a
// cluster of several, each with its data in a temporary directory.
package etcdtest

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/etcd"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Cluster is a running etcd cluster.
type Cluster struct {
	Members []*Member
}

// Member is one etcd server of a cluster.
type Member struct {
	Name      string
	ClientURL string
	cfg       *embed.Config
	etcd      *embed.Etcd
}

// Options adjust the members' configuration: tests use etcd's defaults
// but for fsync (off, for speed) and --max-txn-ops (etcd.RecommendedMaxTxnOps) unless they say otherwise
// here.
type Options struct {
	// Fsync keeps etcd's fsync of its log (benchmarks want it).
	Fsync bool
	// Configure, when set, changes each member's configuration.
	Configure func(*embed.Config)
}

// Start starts an n-member cluster and waits until it serves; the test's
// cleanup stops it.
func Start(t testing.TB, n int, opts *Options) *Cluster {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	c := &Cluster{}
	var initial []string
	for i := range n {
		m := &Member{Name: fmt.Sprintf("m%d", i)}
		cfg := embed.NewConfig()
		cfg.Name = m.Name
		cfg.Dir = t.TempDir()
		peer, client := freeURL(t), freeURL(t)
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
		cfg.InitialClusterToken = "authflow-test"
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		cfg.UnsafeNoFsync = !opts.Fsync
		cfg.TickMs, cfg.ElectionMs = 50, 500
		cfg.MaxTxnOps = etcd.RecommendedMaxTxnOps
		if opts.Configure != nil {
			opts.Configure(cfg)
		}
		m.cfg, m.ClientURL = cfg, client.String()
		initial = append(initial, m.Name+"="+peer.String())
		c.Members = append(c.Members, m)
	}
	errc := make(chan error, n)
	for _, m := range c.Members {
		m.cfg.InitialCluster = strings.Join(initial, ",")
		go func() {
			e, err := embed.StartEtcd(m.cfg)
			if err == nil {
				m.etcd = e
			}
			errc <- err
		}()
	}
	for range n {
		if err := <-errc; err != nil {
			c.stop()
			t.Fatalf("etcdtest: start: %v", err)
		}
	}
	t.Cleanup(c.stop)
	for _, m := range c.Members {
		select {
		case <-m.etcd.Server.ReadyNotify():
		case <-time.After(30 * time.Second):
			t.Fatalf("etcdtest: member %s not ready after 30s", m.Name)
		}
	}
	return c
}

func (c *Cluster) stop() {
	for _, m := range c.Members {
		m.Stop()
	}
}

// Endpoints returns the client URLs of the members.
func (c *Cluster) Endpoints() []string {
	var out []string
	for _, m := range c.Members {
		out = append(out, m.ClientURL)
	}
	return out
}

// Leader returns the index of the member that leads, or -1.
func (c *Cluster) Leader() int {
	for i, m := range c.Members {
		if m.etcd != nil && m.etcd.Server.Leader() == m.etcd.Server.MemberID() {
			return i
		}
	}
	return -1
}

// Stop stops the member; it is safe to call more than once.
func (m *Member) Stop() {
	if m.etcd != nil {
		m.etcd.Close()
		m.etcd = nil
	}
}

// Etcd returns the member's server, or nil once stopped.
func (m *Member) Etcd() *embed.Etcd { return m.etcd }

// freeURL returns an http URL on a loopback port that was free a moment
// ago.
func freeURL(t testing.TB) url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("etcdtest: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return url.URL{Scheme: "http", Host: addr}
}
