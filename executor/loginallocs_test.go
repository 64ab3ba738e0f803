package executor

import (
	"strconv"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
)

// A login through the shipped default-authentication-flow, with the Go
// API (six requests: each loads its execution, reaches its stage and
// saves or ends the execution), allocates at most maxLoginAllocs
// objects (189 when written; 277 before read transactions recycled their
// wrappers, contexts were checked against their bytes instead of
// encoded, expressions looked values up in the plan context and the
// password stage stopped rebuilding the pending user; 320 before each
// request's state was taken
// from a pool, its execution key kept, its parsed query and read
// transaction's closure left out, the identified user and the
// password's hash read with the current stage). Before the execution
// was taken from its cache instead of copied, adopted at its save
// instead of rebuilt, its entry and record reused, and bbolt's page
// checks stopped allocating, it took 481 (and some 540 in
// BenchmarkLoginCheap, of a store of 1,000 users).
func TestLoginAllocs(t *testing.T) {
	const maxLoginAllocs = 220
	if testutil.Race {
		t.Skip("the race detector allocates, and sync.Pool drops at random under it")
	}
	h, _ := loginHarness(t)
	n := 0
	login := func() {
		n++
		if _, err := goLogin(t, h, "s"+strconv.Itoa(n)); err != nil {
			t.Fatal(err)
		}
	}
	login()
	if got := testing.AllocsPerRun(20, login); got > maxLoginAllocs {
		t.Errorf("a login allocates %v objects, want at most %d", got, maxLoginAllocs)
	}
}
