package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/seal"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/internal/boltkv"
	"github.com/authflow/authflow/store/kv/kvtest"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

var (
	newKey  = testutil.NewKey
	keyring = testutil.Keyring
)

// secretStages are create bodies of every built-in stage kind with
// secrets, each secret a distinct value that the test can look for.
func secretStages(tag string) map[string]struct {
	model   string
	body    string
	secrets map[string]string
} {
	v := func(field string) string { return "S3CRET-" + tag + "-" + field }
	return map[string]struct {
		model   string
		body    string
		secrets map[string]string
	}{
		"duo-" + tag: {string(stage.ModelAuthenticatorDuo),
			`"client_id":"cid","client_secret":"` + v("duo-cs") + `","admin_secret_key":"` + v("duo-ask") + `","api_hostname":"api.example.com"`,
			map[string]string{"client_secret": v("duo-cs"), "admin_secret_key": v("duo-ask")}},
		"captcha-" + tag: {string(stage.ModelCaptcha), `"public_key":"pub","private_key":"` + v("captcha") + `"`,
			map[string]string{"private_key": v("captcha")}},
		"email-" + tag: {string(stage.ModelEmail), `"use_global_settings":false,"password":"` + v("email") + `"`,
			map[string]string{"password": v("email")}},
		"sms-" + tag: {string(stage.ModelAuthenticatorSMS), `"provider":"twilio","from_number":"+1555","account_sid":"sid","auth":"` + v("sms-auth") + `","auth_password":"` + v("sms-pw") + `"`,
			map[string]string{"auth": v("sms-auth"), "auth_password": v("sms-pw")}},
		"amail-" + tag: {string(stage.ModelAuthenticatorEmail), `"password":"` + v("amail") + `"`,
			map[string]string{"password": v("amail")}},
	}
}

