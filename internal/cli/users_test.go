package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// fakeConsole is standard input for the users commands: a terminal that
// answers each password prompt with the next of lines, or, when not a
// terminal, the reader stdin.
type fakeConsole struct {
	terminal bool
	lines    []string
	prompts  []string // the prompts answered
	stdin    io.Reader
	// waiting, when set, makes ReadPasswords close it and wait for its
	// context to end.
	waiting chan struct{}
}

func (f *fakeConsole) IsTerminal() bool { return f.terminal }

func (f *fakeConsole) ReadPasswords(ctx context.Context, prompts ...string) ([]string, error) {
	if f.waiting != nil {
		close(f.waiting)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	var out []string
	for _, p := range prompts {
		if len(f.lines) == 0 {
			return nil, errInterrupted
		}
		f.prompts = append(f.prompts, p)
		out, f.lines = append(out, f.lines[0]), f.lines[1:]
	}
	return out, nil
}

func (f *fakeConsole) Read(p []byte) (int, error) {
	if f.stdin == nil {
		return 0, io.EOF
	}
	return f.stdin.Read(p)
}

// terminal answers the prompts with lines.
func terminal(lines ...string) *fakeConsole { return &fakeConsole{terminal: true, lines: lines} }

// piped is a standard input that is no terminal and holds s.
func piped(s string) *fakeConsole { return &fakeConsole{stdin: strings.NewReader(s)} }

// dirFixture is a bbolt file and the store options the commands open it
// with: a cheap password policy and a clock that moves a second per
// reading.
type dirFixture struct {
	db   string
	mu   sync.Mutex
	now  time.Time
	opts store.Options
}

func newDirFixture(t *testing.T) *dirFixture {
	t.Helper()
	f := &dirFixture{db: filepath.Join(t.TempDir(), "d.db"), now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	f.opts = store.Options{NoSync: true, Timeout: 50 * time.Millisecond, Passwords: password.Policy{Iterations: 1000}, Now: func() time.Time {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.now = f.now.Add(time.Second)
		return f.now
	}}
	return f
}

// run runs the command line args (without "-db", which it adds after the
// subcommand) with standard input in.
func (f *dirFixture) run(t *testing.T, in console, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if in == nil {
		in = piped("")
	}
	full := append([]string{args[0], args[1], "-db", f.db}, args[2:]...)
	var o, e bytes.Buffer
	code = runIn(context.Background(), full, &dirEnv{in: in, stdout: &o, stderr: &e, opts: f.opts})
	return code, o.String(), e.String()
}

// open opens the file, to look at what the commands wrote.
func (f *dirFixture) open(t *testing.T) *store.Store {
	t.Helper()
	opts := f.opts
	s, err := store.Open(f.db, &opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// users returns the stored users by username, closing the store after.
func (f *dirFixture) users(t *testing.T) map[string]directory.User {
	t.Helper()
	s := f.open(t)
	defer s.Close()
	out := map[string]directory.User{}
	err := s.View(context.Background(), func(tx *store.Tx) error {
		us, err := listAll(tx, store.Users, "")
		for _, u := range us {
			out[u.Username] = u.User
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkPassword reports whether raw is the password of user pk.
func (f *dirFixture) checkPassword(t *testing.T, pk int64, raw string) bool {
	t.Helper()
	s := f.open(t)
	defer s.Close()
	ok, err := s.CheckPassword(context.Background(), pk, raw)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// users add on a terminal: two prompts without echo, the user created in
// its groups with the password, which no output shows.
func TestUsersAddTerminal(t *testing.T) {
	f := newDirFixture(t)
	if code, _, errs := f.run(t, nil, "groups", "add", "staff"); code != exitOK {
		t.Fatalf("groups add: %d %s", code, errs)
	}
	in := terminal("s3cret pw", "s3cret pw")
	code, out, errs := f.run(t, in, "users", "add", "-username", "alice", "-name", "Alice", "-email", "alice@example.com", "-group", "staff")
	if code != exitOK || out != "created user alice (pk 1)\n" {
		t.Fatalf("users add: %d %q %q", code, out, errs)
	}
	if strings.Join(in.prompts, "|") != "Password: |Password (again): " || errs != "" {
		t.Errorf("prompts %q, stderr %q", in.prompts, errs)
	}
	if strings.Contains(out+errs, "s3cret") {
		t.Errorf("the password was echoed: %q %q", out, errs)
	}
	u := f.users(t)["alice"]
	if u.Name != "Alice" || u.Email != "alice@example.com" || len(u.Groups) != 1 {
		t.Errorf("stored %+v", u)
	}
	if !f.checkPassword(t, 1, "s3cret pw") || f.checkPassword(t, 1, "s3cret") {
		t.Error("the stored password is not the one typed")
	}
}

// A refused add writes nothing: mistyped or empty passwords, a taken
// username (said before any prompt), authentik's field messages, an
// unknown group.
func TestUsersAddRefused(t *testing.T) {
	f := newDirFixture(t)
	if code, _, errs := f.run(t, nil, "users", "add", "-username", "alice", "-no-password"); code != exitOK {
		t.Fatalf("users add: %d %s", code, errs)
	}
	for _, c := range []struct {
		name  string
		in    *fakeConsole
		args  []string
		code  int
		msg   string
		reads int // prompts answered
	}{
		{"mismatch", terminal("one", "two"), []string{"-username", "bob"}, exitInvalid, "the passwords do not match; nothing was written", 2},
		{"empty on the terminal", terminal("", ""), []string{"-username", "bob"}, exitInvalid, "the password is empty", 2},
		{"Ctrl-C on the terminal", terminal("x"), []string{"-username", "bob"}, exitInvalid, "interrupted; nothing was written", 1},
		{"taken username", terminal("pw", "pw"), []string{"-username", "alice"}, exitInvalid, "validation failed; username: This field must be unique.", 0},
		{"blank username", terminal("pw", "pw"), []string{"-username", ""}, exitInvalid, "username: This field may not be blank.", 0},
		{"bad email", terminal("pw", "pw"), []string{"-username", "bob", "-email", "nope"}, exitInvalid, "email: Enter a valid email address.", 0},
		{"long username", terminal("pw", "pw"), []string{"-username", strings.Repeat("b", 151)}, exitInvalid, "username: Ensure this field has no more than 150 characters.", 0},
		{"unknown group", terminal("pw", "pw"), []string{"-username", "bob", "-group", "nobody"}, exitInvalid, `no group with name or pk "nobody"`, 0},
		{"no standard input", piped(""), []string{"-username", "bob"}, exitInvalid, "no password on standard input", 0},
		{"empty line", piped("\nsecond\n"), []string{"-username", "bob"}, exitInvalid, "the password is empty", 0},
		{"not UTF-8", piped("\xff\xfe\n"), []string{"-username", "bob"}, exitInvalid, "not valid UTF-8", 0},
		{"too long", piped(strings.Repeat("x", maxPasswordLen+1) + "\n"), []string{"-username", "bob"}, exitInvalid, "longer than 4096 bytes", 0},
		{"unreadable file", terminal(), []string{"-username", "bob", "-password-file", filepath.Join(t.TempDir(), "missing")}, exitError, "cannot read the password", 0},
		{"no -username", terminal(), nil, exitUsage, "-username is required", 0},
		{"both password flags", terminal(), []string{"-username", "bob", "-no-password", "-password-file", "x"}, exitUsage, "exclude each other", 0},
		{"a password flag", terminal(), []string{"-username", "bob", "-password", "x"}, exitUsage, "flag provided but not defined: -password", 0},
		{"bad -o", terminal(), []string{"-username", "bob", "-o", "yaml"}, exitUsage, "usage: authflow users add", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := f.run(t, c.in, append([]string{"users", "add"}, c.args...)...)
			if code != c.code || !strings.Contains(errs, c.msg) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", code, out, errs, c.code, c.msg)
			}
			if len(c.in.prompts) != c.reads {
				t.Errorf("%d prompts answered, want %d", len(c.in.prompts), c.reads)
			}
			if us := f.users(t); len(us) != 1 {
				t.Errorf("users after a refused add: %v", us)
			}
		})
	}
}

// A password comes from the first line of -password-file or of standard
// input (a line ending "\r\n" too); -no-password leaves none usable.
func TestUsersAddPasswordSources(t *testing.T) {
	f := newDirFixture(t)
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("from file\r\nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		user string
		in   *fakeConsole
		args []string
		pw   string
	}{
		{"file", terminal(), []string{"-password-file", file}, "from file"},
		{"piped", piped("piped pw\nmore"), nil, "piped pw"},
		{"no-newline", piped("last line"), nil, "last line"},
		{"none", terminal(), []string{"-no-password"}, ""},
	} {
		code, out, errs := f.run(t, c.in, append([]string{"users", "add", "-username", c.user}, c.args...)...)
		if code != exitOK || len(c.in.prompts) != 0 {
			t.Fatalf("%s: exit %d, prompts %q, %q %q", c.user, code, c.in.prompts, out, errs)
		}
		if c.pw == "" && !strings.HasSuffix(out, "without a usable password\n") {
			t.Errorf("%s: %q", c.user, out)
		}
		pk := f.users(t)[c.user].PK
		s := f.open(t)
		err := s.View(context.Background(), func(tx *store.Tx) error {
			usable, err := tx.HasUsablePassword(pk)
			if usable != (c.pw != "") {
				t.Errorf("%s: usable %v", c.user, usable)
			}
			return err
		})
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if c.pw != "" && !f.checkPassword(t, pk, c.pw) {
			t.Errorf("%s: the password is not %q", c.user, c.pw)
		}
	}
}

// users list: a table by username, quoting what a terminal would
// interpret; -o json is authentik's representation, without any hash;
// -search narrows.
func TestUsersList(t *testing.T) {
	f := newDirFixture(t)
	f.run(t, nil, "groups", "add", "staff")
	f.run(t, nil, "groups", "add", "ops")
	if code, _, errs := f.run(t, piped("pw\n"), "users", "add", "-username", "bob", "-email", "bob@example.com", "-group", "staff", "-group", "ops"); code != exitOK {
		t.Fatal(errs)
	}
	if code, _, errs := f.run(t, nil, "users", "add", "-username", "al\x1b[2Jice", "-no-password"); code != exitOK {
		t.Fatal(errs)
	}
	code, out, errs := f.run(t, nil, "users", "list")
	want := "USERNAME        PK  NAME  EMAIL            ACTIVE  GROUPS\n" +
		"\"al\\x1b[2Jice\"  2                          true    \n" +
		"bob             1         bob@example.com  true    staff,ops\n"
	if code != exitOK || out != want {
		t.Errorf("users list: %d %s\n%q\nwant\n%q", code, errs, out, want)
	}
	code, out, errs = f.run(t, nil, "users", "list", "-o", "json", "-search", "bob")
	var got []map[string]any
	if code != exitOK || json.Unmarshal([]byte(out), &got) != nil || len(got) != 1 {
		t.Fatalf("users list -o json: %d %s %s", code, out, errs)
	}
	if got[0]["username"] != "bob" || got[0]["pk"] != 1.0 || len(got[0]["groups_obj"].([]any)) != 2 {
		t.Errorf("users list -o json: %v", got[0])
	}
	if strings.Contains(out, "pbkdf2") || strings.Contains(out, `"password"`) {
		t.Errorf("a hash in the output: %s", out)
	}
	if code, out, _ := f.run(t, nil, "users", "list", "-o", "json", "-search", "nobody"); code != exitOK || strings.TrimSpace(out) != "[]" {
		t.Errorf("an empty list: %d %q", code, out)
	}
	code, out, errs = f.run(t, nil, "users", "add", "-username", "carol", "-no-password", "-o", "json")
	var carol map[string]any
	if code != exitOK || json.Unmarshal([]byte(out), &carol) != nil || carol["username"] != "carol" || carol["pk"] != 3.0 {
		t.Errorf("users add -o json: %d %q %q", code, out, errs)
	}

	// A file another process holds (here, another open) is exit 3, said.
	held := f.open(t)
	code, _, errs = f.run(t, nil, "users", "add", "-username", "dave", "-no-password")
	held.Close()
	if code != exitError || !strings.Contains(errs, "is locked by another process") {
		t.Errorf("users add on a locked file: %d %q", code, errs)
	}
	missing := &dirFixture{db: filepath.Join(t.TempDir(), "missing.db"), opts: f.opts}
	if code, _, _ := missing.run(t, nil, "users", "list"); code != exitError {
		t.Errorf("users list of a missing file: exit %d, want 3", code)
	}
	if _, err := os.Stat(missing.db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("users list created the file: %v", err)
	}
}

// users set-password names a user by username first, then by pk; it
// moves password_change_date; -no-password makes the password unusable.
func TestUsersSetPassword(t *testing.T) {
	f := newDirFixture(t)
	f.run(t, piped("old\n"), "users", "add", "-username", "bob")
	f.run(t, piped("old\n"), "users", "add", "-username", "1")
	before := f.users(t)
	in := terminal("new pw", "new pw")
	code, out, errs := f.run(t, in, "users", "set-password", "bob")
	if code != exitOK || out != "set the password of user bob (pk 1)\n" || strings.Contains(out+errs, "new pw") {
		t.Fatalf("set-password bob: %d %q %q", code, out, errs)
	}
	if !f.checkPassword(t, 1, "new pw") || f.checkPassword(t, 1, "old") {
		t.Error("bob's password did not change")
	}
	after := f.users(t)
	if after["bob"].PasswordChangeDate == before["bob"].PasswordChangeDate {
		t.Errorf("password_change_date stayed %s", before["bob"].PasswordChangeDate)
	}
	// "1" is a username before it is a pk.
	if code, out, errs := f.run(t, piped("other\n"), "users", "set-password", "1"); code != exitOK || out != "set the password of user 1 (pk 2)\n" {
		t.Fatalf("set-password 1: %d %q %q", code, out, errs)
	}
	if !f.checkPassword(t, 2, "other") || !f.checkPassword(t, 1, "new pw") {
		t.Error(`"1" did not name the user with that username`)
	}
	// A pk that is no username; flags after the argument.
	if code, out, errs := f.run(t, nil, "users", "set-password", "2", "-no-password"); code != exitOK || !strings.Contains(out, "no usable password") {
		t.Fatalf("set-password 2 -no-password: %d %q %q", code, out, errs)
	}
	if f.checkPassword(t, 2, "other") {
		t.Error("-no-password left the password usable")
	}
	if code, _, errs := f.run(t, terminal("a", "b"), "users", "set-password", "bob"); code != exitInvalid || !f.checkPassword(t, 1, "new pw") {
		t.Errorf("mismatch: %d %q, or the password changed", code, errs)
	}
	if code, _, errs := f.run(t, terminal("x", "x"), "users", "set-password", "nobody"); code != exitInvalid || !strings.Contains(errs, `no user with username or pk "nobody"`) {
		t.Errorf("unknown user: %d %q", code, errs)
	}
	if code, _, _ := f.run(t, nil, "users", "set-password"); code != exitUsage {
		t.Errorf("no user: exit %d", code)
	}
}

// A password prompt ends with the command's context (a shutdown signal),
// writing nothing.
func TestUsersPromptInterrupted(t *testing.T) {
	f := newDirFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	in := &fakeConsole{terminal: true, waiting: make(chan struct{})}
	var o, e bytes.Buffer
	done := make(chan int)
	go func() {
		done <- runIn(ctx, []string{"users", "add", "-db", f.db, "-username", "bob"}, &dirEnv{in: in, stdout: &o, stderr: &e, opts: f.opts})
	}()
	<-in.waiting
	cancel()
	if code := <-done; code != exitInvalid || !strings.Contains(e.String(), "interrupted; nothing was written") {
		t.Errorf("exit %d, %q", code, e.String())
	}
	if us := f.users(t); len(us) != 0 {
		t.Errorf("users: %v", us)
	}
}

// users delete deletes by username or pk; an unknown user is exit 1.
func TestUsersDelete(t *testing.T) {
	f := newDirFixture(t)
	f.run(t, nil, "users", "add", "-username", "bob", "-no-password")
	f.run(t, nil, "users", "add", "-username", "carol", "-no-password")
	if code, out, errs := f.run(t, nil, "users", "delete", "bob"); code != exitOK || out != "deleted user bob (pk 1)\n" {
		t.Fatalf("delete bob: %d %q %q", code, out, errs)
	}
	if code, out, errs := f.run(t, nil, "users", "delete", "2"); code != exitOK || out != "deleted user carol (pk 2)\n" {
		t.Fatalf("delete 2: %d %q %q", code, out, errs)
	}
	// After "--", a username that looks like a flag.
	f.run(t, nil, "users", "add", "-no-password", "-username", "-x")
	if code, out, errs := f.run(t, nil, "users", "delete", "--", "-x"); code != exitOK || out != "deleted user -x (pk 3)\n" {
		t.Errorf("delete -- -x: %d %q %q", code, out, errs)
	}
	if code, _, errs := f.run(t, nil, "users", "delete", "bob"); code != exitInvalid || !strings.Contains(errs, `no user with username or pk "bob"`) {
		t.Errorf("delete again: %d %q", code, errs)
	}
	if us := f.users(t); len(us) != 0 {
		t.Errorf("users: %v", us)
	}
	missing := &dirFixture{db: filepath.Join(t.TempDir(), "missing.db"), opts: f.opts}
	if code, _, _ := missing.run(t, nil, "users", "delete", "bob"); code != exitError {
		t.Errorf("delete in a missing file: exit %d, want 3", code)
	}
	if _, err := os.Stat(missing.db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("users delete created the file: %v", err)
	}
}

// A delete refused by a protected reference says what refers to the
// object, in the API's sentence, and exits 1.
func TestProtectedRefusal(t *testing.T) {
	var e bytes.Buffer
	c := &dirCmd{dirEnv: &dirEnv{stderr: &e}, name: "users delete"}
	err := &store.ProtectedError{Model: store.ModelUser, Name: "bob", Blockers: []store.UsedBy{{Name: "Binding a"}, {Name: "Binding b"}}}
	if code := c.fail(err); code != exitInvalid {
		t.Errorf("exit %d", code)
	}
	want := `authflow users delete: Cannot delete "bob" because it is referenced by "Binding a" and "Binding b"; change or delete those first.` + "\n"
	if e.String() != want {
		t.Errorf("%q, want %q", e.String(), want)
	}
}

// groups: add (flags before or after the name), list, add-user and
// remove-user, which change nothing for a member added again or a
// non-member removed.
func TestGroups(t *testing.T) {
	f := newDirFixture(t)
	if code, out, errs := f.run(t, nil, "groups", "add", "admins", "-superuser"); code != exitOK || !strings.HasPrefix(out, "created group admins (pk ") {
		t.Fatalf("groups add admins: %d %q %q", code, out, errs)
	}
	code, out, errs := f.run(t, nil, "groups", "add", "-parent", "admins", "-o", "json", "staff")
	var staff map[string]any
	if code != exitOK || json.Unmarshal([]byte(out), &staff) != nil || staff["parent_name"] != "admins" || staff["is_superuser"] != false {
		t.Fatalf("groups add staff: %d %q %q", code, out, errs)
	}
	if code, _, errs := f.run(t, nil, "groups", "add", "staff"); code != exitInvalid || !strings.Contains(errs, "validation failed; name: This field must be unique.") {
		t.Errorf("a taken name: %d %q", code, errs)
	}
	if code, _, errs := f.run(t, nil, "groups", "add", "x", "-parent", "nope"); code != exitInvalid || !strings.Contains(errs, `-parent: no group with name or pk "nope"`) {
		t.Errorf("an unknown parent: %d %q", code, errs)
	}
	if code, _, _ := f.run(t, nil, "groups", "add"); code != exitUsage {
		t.Errorf("no name: exit %d", code)
	}
	f.run(t, nil, "users", "add", "-username", "bob", "-no-password")

	for _, c := range []struct {
		args []string
		out  string
	}{
		{[]string{"add-user", "staff", "bob"}, "added user bob to group staff\n"},
		{[]string{"add-user", "staff", "1"}, "user bob is already in group staff\n"},
		{[]string{"add-user", staff["pk"].(string), "bob"}, "user bob is already in group staff\n"},
		{[]string{"remove-user", "admins", "bob"}, "user bob is not in group admins\n"},
	} {
		if code, out, errs := f.run(t, nil, append([]string{"groups"}, c.args...)...); code != exitOK || out != c.out {
			t.Errorf("groups %v: %d %q %q, want %q", c.args, code, out, errs, c.out)
		}
	}
	bob := f.users(t)["bob"]
	if len(bob.Groups) != 1 || bob.Groups[0].String() != staff["pk"] {
		t.Errorf("bob's groups %v", bob.Groups)
	}
	// Through staff's parent, bob is a superuser.
	code, out, _ = f.run(t, nil, "users", "list", "-o", "json")
	if listed := []map[string]any{}; code != exitOK || json.Unmarshal([]byte(out), &listed) != nil || listed[0]["is_superuser"] != true {
		t.Errorf("bob as listed: %s", out)
	}

	code, out, errs = f.run(t, nil, "groups", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") ||
		!strings.HasPrefix(lines[1], "admins ") || !strings.HasSuffix(lines[1], "true       0") ||
		!strings.HasPrefix(lines[2], "staff ") || !strings.Contains(lines[2], " admins ") || !strings.HasSuffix(lines[2], "false      1") {
		t.Errorf("groups list: %d %q %q", code, out, errs)
	}
	code, out, _ = f.run(t, nil, "groups", "list", "-o", "json", "-search", "staff")
	var groups []map[string]any
	if code != exitOK || json.Unmarshal([]byte(out), &groups) != nil || len(groups) != 1 || len(groups[0]["users_obj"].([]any)) != 1 {
		t.Errorf("groups list -o json: %d %s", code, out)
	}

	if code, out, errs := f.run(t, nil, "groups", "remove-user", "staff", "bob"); code != exitOK || out != "removed user bob from group staff\n" {
		t.Errorf("remove-user: %d %q %q", code, out, errs)
	}
	if g := f.users(t)["bob"].Groups; len(g) != 0 {
		t.Errorf("bob's groups after remove-user: %v", g)
	}
	for _, args := range [][]string{{"add-user", "nope", "bob"}, {"add-user", "staff", "nobody"}, {"remove-user", uuid.NewString(), "bob"}} {
		if code, _, errs := f.run(t, nil, append([]string{"groups"}, args...)...); code != exitInvalid || !strings.Contains(errs, "no ") {
			t.Errorf("groups %v: %d %q", args, code, errs)
		}
	}
	if code, _, _ := f.run(t, nil, "groups", "add-user", "staff"); code != exitUsage {
		t.Errorf("add-user without a user: exit %d", code)
	}
}

// The subcommands' usage: none or an unknown one is exit 2; help is 0.
func TestUsersUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"users"}, exitUsage, "usage: authflow users add"},
		{[]string{"groups", "rename"}, exitUsage, `unknown command "rename"`},
		{[]string{"users", "help"}, exitOK, "authflow users set-password"},
		{[]string{"groups", "add-user", "-h"}, exitOK, "usage: authflow groups add-user [-db PATH] GROUP USER"},
	} {
		var o, e bytes.Buffer
		code := runIn(context.Background(), c.args, &dirEnv{in: piped(""), stdout: &o, stderr: &e})
		if code != c.code || !strings.Contains(o.String()+e.String(), c.out) {
			t.Errorf("%v: %d %q %q", c.args, code, o.String(), e.String())
		}
	}
}
