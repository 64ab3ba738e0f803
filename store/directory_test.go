package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// cheap is a password policy fast enough for tests.
var cheap = password.Policy{Iterations: 1000}

// clock is a test clock that moves only when told.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func dirStore(t *testing.T) (*store.Store, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	s := openTestStore(t, filepath.Join(t.TempDir(), "d.db"), &store.Options{Passwords: cheap, Now: c.now})
	return s, c
}

func mkUser(t *testing.T, tx *store.Tx, body string) directory.User {
	t.Helper()
	u, err := store.Users.CreateJSON(tx, []byte(body), nil)
	if err != nil {
		t.Fatalf("create user %s: %v", body, err)
	}
	return u
}

func mkGroup(t *testing.T, tx *store.Tx, body string) directory.Group {
	t.Helper()
	g, err := store.Groups.CreateJSON(tx, []byte(body), nil)
	if err != nil {
		t.Fatalf("create group %s: %v", body, err)
	}
	return g
}

func wantFieldMsg(t *testing.T, err error, field, msg string) {
	t.Helper()
	var ve *validate.Error
	if !errors.As(err, &ve) || !slices.Contains(ve.Fields[field], msg) {
		t.Errorf("error = %v, want %s: %q", err, field, msg)
	}
}

// Users are numbered from 1, never reusing a number; usernames are unique
// exactly, with DRF's message; the store sets uuid, date_joined and
// password_change_date.
func TestUsersCollection(t *testing.T) {
	s, c := dirStore(t)
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		a := mkUser(t, tx, `{"username":"alice","name":"Alice"}`)
		b := mkUser(t, tx, `{"username":"Alice","name":"Other Alice"}`)
		if a.PK != 1 || b.PK != 2 {
			t.Errorf("pks %d %d, want 1 2", a.PK, b.PK)
		}
		if a.UUID == uuid.Nil || a.UUID == b.UUID {
			t.Errorf("uuids %s %s", a.UUID, b.UUID)
		}
		want := validate.FormatDateTime(c.t)
		if a.DateJoined != want || a.PasswordChangeDate != want {
			t.Errorf("dates %q %q, want %q", a.DateJoined, a.PasswordChangeDate, want)
		}
		if a.Path != "users" || a.Type != directory.UserTypeInternal || !a.IsActive || a.Groups == nil {
			t.Errorf("defaults: %+v", a)
		}
		_, err := store.Users.CreateJSON(tx, []byte(`{"username":"alice","name":"x"}`), nil)
		wantFieldMsg(t, err, "username", "This field must be unique.")
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("a taken username is not ErrConflict: %v", err)
		}
		if err := store.Users.Delete(tx, store.By("pk", "2"), nil); err != nil {
			t.Fatal(err)
		}
		if c := mkUser(t, tx, `{"username":"carol","name":"Carol"}`); c.PK != 3 {
			t.Errorf("after deleting 2, the next pk is %d, want 3", c.PK)
		}
		got, err := store.Users.Get(tx, store.By("username", "alice"))
		if err != nil || got.PK != 1 {
			t.Errorf("by username: %+v %v", got, err)
		}
		byUUID, err := tx.UserByUUID(a.UUID)
		if err != nil || byUUID.PK != 1 {
			t.Errorf("by uuid: %+v %v", byUUID, err)
		}
		if _, err := tx.UserByUUID(uuid.New()); !errors.Is(err, store.ErrNotFound) || !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("unknown uuid: %v", err)
		}
		_, err = store.Users.CreateJSON(tx, []byte(`{"username":"svc","name":"s","type":"internal_service_account"}`), nil)
		wantFieldMsg(t, err, "type", directory.MsgTypeCreateInternalServiceAccount)
		_, err = store.Users.CreateJSON(tx, []byte(`{"username":"p","name":"p","path":"/x"}`), nil)
		wantFieldMsg(t, err, "path", directory.MsgPathSlashes)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A group's users are its members, seen from the users' side: setting
