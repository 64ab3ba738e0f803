package boltkv_test

import (
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"testing"

	"github.com/authflow/authflow/store/internal/boltkv"
	bolt "go.etcd.io/bbolt"
)

// TestBboltVersion: the bbolt linked into this test binary is one whose
// file layout the open-time checks were written for. Another (a module
// upgrade, or the etcd module's newer bbolt) must pass the damage tests
// under it and be added to layoutVersions first. A test binary carries no
// module list, so the version is read from the path of bbolt's source
// file, which the module cache names go.etcd.io/bbolt@<version>.
func TestBboltVersion(t *testing.T) {
	fn := runtime.FuncForPC(reflect.ValueOf(bolt.Open).Pointer())
	if fn == nil {
		t.Fatal("no function information for bbolt.Open")
	}
	file, _ := fn.FileLine(fn.Entry())
	m := regexp.MustCompile(`go\.etcd\.io/bbolt@(v[^/]+)/`).FindStringSubmatch(file)
	if m == nil {
		t.Fatalf("bbolt is built from %s, not a module version: check the layout against it and skip this test knowingly", file)
	}
	if !slices.Contains(boltkv.LayoutVersions, m[1]) {
		t.Fatalf("bbolt %s is linked; the layout checks were written for %v: run the damage tests under it (go test ./store/internal/boltkv/ ./store/) and add it to layoutVersions", m[1], boltkv.LayoutVersions)
	}
	t.Logf("bbolt %s", m[1])
}
