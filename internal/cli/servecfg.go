package cli

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/validate"
)

// authentik's defaults of its global email settings (AUTHENTIK_EMAIL__*).
const (
	defaultSMTPPort = 25
	defaultSMTPFrom = "authentik@localhost"
	// captchaTimeout bounds one question to a captcha service.
	captchaTimeout = 10 * time.Second
	// smsTimeout bounds one message to an SMS provider.
	smsTimeout = 10 * time.Second
	// duoTimeout bounds one question to Duo: a push waits for the
	// user's answer (Duo gives up after a minute).
	duoTimeout = 90 * time.Second
)

// errExecFlag is a wrong executor flag of serve: a usage error.
var errExecFlag = errors.New("wrong flag")

// origins is a repeatable flag of origins.
type origins []string

func (o *origins) String() string { return strings.Join(*o, ",") }

func (o *origins) Set(v string) error {
	origin, err := originOf(v)
	if err != nil {
		return err
	}
	if u, _ := url.Parse(v); u.Path != "" && u.Path != "/" {
		return fmt.Errorf("%q is not an origin: it has a path", v)
	}
	*o = append(*o, origin)
	return nil
}

// originOf checks that v is an absolute http(s) URL without a query or
// fragment, and returns its origin (scheme://host[:port]).
func originOf(v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not an http or https URL (scheme://host[:port])", v)
	}
	return u.Scheme + "://" + u.Host, nil
}

// execFlags are the executor's settings on the command line: the site's
// public URL, the email stage's global SMTP settings and the captcha
// verifier (newFlowFlags, for serve and run), and serve's own: the
// origins trusted for CSRF and the executions' lifetime
// (newExecFlags).
type execFlags struct {
	baseURL      string
	smtpHost     string
	smtpPort     int
	smtpUsername string
	smtpPassFile string
	smtpFrom     string
	smtpTLS      bool
	smtpSSL      bool
	smtpTimeout  time.Duration
	captcha      bool
	sms          bool
	duo          bool
	// serve says newExecFlags registered trusted and ttl.
	serve   bool
	trusted origins
	ttl     time.Duration
}

// newFlowFlags registers the flags of the services flows use on fs:
// -base-url (baseHelp says what it defaults to), -smtp-*, -captcha,
// -sms and -duo.
func newFlowFlags(fs *flag.FlagSet, baseHelp string) *execFlags {
	f := &execFlags{}
	fs.StringVar(&f.baseURL, "base-url", "", "public `URL` of the site (https://auth.example.com), which the email stage's links begin with "+baseHelp)
	fs.StringVar(&f.smtpHost, "smtp-host", "", "SMTP `host` of the email stages with use_global_settings (default none: such a stage fails, saying so in the log)")
	fs.IntVar(&f.smtpPort, "smtp-port", defaultSMTPPort, "SMTP `port`")
	fs.StringVar(&f.smtpUsername, "smtp-username", "", "SMTP `user` to authenticate as (PLAIN; needs TLS except to localhost)")
	fs.StringVar(&f.smtpPassFile, "smtp-password-file", "", "`file` holding the SMTP password (surrounding whitespace trimmed); there is no flag that takes the password itself")
	fs.StringVar(&f.smtpFrom, "smtp-from", defaultSMTPFrom, "sender `address` of the email stages with use_global_settings")
	fs.BoolVar(&f.smtpTLS, "smtp-tls", false, "upgrade the SMTP connection with STARTTLS")
	fs.BoolVar(&f.smtpSSL, "smtp-ssl", false, "connect to the SMTP server with TLS from the start (implicit TLS, usually port 465)")
	fs.DurationVar(&f.smtpTimeout, "smtp-timeout", 10*time.Second, "bound on sending one email")
	fs.BoolVar(&f.captcha, "captcha", true, "verify captcha stages' tokens by asking the stage's api_url (-captcha=false: captcha stages deny the flow)")
	fs.BoolVar(&f.sms, "sms", true, "send SMS stages' codes through their provider, Twilio or the stage's URL (-sms=false: SMS stages deny the flow)")
	fs.BoolVar(&f.duo, "duo", true, "ask Duo stages' api_hostname (-duo=false: Duo stages deny the flow)")
	return f
}

// newExecFlags registers serve's executor flags on fs: newFlowFlags's,
// -trusted-origin and -execution-ttl.
func newExecFlags(fs *flag.FlagSet) *execFlags {
	f := newFlowFlags(fs, "(default http://ADDR, the listening address: right only when browsers reach serve there)")
	f.serve = true
	fs.Var(&f.trusted, "trusted-origin", "`origin` (https://app.example.com) whose browsers' POSTs to the executor are not refused as cross-site; repeatable")
	fs.DurationVar(&f.ttl, "execution-ttl", executor.DefaultExecutionTTL, "how long an unfinished execution is kept after its last step (at least 1s)")
	return f
}

