package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// The directory benchmarks measure issue 19's figures at several numbers
// of users in one run (1,000 and 100,000 by default), each beside its
// baseline from the same run:
//
//	go test ./store/ -run=NONE -bench='Directory(Ratio|Growth)' -benchtime=1s -count=3
//
// BenchmarkDirectoryRatio reports each operation's time over its
// baseline's (x-<baseline>) and BenchmarkDirectoryGrowth an operation's
// time at the largest size over its time at the smallest (x-growth),
// both measured in turn in one loop, so that a busy machine moves the
// ratio less than it moves two benchmarks run apart; BenchmarkDirectory
// runs each operation alone, for its time and allocations. Targets:
//
//   - FindUsername and FindEmail (Tx.FindUser, case-insensitive, in one
//     View) grow at most 1.5x from 1,000 to 100,000 users, and cost at
//     most 2x BaselineGet (a raw bbolt View, Get and JSON decode of a
//     user, in a bucket of as many users).
//   - IsMember (a user in group C, whose parent is B, whose parent is A:
//     is the user a member of A?, in one View) costs at most 3x UserGet
//     (Users.Get by pk, in one View).
//   - CheckPassword (Store.CheckPassword) costs what BaselineCheckPassword
//     (password.Policy{}.Check of a hash of the same policy) does: one
//     hash. A check takes a good part of a second, so a run holds a few;
//     the same pair with a policy of 10,000 iterations holds hundreds.
//   - SeamFindUsername (Store.Directory().FindUser) costs what
//     FindUsername (Tx.FindUser in a View of one's own) does.
//
// Each size's fixture is built once per test process, into a temporary
// directory that TestMain removes; nothing here runs without -bench.
var dirUsersFlag = flag.String("dir-users", "1000,100000", "comma-separated user counts for the Directory benchmarks")

// dirDB is the fixture of one size: a store of n users and n/100 chains
// of three groups (A, B below A, C below B), user i directly in the C of
// chain i mod chains; and raw bbolt holding the same users' JSON in one
// bucket, keyed by their uuid.
type dirDB struct {
	s   *store.Store
	raw *bolt.DB
	dir string
	n   int

	users     []directory.User // by index i; pk is i+1
	pkKeys    []store.Key      // Users.Get keys, by index
	usernames []string         // identifiers to find, in another case
	emails    []string
	rawKeys   [][]byte
	tops      []directory.Group // group A of each chain
	chains    int
	pwHash    string // another hash of user 1's password, of the same policy
}

var (
	dirMu  sync.Mutex
	dirDBs = map[int]*dirDB{}
)

// closeDirDBs closes and removes the fixtures (TestMain calls it).
func closeDirDBs() {
	dirMu.Lock()
	defer dirMu.Unlock()
	for n, d := range dirDBs {
		d.s.Close()
		d.raw.Close()
		os.RemoveAll(d.dir)
		delete(dirDBs, n)
	}
}

// dirPassword is user 1's password; the stores hash it with the default
// policy (Django's: pbkdf2_sha256, 870,000 iterations).
const dirPassword = "correct horse battery staple"

func dirSizes(b *testing.B) []int {
	var out []int
	for _, f := range strings.Split(*dirUsersFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 100 {
			b.Fatalf("-dir-users: bad size %q (at least 100)", f)
		}
		out = append(out, n)
	}
	return out
}

func dirUsername(i int) string { return fmt.Sprintf("User.%07d", i) }
func dirEmail(i int) string    { return fmt.Sprintf("User.%07d@Example.COM", i) }

