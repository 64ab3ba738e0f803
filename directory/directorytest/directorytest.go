// Package directorytest is the conformance suite of the directory seam:
// every [directory.Directory] runs it from its tests, the built-in one,
// package memdir, and a host's own,
//
//	func TestConformance(t *testing.T) {
//		directorytest.Run(t, func(t *testing.T) directorytest.Fixture {
//			d := openEmptyDirectory(t)
//			return directorytest.Fixture{Dir: d, AddGroup: d.AddGroup}
//		})
//	}
//
// It checks each clause of the contract on [directory.Directory]:
//
//   - CreateUser assigns PK (>= 1), UUID, DateJoined and
//     PasswordChangeDate, ignoring the values given; User and
//     UserByUUID read the user back; a pk is never reused, not even
//     after the user with the highest pk is deleted.
//   - FindUser matches each identifier field, case-insensitively unless
//     asked otherwise, ORs the fields, returns the lowest pk among
//     matches, finds inactive users, and finds nobody for an empty or
//     unknown identifier or for no fields.
//   - Usernames are unique, compared exactly, on create and on update
//     (ErrUsernameTaken): "Alice" and "alice" are two users.
//   - Invalid fields are a *validate.Error with authentik's messages; a
//     group that does not exist is ErrNotFound; a failed write writes
//     nothing.
//   - UpdateUser keeps PK, UUID, DateJoined and PasswordChangeDate.
//   - SetPassword and CheckPassword: the right password verifies, a
//     wrong one does not, a new user's password and a nil one verify
//     nothing, PasswordChangeDate moves on SetPassword (nil included)
//     and on nothing else, an unknown user is ErrNotFound.
//   - A directory that implements [directory.PasswordState]: a new
//     user's password is not usable, one set is, SetPassword(nil) makes
//     it unusable again, an unknown user is ErrNotFound. (A directory
//     without the capability skips this.)
//   - A directory that implements [directory.LoginRecorder]: RecordLogins
//     sets the LastLogin of several users at once (DRF's form, UTC,
//     microseconds) and nothing else, skipping a user it does not hold.
//     (Others skip this.)
//   - After DeleteUser every method finds no such user.
//   - No returned value shares maps or slices with the stored one, nor
//     with the value given to a write.
//   - No error contains a password, nor the identifier given to
//     FindUser (a user may type a password there).
//   - Group reads a group; [directory.FactsOf] reads groups with
//     ancestors, superuser status through a parent, and attributes
//     merged by group name with the user's own last.
//   - Concurrent creates get distinct pks and uuids, and of several
//     concurrent creates of one username exactly one succeeds;
//     concurrent SetPassword and CheckPassword of several users verify
//     each user's password right after it is set and never a wrong one
//     (run the suite with -race).
//
// Not covered: ErrReadOnly (the suite fills its directories through
// the seam, so a directory that does not write cannot run it; its host
// tests it), and a CheckPassword that upgrades a stored hash (the suite
// cannot plant an old hash through the seam; an implementation tests it
// itself).
package directorytest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Fixture is one fresh, empty directory and what the suite needs
// beside the seam to fill it.
type Fixture struct {
	// Dir is the directory under test, empty.
	Dir directory.Directory
	// AddGroup stores a new group in Dir and returns it as stored: the
	// seam has no way to create groups. The suite gives groups a name,
	// maybe a parent (a group it added before), a superuser flag and
	// attributes; a nil PK is for the directory to assign.
	AddGroup func(directory.Group) (directory.Group, error)
	// Advance moves Dir's clock forward by at least a second, when Dir
	// reads a clock the test controls. Nil means Dir reads the wall
	// clock to the microsecond, as DRF shows it: the suite then waits a
	// few milliseconds where it needs a later time.
	Advance func()
	// SetupStage returns the pk of a stage that can be the setup stage of
	// a device of class (sms, email, duo), for RunDevices: a directory
	// that checks the stage exists (the store's) creates one. Nil means
	// any new uuid will do.
	SetupStage func(class directory.DeviceClass) (uuid.UUID, error)
}

// Run runs the conformance suite. open returns a new, empty directory
// each time it is called (it may register cleanups with t).
func Run(t *testing.T, open func(t *testing.T) Fixture) {
	for _, c := range []struct {
		name string
		run  func(*testing.T, Fixture)
	}{
		{"CreateAssigns", testCreateAssigns},
		{"PKNeverReused", testPKNeverReused},
		{"FindUserFields", testFindFields},
		{"FindUserLowestPK", testFindLowestPK},
		{"FindUserNobody", testFindNobody},
		{"UsernameTaken", testUsernameTaken},
		{"InvalidFields", testInvalid},
		{"UnknownGroup", testUnknownGroup},
		{"UpdateKeeps", testUpdateKeeps},
		{"Passwords", testPasswords},
		{"PasswordChangeDate", testPasswordChangeDate},
		{"PasswordState", testPasswordState},
		{"LoginRecorder", testLoginRecorder},
		{"Delete", testDelete},
		{"NoAliasing", testNoAliasing},
		{"SecretsNotInErrors", testSecrets},
		{"Groups", testGroups},
		{"Facts", testFacts},
		{"ConcurrentCreates", testConcurrentCreates},
		{"ConcurrentSameUsername", testConcurrentSameUsername},
		{"ConcurrentPasswords", testConcurrentPasswords},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := open(t)
			if f.Dir == nil || f.AddGroup == nil {
				t.Fatal("open returned a Fixture without Dir or AddGroup")
			}
			c.run(t, f)
		})
	}
}

