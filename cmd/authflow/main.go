// Command authflow serves an authflow configuration over authentik's REST
// API, and imports, exports, plans, draws and checks it.
//
// Usage:
//
//	authflow serve [-db PATH] [-addr HOST:PORT] [-token-file FILE] [timeout flags]
//	authflow import|diff [-db PATH] [flags] FILE|DIR...
//	authflow export|plan|diagram [-db PATH] [flags] SLUG
//	authflow check [-db PATH]
//	authflow version
//
// The commands are documented in package internal/cli, which this one
// runs with bbolt files only; the etcd module's command
// (github.com/authflow/authflow/etcd/cmd/authflow) is the same program
// with the etcd backend linked in.
package main

import (
	"os"

	"github.com/authflow/authflow/internal/cli"
)

func main() { os.Exit(cli.Main(nil)) }
