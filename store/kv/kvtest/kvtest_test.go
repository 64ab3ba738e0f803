package kvtest_test

import (
	"testing"

	"github.com/authflow/authflow/store/kv"
	"github.com/authflow/authflow/store/kv/kvtest"
)

// TestModel runs the suite against the model, whose transactions of more
// than 10,000 writes are too large.
func TestModel(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.DB { return kvtest.Mem(10000) })
}

func TestModelFlaky(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.DB { return kvtest.Flaky(kvtest.Mem(10000), 2) })
}

// TestFlakyInterfaces checks that Flaky passes on only the optional
// interfaces db has.
func TestFlakyInterfaces(t *testing.T) {
	f := kvtest.Flaky(kvtest.Mem(10), 1)
	if _, ok := f.(kv.Backuper); ok {
		t.Error("Flaky of a DB that is no kv.Backuper is one")
	}
	if _, ok := f.(kv.Buckets); ok {
		t.Error("Flaky of a DB that is no kv.Buckets is one")
	}
}
