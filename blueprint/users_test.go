package blueprint_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
)

// clock is a store clock that tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// userStore is a store whose passwords hash quickly (a thousand PBKDF2
// iterations), on a clock the test moves.
func userStore(t *testing.T) (*store.Store, *clock) {
	t.Helper()
	c := &clock{now: time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)}
	s, err := store.Open(filepath.Join(t.TempDir(), "users.db"), &store.Options{NoSync: true,
		Passwords: password.Policy{Iterations: 1000}, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, c
}

// user reads a user by username, with whether its password is usable.
func user(t *testing.T, s *store.Store, username string) (directory.UserView, bool) {
	t.Helper()
	var v directory.UserView
	var usable bool
	err := s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		if v, err = store.Users.View(tx, store.By("username", username)); err != nil {
			return err
		}
		usable, err = tx.HasUsablePassword(v.PK)
		return err
	})
	if err != nil {
		t.Fatalf("user %s: %v", username, err)
	}
	return v, usable
}

func group(t *testing.T, s *store.Store, name string) directory.GroupView {
	t.Helper()
	var v directory.GroupView
	err := s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		v, err = store.Groups.View(tx, store.By("name", name))
		return err
	})
	if err != nil {
		t.Fatalf("group %s: %v", name, err)
	}
	return v
}

// entryErrors are the errors of the failed entries of res, as JSON.
func entryErrors(t *testing.T, res blueprint.Result) []string {
	t.Helper()
	var out []string
	for _, l := range res.Logs {
		if l.LogLevel == "error" {
			if v, ok := l.Attributes["errors"]; ok {
				out = append(out, jsonOf(t, v))
			} else {
				out = append(out, jsonOf(t, l.Attributes["error"]))
			}
		}
	}
	return out
}

func userDoc(password string) string {
	return "version: 1\nentries:\n- model: authentik_core.user\n  identifiers: {username: alice}\n  attrs: {name: Alice, password: " + password + "}\n"
}

