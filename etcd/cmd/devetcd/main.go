// Command devetcd runs a one-member etcd server in the foreground, for
// trying authflow on etcd where no etcd is installed:
//
//	go -C etcd run ./cmd/devetcd [-dir DIR] [-listen HOST:PORT]
//
// It serves clients on -listen (default 127.0.0.1:2379) and keeps its
// data in DIR (default a new temporary directory, removed at exit), with
// the --max-txn-ops that package etcd recommends. It is etcd's own server
// (the embed package), but not a way to run production: run a cluster of
// etcd releases for that. SIGINT or SIGTERM stops it.
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/authflow/authflow/etcd"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

func main() {
	dir := flag.String("dir", "", "`directory` of the server's data (default: a temporary one, removed at exit)")
	listen := flag.String("listen", "127.0.0.1:2379", "`host:port` to serve clients on")
	flag.Parse()
	if err := run(*dir, *listen); err != nil {
		fmt.Fprintf(os.Stderr, "devetcd: %v\n", err)
		os.Exit(1)
	}
}

func run(dir, listen string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "devetcd")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	cfg := embed.NewConfig()
	cfg.Dir = dir
	client := url.URL{Scheme: "http", Host: listen}
	peer := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{{Scheme: "http", Host: "127.0.0.1:2380"}}
	cfg.InitialCluster = cfg.Name + "=http://127.0.0.1:2380"
	cfg.MaxTxnOps = etcd.RecommendedMaxTxnOps
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		return fmt.Errorf("not ready after 60s")
	}
	fmt.Printf("devetcd: serving %s (data in %s)\n", client.String(), dir)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-sig:
	case err := <-e.Err():
		return err
	}
	fmt.Println("devetcd: stopped")
	return nil
}