var ctx = context.Background()

// newUser is a valid user to create: authentik's defaults, a username
// and a name.
func newUser(username string) directory.User {
	u := directory.DefaultUser()
	u.Username, u.Name = username, "User "+username
	return u
}

// create creates u and fails the test on an error.
func create(t *testing.T, d directory.Directory, u directory.User) directory.User {
	t.Helper()
	got, err := d.CreateUser(ctx, u)
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", u.Username, err)
	}
	return got
}

// addGroup adds a group and fails the test on an error.
func addGroup(t *testing.T, f Fixture, name string, parent *uuid.UUID, super bool, attrs map[string]any) directory.Group {
	t.Helper()
	g := directory.DefaultGroup()
	g.Name, g.Parent, g.IsSuperuser = name, parent, super
	if attrs != nil {
		g.Attributes = attrs
	}
	got, err := f.AddGroup(g)
	if err != nil {
		t.Fatalf("AddGroup(%q): %v", name, err)
	}
	if got.PK == uuid.Nil {
		t.Fatalf("AddGroup(%q) returned no pk", name)
	}
	return got
}

// read reads user pk and fails the test on an error.
func read(t *testing.T, d directory.Directory, pk int64) directory.User {
	t.Helper()
	u, err := d.User(ctx, pk)
	if err != nil {
		t.Fatalf("User(%d): %v", pk, err)
	}
	return u
}

// same fails the test unless got equals want.
func same(t *testing.T, what string, got, want directory.User) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// isNotFound fails the test unless err wraps ErrNotFound.
func isNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("%s: err = %v, want one wrapping ErrNotFound", what, err)
	}
}

// later waits until f.Dir's clock has moved.
func later(f Fixture) {
	if f.Advance != nil {
		f.Advance()
		return
	}
	time.Sleep(5 * time.Millisecond)
}

// date parses a DRF date-time the directory returned.
func date(t *testing.T, what, s string) time.Time {
	t.Helper()
	tm, ok := validate.ParseDateTime(s)
	if !ok {
		t.Fatalf("%s = %q, not a date-time", what, s)
	}
	return tm
}

func testCreateAssigns(t *testing.T, f Fixture) {
	in := newUser("alice")
	in.PK, in.UUID = 99, uuid.New()
	in.DateJoined, in.PasswordChangeDate = "2001-01-01T00:00:00Z", "2001-01-01T00:00:00Z"
	in.Email, in.Attributes = "alice@example.com", map[string]any{"k": "v"}
	a := create(t, f.Dir, in)
	if a.PK < 1 {
		t.Errorf("PK = %d, want >= 1", a.PK)
	}
	if a.UUID == uuid.Nil || a.UUID == in.UUID {
		t.Errorf("UUID = %s, want a new one (given %s)", a.UUID, in.UUID)
	}
	for what, s := range map[string]string{"DateJoined": a.DateJoined, "PasswordChangeDate": a.PasswordChangeDate} {
		if tm := date(t, what, s); tm.Equal(date(t, "given", in.DateJoined)) {
			t.Errorf("%s = %s, want the time of the create, not the given one", what, s)
		}
	}
	if a.Username != "alice" || a.Name != in.Name || a.Email != in.Email || a.Path != in.Path || a.Type != in.Type || !a.IsActive {
		t.Errorf("stored %+v, want the fields of %+v", a, in)
	}
	if !reflect.DeepEqual(a.Attributes, in.Attributes) {
		t.Errorf("Attributes = %v, want %v", a.Attributes, in.Attributes)
	}
	same(t, "User", read(t, f.Dir, a.PK), a)
	byUUID, err := f.Dir.UserByUUID(ctx, a.UUID)
	if err != nil {
		t.Fatalf("UserByUUID: %v", err)
	}
	same(t, "UserByUUID", byUUID, a)

	b := create(t, f.Dir, newUser("bob"))
	if b.PK == a.PK || b.UUID == a.UUID {
		t.Errorf("two users share pk or uuid: %d %s, %d %s", a.PK, a.UUID, b.PK, b.UUID)
	}
	_, err = f.Dir.User(ctx, b.PK+1000)
	isNotFound(t, "User(unknown)", err)
	_, err = f.Dir.UserByUUID(ctx, uuid.New())
	isNotFound(t, "UserByUUID(unknown)", err)
}

func testPKNeverReused(t *testing.T, f Fixture) {
	seen := map[int64]bool{}
	var last directory.User
	for i := range 3 {
		last = create(t, f.Dir, newUser(fmt.Sprint("user", i)))
		seen[last.PK] = true
	}
	// Delete the user with the highest pk, and one below it: neither pk
	// comes back.
	if err := f.Dir.DeleteUser(ctx, last.PK); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	for i := range 3 {
		u := create(t, f.Dir, newUser(fmt.Sprint("again", i)))
		if seen[u.PK] {
			t.Fatalf("pk %d reused", u.PK)
		}
		if u.PK <= last.PK {
			t.Errorf("pk %d after deleting pk %d: a sequence never goes back", u.PK, last.PK)
		}
		seen[u.PK] = true
	}
}

