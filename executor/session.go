package executor

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/reputation"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
)

// Session bounds.
const (
	// DefaultSessionTTL is how long SessionStore keeps a session that
	// lasts until the browser closes (session_duration "seconds=0"):
	// authentik's (Django's) server-side bound of such a session.
	DefaultSessionTTL = 24 * time.Hour
	// MaxUserSessions bounds the sessions SessionStore lists for one
	// user (for terminate_other_sessions); past it, the user's oldest
	// session is ended.
	MaxUserSessions = 64
)

// Login is what a user_login stage did: the host makes Session the
// client's session id from now on, logged in as User until Expires. The
// id is new (the old one, which the client had before it was logged
// in, is given up: no session fixation); the execution continues under
// it.
type Login struct {
	// User is the pk of the user logged in; Username its username.
	User     int64
	Username string
	// Session is the session's new id; Previous the id it replaces.
	Session, Previous string
	// Expires is when the session ends; zero means when the browser
	// closes (session_duration "seconds=0").
	Expires time.Time
	// TerminateOthers says the user's other sessions end
	// (terminate_other_sessions).
	TerminateOthers bool
	// AuthMethod is the context's auth_method ("password", ...), "" when
	// unset.
	AuthMethod string
}

// Logout is what a user_logout stage did: the host ends session
// Previous and makes Session, a new anonymous one, the client's.
type Logout struct {
	Session, Previous string
}

// newSessionID returns a random session id: 32 bytes, base64url.
func newSessionID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// login logs the step's session in as u: the session gets a new id,
// under which the execution continues, and the request's user is u for
// the rest of this request.
func (s *Step) login(u directory.User, expires time.Time, terminate bool) {
	r := s.run
	l := &Login{User: u.PK, Username: u.Username, Previous: r.req.Session, Session: newSessionID(), Expires: expires, TerminateOthers: terminate}
	l.AuthMethod, _ = r.ex.Context[ContextAuthMethod].(string)
	r.login, r.logout = l, nil
	r.rekey(l.Session)
	r.req.User, r.req.Username = plan.User{PK: u.PK, Authenticated: true}, u.Username
	msg := "auth_method=" + l.AuthMethod
	s.ex.event(Event{Action: EventLogin, Message: msg, Flow: s.Flow.Slug, Stage: s.Stage.Name, User: u.Username})
}

// logout ends the step's session: it gets a new, anonymous id, under
// which the execution continues.
func (s *Step) logout() {
	r := s.run
	if r.req.User.PK != 0 {
		s.ex.event(Event{Action: EventLogout, Flow: s.Flow.Slug, Stage: s.Stage.Name, User: r.req.Username})
	}
	prev := r.req.Session
	if r.login != nil {
		prev = r.login.Previous
	}
	r.login, r.logout = nil, &Logout{Previous: prev, Session: newSessionID()}
	r.rekey(r.logout.Session)
	r.req.User, r.req.Username = plan.User{}, ""
}

// rekey moves the execution to session sid when it is saved.
func (r *run) rekey(sid string) {
	r.req.Session = sid
	r.newKey = ExecutionKey(sid, r.f.Slug)
}

// userLoginHandler is authentik's user_login stage.
type userLoginHandler struct{}

// UserLoginChallenge is ak-stage-user-login: the remember-me question.
type UserLoginChallenge struct {
	Envelope
	UserInfo
}

func seconds(td string) time.Duration {
	sec, _ := validate.ParseTimedelta(td)
	return time.Duration(sec * float64(time.Second))
}

func (h userLoginHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	cfg := s.Stage.Config.(stage.UserLogin)
	if seconds(cfg.RememberMeOffset) > 0 {
		return Show(&UserLoginChallenge{Envelope: s.Envelope(ComponentUserLogin), UserInfo: s.UserInfo()}), nil
	}
	return h.doLogin(ctx, s, false)
}

type userLoginResponse struct {
	RememberMe *bool `json:"remember_me" af:"required"`
}

