// Package cli is the authflow command line: it serves an authflow
// configuration over authentik's REST API and runs its flows, imports, diffs, exports,
// plans, draws and checks it, and manages its users and groups. cmd/authflow runs it with bbolt files; the
// etcd module's cmd/authflow runs it with the etcd backend linked in,
// which adds to every command the flags -etcd URLS and -etcd-prefix P
// (see package github.com/authflow/authflow/etcd).
//
// Usage:
//
//	authflow serve [-db PATH] [-addr HOST:PORT] [-token-file FILE] [-no-defaults] [-blueprints DIR] [-blueprint-env PREFIXES] [-max-requests N] [timeout flags] [executor flags]
//	authflow import [-db PATH] [-dry-run] [-strict] [-o text|json] [-blueprints DIR] [-blueprint-env PREFIXES] FILE|DIR...
//	authflow diff [-db PATH] [-strict] [-o text|json] [-blueprints DIR] [-blueprint-env PREFIXES] FILE|DIR...
//	authflow export [-db PATH] [-portable] SLUG
//	authflow plan [-db PATH] [-user-json FILE | -authenticated -user PK -outpost] [-o text|json] SLUG
//	authflow diagram [-db PATH] [-planner] SLUG
//	authflow check [-db PATH]
//	authflow run [-db PATH] [-query Q] [-v] [-base-url URL] [smtp flags] [-captcha=false] SLUG
//	authflow users add [-db PATH] -username U [-name N] [-email E] [-group NAME]... [-password-file FILE | -no-password] [-o text|json]
//	authflow users list [-db PATH] [-search S] [-o text|json]
//	authflow users set-password [-db PATH] [-password-file FILE | -no-password] USER
//	authflow users delete [-db PATH] USER
//	authflow groups add [-db PATH] [-parent NAME] [-superuser] [-o text|json] NAME
//	authflow groups list [-db PATH] [-search S] [-o text|json]
//	authflow groups add-user|remove-user [-db PATH] GROUP USER
//	authflow keygen [-o FILE]
//	authflow rekey [-db PATH] [-key-file FILE] [-old-key-file FILE]... [-chunk N]
//	authflow version
//
// # serve
//
// serve opens (or creates) the bbolt file PATH (default authflow.db in the
// working directory) and serves the API of package api under /api/v3/ on
// addr (default 127.0.0.1:9000), printing the URL. Blueprints imported
// over the API find the blueprints their metaapplyblueprint entries name
// in -blueprints DIR, and may read with !Env only the environment
// variables whose names start with one of -blueprint-env's
// comma-separated prefixes (none by default).
//
// serve runs flows: it serves authentik's flow executor
// (/api/v3/flows/executor/{slug}/), the inspector, execute and
// /flows/-/cancel/ (package executor, through package api), with the
// built-in directory and the expression evaluator. Executions are kept
// in the file (or on etcd) beside the configuration, so they survive a
// restart and replicas share them, and expired ones (a day after their
// last step, -execution-ttl) are removed every 10 minutes; the inspector's history is
// kept in memory. The executor needs no token (authentik's serves anyone); the
// inspector and execute do, like the rest of the API. Stages the
// executor does not run yet deny the flow, saying so. A POST to the
// executor from another origin (a browser's Origin or Sec-Fetch-Site) is
// refused with 403, unless the origin is -base-url's or one given with
// -trusted-origin (repeatable); otherwise a web interface must be served
// from serve's own host and port (or a proxy that keeps the Host).
// Password policies run their zxcvbn check (package password/strength),
// so the shipped default-password-change flow refuses a weak password
// with authentik's "Password is too weak."; a policy with
// check_have_i_been_pwned fails every answer, naming the check, since
// serve gives no client for the network.
//
// The executor flags configure what stages need from the host:
//
//	-base-url URL            the site's public URL, which the email stage's
//	                         links begin with; default http://ADDR, the
//	                         listening address (serve logs a note saying
//	                         so), right only when browsers reach serve there;
//	                         its host name and origin are also the WebAuthn
//	                         relying party of passkeys (a loopback address
//	                         stands for localhost; another IP address is
//	                         none: WebAuthn stages deny the flow, as logged)
//	-smtp-host HOST          the global email settings, which email stages
//	-smtp-port 25            with use_global_settings use (authentik's
//	-smtp-username USER      defaults; without -smtp-host such a stage
//	-smtp-password-file FILE fails with a flow error and a log line); a
//	-smtp-from ADDRESS       stage with its own settings uses its own server.
//	-smtp-tls | -smtp-ssl    The password is read from FILE (trimmed), never
//	-smtp-timeout 10s        from the command line, and is in no log or error.
//	-captcha=true            verify captcha tokens by asking the stage's
//	                         api_url (executor.HTTPCaptcha, 10s timeout);
//	                         -captcha=false makes captcha stages deny the flow
//	-sms=true                send SMS stages' codes through their provider
//	                         (executor.HTTPSMS, 10s timeout): Twilio, or the
//	                         generic provider's URL; -sms=false makes them
//	                         deny the flow
//	-duo=true                ask Duo stages' api_hostname (executor.HTTPDuo,
//	                         90s timeout, a push waiting for the user);
//	                         -duo=false makes them deny the flow
//	-trusted-origin ORIGIN   see above
//	-execution-ttl 24h       how long an unfinished execution is kept after
//	                         its last step (at least 1s)
//
// The captcha verifier is on by default: the URL it asks is the stage's
// api_url, which only an administrator sets (through the API, which needs
// the token beyond loopback, or a blueprint), as authentik asks it; without
// a verifier a captcha stage cannot pass at all.
//
// On a new file (or etcd prefix: a store never written), serve starts as
// authentik does: in one transaction it applies authentik's bootstrap
// blueprint (the group "authentik Admins", a superuser group, and the
// user akadmin in it, without a usable password unless
// $AUTHENTIK_BOOTSTRAP_PASSWORD is set; $AUTHENTIK_BOOTSTRAP_EMAIL sets
// its email) and authentik's default flow blueprints, shipped in the
// binary, and prints the URL of the initial-setup flow
// (http://ADDR/if/flow/initial-setup/), which sets akadmin's password.
// It is a web page (package flowui, the flow interface, which serve
// mounts at / beside the API: the flows' pages at /if/flow/{slug}/, and
// / itself, which sends a visitor to the login page); a client may drive
// the flow through the executor instead, or "authflow run initial-setup"
// on the terminal once serve has stopped. -no-defaults skips all of it; a store
// that holds anything is never touched.
//
// Without a token every request may do everything, so serve then listens
// on loopback only and refuses any other address, saying why. With a
// token (the contents of -token-file FILE, or else $AUTHFLOW_TOKEN; the
// file is trimmed of surrounding whitespace) every request must carry
// "Authorization: Bearer <token>": one without it is answered 403
// {"detail": "Authentication credentials were not provided."} and one
// with another token 403 {"detail": "Token invalid/expired"}, as authentik
// answers them. Tokens are compared in constant time. SIGINT or SIGTERM
// shuts the server down gracefully and closes the file. If another
// process holds the file, serve exits with status 1 and a one-line
// message saying so.
//
// A client cannot hold serve's connections open by sending slowly. The
// timeout flags (Go durations; 0 disables one) are:
//
//	-read-header-timeout 10s   to read a request's headers
//	-read-timeout 30s          to read a whole request, body included
//	-write-timeout 60s         from the end of the headers to the end of
//	                           the response; also the request's deadline,
//	                           so a list or write still running then stops
//	-idle-timeout 120s         for a kept-alive connection between requests
//
// A connection whose client stalls is closed when its timeout passes (a
// stalled body is first answered with 400, should the client still read).
// A list response is written as it is read, in one read transaction, so
// the write timeout also bounds how long a slow client holds that
// transaction open.
//
// -max-requests N (default twice the cores, at least 4) bounds the
// requests handled at once; more wait their turn until their deadline,
// then get 503. The store does not queue transactions itself, so without
// a bound many concurrent reads can starve writes.
//
// # import and diff
//
// import applies authentik blueprints (package blueprint) to PATH, each
// file in one transaction: all its entries or none. A directory stands
// for the *.yaml and *.yml files below it, in name order. It prints what
// each entry did (created, updated, unchanged, deleted, skipped, or why
// it failed), as text or as authentik's {"success", "logs"} in JSON.
// -dry-run checks and reports everything and writes nothing; diff is
// import -dry-run. -strict makes an attr that the model does not have an
// error; by default it is a warning and left out, as authentik ignores
// it. An expression policy the evaluator cannot run (Django's models,
// open, an import) imports with a warning naming the policy, the line and
// the construct (expression.Check; serve's import endpoint warns too); a
// Python syntax error fails its entry with authentik's "Expression Syntax
// Error: …". A prompt's placeholder or initial-value expression that
// cannot run, a syntax error included (authentik stores prompts
// unchecked), imports with such a warning naming the prompt and the
// field (expression.CheckPrompt). metaapplyblueprint entries find blueprints in -blueprints DIR
// (default: each file's own directory).
//
// # export, plan and diagram
//
// export writes the flow SLUG as a blueprint on standard output: the seed
// era's export (objects identified by pk, so it imports back into the
// same or another store as the same objects), or with -portable one
// that identifies objects by slug and name, refers with !KeyOf and
// writes secrets as !Env placeholders. plan prints the stages the flow
// would plan for the request described by its flags (or -user-json FILE),
// with the reason for each binding, as text or JSON; it writes nothing.
// diagram prints authentik's Mermaid drawing of the flow, or with
// -planner a drawing of what the planner does.
//
// # users and groups
//
// users and groups manage authentik's users and groups in the store
// (package directory), as authentik's admin interface does: a user is
// named by username or, when no user has that username, by pk; a group
// by name or, when none has that name, by pk. Flags may come before or
// after the arguments. users add creates a user (joining each -group)
// and sets its password; users set-password sets it again, by pk, so
// password_change_date moves. Without -password-file FILE the password
// is asked for twice on a terminal, without echo (a mismatch writes
// nothing), or read from standard input when that is not a terminal; a
// file or standard input gives its first line, without the line ending.
// An empty password, one of more than 4096 bytes or one that is not
// UTF-8 is refused; -no-password makes or leaves a user without a usable
// password. There is deliberately no flag that takes the password
// itself: a flag's value is visible to every local user in ps and
// /proc/PID/cmdline while the command runs, and stays in the shell's
// history. A password is never echoed or printed, and no output holds a
// hash; Ctrl-C at a prompt writes nothing and leaves the terminal as it
// was. users add tries the user before asking for the password, so that
// a taken username is said first (a bbolt file stays locked while the
// password is typed; on a file that authflow serve holds, the commands
// say so and exit 3). users list and groups list print a
// table (a value with a control character or a tab is quoted) or, with
// -o json, authentik's representations (UserSerializer with groups_obj,
// GroupSerializer with users_obj) in one JSON array; users add and
// groups add print what they created likewise. groups add-user and
// remove-user change one membership; adding a member or removing a
// non-member succeeds and changes nothing, as in authentik. A write
// refused by authentik's validation prints its messages (as
// "validation failed; username: This field must be unique."), and a
// delete refused by a protected reference prints the API's sentence
// naming what refers to the object; both exit 1, writing nothing.
//
// # run
//
// run walks the flow SLUG on the terminal through the executor, one
// challenge at a time: it prints the flow's title, each challenge's
// errors and texts, asks for its fields (a prompt stage's fields, an
// identification's user and password, a password stage's password) and
// submits them, until the flow ends ("flow done: redirect to URL", exit
// 0) or is denied ("flow denied: why", exit 1, as for a stage kind the
// executor does not run yet). On a terminal passwords are read without
// echo; otherwise each field is a line of standard input, so a walk can
// be scripted. -query passes the flow page's query (next=...); -v prints
// every request and challenge as JSON on standard error, with the
// values of password fields masked. The execution is kept in memory and
// ends with the command; what the flow's stages write goes to the store.
// On a bbolt file that serve holds, run says so and exits 3.
//
// # Keys: secrets sealed at rest
//
// Every command that opens a store takes -key-file FILE, the key that
// seals secrets at rest (a stage's client secret, private key or
// password; see package store), or else reads it from $AUTHFLOW_KEY. A
// key is 32 random bytes written as standard base64 (44 characters;
// surrounding whitespace is ignored): "authflow keygen" prints a new one,
// "authflow keygen -o FILE" writes it to a new file of mode 0600, and
// "head -c 32 /dev/urandom | base64" makes one too. Without a key,
// secrets are stored in the clear, and serve logs which fields those
// are. A store once written with a key needs it: without one, or with
// another, every command says so and writes nothing. -old-key-file FILE
// (repeatable) gives older keys, which only open.
//
// To rotate, make a new key and run
//
//	authflow rekey -key-file NEW -old-key-file OLD [-chunk 100]
//
// which seals every secret again under NEW (those in the clear too), a
// chunk of records per transaction, and prints how many objects it read
// and sealed again; then use NEW alone. On a bbolt file, rekey needs
// serve stopped (one process at a time); on etcd it runs while replicas
// serve, each given -key-file NEW -old-key-file OLD first. check reports
// each object whose secrets do not open (its kind, pk and field, never a
// value) as a problem, and, given a key, warns of objects whose secrets
// are in the clear or under an older key, which rekey seals.
//
// # check and version
//
// check opens PATH read-only and verifies it: bbolt's page structure,
// every record's checksum, every index entry, every reference, every
// kept count, every collection's bucket and the change log. It prints
// one line per problem and exits 1 when there is any, 0 (printing
// "PATH: ok") when there is none. It also prints a line
// "PATH: warning: expression policy "NAME" cannot run: line N: CONSTRUCT:
// why" for each construct of a stored expression policy the evaluator
// cannot run (expression.Check), and "PATH: warning: prompt "NAME"
// placeholder cannot run: …" (or initial_value) for each of a prompt's
// expressions (expression.CheckPrompt): a warning, since authentik
// accepts it, so warnings alone exit 0 ("PATH: ok, N warnings").
//
// version prints the module version, the VCS revision the binary was
// built from and the Go version (also as "authflow --version").
//
// # Exit status
//
// 0 on success (a clean shutdown, a clean file, an import that applied);
// 1 on an error in the input (an entry that failed, so nothing was
// written; an unknown slug; a damaged file) or, for serve, on a failure;
// 2 for a usage error; 3 when a file cannot be read or the store cannot
// be opened (import, diff, export, plan, diagram, run, users, groups).
// users and groups exit 1 for what their input gets wrong: a validation
// error, an unknown user or group, a refused delete, a refused or
// mistyped password; run exits 0 when the flow ends, 1 when it is denied
// or fails.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/flowui"
	"github.com/authflow/authflow/store"
)

