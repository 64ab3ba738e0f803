package executor

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
)

// A login through the shipped default-authentication-flow, with the Go
// API (six requests: each loads its execution, reaches its stage and
// saves or ends the execution), allocates at most maxLoginAllocs
// objects (277 when written; 320 before each request's state was taken
// from a pool, its execution key kept, its parsed query and read
// transaction's closure left out, the identified user and the
// password's hash read with the current stage). Before the execution was taken from its cache
// instead of copied, adopted at its save instead of rebuilt, its entry
// and record reused, and bbolt's page checks stopped allocating, it took
// 481 (and some 540 in BenchmarkLoginCheap, of a store of 1,000 users).
func TestLoginAllocs(t *testing.T) {
	const maxLoginAllocs = 290
	if testutil.Race {
		t.Skip("the race detector allocates, and sync.Pool drops at random under it")
	}
	h := newHarness(t, "", withExpression)
	loadDefaults(t, h, false)
	h.userWith("alice", "alice@example.com", ptr("right"), true)
	const slug = "default-authentication-flow"
	uid := json.RawMessage(`{"component":"ak-stage-identification","uid_field":"alice"}`)
	pw := json.RawMessage(`{"component":"ak-stage-password","password":"right"}`)
	ctx := context.Background()
	n := 0
	login := func() {
		n++
		req := Request{Session: "s" + strconv.Itoa(n)}
		for _, body := range []json.RawMessage{nil, uid, nil, pw, nil, nil} {
			var err error
			if body == nil {
				_, err = h.e.Get(ctx, slug, req)
			} else {
				_, err = h.e.Submit(ctx, slug, req, body)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	login()
	if got := testing.AllocsPerRun(20, login); got > maxLoginAllocs {
		t.Errorf("a login allocates %v objects, want at most %d", got, maxLoginAllocs)
	}
}
