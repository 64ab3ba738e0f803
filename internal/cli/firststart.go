package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"slices"
	"strings"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/reputation"
	"github.com/authflow/authflow/store"
)

// InitialSetupPath is the page of authentik's initial-setup flow that a
// first start prints, as authentik does.
const initialSetupPath = "/if/flow/initial-setup/"

// bootstrapEnv are the variables authentik's bootstrap blueprint reads.
var bootstrapEnv = []string{"AUTHENTIK_BOOTSTRAP_"}

// errFirstStart is a shipped blueprint that did not apply.
var errFirstStart = errors.New("first start")

// firstStart sets up a store that was never written (revision 0) as
// authentik's first start does: the system bootstrap blueprint (akadmin,
// without a usable password unless AUTHENTIK_BOOTSTRAP_PASSWORD is set,
// in the superuser group "authentik Admins"), then the default flow
// blueprints, in name order, all in one transaction. It reports whether
// it did; a store that holds anything is left alone.
func firstStart(ctx context.Context, s *store.Store) (bool, error) {
	type doc struct {
		name string
		bp   *blueprint.Blueprint
	}
	boot, err := blueprint.Parse(bytes.NewReader(blueprint.Bootstrap()), blueprint.Limits{})
	if err != nil {
		return false, fmt.Errorf("%w: bootstrap.yaml: %v", errFirstStart, err)
	}
	docs := []doc{{"system/bootstrap.yaml", boot}}
	defaults := blueprint.Defaults()
	names, err := fs.Glob(defaults, "*.yaml")
	if err != nil {
		return false, err
	}
	slices.Sort(names)
	for _, n := range names {
		raw, err := fs.ReadFile(defaults, n)
		if err != nil {
			return false, err
		}
		bp, err := blueprint.Parse(bytes.NewReader(raw), blueprint.Limits{})
		if err != nil {
			return false, fmt.Errorf("%w: default/%s: %v", errFirstStart, n, err)
		}
		docs = append(docs, doc{"default/" + n, bp})
	}
	done := false
	err = s.Update(ctx, func(tx *store.Tx) error {
		if rev, err := tx.Revision(); err != nil || rev != 0 {
			return err
		}
		for _, d := range docs {
			opts := blueprint.Options{CheckExpression: checkExpression, CheckPromptExpression: checkPromptExpression}
			if d.bp == boot {
				// The password is hashed outside the transaction, below:
				// the import sets none.
				// authflow keeps no API tokens in the store (serve's
				// -token-file guards the API): the token entry is left out.
				opts.EnvPrefixes, opts.Context = bootstrapEnv, map[string]any{"password": nil, "token": nil}
			}
			if res := blueprint.ApplyTx(tx, d.bp, opts); !res.Success {
				return fmt.Errorf("%w: %s: %s", errFirstStart, d.name, failures(res))
			}
		}
		done = true
		return nil
	})
	if err != nil || !done {
		return done, err
	}
	if pw := os.Getenv(bootstrapPassword); pw != "" {
		u, err := s.Directory().FindUser(ctx, directory.Find{Identifier: "akadmin", Fields: []directory.Field{directory.FieldUsername}, CaseSensitive: true})
		if err == nil {
			err = s.Directory().SetPassword(ctx, u.PK, &pw)
		}
		if err != nil {
			return true, fmt.Errorf("%w: setting akadmin's password from %s: %v", errFirstStart, bootstrapPassword, err)
		}
	}
	return true, nil
}

// The variables of akadmin's first password, and of an API token, which
// authflow does not keep (serve says so: msgBootstrapToken).
const (
	bootstrapPassword = "AUTHENTIK_BOOTSTRAP_PASSWORD"
	bootstrapToken    = "AUTHENTIK_BOOTSTRAP_TOKEN"
	msgBootstrapToken = bootstrapToken + " is ignored: authflow keeps no API tokens in the store; serve's -token-file (or $" + tokenEnv + ") guards the API"
)

// failures lists the errors of an import's log.
func failures(res blueprint.Result) string {
	var msgs []string
	for _, l := range res.Logs {
		if l.LogLevel == "error" {
			msgs = append(msgs, l.Event)
		}
	}
	return strings.Join(msgs, "; ")
}

// printFirstStart says what a first start did and where the initial
// setup is.
func printFirstStart(w io.Writer, addr string) {
	fmt.Fprintf(w, "authflow: first start: imported authentik's default flows; akadmin has no usable password yet\n")
	fmt.Fprintf(w, "authflow: set it through the initial-setup flow: http://%s%s\n", addr, initialSetupPath)
	fmt.Fprintf(w, "authflow: (or drive it through the API at http://%s%sinitial-setup/, or, with serve stopped, run \"authflow run initial-setup\")\n", addr, executor.ExecutorPath)
}

// newExecutor makes serve's executor: plans through a cache with serve's
// planner options, executions and reputation scores kept in rs, and its
// events logged; host are serve's settings (the mailer, the base URL, the
// captcha verifier, the executions' lifetime).
func newExecutor(s *store.Store, rs executor.RunState, logger *log.Logger, host executor.Options) (*executor.Executor, *plan.Cache, error) {
	rep, err := executor.NewRunStateScores(rs, reputation.Options{})
	if err != nil {
		return nil, nil, err
	}
	cache := plan.NewCache(s, plan.CacheOptions{Options: planOptions(rep)})
	opts := host
	opts.Cache, opts.RunState, opts.Reputation = cache, rs, rep
	opts.Events = func(ev executor.Event) {
		logger.Printf("%s: %s (flow %q, stage %q, request %s)", ev.Action, ev.Message, ev.Flow, ev.Stage, ev.RequestID)
	}
	ex, err := executor.New(s, opts)
	if err != nil {
		cache.Close()
		return nil, nil, err
	}
	return ex, cache, nil
}
