package kvtest

import (
	"context"
	"errors"
	"io"

	"github.com/authflow/authflow/store/kv"
)

// errDiscard is what Flaky's discarded runs return to roll back. It does
// not wrap kv.ErrConflict, so that no backend takes it for a conflict of
// its own and retries it.
var errDiscard = errors.New("kvtest: Flaky: run discarded as if it had lost a race")

// Flaky wraps db so that each Update runs fn n extra times before the run
// that may commit: each of those runs sees the current state, and is then
// rolled back as if an optimistic backend had found a conflict, and fn is
// run again. OnCommit registrations of the discarded runs never fire. If
// fn returns an error in any run, Update returns it at once, as a real
// backend would. View and Close go straight to db, and so do Backup and
// BucketNames when db implements kv.Backuper or kv.Buckets (the result
// implements the same of those interfaces as db).
//
// Flaky tests that code built on kv is safe when fn runs more than once:
// it must keep no effects of a run but through the transaction and
// OnCommit.
func Flaky(db kv.DB, n int) kv.DB {
	f := &flaky{db: db, n: max(n, 0)}
	b, isB := db.(kv.Backuper)
	l, isL := db.(kv.Buckets)
	switch {
	case isB && isL:
		return &flakyBackupBuckets{f, b, l}
	case isB:
		return &flakyBackup{f, b}
	case isL:
		return &flakyBuckets{f, l}
	}
	return f
}

type flaky struct {
	db kv.DB
	n  int
}

type flakyBackup struct {
	*flaky
	b kv.Backuper
}

type flakyBuckets struct {
	*flaky
	l kv.Buckets
}

type flakyBackupBuckets struct {
	*flaky
	b kv.Backuper
	l kv.Buckets
}

func (f *flaky) View(ctx context.Context, fn func(kv.Tx) error) error { return f.db.View(ctx, fn) }

func (f *flaky) Close() error { return f.db.Close() }

func (f *flaky) Update(ctx context.Context, fn func(kv.Tx) error) error {
	for range f.n {
		err := f.db.Update(ctx, func(tx kv.Tx) error {
			if err := fn(discarded{tx}); err != nil {
				return err
			}
			return errDiscard
		})
		if !errors.Is(err, errDiscard) {
			return err
		}
	}
	return f.db.Update(ctx, fn)
}

// discarded is the transaction of a run that will be rolled back.
type discarded struct{ kv.Tx }

func (discarded) OnCommit(func()) {}

func (f *flakyBackup) Backup(ctx context.Context, w io.Writer) (int64, error) {
	return f.b.Backup(ctx, w)
}

func (f *flakyBuckets) BucketNames(ctx context.Context) ([]string, error) {
	return f.l.BucketNames(ctx)
}

func (f *flakyBackupBuckets) Backup(ctx context.Context, w io.Writer) (int64, error) {
	return f.b.Backup(ctx, w)
}

func (f *flakyBackupBuckets) BucketNames(ctx context.Context) ([]string, error) {
	return f.l.BucketNames(ctx)
}
