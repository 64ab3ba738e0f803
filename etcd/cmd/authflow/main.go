// Command authflow is the authflow command line with the etcd backend
// linked in: every command takes, besides -db PATH, the flags
//
//	-etcd URLS        comma-separated client URLs of an etcd cluster: keep
//	                  the configuration there instead of in a bbolt file
//	-etcd-prefix P    the prefix of every key (default "authflow/"), so
//	                  that several configurations share one cluster
//
// For example, two servers on one configuration:
//
//	go -C etcd run ./cmd/authflow serve -etcd http://127.0.0.1:2379 -addr 127.0.0.1:9001
//	go -C etcd run ./cmd/authflow serve -etcd http://127.0.0.1:2379 -addr 127.0.0.1:9002
//
// A change made through one is read through the other at once, and drops
// the other's cached plans. See package github.com/authflow/authflow/etcd
// for the etcd server flags that matter.
package main

import (
	"context"
	"flag"
	"os"
	"strings"
	"time"

	"github.com/authflow/authflow/etcd"
	"github.com/authflow/authflow/internal/cli"
	"github.com/authflow/authflow/store"
)

func main() { os.Exit(cli.Main(func() cli.Backend { return &backend{} })) }

// backend is the etcd backend of one command's flags.
type backend struct {
	endpoints, prefix *string
	dialTimeout       *time.Duration
}

func (b *backend) Flags(fs *flag.FlagSet) {
	b.endpoints = fs.String("etcd", "", "comma-separated client `URLs` of the etcd cluster to keep the configuration in, instead of -db")
	b.prefix = fs.String("etcd-prefix", etcd.DefaultPrefix, "`prefix` of every etcd key of the configuration")
	b.dialTimeout = fs.Duration("etcd-dial-timeout", etcd.DefaultDialTimeout, "how long to wait for the etcd cluster at start")
}

func (b *backend) Chosen() bool { return *b.endpoints != "" }

func (b *backend) urls() []string {
	var out []string
	for _, u := range strings.Split(*b.endpoints, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

func (b *backend) Open(ctx context.Context, opts *store.Options) (*store.Store, error) {
	return etcd.OpenStore(ctx, etcd.Config{Endpoints: b.urls(), Prefix: *b.prefix, DialTimeout: *b.dialTimeout}, opts)
}

func (b *backend) String() string {
	return "etcd " + strings.Join(b.urls(), ",") + " prefix " + *b.prefix
}

func (b *backend) Usage() string { return "-etcd URLS [-etcd-prefix P]" }