// DIRECTORY.md §10 item 12: a user entry's password null gives a new user
// an unusable password, "" (or whitespace) makes the entry invalid with
// DRF's message and writes nothing, and a string is hashed with
// password_change_date set. A password is set again at every import, as
// authentik sets it, and an entry without one keeps the stored one.
func TestUserEntryPassword(t *testing.T) {
	ctx := context.Background()
	s, clk := userStore(t)
	for _, blank := range []string{`""`, `"   "`} {
		res := apply(t, s, userDoc(blank), blueprint.Options{})
		if got := strings.Join(entryErrors(t, res), ";"); res.Success || got != `{"password":["This field may not be blank."]}` {
			t.Errorf("password %s: %s", blank, got)
		}
		if n := count(t, s, store.ModelUser); n != 0 {
			t.Errorf("password %s: %d users written", blank, n)
		}
	}
	if res := apply(t, s, userDoc("[1]"), blueprint.Options{}); res.Success ||
		strings.Join(entryErrors(t, res), ";") != `{"password":["Not a valid string."]}` {
		t.Errorf("a list: %v", entryErrors(t, res))
	}
	// The password's errors come with the other fields'.
	res := apply(t, s, "version: 1\nentries:\n- model: authentik_core.user\n  identifiers: {username: alice}\n  attrs: {name: Alice, path: /x, password: ''}\n", blueprint.Options{})
	if got := strings.Join(entryErrors(t, res), ";"); got != `{"password":["This field may not be blank."],"path":["No leading or trailing slashes allowed."]}` {
		t.Errorf("with a bad path: %s", got)
	}

	if res := apply(t, s, userDoc("null"), blueprint.Options{}); !res.Success || strings.Join(actions(res), ",") != "create" {
		t.Fatalf("null: %v %v", actions(res), entryErrors(t, res))
	}
	u, usable := user(t, s, "alice")
	if usable || u.PasswordChangeDate != "2026-12-07T06:00:00Z" {
		t.Errorf("null: usable %v, password_change_date %s", usable, u.PasswordChangeDate)
	}
	// null on an update leaves the password as it is.
	if res := apply(t, s, userDoc("null"), blueprint.Options{}); res.Changed || strings.Join(actions(res), ",") != "unchanged" {
		t.Errorf("null again: %v", actions(res))
	}

	clk.add(time.Hour)
	res = apply(t, s, userDoc(`"  s3cret "`), blueprint.Options{})
	if !res.Success || strings.Join(actions(res), ",") != "update" || jsonOf(t, res.Logs[0].Attributes["changes"]) != `{"password":{"secret":true}}` {
		t.Fatalf("s3cret: %v %+v", actions(res), res.Logs)
	}
	u, usable = user(t, s, "alice")
	if !usable || u.PasswordChangeDate != "2026-12-07T07:00:00Z" {
		t.Errorf("s3cret: usable %v, password_change_date %s", usable, u.PasswordChangeDate)
	}
	for raw, want := range map[string]bool{"s3cret": true, "  s3cret ": false, "": false} {
		if ok, err := s.CheckPassword(ctx, u.PK, raw); err != nil || ok != want {
			t.Errorf("CheckPassword(%q) = %v, %v", raw, ok, err)
		}
	}
	// Absent, it stays.
	if res := apply(t, s, "version: 1\nentries:\n- model: authentik_core.user\n  identifiers: {username: alice}\n  attrs: {name: Alice}\n", blueprint.Options{}); res.Changed {
		t.Errorf("without a password: %v", actions(res))
	}
	if ok, _ := s.CheckPassword(ctx, u.PK, "s3cret"); !ok {
		t.Error("an entry without a password changed it")
	}
	// Given again, it is set again.
	clk.add(time.Hour)
	if res := apply(t, s, userDoc("s3cret"), blueprint.Options{}); !res.Changed || strings.Join(actions(res), ",") != "update" {
		t.Errorf("again: %v", actions(res))
	}
	if u, _ := user(t, s, "alice"); u.PasswordChangeDate != "2026-12-07T08:00:00Z" {
		t.Errorf("again: password_change_date %s", u.PasswordChangeDate)
	}
	// A number is its text, as DRF's CharField takes it.
	if res := apply(t, s, userDoc("1234"), blueprint.Options{}); !res.Success {
		t.Fatal(res.Logs)
	}
	if ok, _ := s.CheckPassword(ctx, u.PK, "1234"); !ok {
		t.Error("password 1234 does not verify")
	}
}