func (h userLoginHandler) Respond(ctx context.Context, s *Step, body json.RawMessage) (Result, error) {
	cfg := s.Stage.Config.(stage.UserLogin)
	if seconds(cfg.RememberMeOffset) <= 0 {
		return h.doLogin(ctx, s, false)
	}
	resp, verr, err := DecodeResponse[userLoginResponse](body)
	switch {
	case err != nil:
		return Result{}, err
	case verr != nil:
		return Retry(verr), nil
	case resp.RememberMe == nil:
		return Retry(fieldError("remember_me", "This field may not be null.")), nil
	}
	return h.doLogin(ctx, s, *resp.RememberMe)
}

// doLogin logs the pending user in (authentik's do_login): without a
// pending user ("No Pending user to login.") or with an inactive one,
// stage_invalid.
func (userLoginHandler) doLogin(ctx context.Context, s *Step, remember bool) (Result, error) {
	cfg := s.Stage.Config.(stage.UserLogin)
	u, ok, err := s.PendingUser(ctx)
	if err != nil {
		return Result{}, err
	}
	if !ok || !u.IsActive {
		return Invalid(""), nil
	}
	d := seconds(cfg.SessionDuration)
	if remember {
		d += seconds(cfg.RememberMeOffset)
	}
	var expires time.Time
	if d > 0 {
		expires = s.ex.now().Add(d)
	}
	// authentik's user_logged_in: the reputation of the client and the
	// username rises by one (first, so that a failure logs nobody in).
	if err := s.ChangeReputation(ctx, u.Username, reputation.LoggedIn); err != nil {
		return Result{}, err
	}
	// authentik's user_logged_in also updates last_login: in the
	// background here (lastlogin.go).
	if s.ex.logins != nil {
		s.ex.logins.note(ctx, u.PK, s.ex.now())
	}
	s.login(u, expires, cfg.TerminateOtherSessions)
	return Pass(), nil
}

// userLogoutHandler is authentik's user_logout stage.
type userLogoutHandler struct{}

func (userLogoutHandler) Challenge(_ context.Context, s *Step) (Result, error) {
	s.logout()
	return Pass(), nil
}

func (h userLogoutHandler) Respond(ctx context.Context, s *Step, _ json.RawMessage) (Result, error) {
	return h.Challenge(ctx, s)
}

// SessionStore keeps the logged-in sessions of HTTPHandler's own cookie
// in the executor's RunState (namespace Sessions): a session's user,
// keyed by session id, expiring with the session, and each user's list
// of sessions (at most MaxUserSessions), for terminate_other_sessions.
// A host that runs the Go API without sessions of its own may use it
// too. It is safe for concurrent use.
type SessionStore struct {
	rs RunState
	// user reads a user as the executor's steps do (Executor.user): with
	// the store's own directory, decoded once at the store's revision.
	user func(context.Context, int64) (directory.User, error)
	now  func() time.Time
}

// SessionStore returns the executor's session store.
func (e *Executor) SessionStore() *SessionStore { return e.sessions }

// sessionKey is the run state key of session sid: its id's SHA-256,
// so that the run state (a bbolt file, its backups, etcd) holds no
// session id a reader could log in with.
func sessionKey(sid string) string { return sessionKeyOf(sumOf(sid)) }

// sumOf is the SHA-256 of s, which is hashed from a copy on the stack
// when it is no longer than a session id ([]byte(s) of a string longer
// than 32 bytes would be on the heap).
func sumOf(s string) [sha256.Size]byte {
	var buf [64]byte
	if len(s) > len(buf) {
		return sha256.Sum256([]byte(s))
	}
	return sha256.Sum256(append(buf[:0], s...))
}

// sessionHash is the hex SHA-256 of session id sid.
func sessionHash(sid string) string {
	sum := sumOf(sid)
	return hex.EncodeToString(sum[:])
}

// sessionKeyOf is the run state key of the session whose id's SHA-256
// is sum: "s:" and its hex.
func sessionKeyOf(sum [sha256.Size]byte) string {
	var b [2 + 2*sha256.Size]byte
	b[0], b[1] = 's', ':'
	hex.Encode(b[2:], sum[:])
	return string(b[:])
}
func userKey(pk int64) string { return "u:" + strconv.FormatInt(pk, 10) }