const usage = `usage: authflow serve [-db PATH] [-addr HOST:PORT] [-token-file FILE] [-no-defaults] [-blueprints DIR] [-blueprint-env PREFIXES] [-max-requests N] [timeout flags] [executor flags]
       authflow import [-db PATH] [-dry-run] [-strict] [-o text|json] [-blueprints DIR] [-blueprint-env PREFIXES] FILE|DIR...
       authflow diff [-db PATH] [-strict] [-o text|json] [-blueprints DIR] [-blueprint-env PREFIXES] FILE|DIR...
       authflow export [-db PATH] [-portable] SLUG
       authflow plan [-db PATH] [-user-json FILE | user flags] [-o text|json] SLUG
       authflow diagram [-db PATH] [-planner] SLUG
       authflow check [-db PATH]
       authflow run [-db PATH] [-query Q] [-v] [-base-url URL] [smtp flags] [-captcha=false] SLUG
       authflow users add|list|set-password|delete [-db PATH] [flags] [USER]
       authflow groups add|list|add-user|remove-user [-db PATH] [flags] [GROUP [USER]]
       authflow keygen [-o FILE]
       authflow rekey [-db PATH] [-key-file FILE] [-old-key-file FILE]... [-chunk N]
       authflow version

Commands:
  serve    serve authentik's flows and stages API from a bbolt file
  import   import an authentik blueprint into a file, in one transaction
  diff     what importing blueprints would change (import -dry-run)
  export   write a flow as a blueprint
  plan     the stages a flow plans for a request, and why
  diagram  authentik's Mermaid drawing of a flow
  check    verify a file: structure, checksums, indexes, references, sealed secrets
  keygen   make a key for sealing secrets at rest (-key-file, $AUTHFLOW_KEY)
  rekey    seal every secret again under the current key
  run      walk a flow on the terminal, one challenge at a time
  users    add, list, delete users, set their passwords (read without echo)
  groups   add and list groups, add users to them and remove them
  version  print the version

Run "authflow serve -h" (import -h, users add -h, ...) for the flags.
import exits 0 when the blueprint imported, 1 when an entry failed
(nothing is written), 2 for a wrong command line and 3 when a file cannot
be read; users and groups exit 1 when a write is refused.
`

