package executor

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/internal/jsonvalue"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/reputation"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Plan context keys of authentication (authentik's
// stages/password/stage.py).
const (
	// ContextPendingUserIdentifier is what the user typed in an
	// identification stage, shown as pending_user when set.
	ContextPendingUserIdentifier = "pending_user_identifier"
	// ContextUserBackend is the dotted path of the backend that checked
	// the password (the password stage sets it).
	ContextUserBackend = "user_backend"
	// ContextAuthMethod is how the user authenticated: "password", ...;
	// the first method of a flow stays.
	ContextAuthMethod = "auth_method"
	// ContextAuthMethodArgs are the method's arguments, a map.
	ContextAuthMethodArgs = "auth_method_args"
	// ContextUserBackendKey is the key of a pending user's map
	// (directory.ContextUser's form) that names the backend that
	// checked the user's password: authentik's user.backend, which the
	// shipped default-authentication-flow tests with
	// hasattr(pending_user, "backend").
	ContextUserBackendKey = "backend"
)

// MsgNoCaptchaVerifier is the error_message of a stage that needs a
// captcha verifier when Options.Captcha is nil.
const MsgNoCaptchaVerifier = "This flow needs a captcha verifier, and none is configured."

// CaptchaVerifier checks a captcha token with the captcha service a
// captcha stage names (its api_url, private_key and score thresholds),
// as authentik's verify_captcha_token does. It returns the service's
// answer, which the captcha stage keeps in the plan context (captcha),
// or a *validate.Error whose non-field messages are authentik's ("Invalid
// captcha response", "Invalid captcha response. Retrying may solve this
// issue.") when the token is refused; any other error is unexpected.
// clientIP is the client's address, "" when unknown. Its errors never
// hold the private key.
type CaptchaVerifier interface {
	VerifyCaptcha(ctx context.Context, cfg stage.Captcha, token, clientIP string) (map[string]any, error)
}

// Directory returns the user directory (Options.Directory).
func (s *Step) Directory() directory.Directory { return s.ex.dir }

// Captcha returns the captcha verifier (Options.Captcha); nil when none
// is configured.
func (s *Step) Captcha() CaptchaVerifier { return s.ex.captcha }

// ClientIP returns the client's address, "" when unknown.
func (s *Step) ClientIP() string {
	if s.Request.HTTP == nil || !s.Request.HTTP.ClientIP.IsValid() {
		return ""
	}
	return s.Request.HTTP.ClientIP.String()
}

// user reads the user numbered pk from the directory; from the store's
// own, through the plan options' Decoded, so that a user the policies
// read at the store's revision (a pending user) is decoded once.
func (e *Executor) user(ctx context.Context, pk int64) (directory.User, error) {
	if !e.storeDir {
		return e.dir.User(ctx, pk)
	}
	var u directory.User
	err := e.s.View(ctx, func(tx *store.Tx) error {
		var err error
		u, err = e.userIn(tx, pk)
		return err
	})
	return u, err
}

// userIn is user, of the store's own directory, in tx.
func (e *Executor) userIn(tx *store.Tx, pk int64) (directory.User, error) {
	u, err := e.popts.Decoded.User(tx, pk)
	if errors.Is(err, plan.ErrUnknownUser) {
		return u, fmt.Errorf("executor: %w: user %d", directory.ErrNotFound, pk)
	}
	return u, err
}

// prefetched is a read of what is kept for user pk (its record, its
// devices), made in the request's first read transaction for the
// handler that reads it first (prefetch), and served once (take).
type prefetched[T any] struct {
	pk  int64
	v   T
	err error
}

// take is *p's read when it is of user pk, which it forgets: a later
// ask reads again; ok false when *p holds none of pk's.
func take[T any](p **prefetched[T], pk int64) (v T, ok bool, err error) {
	if *p == nil || (*p).pk != pk {
		return v, false, nil
	}
	v, err = (*p).v, (*p).err
	*p = nil
	return v, true, err
}

// pendingRead is the context's pending user, read for a handler that
// reads it (pendingUserReader); hashRead its password hash, for a
// passwordChecker; devicesRead the devices of a user, for a
// devicesReader.
type (
	pendingRead = prefetched[directory.User]
	hashRead    = prefetched[store.PasswordHash]
	devicesRead = prefetched[[]directory.Device]
)

// pendingUserReader is a handler that reads the context's pending user
// (Step.user) before it writes anything, at a POST (Respond) or a GET
// (Challenge) as readsPendingUser says: the request reads it in its
// first read transaction, with the current stage (prefetch).
type pendingUserReader interface{ readsPendingUser(post bool) bool }

// passwordChecker is a pendingUserReader that then checks the pending
// user's password (Step.checkPassword), at a POST or a GET as
// checksPassword says: the request reads the user's hash with the user.
type passwordChecker interface{ checksPassword(post bool) bool }

// devicesReader is a handler that reads the devices of the user it
// checks (validateUserOf; Step.userDevices) before it writes anything,
// as readsDevices says: the request reads them with the current stage.
type devicesReader interface{ readsDevices(post bool) bool }

// userFinder is a handler whose Respond finds the user its response
// names (findsUser) before it writes anything: the request decodes the
// response and finds the user with the current stage, for the handler.
type userFinder interface {
	findsUser(ctx context.Context, tx *store.Tx, st stage.Stage, body json.RawMessage) (identRead, bool)
}

// prefetch reads in tx, from the store's own directory, what the handler
// of the current stage c reads first: the context's pending user
// (pendingUserReader) and its hash (passwordChecker), the devices of the
// user it checks (devicesReader), the user a POST's body names
// (userFinder). A read served so is one the handler would make right
// after, before it writes anything: it is that read, one transaction
// earlier.
func (r *run) prefetch(tx *store.Tx, c *reached, post bool, body json.RawMessage) {
	if !r.e.storeDir || c.err != nil || !c.ok || c.gone || c.st.Redirect != "" {
		return
	}
	h := r.e.handlers[c.stg.Model()]
	if pr, ok := h.(pendingUserReader); ok && pr.readsPendingUser(post) {
		if pk, ok := directory.ContextUserPK(r.ex.Context[directory.ContextPendingUser]); ok {
			u, err := r.e.userIn(tx, pk)
			keepRead(&r.pending, &r.reads.pending, pk, u, err, "user")
			if pc, ok := h.(passwordChecker); ok && pc.checksPassword(post) {
				ph, err := tx.PasswordHash(pk)
				keepRead(&r.hash, &r.reads.hash, pk, ph, err, "hash")
			}
		}
	}
	if uf, ok := h.(userFinder); ok && post {
		if v, ok := uf.findsUser(r.ctx, tx, c.stg, body); ok {
			r.reads.ident = v
			r.ident = &r.reads.ident
			notePrefetch("identified")
		}
	}
	if dr, ok := h.(devicesReader); ok && r.e.storeDevices && dr.readsDevices(post) {
		if pk, anonymous := validateUserOf(r.ex.Context, r.req); !anonymous && pk != 0 {
			d, err := tx.Directory().UserDevices(r.ctx, pk)
			keepRead(&r.devices, &r.reads.devices, pk, d, err, "devices")
		}
	}
}

// keepRead keeps v and err, read for user pk, in slot (the run's own
// room for them), and points dst at it, for the handler to take.
func keepRead[T any](dst **prefetched[T], slot *prefetched[T], pk int64, v T, err error, what string) {
	*slot = prefetched[T]{pk: pk, v: v, err: err}
	*dst = slot
	notePrefetch(what)
}

// notePrefetch tells testHookPrefetch, when set, what a request read
// early.
func notePrefetch(what string) {
	if testHookPrefetch != nil {
		testHookPrefetch(what)
	}
}

// userDevices is the devices of user pk (Executor devices), served by the
// request's read of them (prefetch) the first time they are asked for.
func (s *Step) userDevices(ctx context.Context, pk int64) ([]directory.Device, error) {
	if s.run != nil {
		if d, ok, err := take(&s.run.devices, pk); ok {
			return d, err
		}
	}
	return s.ex.devices.UserDevices(ctx, pk)
}

// user is Executor.user, served by the request's read of the pending
// user (prefetch) the first time it is asked for: the step has written
// nothing since, and a later read reads again.
func (s *Step) user(ctx context.Context, pk int64) (directory.User, error) {
	if s.run != nil {
		if u, ok, err := take(&s.run.pending, pk); ok {
			return u, err
		}
	}
	return s.ex.user(ctx, pk)
}

// checkPassword is the directory's CheckPassword, served by the
// request's read of the pending user's hash (prefetch) the first time
// it is asked for: the step has written nothing since, and a later check,
// or one whose read failed, reads again.
func (s *Step) checkPassword(ctx context.Context, pk int64, raw string) (bool, error) {
	if s.run != nil {
		if h, ok, err := take(&s.run.hash, pk); ok && err == nil {
			return s.ex.s.CheckPasswordHash(ctx, pk, h, raw)
		}
	}
	return s.ex.dir.CheckPassword(ctx, pk, raw)
}

// testHookPrefetch, when set (by tests), runs when a request has read
// with its current stage the pending user ("user"), its password hash
// ("hash"), a user's devices ("devices"), or the user a response names
// ("identified").
var testHookPrefetch func(what string)

// PendingUser returns the context's pending user as the directory holds
// it now; false when the context has none, or a stand-in the directory
// does not hold (an unknown identifier's), or the user was deleted.
func (s *Step) PendingUser(ctx context.Context) (directory.User, bool, error) {
	pk, ok := directory.ContextUserPK(s.Context[directory.ContextPendingUser])
	if !ok {
		return directory.User{}, false, nil
	}
	u, err := s.user(ctx, pk)
	if errors.Is(err, directory.ErrNotFound) {
		return directory.User{}, false, nil
	}
	if err != nil {
		return directory.User{}, false, err
	}
	return u, true, nil
}

// SetPendingUser makes u the context's pending user, in
// directory.ContextUser's form; backend, when not "", is the backend
// that checked its password (ContextUserBackendKey).
//
// When the context's pending user is already u as decoding its saved
// form makes it (the password stage's user, which identification set),
// only the backend is written, in place: the context then encodes as
// it would with u written afresh.
func (s *Step) SetPendingUser(u directory.User, backend string) {
	if m, ok := s.Context[directory.ContextPendingUser].(map[string]any); ok && !testRewritePendingUser && isDecodedContextUser(m, u) {
		if backend != "" {
			m[ContextUserBackendKey] = backend
		} else {
			delete(m, ContextUserBackendKey)
		}
		if testHookPendingUserKept != nil {
			testHookPendingUserKept(m)
		}
		return
	}
	m := directory.ContextUser(u)
	if backend != "" {
		m[ContextUserBackendKey] = backend
	}
	s.Context[directory.ContextPendingUser] = m
}

// testRewritePendingUser, when set (by tests), makes SetPendingUser
// always write the user afresh.
var testRewritePendingUser bool

// testHookPendingUserKept, when set (by tests), is called with the
// pending user SetPendingUser kept.
var testHookPendingUserKept func(map[string]any)

// isDecodedContextUser says whether m is directory.ContextUser(u), with
// or without a backend, as decoding its JSON makes it: exactly its keys,
// the pk a float64, the attributes equal (jsonvalue.Equal).
func isDecodedContextUser(m map[string]any, u directory.User) bool {
	n := 9
	if _, ok := m[ContextUserBackendKey]; ok {
		n++
	}
	if len(m) != n || u.PK < 1 || u.PK > 1<<53 {
		return false
	}
	if pk, ok := m["pk"].(float64); !ok || pk != float64(u.PK) {
		return false
	}
	if active, ok := m["is_active"].(bool); !ok || active != u.IsActive {
		return false
	}
	if !stringIs(m["username"], u.Username) || !stringIs(m["name"], u.Name) || !stringIs(m["email"], u.Email) ||
		!stringIs(m["path"], u.Path) || !stringIs(m["type"], string(u.Type)) {
		return false
	}
	var id [36]byte
	hex.Encode(id[0:8], u.UUID[0:4])
	hex.Encode(id[9:13], u.UUID[4:6])
	hex.Encode(id[14:18], u.UUID[6:8])
	hex.Encode(id[19:23], u.UUID[8:10])
	hex.Encode(id[24:], u.UUID[10:])
	id[8], id[13], id[18], id[23] = '-', '-', '-', '-'
	if s, ok := m["uuid"].(string); !ok || s != string(id[:]) {
		return false
	}
	attrs, ok := m["attributes"].(map[string]any)
	if !ok || attrs == nil {
		return false
	}
	if len(u.Attributes) == 0 {
		return len(attrs) == 0
	}
	return jsonvalue.Equal(attrs, u.Attributes)
}

// stringIs says whether v is the string s.
func stringIs(v any, s string) bool {
	x, ok := v.(string)
	return ok && x == s
}

// pendingUsername is the username of the context's pending user, a
// stand-in's included; false when there is none.
func (s *Step) pendingUsername() (string, bool) {
	m, ok := s.Context[directory.ContextPendingUser].(map[string]any)
	if !ok {
		return "", false
	}
	name, _ := m["username"].(string)
	return name, true
}

// stageOf reads the stage numbered pk; false when it is gone.
func (s *Step) stageOf(ctx context.Context, pk *uuid.UUID) (stage.Stage, bool, error) {
	if pk == nil {
		return stage.Stage{}, false, nil
	}
	var st stage.Stage
	err := s.ex.s.View(ctx, func(tx *store.Tx) error {
		var err error
		st, err = store.Stages.Get(tx, store.PK(*pk))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return stage.Stage{}, false, nil
	}
	return st, err == nil, err
}

// authenticate checks username and password with the backends, in order
// (authentik's authenticate): the inbuilt backend finds the user by
// username, exactly, in the directory and checks the password (an
// inactive user fails as a wrong password does); the token backend
// (app passwords) finds no token, authflow having none; LDAP and
// Kerberos find no source. An unknown username spends one hash of
// Options.Passwords, so that it costs what a known one does. When every
// backend fails, a login_failed event names the username (never the
// password) and the reputation of the client and username drops by
// one. It returns the user and the backend's path.
func (s *Step) authenticate(ctx context.Context, backends []stage.PasswordBackend, username, password string) (directory.User, string, bool, error) {
	var (
		u      directory.User
		found  bool
		looked bool
	)
	lookup := func() error {
		if looked {
			return nil
		}
		looked = true
		// Usernames are unique, compared exactly: the pending user, while
		// it has the username, is the user FindUser finds.
		if pk, ok := directory.ContextUserPK(s.Context[directory.ContextPendingUser]); ok && s.ex.storeDir {
			if pu, err := s.user(ctx, pk); err == nil && pu.Username == username {
				u, found = pu, true
				return nil
			}
		}
		var err error
		u, err = s.ex.dir.FindUser(ctx, directory.Find{Identifier: username, Fields: []directory.Field{directory.FieldUsername}, CaseSensitive: true})
		switch {
		case errors.Is(err, directory.ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		found = true
		return nil
	}
	dummy := false
	for _, b := range backends {
		switch b {
		case stage.BackendInbuilt, stage.BackendToken:
			if err := lookup(); err != nil {
				return directory.User{}, "", false, err
			}
			if !found {
				if !dummy {
					// Django's ModelBackend and authentik's TokenBackend
					// hash once for an unknown user.
					s.ex.dummyCheck(password)
					dummy = true
				}
				continue
			}
			if b == stage.BackendToken {
				continue // no app-password tokens in authflow
			}
			ok, err := s.checkPassword(ctx, u.PK, password)
			if errors.Is(err, directory.ErrNotFound) {
				continue
			}
			if err != nil {
				return directory.User{}, "", false, fmt.Errorf("checking the password of user %d: %w", u.PK, err)
			}
			if ok && u.IsActive {
				if _, set := s.Context[ContextAuthMethod]; !set {
					s.Context[ContextAuthMethod] = "password"
				}
				if _, set := s.Context[ContextAuthMethodArgs]; !set {
					s.Context[ContextAuthMethodArgs] = map[string]any{}
				}
				return u, string(b), true, nil
			}
		}
	}
	s.ex.event(Event{Action: EventLoginFailed, Message: "Invalid credentials", Flow: s.Flow.Slug, Stage: s.Stage.Name, User: username})
	if err := s.ChangeReputation(ctx, username, reputation.LoginFailed); err != nil {
		return directory.User{}, "", false, err
	}
	return directory.User{}, "", false, nil
}

// nonField is a validation error with one non-field message.
func nonField(msg string) *validate.Error {
	return &validate.Error{NonField: []string{msg}}
}

// fieldError is a validation error with one message on field.
func fieldError(field, msg string) *validate.Error {
	return &validate.Error{Fields: map[string][]string{field: {msg}}}
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// enumerationDelay is authentik's wait on an unknown identifier: 90,
// 120, ..., 210 ms.
func enumerationDelay() time.Duration {
	return time.Duration(3+rand.IntN(5)) * 30 * time.Millisecond
}
