package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/directorytest"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/google/uuid"
)

// setupStageModels are the setup stage kinds of the classes that keep
// one.
var setupStageModels = map[directory.DeviceClass]stage.ModelName{
	directory.DeviceSMS: stage.ModelAuthenticatorSMS, directory.DeviceEmail: stage.ModelAuthenticatorEmail, directory.DeviceDuo: stage.ModelAuthenticatorDuo,
}

// addSetupStage creates a setup stage for a device of class in s, from
// storetest's sample of its kind.
func addSetupStage(s *store.Store, class directory.DeviceClass) (uuid.UUID, error) {
	model, ok := setupStageModels[class]
	if !ok {
		return uuid.Nil, fmt.Errorf("no setup stage for %s", class)
	}
	body := storetest.DefaultSamples()[string(model)]("setup-"+uuid.NewString(), nil)
	v, err := createJSONIn(context.Background(), s, store.Stages.Kind(string(model)), body)
	return v.PK, err
}

// The store's directory passes the devices' conformance suite.
func TestDevicesConformance(t *testing.T) {
	directorytest.RunDevices(t, func(t *testing.T) directorytest.Fixture {
		c := &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
		s := openTestStore(t, filepath.Join(t.TempDir(), "d.db"), &store.Options{Passwords: cheap, Now: c.now})
		return directorytest.Fixture{
			Dir:        s.Directory(),
			AddGroup:   func(directory.Group) (directory.Group, error) { return directory.Group{}, fmt.Errorf("no groups here") },
			Advance:    func() { c.t = c.t.Add(time.Second) },
			SetupStage: func(class directory.DeviceClass) (uuid.UUID, error) { return addSetupStage(s, class) },
		}
	})
}