// check refuses flag values that do not go together; the errors wrap
// errExecFlag.
func (f *execFlags) check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{errExecFlag}, a...)...)
	}
	switch {
	case f.baseURL != "":
		if _, err := originOf(f.baseURL); err != nil {
			return bad("-base-url: %v", err)
		}
	}
	switch {
	case f.smtpTLS && f.smtpSSL:
		return bad("-smtp-tls and -smtp-ssl are mutually exclusive: STARTTLS or TLS from the start")
	case f.smtpPort <= 0 || f.smtpPort > 65535:
		return bad("-smtp-port %d is not a port", f.smtpPort)
	case f.smtpPassFile != "" && f.smtpUsername == "":
		return bad("-smtp-password-file needs -smtp-username")
	case f.smtpTimeout <= 0:
		return bad("-smtp-timeout must be positive")
	case f.serve && f.ttl < time.Second:
		return bad("-execution-ttl must be at least 1s (%v)", f.ttl)
	}
	return nil
}

// mailer returns the SMTP mailer: the stages' own servers, and the
// global settings of the flags for use_global_settings. The password is
// read from its file; an error names the file, never its contents.
func (f *execFlags) mailer() (*executor.SMTPMailer, error) {
	var pw validate.Secret
	if f.smtpPassFile != "" {
		b, err := os.ReadFile(f.smtpPassFile)
		if err != nil {
			return nil, fmt.Errorf("reading the SMTP password: %w", err)
		}
		p := strings.TrimSpace(string(b))
		if p == "" {
			return nil, fmt.Errorf("the SMTP password file %s is empty", f.smtpPassFile)
		}
		pw = validate.NewSecret(p)
	}
	return &executor.SMTPMailer{Global: executor.MailSettings{
		Host: f.smtpHost, Port: f.smtpPort, Username: f.smtpUsername, Password: pw,
		UseTLS: f.smtpTLS, UseSSL: f.smtpSSL, Timeout: f.smtpTimeout, From: f.smtpFrom,
	}}, nil
}

// base returns the public base URL: -base-url, else http://addr.
func (f *execFlags) base(addr string) string {
	if f.baseURL != "" {
		return strings.TrimRight(f.baseURL, "/")
	}
	return "http://" + addr
}

// crossOrigin returns the CSRF check: the trusted origins, and the
// origin of -base-url (the site's pages are there).
func (f *execFlags) crossOrigin() (*http.CrossOriginProtection, error) {
	c := http.NewCrossOriginProtection()
	all := append([]string(nil), f.trusted...)
	if f.baseURL != "" {
		o, err := originOf(f.baseURL)
		if err != nil {
			return nil, err
		}
		all = append(all, o)
	}
	for _, o := range all {
		if err := c.AddTrustedOrigin(o); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// webauthnOf returns the WebAuthn relying party of the site at base
// (what base returns): its host name as the RP id, its origin. A
// loopback address (serve's default, 127.0.0.1) stands for localhost,
// which browsers treat as a secure origin: the pages are then to be
// opened at http://localhost:PORT. Any other IP address gives nil, as
// no WebAuthn RP id can be one (the WebAuthn stages then deny the flow,
// saying so).
func webauthnOf(base string) *executor.WebAuthnOptions {
	u, err := url.Parse(base)
	if err != nil || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil
	}
	host := strings.ToLower(u.Hostname())
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return nil
		}
		host = "localhost"
	}
	origin := u.Scheme + "://" + host
	if p := u.Port(); p != "" {
		origin += ":" + p
	}
	return &executor.WebAuthnOptions{RPID: host, Origins: []string{origin}}
}

// smsSender returns the SMS sender, nil with -sms=false.
func (f *execFlags) smsSender() executor.SMSSender {
	if !f.sms {
		return nil
	}
	return executor.HTTPSMS{Client: &http.Client{Timeout: smsTimeout}}
}

// duoClient returns the Duo client, nil with -duo=false.
func (f *execFlags) duoClient() executor.Duo {
	if !f.duo {
		return nil
	}
	return executor.HTTPDuo{Client: &http.Client{Timeout: duoTimeout}}
}

// captchaVerifier returns the captcha verifier, nil with -captcha=false.
func (f *execFlags) captchaVerifier() executor.CaptchaVerifier {
	if !f.captcha {
		return nil
	}
	return executor.HTTPCaptcha{Client: &http.Client{Timeout: captchaTimeout}}
}

// sessionUser is serve's api.Options.RequestUser: the user the flow
// pages' session cookie is logged in as, for the paths of a user's own
// authenticator devices. A request from another origin is refused
// (HTTPOptions.CrossOrigin), as a flow's POST is, and an anonymous one is
// ErrNotAuthenticated.
func sessionUser(sessions *executor.HTTPSessions) func(*http.Request) (int64, error) {
	return func(r *http.Request) (int64, error) {
		if err := sessions.CheckOrigin(r); err != nil {
			return 0, &api.AuthenticationFailed{Detail: "request from another origin"}
		}
		u, err := sessions.User(r)
		if err != nil {
			return 0, err
		}
		if !u.Authenticated || u.PK == 0 {
			return 0, api.ErrNotAuthenticated
		}
		return u.PK, nil
	}
}
