package cli

import (
	"context"
	"flag"
	"os"
	"strings"

	"github.com/authflow/authflow/store"
)

// Backend is a storage backend linked into the command besides bbolt
// files: the etcd module's authflow links its own. Each command makes one
// with its flags.
type Backend interface {
	// Flags registers the backend's flags on a command's flag set.
	Flags(fs *flag.FlagSet)
	// Chosen reports whether the parsed flags chose the backend over -db.
	Chosen() bool
	// Open opens the store the flags name.
	Open(ctx context.Context, opts *store.Options) (*store.Store, error)
	// String says where the store is, for messages.
	String() string
	// Usage is the backend's flags for usage lines, such as
	// "-etcd URLS [-etcd-prefix P]".
	Usage() string
}

// newBackend makes a command's Backend; nil when none is linked in.
type newBackend func() Backend

// source is where a command's store is: the bbolt file of -db, or the
// linked-in backend when its flags chose it.
type source struct {
	path    *string
	backend Backend
	// keys are the key flags (see keys.go).
	keys keyFlags
}

func newSource(fs *flag.FlagSet, nb newBackend, help string) *source {
	src := &source{path: fs.String("db", "authflow.db", help)}
	src.keys.register(fs)
	if nb != nil {
		src.backend = nb()
		src.backend.Flags(fs)
	}
	return src
}

func (src *source) chosen() bool { return src.backend != nil && src.backend.Chosen() }

// String is the file's path, or where the backend's store is.
func (src *source) String() string {
	if src.chosen() {
		return src.backend.String()
	}
	return *src.path
}

// describe is String for serve's banner.
func (src *source) describe() string {
	if src.chosen() {
		return src.String()
	}
	return "file " + *src.path
}

// open opens the store. A read-only command never creates a file: a
// missing one is an error.
func (src *source) open(ctx context.Context, opts *store.Options) (*store.Store, error) {
	keys, err := src.keys.keyring()
	if err != nil {
		return nil, err
	}
	var o store.Options
	if opts != nil {
		o = *opts
	}
	o.Keys, opts = keys, &o
	if src.chosen() {
		return src.backend.Open(ctx, opts)
	}
	if opts != nil && opts.ReadOnly {
		if _, err := os.Stat(*src.path); err != nil {
			return nil, err
		}
	}
	return store.Open(*src.path, opts)
}

// usage adds the backend's flags to a usage line's [-db PATH].
func usageLine(nb newBackend, line string) string {
	if nb == nil {
		return line
	}
	return strings.Replace(line, "[-db PATH]", "[-db PATH | "+nb().Usage()+"]", -1)
}
