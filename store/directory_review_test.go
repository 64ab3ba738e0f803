package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/kv"
)

// checkClean runs store.Check and the invariants, and fails on any report.
func checkClean(t *testing.T, s *store.Store) {
	t.Helper()
	if probs := s.Check(t.Context()); len(probs) > 0 {
		t.Errorf("Check: %v", probs)
	}
	checkInvariants(t, s)
}

// A cycle of parents made by patches: every reader that walks the
// hierarchy ends, and deleting a group of the cycle leaves a consistent
// store.
func TestReviewGroupCycleThroughPatches(t *testing.T) {
	s, _ := dirStore(t)
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		a := mkGroup(t, tx, `{"name":"a"}`)
		b := mkGroup(t, tx, fmt.Sprintf(`{"name":"b","parent":"%s","is_superuser":true,"attributes":{"l":[1]}}`, a.PK))
		if _, err := store.Groups.Patch(tx, store.PK(a.PK), []byte(fmt.Sprintf(`{"parent":"%s","attributes":{"l":[2]}}`, b.PK)), nil); err != nil {
			t.Fatal(err)
		}
		u := mkUser(t, tx, fmt.Sprintf(`{"username":"u","name":"U","groups":["%s"]}`, a.PK))
		v, err := store.Users.View(tx, store.By("pk", fmt.Sprint(u.PK)))
		if err != nil || !v.IsSuperuser {
			t.Errorf("view: %+v %v", v.IsSuperuser, err)
		}
		for _, q := range []string{"is_superuser=true", "groups_by_name=b", "attributes=" + url.QueryEscape(`{"l":[1]}`)} {
			vals, _ := url.ParseQuery(q)
			qq, err := store.QueryFromValues(vals)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.List(store.ModelUser, qq); err != nil {
				t.Errorf("list %s: %v", q, err)
			}
			if _, err := tx.List(store.ModelGroup, qq); err != nil {
				t.Errorf("groups list %s: %v", q, err)
			}
		}
		if _, err := store.Groups.View(tx, store.PK(a.PK)); err != nil {
			t.Error(err)
		}
		if _, err := tx.UsedBy(store.ModelGroup, a.PK); err != nil {
			t.Error(err)
		}
		return store.Groups.Delete(tx, store.PK(a.PK), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	checkClean(t, s)
}

// Membership changed through a group write and a user write in one
// transaction, a rename, and deleting a user in many groups and a group
// with many members leave indexes and records agreeing.
func TestReviewMembershipIndexes(t *testing.T) {
	s, _ := dirStore(t)
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		var gs []string
		for i := range 30 {
			g := mkGroup(t, tx, fmt.Sprintf(`{"name":"g%d"}`, i))
			gs = append(gs, `"`+g.PK.String()+`"`)
		}
		u := mkUser(t, tx, fmt.Sprintf(`{"username":"Alice","name":"A","groups":[%s]}`, strings.Join(gs, ",")))
		var us []string
		for i := range 30 {
			x := mkUser(t, tx, fmt.Sprintf(`{"username":"m%d","name":"M"}`, i))
			us = append(us, fmt.Sprint(x.PK))
		}
		big := mkGroup(t, tx, fmt.Sprintf(`{"name":"big","users":[%s]}`, strings.Join(us, ",")))
		// group write then user write on the same membership
		if _, err := store.Groups.Patch(tx, store.PK(big.PK), []byte(fmt.Sprintf(`{"users":[%d,%s]}`, u.PK, us[0])), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Users.Patch(tx, store.By("pk", fmt.Sprint(u.PK)), []byte(`{"username":"BOB","groups":[]}`), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.FindUser(directory.Find{Identifier: "alice", Fields: []directory.Field{directory.FieldUsername}}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("old username still found: %v", err)
		}
		if got, err := tx.FindUser(directory.Find{Identifier: "bob", Fields: []directory.Field{directory.FieldUsername}}); err != nil || got.PK != u.PK {
			t.Errorf("renamed: %v %v", got.PK, err)
		}
		v, _ := store.Groups.View(tx, store.PK(big.PK))
		if len(v.Users) != 1 {
			t.Errorf("big's users %v", v.Users)
		}
		if _, err := store.Users.Patch(tx, store.By("pk", fmt.Sprint(u.PK)), []byte(fmt.Sprintf(`{"groups":[%s]}`, strings.Join(gs, ","))), nil); err != nil {
			t.Fatal(err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkClean(t, s)
	err = s.Update(t.Context(), func(tx *store.Tx) error {
		if err := store.Users.Delete(tx, store.By("username", "BOB"), nil); err != nil {
			return err
		}
		return store.Groups.Delete(tx, store.By("name", "big"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	checkClean(t, s)
}

// Usernames with a NUL byte and of 150 multi-byte characters.
func TestReviewHostileUsernames(t *testing.T) {
	s, _ := dirStore(t)
	long := strings.Repeat("ß", 150)
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		_, err := store.Users.CreateJSON(tx, []byte(`{"username":"a\u0000b","name":"N"}`), nil)
		wantFieldMsg(t, err, "username", "Null characters are not allowed.")
		mkUser(t, tx, `{"username":"`+long+`","name":"L","email":"x@example.com"}`)
		_, err = store.Users.CreateJSON(tx, []byte(`{"username":"`+long+`ß","name":"L"}`), nil)
		if err == nil {
			t.Error("151 characters accepted")
		}
		for _, id := range []string{strings.ToUpper(long), long} {
			if _, err := tx.FindUser(directory.Find{Identifier: id, Fields: []directory.Field{directory.FieldUsername}}); err != nil {
				t.Errorf("find %q: %v", id, err)
			}
		}
		if _, err := store.Users.Get(tx, store.By("pk", "99999999999999999999")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("huge pk: %v", err)
		}
		if _, err := store.Users.Get(tx, store.By("pk", "4294967297")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("pk 2^32+1: %v", err)
		}
		for _, q := range []string{"members_by_pk=4294967297", "members_by_pk=99999999999999999999999", "members_by_pk=-1"} {
			vals, _ := url.ParseQuery(q)
			qq, err := store.QueryFromValues(vals)
			if err != nil {
				continue
			}
			_, err = tx.List(store.ModelGroup, qq)
			t.Logf("%s: %v", q, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkClean(t, s)
}

// Usernames of 150 four-byte characters are found by FindUser, in any
// case.
func TestReviewLongMultibyteUsernames(t *testing.T) {
	s, _ := dirStore(t)
	a := strings.Repeat("𝔘", 149) + "a"
	b := strings.Repeat("𝔘", 149) + "b"
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		ua := mkUser(t, tx, `{"username":"`+a+`","name":"A"}`)
		ub := mkUser(t, tx, `{"username":"`+b+`","name":"B"}`)
		for id, want := range map[string]int64{a: ua.PK, strings.ToUpper(b): ub.PK, b: ub.PK} {
			got, err := tx.FindUser(directory.Find{Identifier: id, Fields: []directory.Field{directory.FieldUsername}})
			if err != nil || got.PK != want {
				t.Errorf("find %q: %d %v, want %d", id, got.PK, err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkClean(t, s)
}

// Concurrent add and remove of members of one group through group
// writes and user writes, with concurrent password sets and checks: the
// store ends consistent (run with -race).
func TestReviewConcurrentMembershipAndPasswords(t *testing.T) {
	s, _ := dirStore(t)
	var g directory.Group
	var users []directory.User
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		g = mkGroup(t, tx, `{"name":"g"}`)
		for i := range 8 {
			users = append(users, mkUser(t, tx, fmt.Sprintf(`{"username":"u%d","name":"U"}`, i)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	d := s.Directory()
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 10 {
				err := s.Update(t.Context(), func(tx *store.Tx) error {
					if (i+j)%2 == 0 {
						cur, err := store.Groups.View(tx, store.PK(g.PK))
						if err != nil {
							return err
						}
						next := slices.DeleteFunc(slices.Clone(cur.Users), func(n int64) bool { return n == u.PK })
						if j%3 == 0 {
							next = append(next, u.PK)
						}
						b, _ := json.Marshal(map[string]any{"users": next})
						_, err = store.Groups.Patch(tx, store.PK(g.PK), b, nil)
						return err
					}
					groups := "[]"
					if j%3 != 0 {
						groups = `["` + g.PK.String() + `"]`
					}
					_, err := store.Users.Patch(tx, store.By("pk", fmt.Sprint(u.PK)), []byte(`{"groups":`+groups+`}`), nil)
					return err
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for j := range 5 {
				pw := fmt.Sprintf("pw%d", j)
				if err := d.SetPassword(t.Context(), u.PK, &pw); err != nil {
					t.Error(err)
				}
				if _, err := d.CheckPassword(t.Context(), u.PK, pw); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for _, u := range users {
		if ok, err := d.CheckPassword(t.Context(), u.PK, "pw4"); !ok || err != nil {
			t.Errorf("user %d: last password %v %v", u.PK, ok, err)
		}
	}
	checkClean(t, s)
}

// The attributes filter compares numbers exactly, as PostgreSQL's jsonb
// compares numeric values: 2^53+1 is not 2^53 (which a float64 cannot
// tell apart), while 1 and 1.0, and 0 and -0, are one number. An
// exponent no number reaches matches nothing and costs nothing.
func TestReviewAttributesFilterNumbersExact(t *testing.T) {
	s, _ := dirStore(t)
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		mkUser(t, tx, `{"username":"a","name":"A","attributes":{"n":9007199254740992,"f":1.0,"z":0,"l":[9007199254740992],"o":{"k":0.1}}}`)
		for f, want := range map[string]int{
			`{"n":9007199254740993}`:            0,
			`{"n":9007199254740992}`:            1,
			`{"n":9.007199254740992e15}`:        1,
			`{"n":9007199254740992.5}`:          0,
			`{"f":1}`:                           1,
			`{"f":10e-1}`:                       1,
			`{"z":-0}`:                          1,
			`{"z":0.0e5}`:                       1,
			`{"l":[9007199254740993]}`:          0,
			`{"l":[9007199254740992]}`:          1,
			`{"l__0":9007199254740992}`:         1,
			`{"o":{"k":0.10}}`:                  1,
			`{"o__k":1e-1}`:                     1,
			`{"o__k":0.1000000000000000000001}`: 0,
			`{"n":1e999999999999}`:              0,
			`{"n":1e99999999999999999999999}`:   0,
		} {
			q, err := store.QueryFromValues(url.Values{"attributes": {f}})
			if err != nil {
				t.Fatal(err)
			}
			p, err := tx.List(store.ModelUser, q)
			if err != nil || len(p.Results) != want {
				t.Errorf("attributes=%s: %d users, %v; want %d", f, len(p.Results), err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// countingDB counts the reads of one bucket's records.
type countingDB struct {
	kv.DB
	bucket string
	reads  *atomic.Int64
}

type countingTx struct {
	kv.Tx
	db countingDB
}

func (d countingDB) View(ctx context.Context, fn func(kv.Tx) error) error {
	return d.DB.View(ctx, func(tx kv.Tx) error { return fn(countingTx{tx, d}) })
}

func (d countingDB) Update(ctx context.Context, fn func(kv.Tx) error) error {
	return d.DB.Update(ctx, func(tx kv.Tx) error { return fn(countingTx{tx, d}) })
}

func (t countingTx) Get(bucket string, key []byte) ([]byte, error) {
	if bucket == t.db.bucket {
		t.db.reads.Add(1)
	}
	return t.Tx.Get(bucket, key)
}

// Adding a member to a group and removing one reads and writes that
// user alone, whatever the group's size (authentik's add_user and
// remove_user; the API's read every member twice, through the group's
// view and a write of its whole member list).
func TestReviewSetMemberCost(t *testing.T) {
	reads := &atomic.Int64{}
	s, _ := seamNew(t, func(db kv.DB) kv.DB { return countingDB{db, "users", reads} })
	var g directory.Group
	var extra directory.User
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		var pks []string
		for i := range 200 {
			pks = append(pks, fmt.Sprint(mkUser(t, tx, fmt.Sprintf(`{"username":"m%d","name":"M"}`, i)).PK))
		}
		extra = mkUser(t, tx, `{"username":"extra","name":"E","type":"service_account"}`)
		g = mkGroup(t, tx, `{"name":"big","users":[`+strings.Join(pks, ",")+`]}`)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		member, changed bool
	}{{true, true}, {true, false}, {false, true}, {false, false}} {
		reads.Store(0)
		err := s.Update(t.Context(), func(tx *store.Tx) error {
			changed, err := tx.SetMember(store.PK(g.PK), extra.PK, step.member, nil)
			if changed != step.changed {
				t.Errorf("member %v: changed %v, want %v", step.member, changed, step.changed)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := reads.Load(); n > 4 {
			t.Errorf("member %v: %d reads of users for a group of 200", step.member, n)
		}
		_ = s.View(t.Context(), func(tx *store.Tx) error {
			u, _ := store.Users.Get(tx, store.By("pk", fmt.Sprint(extra.PK)))
			if slices.Contains(u.Groups, g.PK) != step.member {
				t.Errorf("member %v: groups %v", step.member, u.Groups)
			}
			return nil
		})
	}
	err = s.Update(t.Context(), func(tx *store.Tx) error {
		if _, err := tx.SetMember(store.PK(g.PK), 99999, true, nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown user: %v", err)
		}
		if _, err := tx.SetMember(store.By("name", "nope"), extra.PK, true, nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown group: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if probs := s.Check(t.Context()); len(probs) > 0 {
		t.Error(probs)
	}
}

// A read-only store checks a password against a hash that is not
// current without an error: it cannot upgrade the hash, and leaves it
// for a writable open.
func TestReviewCheckPasswordReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ro.db")
	s, err := store.Open(path, &store.Options{NoSync: true, Passwords: cheap})
	if err != nil {
		t.Fatal(err)
	}
	old, err := password.Policy{Iterations: 500}.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	h, err := store.ImportPasswordHash(old)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(t.Context(), func(tx *store.Tx) error {
		u := mkUser(t, tx, `{"username":"a","name":"A"}`)
		return tx.SetPassword(u.PK, h, nil)
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	ro, err := store.Open(path, &store.Options{ReadOnly: true, Passwords: cheap})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for range 2 {
		if ok, err := ro.Directory().CheckPassword(t.Context(), 1, "pw"); !ok || err != nil {
			t.Errorf("read-only check: %v, %v; want true, nil", ok, err)
		}
	}
	if ok, err := ro.CheckPassword(t.Context(), 1, "wrong"); ok || err != nil {
		t.Errorf("read-only check of a wrong password: %v, %v", ok, err)
	}
}

// The store's case-insensitive FindUser compares upper cases, as
// authentik's iexact on PostgreSQL does, not Unicode folds: the Kelvin
// sign (whose upper case is itself) does not find "kate", which Go's
// strings.EqualFold would take it for; "ſ" (long s, upper case S) finds
// "sam".
func TestReviewFindUserUpperNotFold(t *testing.T) {
	s, _ := dirStore(t)
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		kate := mkUser(t, tx, `{"username":"kate","name":"K"}`)
		sam := mkUser(t, tx, `{"username":"sam","name":"S"}`)
		for id, want := range map[string]int64{"\u212aate": 0, "KATE": kate.PK, "\u017fam": sam.PK} {
			got, err := tx.FindUser(directory.Find{Identifier: id, Fields: []directory.Field{directory.FieldUsername}})
			if got.PK != want || (want == 0) != errors.Is(err, store.ErrNotFound) {
				t.Errorf("find %q: %d %v, want %d", id, got.PK, err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// capturingDB keeps the last value written to one bucket.
type capturingDB struct {
	kv.DB
	bucket string
	last   *atomic.Value
}

type capturingTx struct {
	kv.Tx
	db capturingDB
}

func (d capturingDB) Update(ctx context.Context, fn func(kv.Tx) error) error {
	return d.DB.Update(ctx, func(tx kv.Tx) error { return fn(capturingTx{tx, d}) })
}

func (t capturingTx) Put(bucket string, key, val []byte) error {
	if bucket == t.db.bucket {
		t.db.last.Store(string(val))
	}
	return t.Tx.Put(bucket, key, val)
}

// DIRECTORY.md §10 item 10, with the store's default policy: a
// pbkdf2_sha256 hash of another iteration count verifies with its own
// count, and a successful check stores a hash of 870,000 iterations in
// its place without moving password_change_date.
func TestReviewUpgradeTo870000(t *testing.T) {
	last := &atomic.Value{}
	s, _ := seamNew(t, func(db kv.DB) kv.DB { return capturingDB{db, "passwords", last} })
	old, err := password.Policy{Iterations: 1000}.Hash("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	h, err := store.ImportPasswordHash(old)
	if err != nil {
		t.Fatal(err)
	}
	var before directory.User
	err = s.Update(t.Context(), func(tx *store.Tx) error {
		before = mkUser(t, tx, `{"username":"a","name":"A"}`)
		return tx.SetPassword(before.PK, h, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.View(t.Context(), func(tx *store.Tx) (err error) {
		before, err = store.Users.Get(tx, store.By("pk", "1"))
		return err
	})
	if ok, err := s.CheckPassword(t.Context(), 1, "s3cret"); !ok || err != nil {
		t.Fatalf("check: %v %v", ok, err)
	}
	stored, _ := last.Load().(string)
	if !strings.HasPrefix(stored, "pbkdf2_sha256$870000$") {
		t.Errorf("after the check the stored hash is %.22q..., want pbkdf2_sha256$870000$", stored)
	}
	_ = s.View(t.Context(), func(tx *store.Tx) error {
		after, err := store.Users.Get(tx, store.By("pk", "1"))
		if err != nil || after.PasswordChangeDate != before.PasswordChangeDate {
			t.Errorf("password_change_date %q, was %q (%v)", after.PasswordChangeDate, before.PasswordChangeDate, err)
		}
		return nil
	})
	if ok, err := s.CheckPassword(t.Context(), 1, "s3cret"); !ok || err != nil {
		t.Errorf("the upgraded hash: %v %v", ok, err)
	}
}

// No fmt verb shows a PasswordHash's hash: %#v prints a struct's fields,
// unexported ones included, unless the type has a GoString.
func TestReviewPasswordHashFormats(t *testing.T) {
	enc, err := password.Policy{Iterations: 1000}.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	h, err := store.ImportPasswordHash(enc)
	if err != nil {
		t.Fatal(err)
	}
	salt := strings.Split(enc, "$")[2]
	type holder struct{ H store.PasswordHash }
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, v := range []any{h, &h, holder{h}, []store.PasswordHash{h}} {
			if got := fmt.Sprintf(verb, v); strings.Contains(got, "pbkdf2") || strings.Contains(got, salt) || strings.Contains(got, fmt.Sprintf("%x", "pbkdf2")) {
				t.Errorf("%s of %T shows the hash: %s", verb, v, got)
			}
		}
	}
}

// An attributes filter names at most MaxFilterValues keys: each is a
// lookup into every row's attributes, so an unbounded filter (a URL
// holds tens of thousands) cost its size times the rows.
func TestReviewAttributesFilterKeysBounded(t *testing.T) {
	s, _ := dirStore(t)
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		mkUser(t, tx, `{"username":"a","name":"A","attributes":{"k0":0}}`)
		for n, wantErr := range map[int]bool{store.MaxFilterValues: false, store.MaxFilterValues + 1: true} {
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf(`"k%d":%d`, i, i)
			}
			q, err := store.QueryFromValues(url.Values{"attributes": {"{" + strings.Join(keys, ",") + "}"}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = tx.List(store.ModelUser, q)
			var fe *store.FilterError
			switch {
			case !wantErr && err != nil:
				t.Errorf("%d keys: %v", n, err)
			case wantErr && (!errors.As(err, &fe) || !slices.Equal(fe.Messages, []string{fmt.Sprintf("filter: at most %d keys (it has %d)", store.MaxFilterValues, n)})):
				t.Errorf("%d keys: %v", n, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Paging users in the default ordering (read from the username index)
// follows renames and deletes: every page together is the users sorted
// by username, each once, and the count is right.
func TestReviewUserPagesAfterRenames(t *testing.T) {
	s, _ := dirStore(t)
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		for i := range 9 {
			mkUser(t, tx, fmt.Sprintf(`{"username":"u%d","name":"U"}`, i))
		}
		for pk, name := range map[int]string{2: "a", 5: "zz", 7: "U9", 8: "u1x"} {
			if _, err := store.Users.Patch(tx, store.By("pk", fmt.Sprint(pk)), []byte(`{"username":"`+name+`"}`), nil); err != nil {
				return err
			}
		}
		return store.Users.Delete(tx, store.By("username", "u3"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"U9", "a", "u0", "u1x", "u2", "u5", "u8", "zz"}
	_ = s.View(t.Context(), func(tx *store.Tx) error {
		var got []string
		for page := 1; page <= 3; page++ {
			p, err := store.Users.List(tx, store.Query{Page: page, PageSize: 3})
			if err != nil {
				t.Fatal(err)
			}
			if p.Pagination.Count != len(want) {
				t.Errorf("page %d: count %d, want %d", page, p.Pagination.Count, len(want))
			}
			for _, u := range p.Results {
				got = append(got, u.Username)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages %q, want %q", got, want)
		}
		return nil
	})
}

// The case-insensitive email and upn indexes follow a patch of the email
// and of attributes.upn (to another value, to a non-string, to none).
func TestReviewIdentifierIndexesFollowPatches(t *testing.T) {
	s, _ := dirStore(t)
	find := func(tx *store.Tx, id string, f directory.Field) int64 {
		u, err := tx.FindUser(directory.Find{Identifier: id, Fields: []directory.Field{f}})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return u.PK
	}
	err := s.Update(t.Context(), func(tx *store.Tx) error {
		u := mkUser(t, tx, `{"username":"a","name":"A","email":"A@x.example","attributes":{"upn":"A@corp"}}`)
		key := store.By("pk", fmt.Sprint(u.PK))
		for _, step := range []struct {
			patch, email, oldEmail, upn, oldUPN string
		}{
			{`{"email":"B@x.example","attributes":{"upn":"B@corp"}}`, "b@x.example", "a@x.example", "b@corp", "a@corp"},
			{`{"email":"","attributes":{"upn":5}}`, "", "b@x.example", "", "b@corp"},
			{`{"email":"c@x.example","attributes":{"upn":"C@corp"}}`, "C@X.EXAMPLE", "", "c@CORP", ""},
			{`{"attributes":{"upn":null}}`, "c@x.example", "", "", "c@corp"},
		} {
			if _, err := store.Users.Patch(tx, key, []byte(step.patch), nil); err != nil {
				t.Fatal(err)
			}
			if step.email != "" && find(tx, step.email, directory.FieldEmail) != u.PK {
				t.Errorf("after %s: %q not found by email", step.patch, step.email)
			}
			if step.oldEmail != "" && find(tx, step.oldEmail, directory.FieldEmail) != 0 {
				t.Errorf("after %s: old %q still found by email", step.patch, step.oldEmail)
			}
			if step.upn != "" && find(tx, step.upn, directory.FieldUPN) != u.PK {
				t.Errorf("after %s: %q not found by upn", step.patch, step.upn)
			}
			if step.oldUPN != "" && find(tx, step.oldUPN, directory.FieldUPN) != 0 {
				t.Errorf("after %s: old %q still found by upn", step.patch, step.oldUPN)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkClean(t, s)
}
