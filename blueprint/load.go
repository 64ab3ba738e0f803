package blueprint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/authflow/authflow/store"
)

// ErrFailed is matched by the error of Load when an entry failed; the
// error is a *FailedError holding the result.
var ErrFailed = errors.New("blueprint: import failed")

// FailedError is an import that failed: nothing was written.
type FailedError struct{ Result Result }

// Error lists the failed entries.
func (e *FailedError) Error() string {
	var msgs []string
	for _, l := range e.Result.Logs {
		if l.LogLevel != "error" {
			continue
		}
		what := l.Event
		if ent, ok := l.Attributes["entry"].(map[string]any); ok {
			what = fmt.Sprintf("entry %v (%v)", ent["index"], ent["model"])
		}
		if v, ok := l.Attributes["errors"]; ok {
			what += ": " + fmt.Sprint(v)
		} else if v, ok := l.Attributes["error"]; ok {
			what += ": " + fmt.Sprint(v)
		}
		msgs = append(msgs, what)
	}
	return "blueprint: import failed: " + strings.Join(msgs, "; ")
}

// Is makes errors.Is(err, ErrFailed) hold.
func (e *FailedError) Is(target error) bool { return target == ErrFailed }

// Load parses a blueprint from r and imports it into s in one transaction
// of its own: the one call a test needs for a realistic configuration. A
// failed entry makes the error a *FailedError and writes nothing.
func Load(ctx context.Context, s *store.Store, r io.Reader, opts Options) (Result, error) {
	bp, err := Parse(r, opts.Limits)
	if err != nil {
		return Result{}, err
	}
	res, err := Apply(ctx, s, bp, opts)
	if err == nil && !res.Success {
		err = &FailedError{Result: res}
	}
	return res, err
}

// LoadFS is Load of the file name in fsys.
func LoadFS(ctx context.Context, s *store.Store, fsys fs.FS, name string, opts Options) (Result, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return Result{}, fmt.Errorf("blueprint: %w", err)
	}
	defer f.Close()
	return Load(ctx, s, f, opts)
}

// ApplyTx imports bp inside tx, the caller's write transaction, so that
// a blueprint can be one step of a larger write. When the result is not
// a success the objects it wrote are still in tx: the caller rolls back
// by returning an error from its Update function.
func ApplyTx(tx *store.Tx, bp *Blueprint, opts Options) Result {
	return newImporter(tx, bp, opts).apply()
}