// User returns the user session sid is logged in as; false for an
// anonymous, unknown or expired session, and for one whose user was
// deleted or made inactive since (that session is ended). It reads the
// user as the executor's steps do: with the store's own directory, from
// the users kept decoded at the store's revision, so that a request
// decodes no user that did not change (a user made inactive or deleted
// is read anew); with a host's directory, through it.
func (ss *SessionStore) User(ctx context.Context, sid string) (directory.User, bool, error) {
	rec, err := ss.rs.Load(ctx, Sessions, sessionKey(sid))
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrExpired) {
		return directory.User{}, false, nil
	}
	if err != nil {
		return directory.User{}, false, err
	}
	pk, n := binary.Varint(rec.Data)
	if n <= 0 || pk <= 0 {
		return directory.User{}, false, nil
	}
	u, err := ss.user(ctx, pk)
	if errors.Is(err, directory.ErrNotFound) || (err == nil && !u.IsActive) {
		return directory.User{}, false, ss.End(ctx, sid)
	}
	if err != nil {
		return directory.User{}, false, err
	}
	return u, true, nil
}

// Start keeps session l.Session as logged in as l.User until l.Expires
// (DefaultSessionTTL from now when zero), ends session l.Previous, and,
// with l.TerminateOthers, every other session of the user.
func (ss *SessionStore) Start(ctx context.Context, l Login) error {
	if l.Previous != "" {
		if err := ss.End(ctx, l.Previous); err != nil {
			return err
		}
	}
	exp := l.Expires
	if exp.IsZero() {
		exp = ss.now().Add(DefaultSessionTTL)
	}
	// A new id is in no store: it is created at once; one that is
	// (a host's id, kept again) is replaced.
	key, rec := sessionKey(l.Session), Record{Data: binary.AppendVarint(nil, l.User), Expires: exp}
	_, err := ss.rs.Save(ctx, Sessions, key, rec)
	if errors.Is(err, ErrConflict) {
		if err = ss.rs.Delete(ctx, Sessions, key); err == nil {
			_, err = ss.rs.Save(ctx, Sessions, key, rec)
		}
	}
	if err != nil {
		return fmt.Errorf("executor: keeping a session: %w", err)
	}
	s := listed{hash: sumOf(l.Session), expires: exp.UnixNano()}
	return ss.updateList(ctx, l.User, exp, func(ids []listed) ([]listed, []listed) {
		var ended []listed
		if l.TerminateOthers {
			ended, ids = ids, nil
		}
		ids = append(ids, s)
		if n := len(ids) - MaxUserSessions; n > 0 {
			ended = append(ended, ids[:n]...)
			ids = ids[n:]
		}
		return ids, ended
	})
}

// listed is a session in its user's list: the SHA-256 of its id, and
// when it expires (unix nanoseconds).
type listed struct {
	hash    [sha256.Size]byte
	expires int64
}