// find runs FindUser and returns the pk found, or 0 for ErrNotFound.
func find(t *testing.T, d directory.Directory, q directory.Find) int64 {
	t.Helper()
	u, err := d.FindUser(ctx, q)
	if errors.Is(err, directory.ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatalf("FindUser(%+v): %v", q, err)
	}
	return u.PK
}

var (
	byUsername = []directory.Field{directory.FieldUsername}
	byEmail    = []directory.Field{directory.FieldEmail}
	byUPN      = []directory.Field{directory.FieldUPN}
	byAll      = []directory.Field{directory.FieldUsername, directory.FieldEmail, directory.FieldUPN}
)

func testFindFields(t *testing.T, f Fixture) {
	a := newUser("Alice")
	a.Email, a.Attributes = "alice@example.com", map[string]any{"upn": "alice@corp.example"}
	alice := create(t, f.Dir, a)
	b := newUser("bob")
	b.Email, b.Attributes = "Bob@Example.com", map[string]any{"upn": 5.0}
	b.IsActive = false // inactive users are found
	bob := create(t, f.Dir, b)

	for _, c := range []struct {
		id     string
		fields []directory.Field
		exact  bool
		want   int64
	}{
		{"Alice", byUsername, false, alice.PK},
		{"alice", byUsername, false, alice.PK},
		{"ALICE", byUsername, false, alice.PK},
		{"alice", byUsername, true, 0},
		{"Alice", byUsername, true, alice.PK},
		{"alice@example.com", byEmail, true, alice.PK},
		{"ALICE@EXAMPLE.COM", byEmail, false, alice.PK},
		{"ALICE@EXAMPLE.COM", byEmail, true, 0},
		{"bob@example.com", byEmail, false, bob.PK},
		{"alice@corp.example", byUPN, true, alice.PK},
		{"Alice@Corp.Example", byUPN, false, alice.PK},
		{"Alice@Corp.Example", byUPN, true, 0},
		{"5", byUPN, false, 0}, // a upn that is not a string matches nothing
		// Only the fields asked for.
		{"alice@corp.example", byUsername, false, 0},
		{"alice@corp.example", byEmail, false, 0},
		{"alice", byEmail, false, 0},
		{"alice", nil, false, 0},
		// Any of the fields.
		{"bob", byAll, false, bob.PK},
		{"alice@corp.example", byAll, false, alice.PK},
		{"bob@example.com", []directory.Field{directory.FieldUsername, directory.FieldEmail}, false, bob.PK},
	} {
		q := directory.Find{Identifier: c.id, Fields: c.fields, CaseSensitive: c.exact}
		if got := find(t, f.Dir, q); got != c.want {
			t.Errorf("FindUser(%+v) = pk %d, want %d (0: ErrNotFound)", q, got, c.want)
		}
	}
	got, err := f.Dir.FindUser(ctx, directory.Find{Identifier: "bob", Fields: byUsername})
	if err != nil || got.IsActive || got.PK != bob.PK {
		t.Errorf("inactive bob: %+v, %v", got, err)
	}
	same(t, "FindUser", got, read(t, f.Dir, bob.PK))
}

func testFindLowestPK(t *testing.T, f Fixture) {
	// Two users match "carol" case-insensitively; the older wins even
	// though the younger matches exactly.
	old := create(t, f.Dir, newUser("Carol"))
	young := create(t, f.Dir, newUser("carol"))
	if got := find(t, f.Dir, directory.Find{Identifier: "carol", Fields: byUsername}); got != old.PK {
		t.Errorf("two matches: pk %d, want the lowest, %d", got, old.PK)
	}
	if got := find(t, f.Dir, directory.Find{Identifier: "carol", Fields: byUsername, CaseSensitive: true}); got != young.PK {
		t.Errorf("case-sensitive: pk %d, want %d", got, young.PK)
	}
	// The lowest pk wins across fields, whatever their order in Fields:
	// one user's email is another's username.
	x := newUser("xavier")
	x.Email = "dave@example.com"
	xavier := create(t, f.Dir, x)
	dave := create(t, f.Dir, newUser("dave@example.com"))
	for _, fields := range [][]directory.Field{
		{directory.FieldUsername, directory.FieldEmail},
		{directory.FieldEmail, directory.FieldUsername},
	} {
		if got := find(t, f.Dir, directory.Find{Identifier: "dave@example.com", Fields: fields}); got != xavier.PK {
			t.Errorf("fields %v: pk %d, want %d (not %d)", fields, got, xavier.PK, dave.PK)
		}
	}
	// Many users with one email: the lowest pk.
	var first int64
	for i := range 4 {
		u := newUser(fmt.Sprint("shared", i))
		u.Email = "shared@example.com"
		if pk := create(t, f.Dir, u).PK; i == 0 {
			first = pk
		}
	}
	if got := find(t, f.Dir, directory.Find{Identifier: "SHARED@example.com", Fields: byEmail}); got != first {
		t.Errorf("shared email: pk %d, want %d", got, first)
	}
	// After the lowest is deleted, the next.
	if err := f.Dir.DeleteUser(ctx, old.PK); err != nil {
		t.Fatal(err)
	}
	if got := find(t, f.Dir, directory.Find{Identifier: "CAROL", Fields: byUsername}); got != young.PK {
		t.Errorf("after delete: pk %d, want %d", got, young.PK)
	}
}