// them writes the users; a patch without them keeps them; a replace
// without them clears them; deleting a group takes it out of its
// members' groups and its children's parent.
func TestGroupMembership(t *testing.T) {
	s, _ := dirStore(t)
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		a := mkUser(t, tx, `{"username":"a","name":"A"}`)
		b := mkUser(t, tx, `{"username":"b","name":"B"}`)
		parent := mkGroup(t, tx, `{"name":"admins","is_superuser":true}`)
		g := mkGroup(t, tx, fmt.Sprintf(`{"name":"staff","parent":"%s","users":[%d,%d]}`, parent.PK, a.PK, b.PK))
		ua, _ := store.Users.Get(tx, store.By("pk", "1"))
		if !slices.Equal(ua.Groups, []uuid.UUID{g.PK}) {
			t.Errorf("a's groups = %v, want [%s]", ua.Groups, g.PK)
		}
		v, err := store.Groups.View(tx, store.PK(g.PK))
		if err != nil || !slices.Equal(v.Users, []int64{1, 2}) || len(v.UsersObj) != 2 || v.ParentName == nil || *v.ParentName != "admins" {
			t.Errorf("view: %+v %v", v, err)
		}
		if _, err := store.Groups.Patch(tx, store.PK(g.PK), []byte(`{"name":"Staff"}`), nil); err != nil {
			t.Fatal(err)
		}
		if v, _ := store.Groups.View(tx, store.PK(g.PK)); len(v.Users) != 2 {
			t.Errorf("a patch without users changed them: %v", v.Users)
		}
		if _, err := store.Groups.Patch(tx, store.PK(g.PK), []byte(`{"users":[2]}`), nil); err != nil {
			t.Fatal(err)
		}
		if ua, _ := store.Users.Get(tx, store.By("pk", "1")); len(ua.Groups) != 0 {
			t.Errorf("a removed member keeps the group: %v", ua.Groups)
		}
		_, err = store.Groups.Patch(tx, store.PK(g.PK), []byte(`{"users":[2,99]}`), nil)
		wantFieldMsg(t, err, "users", `Invalid pk "99" - object does not exist.`)
		_, err = store.Groups.CreateJSON(tx, []byte(`{"name":"Staff"}`), nil)
		wantFieldMsg(t, err, "name", "This field must be unique.")
		_, err = store.Groups.Patch(tx, store.PK(g.PK), fmt.Appendf(nil, `{"parent":"%s"}`, g.PK), nil)
		wantFieldMsg(t, err, "parent", directory.MsgParentSelf)

		uv, err := store.Users.View(tx, store.By("pk", "2"))
		if err != nil || !uv.IsSuperuser || len(uv.GroupsObj) != 1 || uv.GroupsObj[0].Name != "Staff" {
			t.Errorf("user view (superuser through the parent, direct groups only): %+v %v", uv, err)
		}
		if _, err := store.Groups.Replace(tx, store.PK(g.PK), []byte(`{"name":"Staff"}`), nil); err != nil {
			t.Fatal(err)
		}
		if ub, _ := store.Users.Get(tx, store.By("pk", "2")); len(ub.Groups) != 0 {
			t.Errorf("a replace without users kept a member: %v", ub.Groups)
		}
		if _, err := store.Users.Patch(tx, store.By("pk", "2"), fmt.Appendf(nil, `{"groups":["%s"]}`, g.PK), nil); err != nil {
			t.Fatal(err)
		}
		if err := store.Groups.Delete(tx, store.PK(parent.PK), nil); err != nil {
			t.Fatal(err)
		}
		if gg, _ := store.Groups.Get(tx, store.PK(g.PK)); gg.Parent != nil {
			t.Errorf("a deleted parent stays: %v", gg.Parent)
		}
		if err := store.Groups.Delete(tx, store.PK(g.PK), nil); err != nil {
			t.Fatal(err)
		}
		if ub, _ := store.Users.Get(tx, store.By("pk", "2")); len(ub.Groups) != 0 {
			t.Errorf("a deleted group stays in a user's groups: %v", ub.Groups)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FindUser: case-insensitive by default, over the fields asked, lowest
// pk first; CaseSensitive compares exactly.
func TestFindUser(t *testing.T) {
	s, _ := dirStore(t)
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		mkUser(t, tx, `{"username":"zed","name":"Z","email":"Shared@Example.com"}`)
		mkUser(t, tx, `{"username":"Bob","name":"B","email":"shared@example.com","attributes":{"upn":"bob@corp"}}`)
		mkUser(t, tx, `{"username":"bob","name":"b2"}`)
		for _, tt := range []struct {
			q    directory.Find
			want int64
		}{
			{directory.Find{Identifier: "BOB", Fields: []directory.Field{directory.FieldUsername}}, 2},
			{directory.Find{Identifier: "bob", Fields: []directory.Field{directory.FieldUsername}, CaseSensitive: true}, 3},
			{directory.Find{Identifier: "SHARED@example.COM", Fields: []directory.Field{directory.FieldEmail}}, 1},
			{directory.Find{Identifier: "shared@example.com", Fields: []directory.Field{directory.FieldEmail}, CaseSensitive: true}, 2},
			{directory.Find{Identifier: "Bob@Corp", Fields: []directory.Field{directory.FieldUPN}}, 2},
			{directory.Find{Identifier: "bob", Fields: []directory.Field{directory.FieldEmail, directory.FieldUsername}}, 2},
		} {
			u, err := tx.FindUser(tt.q)
			if err != nil || u.PK != tt.want {
				t.Errorf("FindUser(%+v) = %d, %v; want %d", tt.q, u.PK, err, tt.want)
			}
		}
		for _, q := range []directory.Find{
			{Identifier: "nobody", Fields: []directory.Field{directory.FieldUsername}},
			{Identifier: "", Fields: []directory.Field{directory.FieldUsername}},
			{Identifier: "bob"},
		} {
			if _, err := tx.FindUser(q); !errors.Is(err, directory.ErrNotFound) || strings.Contains(fmt.Sprint(err), "bob") && q.Identifier != "bob" {
				t.Errorf("FindUser(%+v): %v", q, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Passwords: a new user's is unusable; SetPassword moves
// password_change_date; CheckPassword upgrades an old hash without
// moving it; deleting the user drops the hash.
func TestPasswords(t *testing.T) {
	s, c := dirStore(t)
	ctx := context.Background()
	var pk int64
	_ = s.Update(ctx, func(tx *store.Tx) error { pk = mkUser(t, tx, `{"username":"a","name":"A"}`).PK; return nil })
	if ok, err := s.CheckPassword(ctx, pk, ""); ok || err != nil {
		t.Errorf("a new user's password verifies: %v %v", ok, err)
	}
	c.t = c.t.Add(time.Hour)
	secret := "correct horse"
	if err := s.SetPassword(ctx, pk, &secret); err != nil {
		t.Fatal(err)
	}
	moved := validate.FormatDateTime(c.t)
	get := func() directory.User {
		var u directory.User
		_ = s.View(ctx, func(tx *store.Tx) (err error) { u, err = store.Users.Get(tx, store.By("pk", "1")); return err })
		return u
	}
	if u := get(); u.PasswordChangeDate != moved {
		t.Errorf("password_change_date = %s, want %s", u.PasswordChangeDate, moved)
	}
	if ok, err := s.CheckPassword(ctx, pk, secret); !ok || err != nil {
		t.Errorf("the password does not verify: %v", err)
	}
	if ok, _ := s.CheckPassword(ctx, pk, "wrong"); ok {
		t.Error("a wrong password verifies")
	}
	// An old hash (fewer iterations), as an import keeps it, upgrades.
	old, err := password.Policy{Iterations: 500}.Hash(secret)
	if err != nil {
		t.Fatal(err)
	}
	h, err := store.ImportPasswordHash(old)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprint(h), "pbkdf2") || strings.Contains(jsonOf(t, h), "pbkdf2") {
		t.Errorf("a PasswordHash shows its hash: %v", h)
	}
	c.t = c.t.Add(time.Hour)
	_ = s.Update(ctx, func(tx *store.Tx) error { return tx.SetPassword(pk, h, nil) })
	imported := get().PasswordChangeDate
	c.t = c.t.Add(time.Hour)
	if ok, err := s.CheckPassword(ctx, pk, secret); !ok || err != nil {
		t.Errorf("an imported hash does not verify: %v", err)
	}
	if u := get(); u.PasswordChangeDate != imported {
		t.Errorf("an upgrade moved password_change_date: %s, was %s", u.PasswordChangeDate, imported)
	}
	if ok, err := s.CheckPassword(ctx, pk, secret); !ok || err != nil {
		t.Errorf("the upgraded hash does not verify: %v", err)
	}
	if _, err := store.ImportPasswordHash("md5$$abc"); !errors.Is(err, password.ErrUnsupported) {
		t.Errorf("an unsupported hash imports: %v", err)
	}
	if _, err := s.CheckPassword(ctx, 99, secret); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	_ = s.Update(ctx, func(tx *store.Tx) error {
		if ok, err := tx.HasUsablePassword(pk); !ok || err != nil {
			t.Errorf("HasUsablePassword = %v, %v", ok, err)
		}
		if err := tx.SetPassword(pk, store.PasswordHash{}, nil); err != nil {
			t.Fatal(err)
		}
		if ok, _ := tx.HasUsablePassword(pk); ok {
			t.Error("the zero PasswordHash is usable")
		}
		return nil
	})
	if ok, _ := s.CheckPassword(ctx, pk, secret); ok {
		t.Error("an unusable password verifies")
	}
	_ = s.SetPassword(ctx, pk, &secret)
	_ = s.Update(ctx, func(tx *store.Tx) error { return store.Users.Delete(tx, store.By("pk", "1"), nil) })
	for _, p := range s.Check(ctx) {
		t.Errorf("after deleting a user with a password: %v", p)
	}
}

// The install id is made once and kept, so a user's uid is stable
// across opens.
func TestInstallID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "i.db")
	s, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	id := s.InstallID()
	s.Close()
	s2, err := store.Open(path, &store.Options{NoSync: true, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if len(id) != 32 || s2.InstallID() != id {
		t.Errorf("install id %q, reopened %q", id, s2.InstallID())
	}
}

// A transaction's directory reads users and groups in that transaction,
// checks passwords without upgrading them, and refuses writes
// (directory.ErrReadOnly).
func TestTxDirectory(t *testing.T) {
	s, _ := dirStore(t)
	ctx := context.Background()
	secret := "s3cret"
	var g directory.Group
	_ = s.Update(ctx, func(tx *store.Tx) error {
		g = mkGroup(t, tx, `{"name":"g"}`)
		mkUser(t, tx, fmt.Sprintf(`{"username":"Ann","name":"A","groups":["%s"]}`, g.PK))
		return nil
	})
	old, _ := password.Policy{Iterations: 500}.Hash(secret)
	h, _ := store.ImportPasswordHash(old)
	_ = s.Update(ctx, func(tx *store.Tx) error { return tx.SetPassword(1, h, nil) })
	err := s.View(ctx, func(tx *store.Tx) error {
		d := tx.Directory()
		u, err := d.FindUser(ctx, directory.Find{Identifier: "ann", Fields: []directory.Field{directory.FieldUsername}})
		if err != nil || u.PK != 1 {
			t.Errorf("FindUser: %+v %v", u, err)
		}
		if byID, err := d.UserByUUID(ctx, u.UUID); err != nil || byID.PK != 1 {
			t.Errorf("UserByUUID: %v", err)
		}
		if gg, err := d.Group(ctx, g.PK); err != nil || gg.Name != "g" {
			t.Errorf("Group: %v", err)
		}
		if _, err := d.User(ctx, 9); !errors.Is(err, directory.ErrNotFound) {
			t.Errorf("unknown user: %v", err)
		}
		if ok, err := d.CheckPassword(ctx, 1, secret); !ok || err != nil {
			t.Errorf("CheckPassword: %v %v", ok, err)
		}
		if ok, err := d.HasUsablePassword(ctx, 1); !ok || err != nil {
			t.Errorf("HasUsablePassword: %v %v", ok, err)
		}
		if _, err := d.CreateUser(ctx, directory.User{Username: "x"}); !errors.Is(err, directory.ErrReadOnly) {
			t.Errorf("CreateUser: %v", err)
		}
		if err := d.SetPassword(ctx, 1, &secret); !errors.Is(err, directory.ErrReadOnly) {
			t.Errorf("SetPassword: %v", err)
		}
		if err := d.DeleteUser(ctx, 1); !errors.Is(err, directory.ErrReadOnly) {
			t.Errorf("DeleteUser: %v", err)
		}
		if _, err := d.UpdateUser(ctx, u); !errors.Is(err, directory.ErrReadOnly) {
			t.Errorf("UpdateUser: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A wrong password does not verify in a transaction either.
	_ = s.View(ctx, func(tx *store.Tx) error {
		if ok, _ := tx.Directory().CheckPassword(ctx, 1, "wrong"); ok {
			t.Error("a wrong password verifies")
		}
		return nil
	})
}

// TestFoundUserIsACopy: users are kept decoded between reads, and what
// a read returns is the caller's own: changing its attributes, groups
// or last_login does not change the next read.
func TestFoundUserIsACopy(t *testing.T) {
	s, _ := dirStore(t)
	ctx := t.Context()
	var g directory.Group
	err := s.Update(ctx, func(tx *store.Tx) error {
		g = mkGroup(t, tx, `{"name":"g"}`)
		mkUser(t, tx, fmt.Sprintf(`{"username":"bob","name":"B","groups":[%q],"attributes":{"a":{"b":[1]}},"last_login":"2025-01-01T00:00:00Z"}`, g.PK))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q := directory.Find{Identifier: "bob", Fields: []directory.Field{directory.FieldUsername}}
	for i := range 3 {
		u, err := s.Directory().FindUser(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := u.Attributes["a"].(map[string]any)["b"].([]any)
		if len(u.Groups) != 1 || u.Groups[0] != g.PK || len(b) != 1 || b[0] != 1.0 || u.LastLogin == nil || *u.LastLogin != "2025-01-01T00:00:00Z" {
			t.Fatalf("read %d: %+v", i, u)
		}
		b[0] = "changed"
		u.Attributes["c"] = true
		u.Groups[0] = uuid.Nil
		*u.LastLogin = "changed"
	}
}
