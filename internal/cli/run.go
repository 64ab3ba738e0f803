package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/reputation"
	"github.com/authflow/authflow/store"
)

// maxRunSteps bounds the challenges one run answers, so that a stage that
// keeps answering with a challenge the terminal cannot fill ends.
const maxRunSteps = 200

const runUsage = "usage: authflow run [-db PATH] [-query Q] [-v] [-base-url URL] [smtp flags] [-captcha=false] SLUG"

// runCmd walks the flow SLUG on the terminal through the executor's Go
// API: it shows each challenge, asks for its fields (passwords without
// echo on a terminal; from standard input, one line each, otherwise) and
// submits them, until the flow ends (0), waits for an emailed link (0)
// or is denied (1). The email, captcha, SMS and Duo stages use the
// services serve configures, with serve's flags (newFlowFlags): -smtp-*
// and -base-url, -captcha, -sms, -duo.
func runCmd(ctx context.Context, args []string, e *dirEnv) int {
	stdout, stderr := e.stdout, e.stderr
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	src := newSource(fs, e.nb, "path of the bbolt `file`")
	query := fs.String("query", "", "the flow page's query `string`, as authentik's executor receives it (such as next=%2Fapp%2F)")
	verbose := fs.Bool("v", false, "print the trace: every request and the challenge it got, as JSON, on standard error")
	xf := newFlowFlags(fs, "(default none: an email stage denies the flow)")
	line := usageLine(e.nb, runUsage)
	var slug string
	if code, ok := parseArgs(fs, flagsAnywhere(fs, args, &slug), line, stderr, func() bool { return slug != "" && fs.NArg() == 0 }); !ok {
		return code
	}
	if err := xf.check(); err != nil {
		fmt.Fprintf(stderr, "authflow run: %v\n", err)
		return 2
	}
	mailer, err := xf.mailer()
	if err != nil {
		fmt.Fprintf(stderr, "authflow run: %v\n", err)
		return 1
	}
	opts := e.opts
	s, err := src.open(ctx, &opts)
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			fmt.Fprintf(stderr, "authflow run: %s is locked by another process (is authflow serve running on it?)\n", src)
		} else {
			fmt.Fprintf(stderr, "authflow run: %v\n", err)
		}
		return 3
	}
	defer s.Close()
	// One run's scores: its failed attempts count in its own
	// reputation policies.
	rep, _ := reputation.NewMem(reputation.Options{})
	cache := plan.NewCache(s, plan.CacheOptions{Options: planOptions(rep)})
	defer cache.Close()
	var events []executor.Event
	ex, err := executor.New(s, executor.Options{
		Cache: cache, Reputation: rep, Events: func(ev executor.Event) { events = append(events, ev) },
		Mailer: mailer, BaseURL: xf.baseURL, Captcha: xf.captchaVerifier(), SMS: xf.smsSender(), Duo: xf.duoClient(),
	})
	if err != nil {
		fmt.Fprintf(stderr, "authflow run: %v\n", err)
		return 1
	}
	defer ex.Close()
	var sid [24]byte
	_, _ = rand.Read(sid[:])
	w := &walker{ctx: ctx, in: e.in, out: stdout, prompt: stderr, verbose: *verbose}
	req := executor.Request{Session: base64.RawURLEncoding.EncodeToString(sid[:]), Query: *query}
	resp, err := w.get(ex, slug, req)
	for step := 0; err == nil; step++ {
		if resp.Reload {
			resp, err = w.get(ex, slug, req)
			continue
		}
		if step == maxRunSteps {
			err = fmt.Errorf("the flow did not end after %d challenges", maxRunSteps)
			break
		}
		var ch map[string]any
		if ch, err = challengeMap(resp.Challenge); err != nil {
			break
		}
		switch ch["component"] {
		case executor.ComponentRedirect:
			fmt.Fprintf(stdout, "flow done: redirect to %s\n", str(ch["to"]))
			return 0
		case executor.ComponentAccessDenied:
			fmt.Fprintf(stdout, "flow denied: %s\n", str(ch["error_message"]))
			return 1
		case executor.ComponentEmail:
			// Answering it sends the email again: the flow goes on from
			// the emailed link, in a browser.
			fmt.Fprintln(stdout, "flow waits: an email was sent, and the flow goes on from its link")
			return 0
		case executor.ComponentFlowError:
			fmt.Fprintf(stdout, "flow error (request %s)\n", str(ch["request_id"]))
			for _, ev := range events {
				if ev.RequestID == str(ch["request_id"]) {
					fmt.Fprintf(stderr, "authflow run: %s\n", ev.Message)
				}
			}
			return 1
		}
		var body map[string]any
		if body, err = w.ask(ch); err != nil {
			break
		}
		resp, err = w.submit(ex, slug, req, body)
	}
	switch {
	case errors.Is(err, executor.ErrUnknownFlow):
		fmt.Fprintf(stderr, "authflow run: no flow has the slug %q\n", slug)
	case errors.Is(err, errInterrupted), errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "authflow run: interrupted")
	default:
		fmt.Fprintf(stderr, "authflow run: %v\n", err)
	}
	return 1
}