func testFindNobody(t *testing.T, f Fixture) {
	// No email and an empty upn: an empty identifier must not find it.
	u := newUser("erin")
	u.Attributes = map[string]any{"upn": ""}
	create(t, f.Dir, u)
	for _, q := range []directory.Find{
		{Identifier: "", Fields: byAll},
		{Identifier: "", Fields: byEmail},
		{Identifier: "", Fields: byUPN, CaseSensitive: true},
		{Identifier: "nobody", Fields: byAll},
		{Identifier: "erin ", Fields: byAll},
	} {
		_, err := f.Dir.FindUser(ctx, q)
		isNotFound(t, fmt.Sprintf("FindUser(%+v)", q), err)
	}
}

func testUsernameTaken(t *testing.T, f Fixture) {
	alice := create(t, f.Dir, newUser("alice"))
	Alice := create(t, f.Dir, newUser("Alice")) // compared exactly: two users
	if Alice.PK == alice.PK {
		t.Fatal("Alice and alice are one user")
	}
	dup := newUser("alice")
	dup.Email = "someone.else@example.com"
	_, err := f.Dir.CreateUser(ctx, dup)
	if !errors.Is(err, directory.ErrUsernameTaken) {
		t.Errorf("CreateUser(taken): err = %v, want ErrUsernameTaken", err)
	}
	if got := find(t, f.Dir, directory.Find{Identifier: dup.Email, Fields: byEmail}); got != 0 {
		t.Errorf("a refused create wrote user %d", got)
	}
	// Update onto a taken name fails and writes nothing.
	want := read(t, f.Dir, Alice.PK)
	upd := want
	upd.Username, upd.Name = "alice", "Renamed"
	if _, err := f.Dir.UpdateUser(ctx, upd); !errors.Is(err, directory.ErrUsernameTaken) {
		t.Errorf("UpdateUser(taken): err = %v, want ErrUsernameTaken", err)
	}
	same(t, "after a refused update", read(t, f.Dir, Alice.PK), want)
	// A user keeps its own name.
	upd = want
	upd.Name = "Alice Again"
	got, err := f.Dir.UpdateUser(ctx, upd)
	if err != nil || got.Name != "Alice Again" {
		t.Errorf("UpdateUser(own name): %+v, %v", got, err)
	}
	// A deleted user's name is free again.
	if err := f.Dir.DeleteUser(ctx, alice.PK); err != nil {
		t.Fatal(err)
	}
	create(t, f.Dir, newUser("alice"))
}

// fieldErr fails the test unless err is a *validate.Error with msg on
// field.
func fieldErr(t *testing.T, what string, err error, field, msg string) {
	t.Helper()
	var ve *validate.Error
	if !errors.As(err, &ve) {
		t.Errorf("%s: err = %v, want a *validate.Error", what, err)
		return
	}
	if !slices.Contains(ve.Fields[field], msg) {
		t.Errorf("%s: %v, want %q on %s", what, ve.Fields, msg, field)
	}
}

func testInvalid(t *testing.T, f Fixture) {
	long := strings.Repeat("x", directory.MaxUsernameLength+1)
	for _, c := range []struct {
		name        string
		edit        func(*directory.User)
		field, want string
	}{
		{"blank username", func(u *directory.User) { u.Username = "" }, "username", validate.MsgBlank},
		{"long username", func(u *directory.User) { u.Username = long }, "username", validate.MaxLength(directory.MaxUsernameLength)},
		{"bad email", func(u *directory.User) { u.Email = "not an email" }, "email", validate.MsgEmail},
		{"path slashes", func(u *directory.User) { u.Path = "/users" }, "path", directory.MsgPathSlashes},
		{"path segment", func(u *directory.User) { u.Path = "a//b" }, "path", directory.MsgPathEmptySegment},
	} {
		// A user with one invalid field, and a username, an email and a
		// upn to look for it by.
		u := newUser("valid")
		u.Email = "valid@example.com"
		u.Attributes = map[string]any{"upn": "valid@corp.example"}
		c.edit(&u)
		_, err := f.Dir.CreateUser(ctx, u)
		fieldErr(t, "CreateUser("+c.name+")", err, c.field, c.want)
		for _, id := range []string{"valid", "valid@example.com", "valid@corp.example", u.Username, u.Email} {
			if got := find(t, f.Dir, directory.Find{Identifier: id, Fields: byAll}); got != 0 {
				t.Fatalf("CreateUser(%s) wrote user %d", c.name, got)
			}
		}
	}
	stored := create(t, f.Dir, newUser("valid"))
	upd := stored
	upd.Path, upd.Name = "/users", "changed"
	_, err := f.Dir.UpdateUser(ctx, upd)
	fieldErr(t, "UpdateUser(path)", err, "path", directory.MsgPathSlashes)
	same(t, "after a refused update", read(t, f.Dir, stored.PK), stored)
}