// Two users with one password get two hashes (each its salt), and a new
// user's password is set in the same import that creates it.
func TestUserPasswordsInOneImport(t *testing.T) {
	ctx := context.Background()
	s, _ := userStore(t)
	res := apply(t, s, `version: 1
entries:
- {model: authentik_core.user, identifiers: {username: a}, attrs: {name: A, password: same}}
- {model: authentik_core.user, identifiers: {username: b}, attrs: {name: B, password: same}}
- {model: authentik_core.user, identifiers: {username: c}, attrs: {name: C, password: other}}
`, blueprint.Options{})
	if got := strings.Join(actions(res), ","); !res.Success || got != "create,create,create" {
		t.Fatalf("%s %v", got, entryErrors(t, res))
	}
	for name, pw := range map[string]string{"a": "same", "b": "same", "c": "other"} {
		u, _ := user(t, s, name)
		if ok, err := s.CheckPassword(ctx, u.PK, pw); !ok || err != nil {
			t.Errorf("%s: %v %v", name, ok, err)
		}
	}
	var h1, h2 []byte
	backup := func() string {
		var b strings.Builder
		if _, err := s.Backup(ctx, &b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	raw := backup()
	for _, line := range strings.Split(raw, "pbkdf2_sha256$")[1:] {
		if h1 == nil {
			h1 = []byte(line[:60])
		} else if h2 == nil {
			h2 = []byte(line[:60])
		}
	}
	if h1 == nil || h2 == nil || string(h1) == string(h2) {
		t.Errorf("two users' hashes of one password are not distinct")
	}
}

// ApplyTx runs in its caller's transaction, where no password is hashed:
// a user entry with one fails, named; a dry run needs no hash.
func TestUserPasswordInApplyTx(t *testing.T) {
	s, _ := userStore(t)
	bp := parse(t, userDoc("s3cret"))
	for _, dry := range []bool{false, true} {
		var res blueprint.Result
		_ = s.Update(context.Background(), func(tx *store.Tx) error {
			res = blueprint.ApplyTx(tx, bp, blueprint.Options{DryRun: dry})
			return errors.New("roll back")
		})
		errs := entryErrors(t, res)
		if dry != res.Success || (!dry && (len(errs) != 1 || !strings.Contains(errs[0], "import it with Apply"))) {
			t.Errorf("dry run %v: %v", dry, errs)
		}
	}
	if res := apply(t, s, userDoc("s3cret"), blueprint.Options{DryRun: true}); !res.Success || !res.Changed || count(t, s, store.ModelUser) != 0 {
		t.Errorf("Apply's dry run: %v, %d users", actions(res), count(t, s, store.ModelUser))
	}
}

// Users are named by username or by their number, groups by name or pk:
// !KeyOf of a user entry is its number, of a group its UUID, and a user's
// groups, a group's users and parent take them, or !Find.
func TestUserAndGroupReferences(t *testing.T) {
	s, _ := userStore(t)
	doc := `version: 1
entries:
- model: authentik_core.group
  id: admins
  identifiers: {name: admins}
  attrs: {is_superuser: true}
- model: authentik_core.user
  id: alice
  identifiers: {username: alice}
  attrs: {name: Alice, email: alice@example.com, groups: [!KeyOf admins]}
- model: authentik_core.user
  id: bob
  identifiers: {username: bob}
  attrs: {name: Bob, path: users/staff, groups: [!Find [authentik_core.group, [name, admins]]]}
- model: authentik_core.user
  id: carol
  identifiers: {username: carol}
  attrs: {name: Carol}
- model: authentik_core.group
  id: eng
  identifiers: {name: eng}
  attrs: {parent: !KeyOf admins, users: [!KeyOf carol], attributes: {owner: !KeyOf alice, found: !Find [authentik_core.user, [username, bob]]}}
`
	res := apply(t, s, doc, blueprint.Options{})
	if got := strings.Join(actions(res), ","); !res.Success || got != "create,create,create,create,create" {
		t.Fatalf("%s %v", got, entryErrors(t, res))
	}
	alice, _ := user(t, s, "alice")
	bob, _ := user(t, s, "bob")
	carol, _ := user(t, s, "carol")
	admins, eng := group(t, s, "admins"), group(t, s, "eng")
	if res.Logs[1].Attributes["pk"] != alice.PK || res.Logs[0].Attributes["pk"] != admins.PK.String() {
		t.Errorf("logged pks %v %v", res.Logs[1].Attributes["pk"], res.Logs[0].Attributes["pk"])
	}
	if jsonOf(t, eng.Attributes) != `{"found":2,"owner":1}` || alice.PK != 1 || bob.PK != 2 {
		t.Errorf("eng's attributes %s (alice %d, bob %d)", jsonOf(t, eng.Attributes), alice.PK, bob.PK)
	}
	if eng.Parent == nil || *eng.Parent != admins.PK || jsonOf(t, eng.Users) != "[3]" || jsonOf(t, admins.Users) != "[1,2]" {
		t.Errorf("eng: parent %v users %v; admins' users %v", eng.Parent, eng.Users, admins.Users)
	}
	if len(carol.Groups) != 1 || carol.Groups[0] != eng.PK || !carol.IsSuperuser || bob.Path != "users/staff" {
		t.Errorf("carol %+v, bob's path %s", carol, bob.Path)
	}
	// Again: unchanged, nothing written.
	if again := apply(t, s, doc, blueprint.Options{}); !again.Success || again.Changed {
		t.Errorf("re-import: %v", actions(again))
	}
	// By number: an update; a number no user has is refused (the store
	// numbers users), and so is one that is no number.
	res = apply(t, s, "version: 1\nentries:\n- model: authentik_core.user\n  identifiers: {pk: 1}\n  attrs: {name: Alice Liddell}\n", blueprint.Options{})
	if u, _ := user(t, s, "alice"); !res.Success || u.Name != "Alice Liddell" || res.Logs[0].Attributes["pk"] != int64(1) {
		t.Errorf("by pk: %v %v", actions(res), entryErrors(t, res))
	}
	for pk, want := range map[string]string{"99": blueprint.MsgUserPK, `"nine"`: validate.MsgInteger, "1.5": validate.MsgInteger} {
		res := apply(t, s, "version: 1\nentries:\n- model: authentik_core.user\n  identifiers: {pk: "+pk+", username: dave}\n  attrs: {name: Dave}\n", blueprint.Options{})
		if got := strings.Join(entryErrors(t, res), ";"); res.Success || got != jsonOf(t, map[string][]string{"pk": {want}}) {
			t.Errorf("pk %s: %s", pk, got)
		}
	}
	// A username is compared exactly: "Alice" is another user.
	res = apply(t, s, "version: 1\nentries:\n- model: authentik_core.user\n  identifiers: {username: Alice}\n  attrs: {name: Other}\n", blueprint.Options{})
	if !res.Success || strings.Join(actions(res), ",") != "create" {
		t.Errorf("Alice: %v %v", actions(res), entryErrors(t, res))
	}
	// Absent deletes, the user's memberships with it.
	res = apply(t, s, "version: 1\nentries:\n- model: authentik_core.user\n  identifiers: {username: bob}\n  state: absent\n", blueprint.Options{})
	if !res.Success || strings.Join(actions(res), ",") != "delete" || res.Logs[0].Attributes["pk"] != int64(2) {
		t.Errorf("absent: %v %+v", actions(res), res.Logs)
	}
	if g := group(t, s, "admins"); jsonOf(t, g.Users) != "[1]" {
		t.Errorf("admins' users after bob's delete: %v", g.Users)
	}
}

// A user entry's permissions (authentik's global permissions) are
// ignored with a warning, or refused in a strict import; an empty list is
// nothing to ignore.
func TestUserPermissions(t *testing.T) {
	s, _ := userStore(t)
	doc := "version: 1\nentries:\n- model: authentik_core.user\n  identifiers: {username: alice}\n  attrs: {name: Alice, permissions: [authentik_core.add_user]}\n"
	res := apply(t, s, doc, blueprint.Options{Strict: true})
	if got := strings.Join(entryErrors(t, res), ";"); res.Success || got != jsonOf(t, map[string][]string{"permissions": {blueprint.MsgPermissionsIgnored}}) {
		t.Errorf("strict: %s", got)
	}
	res = apply(t, s, doc, blueprint.Options{})
	if got := strings.Join(actions(res), ","); !res.Success || got != "warning:attribute ignored,create" || res.Logs[0].Attributes["field"] != "permissions" {
		t.Errorf("%s %+v", got, res.Logs)
	}
	res = apply(t, s, strings.Replace(doc, "[authentik_core.add_user]", "[]", 1), blueprint.Options{Strict: true})
	if got := strings.Join(actions(res), ","); !res.Success || got != "unchanged" {
		t.Errorf("empty: %s", got)
	}
}

// A user's password never shows in a log, an error or a result: not when
// it is set, not when its entry or another fails, not when it is given
// where it does not belong.
func TestUserPasswordNeverShown(t *testing.T) {
	const secret = "Zebra-Quokka-7781"
	s, _ := userStore(t)
	docs := []string{
		userDoc(secret),
		userDoc(secret) + "- model: authentik_core.user\n  identifiers: {username: bob}\n  attrs: {name: Bob, path: /bad}\n",
		"version: 1\nentries:\n- model: authentik_core.user\n  identifiers: {username: alice}\n  attrs: {name: Alice, path: /bad, password: " + secret + "}\n",
		"version: 1\nentries:\n- model: authentik_core.user\n  identifiers: {username: alice, password: " + secret + "}\n  attrs: {name: Alice}\n",
		"version: 1\nentries:\n- model: authentik_core.user\n  identifiers: {username: alice}\n  attrs: {name: Alice, password: " + secret + ", groups: [x]}\n",
		"version: 1\nentries:\n- model: authentik_core.user\n  identifiers: {username: zed}\n  attrs: {name: Alice, password: " + secret + ", bogus: 1, type: internal_service_account}\n",
	}
	for i, doc := range docs {
		for _, opts := range []blueprint.Options{{}, {DryRun: true}, {Strict: true}} {
			res, err := blueprint.Load(context.Background(), s, strings.NewReader(doc), opts)
			out, jerr := json.Marshal(res)
			if jerr != nil {
				t.Fatal(jerr)
			}
			if strings.Contains(string(out), secret) || (err != nil && strings.Contains(err.Error(), secret)) {
				t.Errorf("doc %d %+v shows the password: %s %v", i, opts, out, err)
			}
			if i > 0 && err == nil {
				t.Errorf("doc %d %+v was accepted", i, opts)
			}
		}
	}
}

// bootstrap is a blueprint with the entries DIRECTORY.md §4.4 describes
// for authentik's system bootstrap (blueprints/system/bootstrap.yaml, not
// among the 21 shipped here): the group "authentik Admins" (superuser)
// and the user akadmin in it, both state created, the password and email
// from the environment, and the API token only when its variable is set.
const bootstrap = `version: 1
metadata:
  name: authentik Bootstrap
  labels: {blueprints.goauthentik.io/system: "true"}
context:
  username: akadmin
  group_name: authentik Admins
entries:
- model: authentik_core.group
  state: created
  id: admin-group
  identifiers: {name: !Context group_name}
  attrs: {is_superuser: true}
- model: authentik_core.user
  state: created
  id: admin-user
  identifiers: {username: !Context username}
  attrs:
    name: authentik Default Admin
    email: !Env [AUTHENTIK_BOOTSTRAP_EMAIL, root@example.com]
    password: !Env [AUTHENTIK_BOOTSTRAP_PASSWORD, null]
    groups: [!KeyOf admin-group]
- model: authentik_core.token
  state: created
  conditions: [!Env AUTHENTIK_BOOTSTRAP_TOKEN]
  identifiers: {identifier: authentik-bootstrap-token}
  attrs: {user: !KeyOf admin-user, intent: api, expiring: false, key: !Env AUTHENTIK_BOOTSTRAP_TOKEN}
`

// None of the 21 shipped blueprints has a user or group entry (DIRECTORY.md
// §6); with them, the bootstrap's entries import into one store: akadmin
// has an unusable password (the out-of-box flow's condition) and is a
// superuser through its group, and a second import changes nothing, even
// with other variables (state created). With a bootstrap password, it is
// set.
func TestBootstrapWithShippedBlueprints(t *testing.T) {
	files, err := filepath.Glob("testdata/authentik/*/*.yaml")
	if err != nil || len(files) != 21 {
		t.Fatalf("%d shipped blueprints: %v", len(files), err)
	}
	s, _ := userStore(t)
	opts := blueprint.Options{EnvPrefixes: []string{"AUTHENTIK_BOOTSTRAP_"}, Dir: "testdata/authentik"}
	t.Setenv("AUTHENTIK_BOOTSTRAP_PASSWORD", "")
	t.Setenv("AUTHENTIK_BOOTSTRAP_TOKEN", "")
	if res := apply(t, s, bootstrap, opts); !res.Success || strings.Join(actions(res), ",") != "create,create,skipped" {
		t.Fatalf("bootstrap: %v %v", actions(res), entryErrors(t, res))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bp := parse(t, string(raw))
		for _, e := range bp.Entries {
			if m := strings.ToLower(e.Model); m == store.ModelUser || m == store.ModelGroup {
				t.Errorf("%s has a %s entry", f, e.Model)
			}
		}
		if res, err := blueprint.Apply(context.Background(), s, bp, opts); err != nil || !res.Success {
			t.Fatalf("%s: %v %v", f, err, entryErrors(t, res))
		}
	}
	admin, usable := user(t, s, "akadmin")
	if usable || !admin.IsSuperuser || admin.Email != "root@example.com" || admin.Name != "authentik Default Admin" ||
		len(admin.GroupsObj) != 1 || admin.GroupsObj[0].Name != "authentik Admins" {
		t.Errorf("akadmin: usable password %v, %+v", usable, admin)
	}
	t.Setenv("AUTHENTIK_BOOTSTRAP_EMAIL", "admin@example.org")
	if res := apply(t, s, bootstrap, opts); !res.Success || res.Changed {
		t.Errorf("again: %v", actions(res))
	}
	if admin, _ := user(t, s, "akadmin"); admin.Email != "root@example.com" {
		t.Errorf("state created changed the email: %s", admin.Email)
	}

	s2, _ := userStore(t)
	t.Setenv("AUTHENTIK_BOOTSTRAP_PASSWORD", "b00tstrap")
	if res := apply(t, s2, bootstrap, opts); !res.Success {
		t.Fatal(entryErrors(t, res))
	}
	admin, usable = user(t, s2, "akadmin")
	if ok, err := s2.CheckPassword(context.Background(), admin.PK, "b00tstrap"); !usable || !ok || err != nil {
		t.Errorf("bootstrap password: usable %v, verifies %v %v", usable, ok, err)
	}
}

// An import's Actor names the user who creates its invitations, by pk:
// they refer to that user. An Actor that names no user fails an import
// that creates an invitation, which writes nothing.
func TestInvitationActor(t *testing.T) {
	s, _ := userStore(t)
	apply(t, s, userDoc("null"), blueprint.Options{})
	alice, _ := user(t, s, "alice")
	inv := func(name string) string {
		return "version: 1\nentries:\n- model: authentik_stages_invitation.invitation\n  identifiers: {name: " + name + "}\n"
	}
	if res := apply(t, s, inv("a"), blueprint.Options{Actor: &alice.PK}); !res.Success {
		t.Fatalf("import: %v", entryErrors(t, res))
	}
	unknown := alice.PK + 100
	res := apply(t, s, inv("b"), blueprint.Options{Actor: &unknown})
	if got := entryErrors(t, res); res.Success || len(got) != 1 || !strings.Contains(got[0], "the write's actor names no user: no user has pk") {
		t.Errorf("import with an unknown actor: success %v, errors %v", res.Success, got)
	}
	err := s.View(context.Background(), func(tx *store.Tx) error {
		p, err := store.Invites.List(tx, store.Query{})
		if err != nil {
			return err
		}
		if len(p.Results) != 1 || p.Results[0].Name != "a" {
			t.Fatalf("invitations %+v, want a alone", p.Results)
		}
		i := p.Results[0]
		if i.CreatedByUser == nil || *i.CreatedByUser != alice.PK || i.CreatedBy.Username != "alice" {
			t.Errorf("invitation a: created_by_user %v, created_by %+v, want alice (%d)", i.CreatedByUser, i.CreatedBy, alice.PK)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