// updateList changes the user's list of sessions with fn, which returns
// the new list and the sessions to end, by compare-and-swap; the list
// keeps its expiry or exp, whichever is later. The sessions that expired
// leave the list first; those that were ended leave it as End ends
// them. (A session a MemRunState evicted stays listed until it expires,
// and may make the list reach its bound early.)
func (ss *SessionStore) updateList(ctx context.Context, pk int64, exp time.Time, fn func([]listed) ([]listed, []listed)) error {
	for range 16 {
		var (
			ids     []listed
			version uint64
			oldExp  time.Time
		)
		rec, err := ss.rs.Load(ctx, Sessions, userKey(pk))
		switch {
		case err == nil:
			version, oldExp = rec.Version, rec.Expires
			ids = decodeSessionList(rec)
		case errors.Is(err, ErrExpired):
			if err := ss.rs.Delete(ctx, Sessions, userKey(pk)); err != nil {
				return err
			}
		case !errors.Is(err, ErrNotFound):
			return err
		}
		now := ss.now().UnixNano()
		ids = slices.DeleteFunc(ids, func(s listed) bool { return s.expires <= now })
		ids, ended := fn(ids)
		if oldExp.After(exp) {
			exp = oldExp
		}
		if version == 0 && len(ids) == 0 {
			return nil // no list, and none to keep
		}
		_, err = ss.rs.Save(ctx, Sessions, userKey(pk), Record{Data: encodeSessionList(ids), Expires: exp, Version: version})
		if errors.Is(err, ErrConflict) || errors.Is(err, ErrExpired) {
			continue
		}
		if err != nil {
			return err
		}
		for _, s := range ended {
			if err := ss.rs.Delete(ctx, Sessions, sessionKeyOf(s.hash)); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("executor: updating the sessions of user %d: %w", pk, ErrConflict)
}

// sessionListFormat begins a user's list of sessions, each then the 32
// bytes of its id's SHA-256 and its expiry (unix nanoseconds, 8 bytes
// big-endian). A list that does not begin with it is a JSON array of
// hex hashes, as it was first kept, each taken to expire with the list.
const sessionListFormat = 1

const listedSize = sha256.Size + 8

func encodeSessionList(ids []listed) []byte {
	b := make([]byte, 1, 1+len(ids)*listedSize)
	b[0] = sessionListFormat
	for _, s := range ids {
		b = append(b, s.hash[:]...)
		b = binary.BigEndian.AppendUint64(b, uint64(s.expires))
	}
	return b
}

func decodeSessionList(rec Record) []listed {
	b := rec.Data
	if len(b) == 0 || b[0] != sessionListFormat {
		var hashes []string
		_ = json.Unmarshal(b, &hashes)
		ids := make([]listed, 0, len(hashes))
		for _, h := range hashes {
			s := listed{expires: rec.Expires.UnixNano()}
			if n, err := hex.Decode(s.hash[:], []byte(h)); err == nil && n == sha256.Size {
				ids = append(ids, s)
			}
		}
		return ids
	}
	b = b[1:]
	ids := make([]listed, 0, len(b)/listedSize+1) // room for one more: Start adds one
	for ; len(b) >= listedSize; b = b[listedSize:] {
		ids = append(ids, listed{hash: [sha256.Size]byte(b[:sha256.Size]), expires: int64(binary.BigEndian.Uint64(b[sha256.Size:]))})
	}
	return ids
}

// List returns the live sessions of user pk, oldest first, each as the
// hex SHA-256 of its id: the ids themselves are kept nowhere.
func (ss *SessionStore) List(ctx context.Context, pk int64) ([]string, error) {
	rec, err := ss.rs.Load(ctx, Sessions, userKey(pk))
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrExpired) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, s := range decodeSessionList(rec) {
		if _, err := ss.rs.Load(ctx, Sessions, sessionKeyOf(s.hash)); err == nil {
			ids = append(ids, hex.EncodeToString(s.hash[:]))
		}
	}
	return ids, nil
}

// End logs session sid out, and takes it off its user's list; an
// unknown session is not an error.
func (ss *SessionStore) End(ctx context.Context, sid string) error {
	if sid == "" {
		return nil
	}
	h := sumOf(sid)
	key := sessionKeyOf(h)
	rec, lerr := ss.rs.Load(ctx, Sessions, key)
	if err := ss.rs.Delete(ctx, Sessions, key); err != nil {
		return err
	}
	switch {
	case errors.Is(lerr, ErrNotFound), errors.Is(lerr, ErrExpired):
		return nil // an expired session leaves the list as it expires
	case lerr != nil:
		return lerr
	}
	pk, n := binary.Varint(rec.Data)
	if n <= 0 || pk <= 0 {
		return nil
	}
	return ss.updateList(ctx, pk, time.Time{}, func(ids []listed) ([]listed, []listed) {
		return slices.DeleteFunc(ids, func(s listed) bool { return s.hash == h }), nil
	})
}

// readsPendingUser: both log the pending user in, read first (doLogin).
func (userLoginHandler) readsPendingUser(bool) bool { return true }