func testUnknownGroup(t *testing.T, f Fixture) {
	g := addGroup(t, f, "known", nil, false, nil)
	u := newUser("gina")
	u.Groups = []uuid.UUID{g.PK, uuid.New()}
	_, err := f.Dir.CreateUser(ctx, u)
	isNotFound(t, "CreateUser(unknown group)", err)
	if got := find(t, f.Dir, directory.Find{Identifier: "gina", Fields: byUsername}); got != 0 {
		t.Fatalf("a refused create wrote user %d", got)
	}
	u.Groups = []uuid.UUID{g.PK}
	stored := create(t, f.Dir, u)
	if !slices.Equal(stored.Groups, []uuid.UUID{g.PK}) {
		t.Errorf("Groups = %v, want [%s]", stored.Groups, g.PK)
	}
	upd := stored
	upd.Groups, upd.Name = []uuid.UUID{uuid.New()}, "changed"
	_, err = f.Dir.UpdateUser(ctx, upd)
	isNotFound(t, "UpdateUser(unknown group)", err)
	same(t, "after a refused update", read(t, f.Dir, stored.PK), stored)
	_, err = f.Dir.UpdateUser(ctx, directory.User{PK: stored.PK + 1000, Username: "x", Path: "users", Type: directory.UserTypeInternal})
	isNotFound(t, "UpdateUser(unknown user)", err)
}

func testUpdateKeeps(t *testing.T, f Fixture) {
	g := addGroup(t, f, "staff", nil, false, nil)
	stored := create(t, f.Dir, newUser("hank"))
	later(f)
	upd := stored
	upd.Username, upd.Name, upd.Email = "henry", "Henry", "henry@example.com"
	upd.IsActive, upd.Path, upd.Type = false, "users/staff", directory.UserTypeExternal
	upd.Groups = []uuid.UUID{g.PK}
	upd.Attributes = map[string]any{"nested": map[string]any{"k": "v"}}
	last := "2024-05-06T07:08:09.123456Z"
	upd.LastLogin = &last
	upd.UUID, upd.DateJoined, upd.PasswordChangeDate = uuid.New(), "2001-01-01T00:00:00Z", "2001-01-01T00:00:00Z"
	got, err := f.Dir.UpdateUser(ctx, upd)
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	want := upd
	want.UUID, want.DateJoined, want.PasswordChangeDate = stored.UUID, stored.DateJoined, stored.PasswordChangeDate
	same(t, "UpdateUser", got, want)
	same(t, "User after update", read(t, f.Dir, stored.PK), want)
	if find(t, f.Dir, directory.Find{Identifier: "hank", Fields: byUsername, CaseSensitive: true}) != 0 {
		t.Error("the old username still finds the user")
	}
}

func testPasswords(t *testing.T, f Fixture) {
	u := create(t, f.Dir, newUser("ivy"))
	check := func(raw string, want bool) {
		t.Helper()
		ok, err := f.Dir.CheckPassword(ctx, u.PK, raw)
		if err != nil || ok != want {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v, nil", raw, ok, err, want)
		}
	}
	// A new user's password is unusable.
	check("", false)
	check("anything", false)
	pw := "correct horse battery staple"
	if err := f.Dir.SetPassword(ctx, u.PK, &pw); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	check(pw, true)
	check(pw, true) // a check changes nothing that fails the next
	check("Correct horse battery staple", false)
	check("", false)
	other := "another one"
	if err := f.Dir.SetPassword(ctx, u.PK, &other); err != nil {
		t.Fatal(err)
	}
	check(pw, false)
	check(other, true)
	if err := f.Dir.SetPassword(ctx, u.PK, nil); err != nil {
		t.Fatalf("SetPassword(nil): %v", err)
	}
	check(other, false)
	check("", false)
	// One user's password is not another's.
	v := create(t, f.Dir, newUser("vera"))
	if err := f.Dir.SetPassword(ctx, u.PK, &pw); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.Dir.CheckPassword(ctx, v.PK, pw); ok || err != nil {
		t.Errorf("vera checks ivy's password: %v, %v", ok, err)
	}
	_, err := f.Dir.CheckPassword(ctx, v.PK+1000, pw)
	isNotFound(t, "CheckPassword(unknown)", err)
	isNotFound(t, "SetPassword(unknown)", f.Dir.SetPassword(ctx, v.PK+1000, &pw))
}

func testPasswordState(t *testing.T, f Fixture) {
	ps, ok := f.Dir.(directory.PasswordState)
	if !ok {
		t.Skip("the directory does not implement directory.PasswordState")
	}
	u := create(t, f.Dir, newUser("ursula"))
	usable := func(want bool) {
		t.Helper()
		got, err := ps.HasUsablePassword(ctx, u.PK)
		if err != nil || got != want {
			t.Errorf("HasUsablePassword = %v, %v; want %v, nil", got, err, want)
		}
	}
	usable(false)
	pw := "correct horse battery staple"
	if err := f.Dir.SetPassword(ctx, u.PK, &pw); err != nil {
		t.Fatal(err)
	}
	usable(true)
	empty := ""
	if err := f.Dir.SetPassword(ctx, u.PK, &empty); err != nil {
		t.Fatal(err)
	}
	usable(true) // an empty password is a password to Django
	if err := f.Dir.SetPassword(ctx, u.PK, nil); err != nil {
		t.Fatal(err)
	}
	usable(false)
	_, err := ps.HasUsablePassword(ctx, u.PK+1000)
	isNotFound(t, "HasUsablePassword(unknown)", err)
}

