package etcd

import (
	"context"

	"github.com/authflow/authflow/store"
)

// OpenStore opens the DB and the store kept in it: the configuration under
// cfg's prefix, created when the prefix is empty. Closing the store closes
// the DB.
func OpenStore(ctx context.Context, cfg Config, opts *store.Options) (*store.Store, error) {
	db, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s, err := store.New(db, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}
