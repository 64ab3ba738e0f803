package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/directorytest"
	"github.com/authflow/authflow/store"
)

// The store's directory passes the directory conformance suite.
func TestDirectoryConformance(t *testing.T) {
	directorytest.Run(t, func(t *testing.T) directorytest.Fixture {
		c := &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
		s := openTestStore(t, filepath.Join(t.TempDir(), "d.db"), &store.Options{Passwords: cheap, Now: c.now})
		return directorytest.Fixture{
			Dir: s.Directory(),
			AddGroup: func(g directory.Group) (out directory.Group, err error) {
				err = s.Update(t.Context(), func(tx *store.Tx) error {
					out, err = store.Groups.Create(tx, g, nil)
					return err
				})
				return out, err
			},
			Advance: func() { c.t = c.t.Add(time.Second) },
		}
	})
}