func testLoginRecorder(t *testing.T, f Fixture) {
	lr, ok := f.Dir.(directory.LoginRecorder)
	if !ok {
		t.Skip("the directory does not implement directory.LoginRecorder")
	}
	nu := newUser("lena")
	nu.Name = "Lena"
	u := create(t, f.Dir, nu)
	other := create(t, f.Dir, newUser("otto"))
	at := time.Date(2026, 3, 4, 5, 6, 7, 8000, time.FixedZone("x", 3600))
	// Two users at once, and one the directory does not hold (skipped).
	if err := lr.RecordLogins(ctx, map[int64]time.Time{u.PK: at, other.PK: at.Add(time.Second), u.PK + 1000: at}); err != nil {
		t.Fatal(err)
	}
	got := read(t, f.Dir, u.PK)
	if got.LastLogin == nil || *got.LastLogin != "2026-03-04T04:06:07.000008Z" {
		t.Errorf("LastLogin = %v, want 2026-03-04T04:06:07.000008Z", got.LastLogin)
	}
	got.LastLogin = u.LastLogin
	if !reflect.DeepEqual(got, u) {
		t.Errorf("RecordLogins changed more than LastLogin:\n%+v\nwas\n%+v", got, u)
	}
	if o := read(t, f.Dir, other.PK); o.LastLogin == nil || *o.LastLogin != "2026-03-04T04:06:08.000008Z" {
		t.Errorf("the other user's LastLogin = %v, want 2026-03-04T04:06:08.000008Z", o.LastLogin)
	}
	if _, err := f.Dir.User(ctx, u.PK+1000); err == nil {
		t.Error("RecordLogins made a user it did not hold")
	}
}

func testPasswordChangeDate(t *testing.T, f Fixture) {
	u := create(t, f.Dir, newUser("jo"))
	prev := date(t, "PasswordChangeDate", u.PasswordChangeDate)
	pw := "a password"
	for _, raw := range []*string{&pw, nil} {
		later(f)
		if err := f.Dir.SetPassword(ctx, u.PK, raw); err != nil {
			t.Fatal(err)
		}
		got := read(t, f.Dir, u.PK)
		next := date(t, "PasswordChangeDate", got.PasswordChangeDate)
		if !next.After(prev) {
			t.Errorf("SetPassword(nil=%v): PasswordChangeDate %s, want after %s", raw == nil, got.PasswordChangeDate, prev.Format(time.RFC3339Nano))
		}
		if got.DateJoined != u.DateJoined {
			t.Errorf("SetPassword moved DateJoined: %s, was %s", got.DateJoined, u.DateJoined)
		}
		prev = next
	}
	// A check, an update and a failed set do not move it.
	if err := f.Dir.SetPassword(ctx, u.PK, &pw); err != nil {
		t.Fatal(err)
	}
	want := read(t, f.Dir, u.PK)
	later(f)
	if ok, err := f.Dir.CheckPassword(ctx, u.PK, pw); !ok || err != nil {
		t.Fatalf("CheckPassword: %v, %v", ok, err)
	}
	if _, err := f.Dir.CheckPassword(ctx, u.PK, "wrong"); err != nil {
		t.Fatal(err)
	}
	upd := want
	upd.Name = "Jo"
	if _, err := f.Dir.UpdateUser(ctx, upd); err != nil {
		t.Fatal(err)
	}
	if got := read(t, f.Dir, u.PK); got.PasswordChangeDate != want.PasswordChangeDate {
		t.Errorf("PasswordChangeDate moved to %s without SetPassword (was %s)", got.PasswordChangeDate, want.PasswordChangeDate)
	}
}

func testDelete(t *testing.T, f Fixture) {
	keep := create(t, f.Dir, newUser("keep"))
	u := newUser("kim")
	u.Email = "kim@example.com"
	gone := create(t, f.Dir, u)
	pw := "kim's password"
	if err := f.Dir.SetPassword(ctx, gone.PK, &pw); err != nil {
		t.Fatal(err)
	}
	if err := f.Dir.DeleteUser(ctx, gone.PK); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := f.Dir.User(ctx, gone.PK)
	isNotFound(t, "User", err)
	_, err = f.Dir.UserByUUID(ctx, gone.UUID)
	isNotFound(t, "UserByUUID", err)
	_, err = f.Dir.FindUser(ctx, directory.Find{Identifier: "kim@example.com", Fields: byAll})
	isNotFound(t, "FindUser", err)
	_, err = f.Dir.CheckPassword(ctx, gone.PK, pw)
	isNotFound(t, "CheckPassword", err)
	isNotFound(t, "SetPassword", f.Dir.SetPassword(ctx, gone.PK, &pw))
	_, err = f.Dir.UpdateUser(ctx, gone)
	isNotFound(t, "UpdateUser", err)
	isNotFound(t, "DeleteUser again", f.Dir.DeleteUser(ctx, gone.PK))
	same(t, "the other user", read(t, f.Dir, keep.PK), keep)
}

// attrs is a fresh nested attributes value.
func attrs() map[string]any {
	return map[string]any{"nested": map[string]any{"k": "v"}, "list": []any{"a"}}
}

// scribble changes every map and slice reachable from u.
func scribble(u *directory.User) {
	u.Attributes["new"] = "x"
	u.Attributes["nested"].(map[string]any)["k"] = "changed"
	u.Attributes["list"].([]any)[0] = "changed"
	if len(u.Groups) > 0 {
		u.Groups[0] = uuid.Nil
	}
	if u.LastLogin != nil {
		*u.LastLogin = "changed"
	}
}

