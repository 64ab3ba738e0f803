package etcd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/authflow/authflow/etcd"
	"github.com/authflow/authflow/etcd/internal/etcdtest"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/seal"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func openSealed(t testing.TB, c *etcdtest.Cluster, prefix string, keys *seal.Keyring) (*store.Store, error) {
	t.Helper()
	s, err := etcd.OpenStore(context.Background(), etcd.Config{Endpoints: c.Endpoints(), Prefix: prefix}, &store.Options{Keys: keys})
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

func captchaSecret(t testing.TB, s *store.Store, name string) string {
	t.Helper()
	var out string
	if err := s.View(context.Background(), func(tx *store.Tx) error {
		st, err := store.Stages.Get(tx, store.By("name", name))
		if err == nil {
			out = st.Config.(stage.Captcha).PrivateKey.Reveal()
		}
		return err
	}); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

// On etcd too, no value under the store's prefix, now or in etcd's
// history, holds a secret in the clear; a wrong key and no key are
// refused at open; and a rekey while another process writes loses
// nothing.
func TestSealedOnEtcd(t *testing.T) {
	c := etcdtest.Start(t, 1, nil)
	ctx := context.Background()
	prefix := nextPrefix()
	k1, k2 := testutil.NewKey(t), testutil.NewKey(t)
	s, err := openSealed(t, c, prefix, testutil.Keyring(t, k1))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{"S3CRET-duo", "S3CRET-admin", "S3CRET-sms", "S3CRET-rotated"}
	err = s.Update(ctx, func(tx *store.Tx) error {
		for _, b := range []struct{ model, body string }{
			{string(stage.ModelAuthenticatorDuo), `{"name":"duo","client_id":"c","client_secret":"S3CRET-duo","admin_secret_key":"S3CRET-admin","api_hostname":"h"}`},
			{string(stage.ModelAuthenticatorSMS), `{"name":"sms","provider":"twilio","from_number":"+1","account_sid":"sid","auth":"S3CRET-sms"}`},
		} {
			if _, err := tx.Create(b.model, []byte(b.body), nil); err != nil {
				return err
			}
		}
		for i := range 30 {
			if _, err := tx.Create(string(stage.ModelCaptcha), fmt.Appendf(nil, `{"name":"cap-%d","public_key":"p","private_key":"old-%d"}`, i, i), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = s.Update(ctx, func(tx *store.Tx) error {
			_, err := store.Stages.Patch(tx, store.By("name", "duo"), []byte(`{"client_secret":"S3CRET-rotated"}`), nil)
			return err
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	now, err := cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	for rev := int64(1); rev <= now.Header.Revision; rev++ {
		res, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev))
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range res.Kvs {
			for _, sec := range secrets {
				if bytes.Contains(kv.Value, []byte(sec)) {
					t.Errorf("etcd key %s at revision %d holds %s in the clear", kv.Key, rev, sec)
				}
			}
		}
	}

	if _, err := openSealed(t, c, prefix, testutil.Keyring(t, testutil.NewKey(t))); !errors.Is(err, store.ErrWrongKey) {
		t.Errorf("open with another key: %v, want ErrWrongKey", err)
	}
	if _, err := openSealed(t, c, prefix, nil); !errors.Is(err, store.ErrKeyRequired) {
		t.Errorf("open without a key: %v, want ErrKeyRequired", err)
	}

	// Rekey in one process while another writes.
	ring := testutil.Keyring(t, k2, k1)
	a, err := openSealed(t, c, prefix, ring)
	if err != nil {
		t.Fatal(err)
	}
	b, err := openSealed(t, c, prefix, ring)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() {
		for i := range 30 {
			if err := b.Update(ctx, func(tx *store.Tx) error {
				_, err := store.Stages.Patch(tx, store.By("name", fmt.Sprintf("cap-%d", i)), fmt.Appendf(nil, `{"private_key":"new-%d"}`, i), nil)
				return err
			}); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Go(func() {
		if _, err := a.Rekey(ctx, &store.RekeyOptions{Chunk: 4}); err != nil {
			errs <- err
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	only, err := openSealed(t, c, prefix, testutil.Keyring(t, k2))
	if err != nil {
		t.Fatalf("open with the new key alone after rekey: %v", err)
	}
	for i := range 30 {
		if got, want := captchaSecret(t, only, fmt.Sprintf("cap-%d", i)), fmt.Sprintf("new-%d", i); got != want {
			t.Errorf("cap-%d: %q, want %q", i, got, want)
		}
	}
	if p := only.Check(ctx); len(p) > 0 {
		t.Errorf("Check: %v", p)
	}
}