// flagsAnywhere lets the slug come before or after the flags: it returns
// args with the first argument that is not a flag (nor a flag's value)
// taken out into slug.
func flagsAnywhere(fs *flag.FlagSet, args []string, slug *string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			out = append(out, a)
			name := strings.TrimLeft(a, "-")
			if f := fs.Lookup(name); f != nil && !strings.Contains(name, "=") {
				if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !bf.IsBoolFlag() {
					if i+1 < len(args) {
						out = append(out, args[i+1])
						i++
					}
				}
			}
			continue
		}
		if *slug == "" {
			*slug = a
			continue
		}
		out = append(out, a)
	}
	return out
}

// walker answers challenges on the terminal.
type walker struct {
	ctx     context.Context
	in      console
	lines   *bufio.Reader
	out     io.Writer
	prompt  io.Writer
	verbose bool
	title   string
	secrets map[string]bool
}

func (w *walker) get(ex *executor.Executor, slug string, req executor.Request) (executor.Response, error) {
	resp, err := ex.Get(w.ctx, slug, req)
	w.trace("GET", nil, resp, err)
	return resp, err
}

func (w *walker) submit(ex *executor.Executor, slug string, req executor.Request, body map[string]any) (executor.Response, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return executor.Response{}, err
	}
	resp, err := ex.Submit(w.ctx, slug, req, raw)
	w.trace("POST", body, resp, err)
	return resp, err
}

// trace prints a request and its answer with -v; the values of secret
// fields are never printed.
func (w *walker) trace(method string, body map[string]any, resp executor.Response, err error) {
	if !w.verbose || err != nil {
		return
	}
	if body != nil {
		shown := make(map[string]any, len(body))
		for k, v := range body {
			if w.secrets[k] {
				v = "********"
			}
			shown[k] = v
		}
		b, _ := json.Marshal(shown)
		fmt.Fprintf(w.prompt, "trace: %s %s\n", method, b)
	} else {
		fmt.Fprintf(w.prompt, "trace: %s\n", method)
	}
	if resp.Reload {
		fmt.Fprintln(w.prompt, "trace:   -> reload")
		return
	}
	b, _ := json.Marshal(resp.Challenge)
	fmt.Fprintf(w.prompt, "trace:   -> %s\n", b)
}

// challengeMap is a challenge as its JSON object.
func challengeMap(c executor.Challenge) (map[string]any, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// ask shows a challenge and returns the response to it: the fields of a
// prompt stage, the identification's uid_field (and password, when the
// stage asks for it there), a password stage's password, the MFA
// setup and validation stages' codes (the SMS and email setup's number
// or address first, Duo's activation shown); a challenge with no fields
// the terminal knows is answered with its component alone.
func (w *walker) ask(ch map[string]any) (map[string]any, error) {
	comp := str(ch["component"])
	if fi, ok := ch["flow_info"].(map[string]any); ok && str(fi["title"]) != w.title {
		w.title = str(fi["title"])
		fmt.Fprintf(w.out, "== %s ==\n", w.title)
	}
	if errs, ok := ch["response_errors"].(map[string]any); ok {
		keys := make([]string, 0, len(errs))
		for k := range errs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			list, _ := errs[k].([]any)
			for _, e := range list {
				if m, ok := e.(map[string]any); ok {
					fmt.Fprintf(w.out, "error: %s: %s\n", k, str(m["string"]))
				}
			}
		}
	}
	body := map[string]any{"component": comp}
	switch {
	case ch["fields"] != nil:
		fields, _ := ch["fields"].([]any)
		for _, f := range fields {
			fm, _ := f.(map[string]any)
			if err := w.field(fm, body); err != nil {
				return nil, err
			}
		}
	case ch["user_fields"] != nil:
		label := "Username"
		if uf, ok := ch["user_fields"].([]any); ok && len(uf) > 0 {
			var names []string
			for _, f := range uf {
				names = append(names, str(f))
			}
			label = strings.Join(names, " or ")
		}
		v, err := w.read(label, false)
		if err != nil {
			return nil, err
		}
		body["uid_field"] = v
		if pf, _ := ch["password_fields"].(bool); pf {
			w.secret("password")
			if body["password"], err = w.read("password", true); err != nil {
				return nil, err
			}
		}
	case comp == "ak-stage-password":
		w.secret("password")
		v, err := w.read("password", true)
		if err != nil {
			return nil, err
		}
		body["password"] = v
	case comp == executor.ComponentAuthenticatorTOTP:
		// The link holds the new key: it is the user's to see.
		fmt.Fprintf(w.out, "Add this link to your authenticator app: %s\n", str(ch["config_url"]))
		fallthrough
	case comp == executor.ComponentAuthenticatorValidate && len(list(ch["device_challenges"])) > 0:
		return w.validate(ch, body)
	case comp == executor.ComponentAuthenticatorSMS || comp == executor.ComponentAuthenticatorEmail:
		key, label := "phone_number", "Phone number"
		if comp == executor.ComponentAuthenticatorEmail {
			key, label = "email", "Email"
		}
		if need, _ := ch[key+"_required"].(bool); need {
			v, err := w.read(label, false)
			if err != nil {
				return nil, err
			}
			body[key] = v
			break
		}
		if to := str(ch["email"]); to != "" {
			fmt.Fprintf(w.out, "A code was sent to %s.\n", to)
		}
		w.secret("code")
		v, err := w.read("code", true)
		if err != nil {
			return nil, err
		}
		body["code"] = v
	case comp == executor.ComponentAuthenticatorDuo:
		fmt.Fprintf(w.out, "Activate Duo Mobile with the code %s (barcode: %s).\n", str(ch["activation_code"]), str(ch["activation_barcode"]))
		if _, err := w.read("Press Enter once Duo Mobile shows the account activated", false); err != nil {
			return nil, err
		}
	case comp == executor.ComponentAuthenticatorStatic:
		fmt.Fprintln(w.out, "Keep these codes: each opens your account once.")
		for _, c := range list(ch["codes"]) {
			fmt.Fprintln(w.out, str(c))
		}
	default:
		fmt.Fprintf(w.out, "%s\n", comp)
	}
	return body, nil
}