func testNoAliasing(t *testing.T, f Fixture) {
	g := addGroup(t, f, "g", nil, false, attrs())
	in := newUser("lee")
	in.Attributes, in.Groups = attrs(), []uuid.UUID{g.PK}
	last := "2024-05-06T07:08:09Z"
	in.LastLogin = &last
	stored := create(t, f.Dir, in)
	want := read(t, f.Dir, stored.PK)
	scribble(&in)
	same(t, "after changing the value given to CreateUser", read(t, f.Dir, stored.PK), want)
	scribble(&stored)
	same(t, "after changing CreateUser's result", read(t, f.Dir, want.PK), want)

	for name, get := range map[string]func() (directory.User, error){
		"User":       func() (directory.User, error) { return f.Dir.User(ctx, want.PK) },
		"UserByUUID": func() (directory.User, error) { return f.Dir.UserByUUID(ctx, want.UUID) },
		"FindUser": func() (directory.User, error) {
			return f.Dir.FindUser(ctx, directory.Find{Identifier: "lee", Fields: byUsername})
		},
	} {
		u, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		scribble(&u)
		same(t, "after changing "+name+"'s result", read(t, f.Dir, want.PK), want)
	}

	upd := read(t, f.Dir, want.PK)
	upd.Name = "Lee"
	got, err := f.Dir.UpdateUser(ctx, upd)
	if err != nil {
		t.Fatal(err)
	}
	want = read(t, f.Dir, want.PK)
	scribble(&upd)
	same(t, "after changing the value given to UpdateUser", read(t, f.Dir, want.PK), want)
	scribble(&got)
	same(t, "after changing UpdateUser's result", read(t, f.Dir, want.PK), want)

	gotG, err := f.Dir.Group(ctx, g.PK)
	if err != nil {
		t.Fatal(err)
	}
	gotG.Attributes["nested"].(map[string]any)["k"] = "changed"
	gotG.Attributes["new"] = "x"
	again, err := f.Dir.Group(ctx, g.PK)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Attributes, attrs()) {
		t.Errorf("after changing Group's result: attributes %v, want %v", again.Attributes, attrs())
	}
}

func testSecrets(t *testing.T, f Fixture) {
	const secret = "Zebra-Quartz-7341-Secret"
	pw := secret
	u := create(t, f.Dir, newUser("mo"))
	var errs []error
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	note(f.Dir.SetPassword(ctx, u.PK+1000, &pw))
	_, err := f.Dir.CheckPassword(ctx, u.PK+1000, pw)
	note(err)
	_, err = f.Dir.FindUser(ctx, directory.Find{Identifier: secret, Fields: byAll})
	note(err)
	_, err = f.Dir.FindUser(ctx, directory.Find{Identifier: secret, Fields: byAll, CaseSensitive: true})
	note(err)
	if err := f.Dir.SetPassword(ctx, u.PK, &pw); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	for _, raw := range []string{secret + "x", secret} {
		_, err = f.Dir.CheckPassword(ctx, u.PK, raw)
		note(err)
	}
	if len(errs) < 4 {
		t.Fatalf("%d errors, want at least 4 (unknown users and identifiers)", len(errs))
	}
	for _, err := range errs {
		if s := fmt.Sprintf("%v %+v %#v", err, err, err); strings.Contains(strings.ToLower(s), strings.ToLower(secret)) {
			t.Errorf("an error contains the password: %s", s)
		}
	}
	got := read(t, f.Dir, u.PK)
	if s := fmt.Sprintf("%v %+v %#v", got, got, got); strings.Contains(s, secret) || strings.Contains(s, "pbkdf2") || strings.Contains(s, "argon2") {
		t.Errorf("a user shows its password or hash: %s", s)
	}
}

func testGroups(t *testing.T, f Fixture) {
	parent := addGroup(t, f, "parent", nil, true, map[string]any{"k": "v"})
	child := addGroup(t, f, "child", &parent.PK, false, nil)
	got, err := f.Dir.Group(ctx, child.PK)
	if err != nil {
		t.Fatalf("Group: %v", err)
	}
	if got.PK != child.PK || got.Name != "child" || got.Parent == nil || *got.Parent != parent.PK || got.IsSuperuser {
		t.Errorf("Group(child) = %+v", got)
	}
	got, err = f.Dir.Group(ctx, parent.PK)
	if err != nil || !got.IsSuperuser || got.Parent != nil || !reflect.DeepEqual(got.Attributes, map[string]any{"k": "v"}) {
		t.Errorf("Group(parent) = %+v, %v", got, err)
	}
	_, err = f.Dir.Group(ctx, uuid.New())
	isNotFound(t, "Group(unknown)", err)
}

