// Command authflow serves an authflow configuration over authentik's REST
// API, imports, exports, plans, draws and checks it, and manages its
// users and groups.
//
// Usage:
//
//	authflow serve [-db PATH] [-addr HOST:PORT] [-token-file FILE] [timeout flags]
//	authflow import|diff [-db PATH] [flags] FILE|DIR...
//	authflow export|plan|diagram [-db PATH] [flags] SLUG
//	authflow check [-db PATH]
//	authflow users add|list|set-password|delete [-db PATH] [flags] [USER]
//	authflow groups add|list|add-user|remove-user [-db PATH] [flags] [GROUP [USER]]
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