// deviceSecrets writes a TOTP key, static codes and a pending SMS code
// through the store's directory, then uses one static code and sets a
// new SMS code, and returns every secret value written, old ones
// included, as fileHolds takes them.
func deviceSecrets(t *testing.T, s *store.Store, tag string) map[string]map[string]string {
	t.Helper()
	ctx := context.Background()
	d := s.Directory()
	u := directory.DefaultUser()
	u.Username = "owner-" + tag
	u, err := d.CreateUser(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	smsStage, err := addSetupStage(s, directory.DeviceSMS)
	if err != nil {
		t.Fatal(err)
	}
	key := "K3Y-" + tag + "-raw-totp-secret"
	codes := []string{"C0DE" + tag + "first", "C0DE" + tag + "second"}
	out := map[string]map[string]string{
		"totp":   {"raw": key, "hex": fmt.Sprintf("%x", key)},
		"static": {"a": codes[0], "b": codes[1]},
		"sms":    {"first": "T0KEN-" + tag + "-1", "second": "T0KEN-" + tag + "-2"},
	}
	for _, dev := range []directory.Device{
		{Class: directory.DeviceTOTP, User: u.PK, Name: "phone", TOTP: &directory.TOTPDevice{Key: []byte(key), Digits: 6, Step: 30, LastT: -1}},
		{Class: directory.DeviceStatic, User: u.PK, Name: "codes", Static: &directory.StaticDevice{TokenHashes: []string{directory.HashStaticToken(codes[0]), directory.HashStaticToken(codes[1])}}},
		{Class: directory.DeviceSMS, User: u.PK, Stage: smsStage, SMS: &directory.SMSDevice{Phone: "+15550123", SideChannel: directory.SideChannel{Token: out["sms"]["first"], ValidUntil: time.Now()}}},
	} {
		got, err := d.CreateDevice(ctx, dev)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.UpdateDevice(ctx, got.Class, got.PK, func(x *directory.Device) error {
			switch {
			case x.TOTP != nil:
				x.TOTP.LastT = 99
			case x.Static != nil:
				x.Static.TokenHashes = x.Static.TokenHashes[1:]
			case x.SMS != nil:
				x.SMS.Token = out["sms"]["second"]
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// A store with a key holds no device secret in its file: the TOTP key
// and the SMS codes are sealed, old values too, and static codes are
// kept only as hashes (the control, a store without a key, holds the
// key and the codes sent, and no static code either).
func TestDeviceSecretsSealed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authflow.db")
	keys := keyring(t, newKey(t))
	s := openTestStore(t, path, &store.Options{Keys: keys, Passwords: cheap})
	written := deviceSecrets(t, s, "a")
	devs, err := s.Directory().UserDevices(context.Background(), 1)
	if err != nil || len(devs) != 3 || string(devs[1].TOTP.Key) != written["totp"]["raw"] || devs[2].SMS.Token != written["sms"]["second"] {
		t.Fatalf("a sealed store reads its devices back as %v, %v", devs, err)
	}
	if r, err := s.SealReport(context.Background()); err != nil || r.Sealed < 2 || r.Clear != 0 {
		t.Errorf("SealReport = %+v, %v: want the devices sealed", r, err)
	}
	s.Close()
	if found := fileHolds(t, path, written); len(found) > 0 {
		t.Errorf("the file holds device secrets in the clear: %v", found)
	}

	clear := filepath.Join(t.TempDir(), "clear.db")
	s = openTestStore(t, clear, &store.Options{Passwords: cheap})
	written = deviceSecrets(t, s, "b")
	s.Close()
	found := fileHolds(t, clear, map[string]map[string]string{"totp": {"hex": written["totp"]["hex"]}, "sms": {"second": written["sms"]["second"]}})
	if len(found) != 2 {
		t.Errorf("the control (no key) holds %v in the clear, want the totp key and the sms code: the scan does not see them", found)
	}
	if found := fileHolds(t, clear, map[string]map[string]string{"static": written["static"]}); len(found) > 0 {
		t.Errorf("a store without a key holds static codes: %v", found)
	}
}

// Rekey and Check cover the device collections, as they cover every
// collection with secrets: a clear TOTP key and SMS code are sealed by
// Rekey, and the devices check clean.
func TestDeviceSecretsRekey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authflow.db")
	s, err := store.Open(path, &store.Options{NoSync: true, Passwords: cheap})
	if err != nil {
		t.Fatal(err)
	}
	written := deviceSecrets(t, s, "c")
	s.Close()
	s = openTestStore(t, path, &store.Options{Keys: keyring(t, newKey(t)), Passwords: cheap})
	// 3 objects with secrets: the sms stage, the totp and the sms devices.
	if r, err := s.SealReport(context.Background()); err != nil || r != (store.SealReport{Clear: 3}) {
		t.Errorf("SealReport before Rekey = %+v, %v", r, err)
	}
	if res, err := s.Rekey(context.Background(), nil); err != nil || res.Resealed != 3 {
		t.Errorf("Rekey = %+v, %v; want 3 re-sealed", res, err)
	}
	if problems := s.Check(context.Background()); len(problems) > 0 {
		t.Errorf("Check: %v", problems)
	}
	devs, err := s.Directory().UserDevices(context.Background(), 1)
	if err != nil || len(devs) != 3 || string(devs[1].TOTP.Key) != written["totp"]["raw"] {
		t.Errorf("after Rekey the devices read %v, %v", devs, err)
	}
}

// A user's used_by lists the user's devices (cascade), and deleting a
// setup stage deletes the devices set up by it.
func TestDeviceReferences(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, filepath.Join(t.TempDir(), "d.db"), &store.Options{Passwords: cheap})
	deviceSecrets(t, s, "d")
	err := s.View(ctx, func(tx *store.Tx) error {
		id, err := tx.Lookup(store.ModelUser, store.By("pk", "1"))
		if err != nil {
			return err
		}
		used, err := tx.UsedBy(store.ModelUser, id)
		if err != nil {
			return err
		}
		var got []string
		for _, u := range used {
			got = append(got, u.App+"."+u.ModelName+" "+u.Name+" "+u.Action)
		}
		want := []string{
			"authentik_stages_authenticator_sms.smsdevice 1 cascade",
			"authentik_stages_authenticator_static.staticdevice codes (1) cascade",
			"authentik_stages_authenticator_totp.totpdevice phone (1) cascade",
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("used_by of the user = %q, want %q", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	devs, err := s.Directory().UserDevices(ctx, 1)
	if err != nil || len(devs) != 3 {
		t.Fatalf("UserDevices = %v, %v", devs, err)
	}
	sms := devs[2]
	err = s.Update(ctx, func(tx *store.Tx) error { return tx.Delete(string(stage.ModelAuthenticatorSMS), sms.Stage, nil) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Directory().Device(ctx, directory.DeviceSMS, sms.PK); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("the sms device after its stage was deleted: %v, want ErrNotFound", err)
	}
	if devs, _ := s.Directory().UserDevices(ctx, 1); len(devs) != 2 {
		t.Errorf("after deleting the sms stage the user has %d devices, want 2", len(devs))
	}
}