// createSecretStages creates secretStages(tag) and returns every secret
// written, by stage name.
func createSecretStages(t testing.TB, s *store.Store, tag string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		for name, st := range secretStages(tag) {
			if _, err := tx.Create(st.model, []byte(`{"name":"`+name+`",`+st.body+`}`), nil); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			out[name] = st.secrets
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// secretsOf reads the secrets of the stage called name through the typed
// read the executor uses.
func secretsOf(t testing.TB, s *store.Store, name string) map[string]string {
	t.Helper()
	var out map[string]string
	err := s.View(context.Background(), func(tx *store.Tx) error {
		st, err := store.Stages.Get(tx, store.By("name", name))
		if err != nil {
			return err
		}
		out = map[string]string{}
		switch c := st.Config.(type) {
		case stage.AuthenticatorDuo:
			out["client_secret"], out["admin_secret_key"] = c.ClientSecret.Reveal(), c.AdminSecretKey.Reveal()
		case stage.Captcha:
			out["private_key"] = c.PrivateKey.Reveal()
		case stage.Email:
			out["password"] = c.Password.Reveal()
		case stage.AuthenticatorSMS:
			out["auth"], out["auth_password"] = c.Auth.Reveal(), c.AuthPassword.Reveal()
		case stage.AuthenticatorEmail:
			out["password"] = c.Password.Reveal()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return out
}

// fileHolds returns the secrets among want whose bytes are in the file
// at path.
func fileHolds(t testing.TB, path string, want map[string]map[string]string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, secrets := range want {
		for _, v := range secrets {
			if bytes.Contains(raw, []byte(v)) {
				found = append(found, v)
			}
		}
	}
	return found
}

func TestSealedAtRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authflow.db")
	keys := keyring(t, newKey(t))
	s := openTestStore(t, path, &store.Options{Keys: keys})
	if !s.Sealed() || s.Keys() != keys {
		t.Fatal("Sealed() = false or Keys() is not the keyring")
	}
	written := createSecretStages(t, s, "a")
	// A patch and a replace seal the new value too; a host collection's
	// secret is sealed like a kind's.
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		_, err := store.Stages.Patch(tx, store.By("name", "duo-a"), []byte(`{"client_secret":"S3CRET-a-rotated"}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	written["duo-a"]["client_secret"] = "S3CRET-a-rotated"
	for name, want := range written {
		if got := secretsOf(t, s, name); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s reads %v, want %v", name, got, want)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	written["duo-a"]["old"] = "S3CRET-a-duo-cs" // the value before the patch
	if found := fileHolds(t, path, written); len(found) > 0 {
		t.Errorf("the file holds secrets in the clear: %v", found)
	}
	// They read back after a reopen with the key.
	s = openTestStore(t, path, &store.Options{Keys: keys})
	if got := secretsOf(t, s, "sms-a")["auth"]; got != "S3CRET-a-sms-auth" {
		t.Errorf("after reopen sms auth = %q", got)
	}
}

// TestClearWithoutKey is the scan's control: a store without a key keeps
// secrets in the clear, and says which fields they are.
func TestClearWithoutKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authflow.db")
	s := openTestStore(t, path, nil)
	if s.Sealed() {
		t.Error("Sealed() = true without a keyring")
	}
	written := createSecretStages(t, s, "b")
	s.Close()
	if found := fileHolds(t, path, written); len(found) != 7 {
		t.Errorf("a store without a key holds %d of the 7 secrets in the clear, want all: the scan does not see them", len(found))
	}
	want := []string{
		"authentik_stages_authenticator_duo.authenticatorduostage.admin_secret_key",
		"authentik_stages_authenticator_duo.authenticatorduostage.client_secret",
		"authentik_stages_authenticator_email.authenticatoremailstage.password",
		"authentik_stages_authenticator_email.emaildevice.token",
		"authentik_stages_authenticator_sms.authenticatorsmsstage.auth",
		"authentik_stages_authenticator_sms.authenticatorsmsstage.auth_password",
		"authentik_stages_authenticator_sms.smsdevice.token",
		"authentik_stages_authenticator_totp.totpdevice.key",
		"authentik_stages_captcha.captchastage.private_key",
		"authentik_stages_email.emailstage.password",
	}
	if got := s.SecretFields(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("SecretFields = %v, want %v", got, want)
	}
}

func TestOpenKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authflow.db")
	k1 := newKey(t)
	s, err := store.Open(path, &store.Options{NoSync: true, Keys: keyring(t, k1)})
	if err != nil {
		t.Fatal(err)
	}
	createSecretStages(t, s, "c")
	s.Close()

	_, err = store.Open(path, &store.Options{NoSync: true, Keys: keyring(t, newKey(t))})
	if !errors.Is(err, store.ErrWrongKey) {
		t.Errorf("Open with another key: %v, want ErrWrongKey", err)
	}
	_, err = store.Open(path, &store.Options{NoSync: true})
	if !errors.Is(err, store.ErrKeyRequired) {
		t.Errorf("Open without a key: %v, want ErrKeyRequired", err)
	}
	_, err = store.Open(path, &store.Options{NoSync: true, ReadOnly: true})
	if !errors.Is(err, store.ErrKeyRequired) {
		t.Errorf("read-only Open without a key: %v, want ErrKeyRequired", err)
	}
	for _, e := range []error{err} {
		if strings.Contains(e.Error(), k1.Text()) {
			t.Errorf("the error shows the key: %v", e)
		}
	}
	// The right key, as an old key of a keyring, opens it.
	s = openTestStore(t, path, &store.Options{Keys: keyring(t, newKey(t), k1)})
	if got := secretsOf(t, s, "captcha-c")["private_key"]; got != "S3CRET-c-captcha" {
		t.Errorf("private_key = %q", got)
	}
}

// rawRecord returns the stage record called name's bbolt key and value.
func rawStage(t testing.TB, db *bolt.DB, pk uuid.UUID) []byte {
	t.Helper()
	var v []byte
	if err := db.View(func(tx *bolt.Tx) error {
		v = bytes.Clone(tx.Bucket([]byte("stages")).Get(pk[:]))
		return nil
	}); err != nil || v == nil {
		t.Fatalf("raw stage %s: %v", pk, err)
	}
	return v
}

func stagePK(t testing.TB, s *store.Store, name string) uuid.UUID {
	t.Helper()
	var pk uuid.UUID
	if err := s.View(context.Background(), func(tx *store.Tx) error {
		st, err := store.Stages.Get(tx, store.By("name", name))
		pk = st.PK
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return pk
}

// TestSealedValueMoved copies a sealed secret to another record and to
// another field, with the record's checksum made right: neither opens.
func TestSealedValueMoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authflow.db")
	keys := keyring(t, newKey(t))
	s, err := store.Open(path, &store.Options{NoSync: true, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	createSecretStages(t, s, "d")
	createSecretStages(t, s, "e")
	from, to := stagePK(t, s, "duo-d"), stagePK(t, s, "duo-e")
	capD, capE := stagePK(t, s, "captcha-d"), stagePK(t, s, "captcha-e")
	s.Close()

	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	field := func(raw []byte, name string) string {
		var m map[string]any
		if err := json.Unmarshal(raw[13:], &m); err != nil {
			t.Fatal(err)
		}
		return m["config"].(map[string]any)[name].(string)
	}
	rewrite := func(pk uuid.UUID, raw []byte, name, val string) {
		var m map[string]any
		if err := json.Unmarshal(raw[13:], &m); err != nil {
			t.Fatal(err)
		}
		m["config"].(map[string]any)[name] = val
		js, _ := json.Marshal(m)
		if err := db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("stages")).Put(pk[:], store.WrapSealedRecord("stages", pk[:], js, 1))
		}); err != nil {
			t.Fatal(err)
		}
	}
	fromRaw := rawStage(t, db, from)
	if fromRaw[0] != 5 {
		t.Fatalf("a stage with secrets is stored in format %d, want 5", fromRaw[0])
	}
	rewrite(to, rawStage(t, db, to), "client_secret", field(fromRaw, "client_secret"))
	rewrite(from, fromRaw, "admin_secret_key", field(fromRaw, "client_secret"))
	// Hostile values: not base64, and a sealed value cut short.
	rewrite(capD, rawStage(t, db, capD), "private_key", "not base64!")
	rewrite(capE, rawStage(t, db, capE), "private_key", field(rawStage(t, db, capE), "private_key")[:20])
	db.Close()

	s, err = store.Open(path, &store.Options{NoSync: true, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, pk := range []uuid.UUID{to, from} {
		err := s.View(context.Background(), func(tx *store.Tx) error {
			_, err := store.Stages.Get(tx, store.PK(pk))
			return err
		})
		if !errors.Is(err, store.ErrSealed) || !errors.Is(err, seal.ErrOpen) {
			t.Errorf("reading %s with a moved secret: %v, want ErrSealed and seal.ErrOpen", pk, err)
		}
		if err != nil && strings.Contains(err.Error(), "S3CRET") {
			t.Errorf("the error shows a secret: %v", err)
		}
	}
	for _, pk := range []uuid.UUID{capD, capE} {
		err := s.View(context.Background(), func(tx *store.Tx) error {
			_, err := store.Stages.Get(tx, store.PK(pk))
			return err
		})
		if !errors.Is(err, store.ErrSealed) || !errors.Is(err, seal.ErrFormat) {
			t.Errorf("reading %s with a hostile sealed value: %v, want ErrSealed and seal.ErrFormat", pk, err)
		}
	}
	problems := s.Check(context.Background())
	n := 0
	for _, p := range problems {
		if errors.Is(p, store.ErrSealed) {
			n++
		}
		if strings.Contains(p.Error(), "S3CRET") {
			t.Errorf("Check shows a secret: %v", p)
		}
	}
	if n != 4 {
		t.Errorf("Check reports %d records whose secrets do not open, want 4: %v", n, problems)
	}
}

// TestSealedUnchangedWrite: a write of the values a sealed record holds
// changes nothing (no revision), although sealing again would give other
// bytes.
func TestSealedUnchangedWrite(t *testing.T) {
	s := openTestStore(t, filepath.Join(t.TempDir(), "authflow.db"), &store.Options{Keys: keyring(t, newKey(t))})
	createSecretStages(t, s, "f")
	pk := stagePK(t, s, "captcha-f")
	rev := func() int64 {
		var r int64
		if err := s.View(context.Background(), func(tx *store.Tx) error {
			var err error
			r, err = tx.ObjectRevision(store.ModelStage, pk)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	before := rev()
	for _, body := range []string{`{"public_key":"pub"}`, `{"private_key":"S3CRET-f-captcha"}`} {
		if err := s.Update(context.Background(), func(tx *store.Tx) error {
			_, err := store.Stages.Patch(tx, store.PK(pk), []byte(body), nil)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if after := rev(); after != before {
			t.Errorf("patch %s of the stored values moved the revision from %d to %d", body, before, after)
		}
	}
	if err := s.Update(context.Background(), func(tx *store.Tx) error {
		_, err := store.Stages.Patch(tx, store.PK(pk), []byte(`{"private_key":"S3CRET-f-new"}`), nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if rev() == before {
		t.Error("a patch of the secret did not move the revision")
	}
}

// TestRekeyConcurrent re-seals a store under a new key while writers
// patch and create stages: every write survives, every secret ends under
// the new key, and the store then opens with the new key alone.
func TestRekeyConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authflow.db")
	k1, k2 := newKey(t), newKey(t)
	s, err := store.Open(path, &store.Options{NoSync: true, Keys: keyring(t, k1)})
	if err != nil {
		t.Fatal(err)
	}
	const n = 250
	err = s.Update(context.Background(), func(tx *store.Tx) error {
		for i := range n {
			body := fmt.Sprintf(`{"name":"cap-%d","public_key":"pub","private_key":"old-%d"}`, i, i)
			if _, err := tx.Create(string(stage.ModelCaptcha), []byte(body), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = store.Open(path, &store.Options{NoSync: true, Keys: keyring(t, k2, k1)})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := s.SealReport(context.Background()); err != nil || r != (store.SealReport{Older: n}) {
		t.Errorf("SealReport before Rekey = %+v, %v", r, err)
	}
	const writers, rounds = 3, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				i := (w*rounds + r) * n / (writers * rounds) // spread over the collection
				err := s.Update(context.Background(), func(tx *store.Tx) error {
					_, err := store.Stages.Patch(tx, store.By("name", fmt.Sprintf("cap-%d", i)), fmt.Appendf(nil, `{"private_key":"new-%d"}`, i), nil)
					if err != nil {
						return err
					}
					_, err = tx.Create(string(stage.ModelCaptcha), fmt.Appendf(nil, `{"name":"w%d-%d","public_key":"p","private_key":"w-%d-%d"}`, w, r, w, r), nil)
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var res store.RekeyResult
	wg.Go(func() {
		var err error
		res, err = s.Rekey(context.Background(), &store.RekeyOptions{Chunk: 20})
		if err != nil {
			errs <- err
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if res.Records < n || res.Resealed == 0 {
		t.Errorf("Rekey = %+v, want at least %d records and some re-sealed", res, n)
	}
	s.Close()

	// The new key alone opens the store and every value.
	s = openTestStore(t, path, &store.Options{Keys: keyring(t, k2)})
	want := map[string]string{}
	for i := range n {
		want[fmt.Sprintf("cap-%d", i)] = fmt.Sprintf("old-%d", i)
	}
	for w := range writers {
		for r := range rounds {
			i := (w*rounds + r) * n / (writers * rounds)
			want[fmt.Sprintf("cap-%d", i)] = fmt.Sprintf("new-%d", i)
			want[fmt.Sprintf("w%d-%d", w, r)] = fmt.Sprintf("w-%d-%d", w, r)
		}
	}
	for name, v := range want {
		if got := secretsOf(t, s, name)["private_key"]; got != v {
			t.Errorf("%s: private_key %q, want %q", name, got, v)
		}
	}
	// A second rekey finds nothing to do.
	res, err = s.Rekey(context.Background(), nil)
	if err != nil || res.Resealed != 0 || res.Records != len(want) {
		t.Errorf("second Rekey = %+v, %v; want %d records, none re-sealed", res, err, len(want))
	}
}

// TestRekeyFromClear: a store written without a key, then opened with
// one, reads its clear secrets, and Rekey seals them.
func TestRekeyFromClear(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authflow.db")
	s, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	written := createSecretStages(t, s, "g")
	s.Close()
	k := newKey(t)
	s, err = store.Open(path, &store.Options{NoSync: true, Keys: keyring(t, k)})
	if err != nil {
		t.Fatal(err)
	}
	if got := secretsOf(t, s, "email-g")["password"]; got != "S3CRET-g-email" {
		t.Errorf("a clear secret reads %q in a keyed store", got)
	}
	if r, err := s.SealReport(context.Background()); err != nil || r != (store.SealReport{Clear: len(written)}) {
		t.Errorf("SealReport before Rekey = %+v, %v", r, err)
	}
	res, err := s.Rekey(context.Background(), nil)
	if err != nil || res.Resealed != len(written) {
		t.Errorf("Rekey = %+v, %v; want %d re-sealed", res, err, len(written))
	}
	if r, err := s.SealReport(context.Background()); err != nil || r != (store.SealReport{Sealed: len(written)}) {
		t.Errorf("SealReport after Rekey = %+v, %v", r, err)
	}
	s.Close()
	if _, err := store.Open(path, &store.Options{NoSync: true}); !errors.Is(err, store.ErrKeyRequired) {
		t.Errorf("Open without a key after Rekey: %v, want ErrKeyRequired", err)
	}
	s = openTestStore(t, path, &store.Options{Keys: keyring(t, k)})
	for name, want := range written {
		if got := secretsOf(t, s, name); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s reads %v, want %v", name, got, want)
		}
	}
}

// Rekey's transactions may run more than once on an optimistic backend:
// with every Update run three times, the first two discarded, it still
// seals every record, none skipped.
func TestRekeyRetried(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authflow.db")
	k1, k2 := newKey(t), newKey(t)
	s, err := store.Open(path, &store.Options{NoSync: true, Keys: keyring(t, k1)})
	if err != nil {
		t.Fatal(err)
	}
	written := createSecretStages(t, s, "h")
	s.Close()
	db, err := boltkv.Open(path, boltkv.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err = store.New(kvtest.Flaky(db, 2), &store.Options{Keys: keyring(t, k2, k1)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Rekey(context.Background(), &store.RekeyOptions{Chunk: 2})
	if err != nil || res.Resealed != len(written) {
		t.Errorf("Rekey = %+v, %v; want %d re-sealed", res, err, len(written))
	}
	if r, err := s.SealReport(context.Background()); err != nil || r != (store.SealReport{Sealed: len(written)}) {
		t.Errorf("SealReport after Rekey = %+v, %v", r, err)
	}
	s.Close()
}
