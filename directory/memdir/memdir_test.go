package memdir

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/directorytest"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// cheap is a policy fast enough for tests.
var cheap = password.Policy{Iterations: 1000}

// clock is a fake clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance()       { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(time.Second) }

func newDir(t *testing.T) (*Dir, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 123456000, time.UTC)}
	d, err := New(Options{Policy: cheap, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return d, c
}

func TestConformance(t *testing.T) {
	directorytest.Run(t, func(t *testing.T) directorytest.Fixture {
		d, c := newDir(t)
		return directorytest.Fixture{Dir: d, AddGroup: d.AddGroup, Advance: c.advance}
	})
}

// The wall clock, as a host's directory reads it.
func TestConformanceWallClock(t *testing.T) {
	directorytest.Run(t, func(t *testing.T) directorytest.Fixture {
		d, err := New(Options{Policy: cheap})
		if err != nil {
			t.Fatal(err)
		}
		return directorytest.Fixture{Dir: d, AddGroup: d.AddGroup}
	})
}

func TestNewRefusesInvalidPolicy(t *testing.T) {
	_, err := New(Options{Policy: password.Policy{Iterations: password.MaxIterations + 1}})
	if !errors.Is(err, password.ErrPolicy) {
		t.Errorf("err = %v, want ErrPolicy", err)
	}
}

func TestTimesInDRFFormat(t *testing.T) {
	d, _ := newDir(t)
	u := directory.DefaultUser()
	u.Username = "alice"
	got, err := d.CreateUser(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if got.DateJoined != "2025-06-01T12:00:00.123456Z" || got.PasswordChangeDate != got.DateJoined {
		t.Errorf("times %q %q", got.DateJoined, got.PasswordChangeDate)
	}
}

// A hash that is not current under the policy is replaced after a
// successful check, and PasswordChangeDate stays.
func TestCheckUpgradesHash(t *testing.T) {
	ctx := context.Background()
	d, c := newDir(t)
	u := directory.DefaultUser()
	u.Username = "alice"
	u, err := d.CreateUser(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	old, err := password.Policy{Iterations: 500}.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	d.hashes[u.PK] = old // as an import of authentik's hashes would
	c.advance()
	if ok, err := d.CheckPassword(ctx, u.PK, "wrong"); ok || err != nil {
		t.Fatalf("wrong: %v, %v", ok, err)
	}
	if d.hashes[u.PK] != old {
		t.Error("a failed check replaced the hash")
	}
	if ok, err := d.CheckPassword(ctx, u.PK, "pw"); !ok || err != nil {
		t.Fatalf("right: %v, %v", ok, err)
	}
	now := d.hashes[u.PK]
	if now == old || !strings.HasPrefix(now, "pbkdf2_sha256$1000$") {
		t.Errorf("hash after check = %.20s…, want a pbkdf2_sha256$1000 one", now)
	}
	if ok, _ := d.CheckPassword(ctx, u.PK, "pw"); !ok {
		t.Error("the upgraded hash does not verify")
	}
	got, _ := d.User(ctx, u.PK)
	if got.PasswordChangeDate != u.PasswordChangeDate {
		t.Errorf("upgrade moved PasswordChangeDate: %s, was %s", got.PasswordChangeDate, u.PasswordChangeDate)
	}
}

// A stored value that cannot be checked is an error without the hash.
func TestCheckUnsupportedHash(t *testing.T) {
	ctx := context.Background()
	d, _ := newDir(t)
	u := directory.DefaultUser()
	u.Username = "alice"
	u, _ = d.CreateUser(ctx, u)
	d.hashes[u.PK] = "md5$salt$0123456789abcdef0123456789abcdef"
	ok, err := d.CheckPassword(ctx, u.PK, "pw")
	if ok || !errors.Is(err, password.ErrUnsupported) {
		t.Errorf("CheckPassword = %v, %v; want false, ErrUnsupported", ok, err)
	}
	if strings.Contains(err.Error(), "0123456789abcdef") {
		t.Errorf("error shows the hash: %v", err)
	}
}

func TestAddGroup(t *testing.T) {
	d, _ := newDir(t)
	g := directory.DefaultGroup()
	g.Name = "admins"
	g.Users = []int64{7}
	a, err := d.AddGroup(g)
	if err != nil || a.PK == uuid.Nil || len(a.Users) != 0 {
		t.Fatalf("AddGroup = %+v, %v", a, err)
	}
	fieldErr := func(what string, err error, field, msg string) {
		t.Helper()
		var ve *validate.Error
		if !errors.As(err, &ve) || !slices.Contains(ve.Fields[field], msg) {
			t.Errorf("%s: err = %v, want %q on %s", what, err, msg, field)
		}
	}
	_, err = d.AddGroup(g)
	fieldErr("same name", err, "name", directory.MsgUnique)
	g.Name = ""
	_, err = d.AddGroup(g)
	fieldErr("blank name", err, "name", validate.MsgBlank)
	missing := uuid.New()
	g.Name, g.Parent = "child", &missing
	if _, err := d.AddGroup(g); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("unknown parent: %v", err)
	}
	self := uuid.New()
	g.PK, g.Parent = self, &self
	_, err = d.AddGroup(g)
	fieldErr("own parent", err, "parent", directory.MsgParentSelf)
	g.PK, g.Parent = a.PK, nil
	if _, err := d.AddGroup(g); err == nil {
		t.Error("a second group with a taken pk was added")
	}
}

// Groups are kept once; nil Groups and Attributes are stored empty.
func TestNormalizes(t *testing.T) {
	ctx := context.Background()
	d, _ := newDir(t)
	g := directory.DefaultGroup()
	g.Name = "g"
	g, _ = d.AddGroup(g)
	u := directory.User{Username: "alice", Path: "users", Type: directory.UserTypeInternal, Groups: []uuid.UUID{g.PK, g.PK}}
	got, err := d.CreateUser(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Groups) != 1 || got.Attributes == nil {
		t.Errorf("stored %+v", got)
	}
}

func TestCancelledContext(t *testing.T) {
	d, _ := newDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.User(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("User: %v", err)
	}
	if _, err := d.CreateUser(ctx, directory.DefaultUser()); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateUser: %v", err)
	}
	if _, err := d.CheckPassword(ctx, 1, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("CheckPassword: %v", err)
	}
}