// dirFixture builds (once per process) the fixture of n users.
func dirFixture(b *testing.B, n int) *dirDB {
	dirMu.Lock()
	defer dirMu.Unlock()
	if d, ok := dirDBs[n]; ok {
		return d
	}
	dir, err := os.MkdirTemp("", "authflow-dir")
	if err != nil {
		b.Fatal(err)
	}
	s, err := store.Open(filepath.Join(dir, "dir.db"), &store.Options{NoSync: true})
	if err != nil {
		os.RemoveAll(dir)
		b.Fatal(err)
	}
	d := &dirDB{s: s, dir: dir, n: n, chains: max(n/100, 1)}
	fail := func(err error) {
		s.Close()
		if d.raw != nil {
			d.raw.Close()
		}
		os.RemoveAll(dir)
		b.Fatal(err)
	}
	ctx := context.Background()
	bottoms := make([]uuid.UUID, d.chains)
	err = s.Update(ctx, func(tx *store.Tx) error {
		for k := range d.chains {
			var parent *uuid.UUID
			for level, name := range []string{"A", "B", "C"} {
				g, err := store.Groups.Create(tx, directory.Group{
					Name:       fmt.Sprintf("%s-%05d", name, k),
					Parent:     parent,
					Attributes: map[string]any{"level": name, "chain": k},
				}, nil)
				if err != nil {
					return err
				}
				if level == 0 {
					d.tops = append(d.tops, g)
				}
				parent = &g.PK
			}
			bottoms[k] = *parent
		}
		return nil
	})
	if err != nil {
		fail(err)
	}
	const chunk = 5000
	for lo := 0; lo < n; lo += chunk {
		err := s.Update(ctx, func(tx *store.Tx) error {
			for i := lo; i < min(lo+chunk, n); i++ {
				u, err := store.Users.Create(tx, directory.User{
					Username: dirUsername(i), Name: fmt.Sprintf("User %d", i), Email: dirEmail(i),
					IsActive: true, Path: "users", Type: directory.UserTypeInternal,
					Groups:     []uuid.UUID{bottoms[i%d.chains]},
					Attributes: map[string]any{"settings": map[string]any{"locale": "en"}},
				}, nil)
				if err != nil {
					return err
				}
				if u.PK != int64(i+1) {
					return fmt.Errorf("user %d has pk %d", i, u.PK)
				}
				d.users = append(d.users, u)
			}
			return nil
		})
		if err != nil {
			fail(err)
		}
	}
	pw := dirPassword
	if err := s.SetPassword(ctx, 1, &pw); err != nil {
		fail(err)
	}
	raw, err := bolt.Open(filepath.Join(dir, "raw.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		fail(err)
	}
	d.raw = raw
	for lo := 0; lo < n; lo += chunk {
		err := raw.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("users"))
			if err != nil {
				return err
			}
			for _, u := range d.users[lo:min(lo+chunk, n)] {
				v, err := json.Marshal(u)
				if err != nil {
					return err
				}
				if err := bk.Put(u.UUID[:], v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			fail(err)
		}
	}
	for i, u := range d.users {
		d.pkKeys = append(d.pkKeys, store.By("pk", strconv.FormatInt(u.PK, 10)))
		d.usernames = append(d.usernames, strings.ToLower(dirUsername(i)))
		d.emails = append(d.emails, strings.ToLower(dirEmail(i)))
		d.rawKeys = append(d.rawKeys, u.UUID[:])
	}
	// The baseline's hash: another hash of the same password and policy
	// (the stored one is not exported), which costs the same to check.
	if d.pwHash, err = (password.Policy{}).Hash(dirPassword); err != nil {
		fail(err)
	}
	dirDBs[n] = d
	return d
}

// A dirOp is one operation of the benchmarks on fixture d, for the user
// of index i (pk i+1) where it reads a user.
type dirOp func(d *dirDB, i int) error

// The operations, by name.
var dirOps = map[string]dirOp{
	// BaselineGet is a raw bbolt View, Get and JSON decode (encoding/json)
	// of a user, in a bucket of as many users as the store holds.
	"BaselineGet": func(d *dirDB, i int) error {
		var u directory.User
		err := d.raw.View(func(tx *bolt.Tx) error {
			return json.Unmarshal(tx.Bucket([]byte("users")).Get(d.rawKeys[i]), &u)
		})
		return wantPK(err, u.PK, i)
	},
	// BaselineGetBare is BaselineGet without the decode: the value's
	// bytes copied out, as a read must before its transaction ends.
	"BaselineGetBare": func(d *dirDB, i int) error {
		var v []byte
		err := d.raw.View(func(tx *bolt.Tx) error {
			v = bytes.Clone(tx.Bucket([]byte("users")).Get(d.rawKeys[i]))
			return nil
		})
		if err == nil && v == nil {
			err = fmt.Errorf("no user %d", i+1)
		}
		return err
	},
	// UserGet is Users.Get by pk, in one View.
	"UserGet": func(d *dirDB, i int) error {
		var u directory.User
		err := d.s.View(context.Background(), func(tx *store.Tx) error {
			var err error
			u, err = store.Users.Get(tx, d.pkKeys[i])
			return err
		})
		return wantPK(err, u.PK, i)
	},
	// FindUsername and FindEmail are Tx.FindUser on one field, in one
	// View, with the identifier in another case than the stored value.
	"FindUsername": func(d *dirDB, i int) error { return findIn(d, i, directory.FieldUsername, d.usernames[i]) },
	"FindEmail":    func(d *dirDB, i int) error { return findIn(d, i, directory.FieldEmail, d.emails[i]) },
	// SeamFindUsername is FindUsername through the seam:
	// Store.Directory().FindUser.
	"SeamFindUsername": func(d *dirDB, i int) error {
		u, err := d.s.Directory().FindUser(context.Background(), directory.Find{Identifier: d.usernames[i], Fields: dirUsernameField})
		return wantPK(err, u.PK, i)
	},
	// IsMember is, in one View, whether a user (held by the caller, as a
	// flow holds the user it identified) is a member of group A of its
	// chain, which it is through C and B: Group.IsMember with a lookup
	// over the store's transaction.
	"IsMember": func(d *dirDB, i int) error {
		u, top := d.users[i], d.tops[i%d.chains]
		var member bool
		err := d.s.View(context.Background(), func(tx *store.Tx) error {
			var err error
			lookup := func(pk uuid.UUID) (directory.Group, bool) {
				g, e := store.Groups.Get(tx, store.PK(pk))
				if e != nil && err == nil {
					err = e
				}
				return g, e == nil
			}
			member = top.IsMember(u, lookup)
			return err
		})
		if err == nil && !member {
			err = fmt.Errorf("user %d is not a member of %s", u.PK, top.Name)
		}
		return err
	},
	// CheckPassword is Store.CheckPassword of user 1's password: a View
	// and one hash of the default policy.
	"CheckPassword": func(d *dirDB, _ int) error {
		ok, err := d.s.CheckPassword(context.Background(), 1, dirPassword)
		if err == nil && !ok {
			err = fmt.Errorf("password refused")
		}
		return err
	},
	// BaselineCheckPassword is password.Policy{}.Check of a hash of the
	// same password and policy: the hash alone.
	"BaselineCheckPassword": func(d *dirDB, _ int) error {
		ok, rehash, err := password.Policy{}.Check(dirPassword, d.pwHash)
		if err == nil && (!ok || rehash != "") {
			err = fmt.Errorf("check: ok %v, rehash %v", ok, rehash != "")
		}
		return err
	},
}

var dirUsernameField = []directory.Field{directory.FieldUsername}

func findIn(d *dirDB, i int, f directory.Field, id string) error {
	var u directory.User
	err := d.s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		u, err = tx.FindUser(directory.Find{Identifier: id, Fields: []directory.Field{f}})
		return err
	})
	return wantPK(err, u.PK, i)
}