func testFacts(t *testing.T, f Fixture) {
	// Names sort against the levels: mid < leaf < root.
	root := addGroup(t, f, "c-root", nil, true, map[string]any{"color": "root", "list": []any{"root"}, "deep": map[string]any{"root": true}})
	mid := addGroup(t, f, "a-mid", &root.PK, false, map[string]any{"color": "mid", "list": []any{"mid"}, "mid": true})
	leaf := addGroup(t, f, "b-leaf", &mid.PK, false, map[string]any{"color": "leaf", "list": []any{"leaf"}, "deep": map[string]any{"leaf": true}})
	other := addGroup(t, f, "d-other", nil, false, map[string]any{"color": "other"})

	u := newUser("nia")
	u.Groups = []uuid.UUID{leaf.PK}
	u.Attributes = map[string]any{"list": []any{"user"}, "own": "yes"}
	nia := create(t, f.Dir, u)
	facts, err := directory.FactsOf(ctx, f.Dir, nia)
	if err != nil {
		t.Fatalf("FactsOf: %v", err)
	}
	if want := []uuid.UUID{leaf.PK, mid.PK, root.PK}; !slices.Equal(facts.Groups, want) {
		t.Errorf("Groups = %v, want leaf, mid, root %v", facts.Groups, want)
	}
	if !facts.Superuser {
		t.Error("a member of a group below a superuser group is not a superuser")
	}
	wantAttrs := map[string]any{
		"color": "root", // the last group by name, not the nearest
		"list":  []any{"mid", "leaf", "root", "user"},
		"deep":  map[string]any{"leaf": true, "root": true},
		"mid":   true,
		"own":   "yes",
	}
	if !reflect.DeepEqual(facts.Attributes, wantAttrs) {
		t.Errorf("Attributes = %v, want %v", facts.Attributes, wantAttrs)
	}

	u = newUser("omar")
	u.Groups = []uuid.UUID{other.PK, mid.PK}
	omar := create(t, f.Dir, u)
	facts, err = directory.FactsOf(ctx, f.Dir, omar)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uuid.UUID{other.PK, mid.PK, root.PK}; !slices.Equal(facts.Groups, want) || !facts.Superuser {
		t.Errorf("omar: Groups = %v (want %v), Superuser %v", facts.Groups, want, facts.Superuser)
	}
	if facts.Attributes["color"] != "other" {
		t.Errorf("omar: color = %v, want other (the last by name)", facts.Attributes["color"])
	}

	u = newUser("pat")
	u.Groups = []uuid.UUID{other.PK}
	pat := create(t, f.Dir, u)
	facts, err = directory.FactsOf(ctx, f.Dir, pat)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(facts.Groups, []uuid.UUID{other.PK}) || facts.Superuser {
		t.Errorf("pat: Groups = %v, Superuser %v; want [d-other], false", facts.Groups, facts.Superuser)
	}

	quinn := create(t, f.Dir, newUser("quinn"))
	facts, err = directory.FactsOf(ctx, f.Dir, quinn)
	if err != nil || len(facts.Groups) != 0 || facts.Superuser || !reflect.DeepEqual(facts.Attributes, map[string]any{}) {
		t.Errorf("no groups: %+v, %v", facts, err)
	}
	// The facts share nothing with the directory.
	facts, _ = directory.FactsOf(ctx, f.Dir, nia)
	facts.Attributes["deep"].(map[string]any)["root"] = "changed"
	if g, err := f.Dir.Group(ctx, root.PK); err != nil || g.Attributes["deep"].(map[string]any)["root"] != true {
		t.Errorf("changing the facts changed the group: %+v, %v", g, err)
	}
}

func testConcurrentCreates(t *testing.T, f Fixture) {
	const workers, each = 4, 5
	var wg sync.WaitGroup
	got := make([][]directory.User, workers)
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				u, err := f.Dir.CreateUser(ctx, newUser(fmt.Sprintf("w%d-%d", w, i)))
				if err != nil {
					errs[w] = err
					return
				}
				got[w] = append(got[w], u)
				if _, err := f.Dir.FindUser(ctx, directory.Find{Identifier: u.Username, Fields: byUsername}); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	pks, uuids := map[int64]bool{}, map[uuid.UUID]bool{}
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("worker %d: %v", w, errs[w])
		}
		for _, u := range got[w] {
			if pks[u.PK] || uuids[u.UUID] {
				t.Errorf("pk %d or uuid %s given twice", u.PK, u.UUID)
			}
			pks[u.PK], uuids[u.UUID] = true, true
			same(t, "concurrently created user", read(t, f.Dir, u.PK), u)
		}
	}
	if len(pks) != workers*each {
		t.Errorf("%d users, want %d", len(pks), workers*each)
	}
}

func testConcurrentSameUsername(t *testing.T, f Fixture) {
	const workers = 4
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[w] = f.Dir.CreateUser(ctx, newUser("contested"))
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, directory.ErrUsernameTaken):
			t.Errorf("err = %v, want nil or ErrUsernameTaken", err)
		}
	}
	if won != 1 {
		t.Errorf("%d creates of one username succeeded, want 1", won)
	}
}

// testConcurrentPasswords sets and checks the passwords of several users
// at once, with a check of a wrong password beside: each user's own
// password verifies right after it is set, a wrong one never does.
func testConcurrentPasswords(t *testing.T, f Fixture) {
	const workers, each = 3, 3
	users := make([]directory.User, workers)
	for w := range users {
		users[w] = create(t, f.Dir, newUser(fmt.Sprintf("pw%d", w)))
	}
	var wg sync.WaitGroup
	errs := make([]error, workers+1)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				pw := fmt.Sprintf("secret-%d-%d", w, i)
				if err := f.Dir.SetPassword(ctx, users[w].PK, &pw); err != nil {
					errs[w] = err
					return
				}
				if ok, err := f.Dir.CheckPassword(ctx, users[w].PK, pw); !ok || err != nil {
					errs[w] = fmt.Errorf("user %d: its password just set: %v, %v", users[w].PK, ok, err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range workers * each {
			if ok, err := f.Dir.CheckPassword(ctx, users[i%workers].PK, "wrong"); ok || err != nil {
				errs[workers] = fmt.Errorf("a wrong password: %v, %v", ok, err)
				return
			}
		}
	}()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
