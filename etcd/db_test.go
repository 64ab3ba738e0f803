package etcd_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/directorytest"
	"github.com/authflow/authflow/etcd"
	"github.com/authflow/authflow/etcd/internal/etcdtest"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/kv"
	"github.com/authflow/authflow/store/kv/kvtest"
	"github.com/authflow/authflow/store/storetest"
	"github.com/google/uuid"
)

// prefixes gives every database of a test run its own prefix on the one
// cluster, so that each starts empty.
var prefixes atomic.Int64

func nextPrefix() string { return fmt.Sprintf("test-%d/", prefixes.Add(1)) }

func openDB(t testing.TB, c *etcdtest.Cluster, prefix string) *etcd.DB {
	t.Helper()
	db, err := etcd.Open(context.Background(), etcd.Config{Endpoints: c.Endpoints(), Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestKVConformance(t *testing.T) {
	c := etcdtest.Start(t, 1, nil)
	kvtest.Run(t, func(t *testing.T) kv.DB { return openDB(t, c, nextPrefix()) })
}

func TestKVConformanceFlaky(t *testing.T) {
	c := etcdtest.Start(t, 1, nil)
	kvtest.Run(t, func(t *testing.T) kv.DB { return kvtest.Flaky(openDB(t, c, nextPrefix()), 3) })
}

func TestStoreConformance(t *testing.T) {
	c := etcdtest.Start(t, 1, nil)
	storetest.Run(t, func(t *testing.T) *store.Store {
		s, err := store.New(openDB(t, c, nextPrefix()), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, nil)
}

// The suite passes on etcd with secrets sealed.
func TestStoreConformanceSealed(t *testing.T) {
	c := etcdtest.Start(t, 1, nil)
	storetest.Run(t, func(t *testing.T) *store.Store {
		s, err := store.New(openDB(t, c, nextPrefix()), &store.Options{Keys: testutil.Keyring(t, testutil.NewKey(t))})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, nil)
}

// The store's devices on etcd pass the devices' conformance suite: there
// concurrent UpdateDevice calls race through etcd's optimistic
// transactions, which run a loser's function again on the device as the
// winner left it, so a one-time code is still accepted once.
func TestDevicesConformance(t *testing.T) {
	c := etcdtest.Start(t, 1, nil)
	directorytest.RunDevices(t, func(t *testing.T) directorytest.Fixture { return dirFixture(t, c) })
}

// dirFixture is a store's directory on a new prefix of c, with groups and
// setup stages (storetest's samples) created through the store.
func dirFixture(t *testing.T, c *etcdtest.Cluster) directorytest.Fixture {
	s, err := store.New(openDB(t, c, nextPrefix()), &store.Options{Passwords: password.Policy{Iterations: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return directorytest.Fixture{
		Dir: s.Directory(),
		AddGroup: func(g directory.Group) (out directory.Group, err error) {
			err = s.Update(t.Context(), func(tx *store.Tx) error {
				out, err = store.Groups.Create(tx, g, nil)
				return err
			})
			return out, err
		},
		SetupStage: func(class directory.DeviceClass) (id uuid.UUID, err error) {
			model := string(map[directory.DeviceClass]stage.ModelName{
				directory.DeviceSMS: stage.ModelAuthenticatorSMS, directory.DeviceEmail: stage.ModelAuthenticatorEmail, directory.DeviceDuo: stage.ModelAuthenticatorDuo,
			}[class])
			err = s.Update(t.Context(), func(tx *store.Tx) error {
				id, err = tx.Create(model, storetest.DefaultSamples()[model]("setup-"+uuid.NewString(), nil), nil)
				return err
			})
			return id, err
		},
	}
}

// The store's directory on etcd passes the directory conformance suite:
// concurrent creates of one username race through etcd's optimistic
// transactions there.
func TestDirectoryConformance(t *testing.T) {
	c := etcdtest.Start(t, 1, nil)
	directorytest.Run(t, func(t *testing.T) directorytest.Fixture { return dirFixture(t, c) })
}