// shutdownTimeout bounds the wait for in-flight requests on a signal.
const shutdownTimeout = 10 * time.Second

// Main runs the command line of os.Args until a shutdown signal, and
// returns the exit status. nb, when not nil, links in a second backend.
func Main(nb func() Backend) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, os.Args[1:], os.Stdout, os.Stderr, nb)
}

// run is Run with bbolt files only.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return Run(ctx, args, stdout, stderr, nil)
}

// Run is the whole program; it returns the exit status. ctx is cancelled
// by the shutdown signals. The users commands read passwords from the
// process's standard input.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, nb func() Backend) int {
	return runIn(ctx, args, &dirEnv{in: stdin{os.Stdin, stderr}, stdout: stdout, stderr: stderr, nb: nb})
}

// runIn is Run with its standard input and the users commands' store
// options in e.
func runIn(ctx context.Context, args []string, e *dirEnv) int {
	stdout, stderr, nb := e.stdout, e.stderr, e.nb
	usage := usageLine(nb, usage)
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr, nb)
	case "check":
		return check(ctx, args[1:], stdout, stderr, nb)
	case "import":
		return importCmd(ctx, args[1:], stdout, stderr, false, nb)
	case "diff":
		return importCmd(ctx, args[1:], stdout, stderr, true, nb)
	case "export":
		return exportCmd(ctx, args[1:], stdout, stderr, nb)
	case "plan":
		return planCmd(ctx, args[1:], stdout, stderr, nb)
	case "diagram":
		return diagramCmd(ctx, args[1:], stdout, stderr, nb)
	case "run":
		return runCmd(ctx, args[1:], e)
	case "users":
		return usersCmd(ctx, args[1:], e)
	case "groups":
		return groupsCmd(ctx, args[1:], e)
	case "keygen":
		return keygen(args[1:], stdout, stderr)
	case "rekey":
		return rekey(ctx, args[1:], stdout, stderr, nb)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "authflow %s\n", version())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "authflow: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, nb newBackend) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	src := newSource(fs, nb, "path of the bbolt `file`, created if missing")
	addr := fs.String("addr", "127.0.0.1:9000", "`host:port` to listen on (port 0 picks a free one); beyond loopback only with a token")
	tokenFile := fs.String("token-file", "", "`file` holding the API token that requests must send as \"Authorization: Bearer <token>\" (default $"+tokenEnv+")")
	tos := timeoutFlags(fs)
	maxRequests := fs.Int("max-requests", defaultMaxRequests(), "most requests handled at once; more wait their turn until their deadline (0: no limit)")
	bf := newBlueprintFlags(fs, "`dir` that imported blueprints' metaapplyblueprint entries find blueprints in (default: none)")
	noDefaults := fs.Bool("no-defaults", false, "on a new file, do not import authentik's default flows nor create akadmin")
	xf := newExecFlags(fs)
	if code, ok := parseFlags(fs, args, usageLine(nb, "usage: authflow serve [-db PATH] [-addr HOST:PORT] [-token-file FILE] [-no-defaults] [-blueprints DIR] [-blueprint-env PREFIXES] [-max-requests N] [timeout flags] [executor flags]"), stderr); !ok {
		return code
	}
	token, err := loadToken(*tokenFile)
	if err != nil {
		fmt.Fprintf(stderr, "authflow serve: %v\n", err)
		return 1
	}
	if err := checkAddr(*addr, token); err != nil {
		fmt.Fprintf(stderr, "authflow serve: %v\n", err)
		return 2
	}
	if *maxRequests < 0 {
		fmt.Fprintf(stderr, "authflow serve: -max-requests cannot be negative (%d)\n\n%s", *maxRequests, usage)
		return 2
	}
	if err := tos.check(); err != nil {
		fmt.Fprintf(stderr, "authflow serve: %v\n\n%s", err, usage)
		return 2
	}
	if err := xf.check(); err != nil {
		fmt.Fprintf(stderr, "authflow serve: %v\n", err)
		return 2
	}
	mailer, err := xf.mailer()
	if err != nil {
		fmt.Fprintf(stderr, "authflow serve: %v\n", err)
		return 1
	}
	crossOrigin, err := xf.crossOrigin()
	if err != nil {
		fmt.Fprintf(stderr, "authflow serve: %v\n", err)
		return 2
	}

	// Listen first: a start that fails leaves no new file behind.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "authflow: %v\n", err)
		return 1
	}
	defer ln.Close()
	s, err := src.open(ctx, nil)
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			fmt.Fprintf(stderr, "authflow: %s is locked by another process (is another authflow serve running on it?)\n", src)
		} else {
			fmt.Fprintf(stderr, "authflow: %v\n", err)
		}
		return 1
	}
	defer s.Close()
	first := false
	if !*noDefaults {
		if first, err = firstStart(ctx, s); err != nil {
			fmt.Fprintf(stderr, "authflow: %v\n", err)
			return 1
		}
	}
	logger := log.New(stderr, "authflow: ", log.LstdFlags)
	if first && os.Getenv(bootstrapToken) != "" {
		logger.Print(msgBootstrapToken)
	}
	logSealing(logger.Printf, s)
	// Executions are kept beside the configuration, so that they survive
	// a restart; expired ones are swept while serve runs.
	rs := executor.NewStoreRunState(s, executor.KVOptions{})
	baseURL := xf.base(ln.Addr().String())
	if xf.baseURL == "" {
		logger.Printf("no -base-url: the email stage's links begin with %s, the listening address; give -base-url when browsers reach serve elsewhere", baseURL)
	}
	wa := webauthnOf(baseURL)
	if wa == nil {
		logger.Printf("the site's host in %s is an IP address: WebAuthn (passkey) stages deny the flow; give -base-url with a host name for them", baseURL)
	} else if wa.Origins[0] != strings.TrimRight(baseURL, "/") {
		logger.Printf("passkeys work on the pages at %s (the WebAuthn relying party %s)", wa.Origins[0], wa.RPID)
	}
	ex, cache, err := newExecutor(s, rs, logger, executor.Options{
		Mailer: mailer, BaseURL: baseURL, Captcha: xf.captchaVerifier(), SMS: xf.smsSender(), Duo: xf.duoClient(), ExecutionTTL: xf.ttl, WebAuthn: wa,
	})
	if err != nil {
		fmt.Fprintf(stderr, "authflow: %v\n", err)
		return 1
	}
	defer cache.Close()
	defer ex.Close()
	sweepCtx, stopSweep := context.WithCancel(ctx)
	ticker := time.NewTicker(sweepEvery)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		sweep(sweepCtx, rs, ticker.C, time.Now, logger.Printf)
	}()
	defer func() { stopSweep(); ticker.Stop(); <-swept }()
	mux := http.NewServeMux()
	opts := &api.Options{ErrorLog: logger, Blueprint: bf.options(""), Planner: cache.Options(), PlanCache: cache, Executor: ex,
		ExecutorHTTP: executor.HTTPOptions{CrossOrigin: crossOrigin}}
	if token != "" {
		opts.Authorize = bearer(token)
	}
	opts.RequestUser = sessionUser(ex.HTTPSessions(opts.ExecutorHTTP))
	mux.Handle(api.Prefix, api.NewHandler(s, opts))
	mux.Handle(executor.CancelURL, ex.CancelHandler(opts.ExecutorHTTP))
	mux.Handle(executor.DefaultFlowPath, ex.DefaultFlowHandler(opts.ExecutorHTTP))
	mux.Handle(executor.ConfigurePath, ex.ConfigureHandler(opts.ExecutorHTTP))
	// The flow interface's pages share the executor's sessions.
	ui, err := flowui.New(ex, flowui.Options{HTTP: opts.ExecutorHTTP})
	if err != nil {
		fmt.Fprintf(stderr, "authflow: %v\n", err)
		return 1
	}
	mux.Handle("/", ui)
	srv := &http.Server{Handler: withLimit(mux, *maxRequests), ErrorLog: logger}
	tos.apply(srv)
	fmt.Fprintf(stdout, "authflow: serving http://%s%s (%s)\n", ln.Addr(), api.Prefix, src.describe())
	if first {
		printFirstStart(stdout, ln.Addr().String())
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "authflow: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	code := 0
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "authflow: shutting down: %v\n", err)
		code = 1
	}
	stopSweep()
	<-swept
	if err := s.Close(); err != nil {
		fmt.Fprintf(stderr, "authflow: closing %s: %v\n", src, err)
		return 1
	}
	fmt.Fprintln(stdout, "authflow: stopped")
	return code
}

// parseFlags parses a command's flags, with its usage line for -h and for
// errors, for a command that takes no other arguments. ok is false when
// the command must exit with code: 0 after -h, 2 for a bad flag or a stray
// argument.
func parseFlags(fs *flag.FlagSet, args []string, line string, stderr io.Writer) (code int, ok bool) {
	return parseArgs(fs, args, line, stderr, nil)
}

// parseArgs is parseFlags for a command with arguments: argsOK judges
// them (and any flag values that depend on each other), and when it says
// no, the usage line is printed and the code is 2. A nil argsOK allows
// none.
func parseArgs(fs *flag.FlagSet, args []string, line string, stderr io.Writer, argsOK func() bool) (code int, ok bool) {
	fs.Usage = func() {
		fmt.Fprint(stderr, line+"\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	switch {
	case argsOK == nil && fs.NArg() > 0:
		fmt.Fprintf(stderr, "authflow %s: unexpected argument %q\n\n%s", fs.Name(), fs.Arg(0), usage)
		return 2, false
	case argsOK != nil && !argsOK():
		fmt.Fprintln(stderr, line)
		return 2, false
	}
	return 0, true
}