func wantPK(err error, pk int64, i int) error {
	if err == nil && pk != int64(i+1) {
		err = fmt.Errorf("got user %d, want %d", pk, i+1)
	}
	return err
}

// BenchmarkDirectory runs each operation alone at each size, for its
// time and allocations: Directory/<op>/users=<n>.
func BenchmarkDirectory(b *testing.B) {
	for _, name := range []string{"BaselineGet", "BaselineGetBare", "UserGet", "FindUsername", "FindEmail", "SeamFindUsername", "IsMember"} {
		b.Run(name, func(b *testing.B) {
			for _, n := range dirSizes(b) {
				d := dirFixture(b, n)
				b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
					b.ReportAllocs()
					rng := rand.New(rand.NewPCG(1, 1))
					op := dirOps[name]
					for b.Loop() {
						if err := op(d, rng.IntN(d.n)); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// dirPairs are the comparisons of BenchmarkDirectoryRatio: an operation
// and its baseline.
var dirPairs = []struct{ op, base string }{
	{"FindUsername", "BaselineGet"},
	{"FindEmail", "BaselineGet"},
	{"FindUsername", "BaselineGetBare"},
	{"UserGet", "BaselineGet"},
	{"IsMember", "UserGet"},
	{"SeamFindUsername", "FindUsername"},
}

// BenchmarkDirectoryRatio times an operation and its baseline in turn in
// one loop, each on a user of its own, and reports the operation's total
// time over the baseline's as x-<baseline>: a ratio that a busy machine
// moves less than the two measured apart. The password check, which costs
// what it costs at any size, runs at the largest size only.
func BenchmarkDirectoryRatio(b *testing.B) {
	sizes := dirSizes(b)
	for _, p := range dirPairs {
		b.Run(p.op+"-vs-"+p.base, func(b *testing.B) {
			for _, n := range sizes {
				d := dirFixture(b, n)
				b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
					alternate(b, p.base, func(i int) error { return dirOps[p.op](d, i%d.n) }, func(i int) error { return dirOps[p.base](d, i%d.n) })
				})
			}
		})
	}
	b.Run("CheckPassword-vs-BaselineCheckPassword", func(b *testing.B) {
		n := sizes[len(sizes)-1]
		d := dirFixture(b, n)
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			alternate(b, "BaselineCheckPassword", func(int) error { return dirOps["CheckPassword"](d, 0) }, func(int) error { return dirOps["BaselineCheckPassword"](d, 0) })
		})
		// The same with a policy of 10,000 iterations, on a store of one
		// user: many more pairs in the same time, and the store's part of
		// a check a larger share of it.
		b.Run("iterations=10000", func(b *testing.B) {
			check, base := cheapCheck(b)
			alternate(b, "BaselineCheckPassword", func(int) error { return check() }, func(int) error { return base() })
		})
	})
}

// cheapCheck opens a store whose password policy is pbkdf2_sha256 of
// 10,000 iterations, with one user whose password is set, and returns
// Store.CheckPassword of it and password.Policy.Check of another hash of
// the same policy.
func cheapCheck(b *testing.B) (check, base func() error) {
	policy := password.Policy{Iterations: 10000}
	s, err := store.Open(filepath.Join(b.TempDir(), "cheap.db"), &store.Options{NoSync: true, Passwords: policy})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	var u directory.User
	err = s.Update(ctx, func(tx *store.Tx) error {
		u, err = store.Users.CreateJSON(tx, []byte(`{"username":"cheap","name":"Cheap"}`), nil)
		return err
	})
	pw := dirPassword
	if err == nil {
		err = s.SetPassword(ctx, u.PK, &pw)
	}
	h, herr := policy.Hash(dirPassword)
	if err = errors.Join(err, herr); err != nil {
		b.Fatal(err)
	}
	check = func() error {
		ok, err := s.CheckPassword(ctx, u.PK, dirPassword)
		if err == nil && !ok {
			err = fmt.Errorf("password refused")
		}
		return err
	}
	base = func() error {
		ok, rehash, err := policy.Check(dirPassword, h)
		if err == nil && (!ok || rehash != "") {
			err = fmt.Errorf("check: ok %v, rehash %v", ok, rehash != "")
		}
		return err
	}
	return check, base
}

// BenchmarkDirectoryGrowth times an operation at the smallest and the
// largest size in turn in one loop, and reports its total time at the
// largest over that at the smallest as x-growth.
func BenchmarkDirectoryGrowth(b *testing.B) {
	sizes := dirSizes(b)
	small, large := dirFixture(b, sizes[0]), dirFixture(b, sizes[len(sizes)-1])
	for _, name := range []string{"BaselineGet", "BaselineGetBare", "UserGet", "FindUsername", "FindEmail", "IsMember"} {
		op := dirOps[name]
		b.Run(fmt.Sprintf("%s/users=%d-to-%d", name, small.n, large.n), func(b *testing.B) {
			alternate(b, "growth", func(i int) error { return op(large, i%large.n) }, func(i int) error { return op(small, i%small.n) })
		})
	}
}

// alternate runs op and base in turn (each first every other time) for
// b.Loop's iterations, each with a random index of its own, and reports
// the metric x-<unit>: op's time over base's in blocks of consecutive
// iterations that take dirBlock or more (over which each side's garbage
// collection is charged to it), the median over the blocks, so that a
// block in which the machine was taken away says nothing.
func alternate(b *testing.B, unit string, op, base func(i int) error) {
	rngOp, rngBase := rand.New(rand.NewPCG(1, 1)), rand.New(rand.NewPCG(2, 2))
	var tOp, tBase time.Duration
	var ratios []float64
	run := func(f func(int) error, rng *rand.Rand, t *time.Duration) {
		t0 := time.Now()
		if err := f(rng.IntN(1 << 30)); err != nil {
			b.Fatal(err)
		}
		*t += time.Since(t0)
	}
	k := 0
	for b.Loop() {
		if k%2 == 1 {
			run(op, rngOp, &tOp)
			run(base, rngBase, &tBase)
		} else {
			run(base, rngBase, &tBase)
			run(op, rngOp, &tOp)
		}
		k++
		if tOp+tBase >= dirBlock {
			ratios = append(ratios, tOp.Seconds()/tBase.Seconds())
			tOp, tBase = 0, 0
		}
	}
	if len(ratios) == 0 {
		ratios = append(ratios, tOp.Seconds()/tBase.Seconds())
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "x-"+unit)
}

// dirBlock is the time of alternate's blocks: 2 ms, some 60 iterations of
// a find beside a get, one of a password check beside its baseline.
const dirBlock = 2 * time.Millisecond