// validate answers a validation with devices: a Duo push when Duo is
// the only class offered; else the code, read without echo, where an
// empty answer sends a code to the first SMS or email device offered
// (its challenge selected).
func (w *walker) validate(ch map[string]any, body map[string]any) (map[string]any, error) {
	var send, duo map[string]any
	codes := false
	for _, c := range list(ch["device_challenges"]) {
		m, _ := c.(map[string]any)
		switch str(m["device_class"]) {
		case "sms", "email":
			if send == nil {
				send = m
			}
			codes = true
		case "duo":
			duo = m
		default:
			codes = true
		}
	}
	if duo != nil && !codes {
		fmt.Fprintln(w.out, "Approve the Duo push on your phone.")
		body["duo"] = str(duo["device_uid"])
		return body, nil
	}
	label := "code"
	if send != nil {
		label = "code (empty: send one by " + str(send["device_class"]) + ")"
	}
	w.secret("code")
	v, err := w.read(label, true)
	if err != nil {
		return nil, err
	}
	if v == "" && send != nil {
		body["selected_challenge"] = map[string]any{"device_class": send["device_class"], "device_uid": send["device_uid"]}
		return body, nil
	}
	body["code"] = v
	return body, nil
}

// list is a JSON list, nil for anything else.
func list(v any) []any { l, _ := v.([]any); return l }

// field asks for one prompt field and sets it in body.
func (w *walker) field(f map[string]any, body map[string]any) error {
	key, typ, label := str(f["field_key"]), str(f["type"]), str(f["label"])
	if label == "" {
		label = key
	}
	switch typ {
	case "static", "separator":
		if v := str(f["initial_value"]); v != "" {
			fmt.Fprintln(w.out, strings.TrimSpace(v))
		}
		return nil
	case "hidden":
		body[key] = f["initial_value"]
		return nil
	}
	if typ == "password" {
		w.secret(key)
	}
	v, err := w.read(label, typ == "password")
	if err != nil {
		return err
	}
	switch {
	case typ == "checkbox":
		body[key] = v == "y" || v == "yes" || v == "true"
	case v == "" && f["initial_value"] != nil:
		body[key] = f["initial_value"]
	default:
		body[key] = v
	}
	return nil
}

// secret marks a response key whose value the trace never prints.
func (w *walker) secret(key string) {
	if w.secrets == nil {
		w.secrets = map[string]bool{}
	}
	w.secrets[key] = true
}

// read asks for one value: a line, or a password without echo on a
// terminal. Off a terminal it reads a line of standard input either way.
func (w *walker) read(label string, secret bool) (string, error) {
	if secret {
		if w.in.IsTerminal() {
			a, err := w.in.ReadPasswords(w.ctx, label+": ")
			if err != nil {
				return "", err
			}
			return a[0], nil
		}
	}
	if w.in.IsTerminal() {
		fmt.Fprintf(w.prompt, "%s: ", label)
	}
	if w.lines == nil {
		w.lines = bufio.NewReader(w.in)
	}
	type result struct {
		l   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		l, err := w.lines.ReadString('\n')
		done <- result{l, err}
	}()
	var l string
	var err error
	select {
	case r := <-done:
		l, err = r.l, r.err
	case <-w.ctx.Done():
		return "", w.ctx.Err()
	}
	if err == io.EOF && l != "" {
		err = nil
	}
	if err == io.EOF {
		return "", fmt.Errorf("standard input ended at %q", label)
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(l, "\r\n"), nil
}
