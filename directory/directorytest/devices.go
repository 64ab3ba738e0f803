package directorytest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/google/uuid"
)

// RunDevices runs the conformance suite of [directory.Devices] on a
// directory that implements it (open's Fixture.Dir), clause by clause of
// the contract:
//
//   - CreateDevice stores a device of every class, giving PK (>= 1),
//     Created and LastUpdated and ignoring the values given; Device
//     reads it back; a device of an unknown user is ErrNotFound, one
//     without its class's fields is refused, and neither writes.
//   - PKs are per class: unique within one, never reused (not even after
//     the highest is deleted), and a pk of one class names no device of
//     another.
//   - FindDevice finds a WebAuthn credential id, an SMS number of one
//     stage and an email address of one user, and nothing else;
//     CreateDevice and UpdateDevice refuse a taken one with
//     ErrDeviceExists (the same number for another stage, the same
//     address for another user are free).
//   - UpdateDevice keeps Class, PK, User and Created, moves LastUpdated,
//     writes nothing when fn fails (ErrDeviceUnchanged included, which it
//     returns wrapped) or leaves a device that is not valid, and is
//     ErrNotFound for an unknown device.
//   - UpdateDevice is atomic: of many goroutines that each remove the one
//     remaining static code, exactly one succeeds, and many increments
//     of one field are all kept (run with -race).
//   - Values returned share nothing with the stored ones, nor with those
//     given to CreateDevice.
//   - DeleteDevice deletes one device (ErrNotFound after); deleting a
//     user deletes every device of the user and frees their unique
//     values.
//   - UserDevices lists a user's devices by class (as
//     directory.DeviceClasses) and pk, none of another user's, and none
//     (no error) for a user without devices.
//
// Users are created through the directory (CreateUser); the setup stage
// of SMS, email and Duo devices comes from Fixture.SetupStage.
func RunDevices(t *testing.T, open func(t *testing.T) Fixture) {
	for _, c := range []struct {
		name string
		run  func(*testing.T, devFixture)
	}{
		{"CreateEveryClass", testDevCreate},
		{"CreateRefused", testDevCreateRefused},
		{"PKPerClass", testDevPK},
		{"Find", testDevFind},
		{"Exists", testDevExists},
		{"UpdateKeeps", testDevUpdateKeeps},
		{"UpdateRefused", testDevUpdateRefused},
		{"UpdateAtomic", testDevUpdateAtomic},
		{"NoAliasing", testDevNoAliasing},
		{"Delete", testDevDelete},
		{"DeleteUser", testDevDeleteUser},
		{"Order", testDevOrder},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := open(t)
			devs, ok := f.Dir.(directory.Devices)
			if !ok {
				t.Fatalf("%T does not implement directory.Devices", f.Dir)
			}
			c.run(t, devFixture{Fixture: f, devs: devs})
		})
	}
}

// devFixture is a Fixture with its directory's devices.
type devFixture struct {
	Fixture
	devs directory.Devices
}

// stage returns a setup stage for a device of class.
func (f devFixture) stage(t *testing.T, class directory.DeviceClass) uuid.UUID {
	t.Helper()
	if f.SetupStage == nil {
		return uuid.New()
	}
	id, err := f.SetupStage(class)
	if err != nil {
		t.Fatalf("SetupStage(%s): %v", class, err)
	}
	return id
}

// sample is a valid device of class for user, its fields all set (the
// values derived from n, so that two samples differ).
func (f devFixture) sample(t *testing.T, class directory.DeviceClass, user int64, n int) directory.Device {
	t.Helper()
	used := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	d := directory.Device{Class: class, User: user, Name: fmt.Sprintf("%s device %d", class, n), Confirmed: n%2 == 0, LastUsed: &used}
	switch class {
	case directory.DeviceTOTP:
		d.TOTP = &directory.TOTPDevice{Key: []byte(fmt.Sprintf("totp-key-%02d-abcdefghij", n)), Digits: 6, Step: 30, Tolerance: 1, LastT: -1}
	case directory.DeviceStatic:
		d.Static = &directory.StaticDevice{TokenHashes: []string{directory.HashStaticToken(fmt.Sprint("code-a-", n)), directory.HashStaticToken(fmt.Sprint("code-b-", n))}}
	case directory.DeviceWebAuthn:
		d.WebAuthn = &directory.WebAuthnDevice{CredentialID: []byte(fmt.Sprint("credential-", n)), PublicKey: []byte(fmt.Sprint("public-key-", n)),
			SignCount: 3, RPID: "auth.example.com", AAGUID: uuid.MustParse("08987058-cadc-4b81-b6e1-30de50dcbe96"), Transports: []string{"usb", "internal"}}
	case directory.DeviceSMS:
		d.Stage = f.stage(t, class)
		d.SMS = &directory.SMSDevice{Phone: fmt.Sprintf("+1555010%04d", n), SideChannel: directory.SideChannel{Token: "123456", ValidUntil: used.Add(time.Hour)}}
	case directory.DeviceEmail:
		d.Stage = f.stage(t, class)
		d.Email = &directory.EmailDevice{Email: fmt.Sprintf("user%d@example.com", n), SideChannel: directory.SideChannel{Token: "654321", ValidUntil: used.Add(time.Hour)}}
	case directory.DeviceDuo:
		d.Stage = f.stage(t, class)
		d.Duo = &directory.DuoDevice{DuoUserID: fmt.Sprint("DU", n)}
	default:
		t.Fatalf("no sample of class %q", class)
	}
	return d
}

// createDev creates d and fails the test on an error.
func (f devFixture) createDev(t *testing.T, d directory.Device) directory.Device {
	t.Helper()
	got, err := f.devs.CreateDevice(ctx, d)
	if err != nil {
		t.Fatalf("CreateDevice(%s): %v", d, err)
	}
	return got
}

// readDev reads a device and fails the test on an error.
func (f devFixture) readDev(t *testing.T, class directory.DeviceClass, pk int64) directory.Device {
	t.Helper()
	got, err := f.devs.Device(ctx, class, pk)
	if err != nil {
		t.Fatalf("Device(%s, %d): %v", class, pk, err)
	}
	return got
}

// userDevs lists a user's devices and fails the test on an error.
func (f devFixture) userDevs(t *testing.T, user int64) []directory.Device {
	t.Helper()
	got, err := f.devs.UserDevices(ctx, user)
	if err != nil {
		t.Fatalf("UserDevices(%d): %v", user, err)
	}
	return got
}

// normal is d in a form to compare: times in UTC (a directory may keep
// them to the microsecond, as DRF shows them) and empty slices as nil.
func normal(d directory.Device) directory.Device {
	d = d.Clone()
	d.Created, d.LastUpdated = d.Created.UTC().Truncate(time.Microsecond), d.LastUpdated.UTC().Truncate(time.Microsecond)
	if d.LastUsed != nil {
		u := d.LastUsed.UTC().Truncate(time.Microsecond)
		d.LastUsed = &u
	}
	nilEmpty := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		return b
	}
	if d.TOTP != nil {
		d.TOTP.Key = nilEmpty(d.TOTP.Key)
	}
	if d.Static != nil && len(d.Static.TokenHashes) == 0 {
		d.Static.TokenHashes = nil
	}
	if d.WebAuthn != nil {
		d.WebAuthn.CredentialID, d.WebAuthn.PublicKey = nilEmpty(d.WebAuthn.CredentialID), nilEmpty(d.WebAuthn.PublicKey)
		if len(d.WebAuthn.Transports) == 0 {
			d.WebAuthn.Transports = nil
		}
	}
	for _, sc := range []*directory.SideChannel{sideChannel(&d)} {
		if sc != nil {
			sc.ValidUntil = sc.ValidUntil.UTC().Truncate(time.Microsecond)
		}
	}
	return d
}

// sideChannel is d's pending code, for the classes that have one.
func sideChannel(d *directory.Device) *directory.SideChannel {
	switch {
	case d.SMS != nil:
		return &d.SMS.SideChannel
	case d.Email != nil:
		return &d.Email.SideChannel
	}
	return nil
}

// sameDev fails the test unless got and want are the same device.
func sameDev(t *testing.T, what string, got, want directory.Device) {
	t.Helper()
	if g, w := normal(got), normal(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, dump(g), dump(w))
	}
}

// dump prints every field of d (the suite's own devices hold no real
// secret; a Device's String hides them).
func dump(d directory.Device) string {
	type plain directory.Device // without the String method
	s := fmt.Sprintf("%+v", plain(d))
	for _, p := range []any{d.TOTP, d.Static, d.WebAuthn, d.SMS, d.Email, d.Duo} {
		if !reflect.ValueOf(p).IsNil() {
			s += fmt.Sprintf(" %+v", p)
		}
	}
	return s
}

// devUser creates a user for devices.
func devUser(t *testing.T, f devFixture, name string) directory.User {
	t.Helper()
	return create(t, f.Dir, newUser(name))
}

func testDevCreate(t *testing.T, f devFixture) {
	u := devUser(t, f, "alice")
	for i, class := range directory.DeviceClasses {
		in := f.sample(t, class, u.PK, i)
		in.PK, in.Created, in.LastUpdated = 9999, time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC)
		got := f.createDev(t, in)
		if got.PK < 1 || got.PK == 9999 {
			t.Errorf("%s: PK = %d, want one the directory gives", class, got.PK)
		}
		if got.Created.Year() < 2020 || !got.LastUpdated.Equal(got.Created) {
			t.Errorf("%s: Created %v, LastUpdated %v: want the time of the create, both", class, got.Created, got.LastUpdated)
		}
		want := in
		want.PK, want.Created, want.LastUpdated = got.PK, got.Created, got.LastUpdated
		sameDev(t, string(class)+": created", got, want)
		sameDev(t, string(class)+": read back", f.readDev(t, class, got.PK), got)
	}
	if n := len(f.userDevs(t, u.PK)); n != len(directory.DeviceClasses) {
		t.Errorf("UserDevices: %d devices, want %d", n, len(directory.DeviceClasses))
	}
}

func testDevCreateRefused(t *testing.T, f devFixture) {
	u := devUser(t, f, "alice")
	in := f.sample(t, directory.DeviceTOTP, u.PK+1000, 1)
	_, err := f.devs.CreateDevice(ctx, in)
	isNotFound(t, "CreateDevice(unknown user)", err)
	for _, bad := range []directory.Device{
		{Class: directory.DeviceTOTP, User: u.PK},
		{Class: directory.DeviceStatic, User: u.PK, TOTP: &directory.TOTPDevice{}},
		{Class: "fingerprint", User: u.PK, TOTP: &directory.TOTPDevice{}},
		{Class: directory.DeviceWebAuthn, User: u.PK, WebAuthn: &directory.WebAuthnDevice{}},
		{Class: directory.DeviceSMS, User: u.PK, SMS: &directory.SMSDevice{Phone: "+15550100"}},
		{Class: directory.DeviceTOTP, User: u.PK, Stage: uuid.New(), TOTP: &directory.TOTPDevice{}},
	} {
		if _, err := f.devs.CreateDevice(ctx, bad); err == nil {
			t.Errorf("CreateDevice(%s %+v) stored a device that is not valid", bad, dump(bad))
		}
	}
	if got := f.userDevs(t, u.PK); len(got) != 0 {
		t.Errorf("refused creates wrote %d devices", len(got))
	}
}

func testDevPK(t *testing.T, f devFixture) {
	u := devUser(t, f, "alice")
	a := f.createDev(t, f.sample(t, directory.DeviceTOTP, u.PK, 1))
	b := f.createDev(t, f.sample(t, directory.DeviceTOTP, u.PK, 2))
	if a.PK == b.PK {
		t.Fatalf("two totp devices share pk %d", a.PK)
	}
	if _, err := f.devs.Device(ctx, directory.DeviceStatic, a.PK); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Device(static, %d) with no static device: %v, want ErrNotFound", a.PK, err)
	}
	s := f.createDev(t, f.sample(t, directory.DeviceStatic, u.PK, 3))
	if got := f.readDev(t, directory.DeviceStatic, s.PK); got.Class != directory.DeviceStatic {
		t.Errorf("Device(static, %d) = %s", s.PK, got)
	}
	high := max(a.PK, b.PK)
	if err := f.devs.DeleteDevice(ctx, directory.DeviceTOTP, high); err != nil {
		t.Fatal(err)
	}
	c := f.createDev(t, f.sample(t, directory.DeviceTOTP, u.PK, 4))
	if c.PK <= high {
		t.Errorf("after deleting totp %d, a new one got pk %d: a pk was reused", high, c.PK)
	}
}

func testDevFind(t *testing.T, f devFixture) {
	u := devUser(t, f, "alice")
	v := devUser(t, f, "bob")
	w := f.createDev(t, f.sample(t, directory.DeviceWebAuthn, u.PK, 1))
	s := f.createDev(t, f.sample(t, directory.DeviceSMS, u.PK, 2))
	e := f.createDev(t, f.sample(t, directory.DeviceEmail, u.PK, 3))
	for _, c := range []struct {
		find directory.DeviceFind
		want directory.Device
	}{
		{directory.DeviceFind{CredentialID: w.WebAuthn.CredentialID}, w},
		{directory.DeviceFind{Stage: s.Stage, Phone: s.SMS.Phone}, s},
		{directory.DeviceFind{User: u.PK, Email: e.Email.Email}, e},
	} {
		got, err := f.devs.FindDevice(ctx, c.find)
		if err != nil {
			t.Errorf("FindDevice(%+v): %v", c.find, err)
			continue
		}
		sameDev(t, fmt.Sprintf("FindDevice(%+v)", c.find), got, c.want)
	}
	for _, miss := range []directory.DeviceFind{
		{CredentialID: []byte("no such credential")},
		{Stage: uuid.New(), Phone: s.SMS.Phone},
		{Stage: s.Stage, Phone: "+15559999999"},
		{User: v.PK, Email: e.Email.Email},
		{User: u.PK, Email: "other@example.com"},
		{},
	} {
		_, err := f.devs.FindDevice(ctx, miss)
		isNotFound(t, fmt.Sprintf("FindDevice(%+v)", miss), err)
	}
}

func testDevExists(t *testing.T, f devFixture) {
	u := devUser(t, f, "alice")
	v := devUser(t, f, "bob")
	w := f.createDev(t, f.sample(t, directory.DeviceWebAuthn, u.PK, 1))
	s := f.createDev(t, f.sample(t, directory.DeviceSMS, u.PK, 2))
	e := f.createDev(t, f.sample(t, directory.DeviceEmail, u.PK, 3))

	w2 := f.sample(t, directory.DeviceWebAuthn, v.PK, 4)
	w2.WebAuthn.CredentialID = w.WebAuthn.CredentialID
	s2 := f.sample(t, directory.DeviceSMS, v.PK, 5)
	s2.Stage, s2.SMS.Phone = s.Stage, s.SMS.Phone
	e2 := f.sample(t, directory.DeviceEmail, u.PK, 6)
	e2.Email.Email = e.Email.Email
	for _, dup := range []directory.Device{w2, s2, e2} {
		if _, err := f.devs.CreateDevice(ctx, dup); !errors.Is(err, directory.ErrDeviceExists) {
			t.Errorf("CreateDevice(%s with a taken value): %v, want ErrDeviceExists", dup, err)
		}
	}
	if n := len(f.userDevs(t, v.PK)); n != 0 {
		t.Errorf("refused creates wrote %d devices", n)
	}
	// The same number for another stage, the same address for another
	// user: free.
	s3 := f.sample(t, directory.DeviceSMS, v.PK, 7)
	s3.SMS.Phone = s.SMS.Phone
	if s3.Stage == s.Stage {
		s3.Stage = f.stage(t, directory.DeviceSMS)
	}
	if s3.Stage != s.Stage {
		f.createDev(t, s3)
	}
	e3 := f.sample(t, directory.DeviceEmail, v.PK, 8)
	e3.Email.Email = e.Email.Email
	e3 = f.createDev(t, e3)

	// An update to a taken value is refused too, and writes nothing.
	_, err := f.devs.UpdateDevice(ctx, directory.DeviceEmail, e3.PK, func(d *directory.Device) error {
		d.User = u.PK // kept: the update cannot move the device
		return nil
	})
	if err != nil {
		t.Errorf("an update that tries to move a device to another user: %v", err)
	}
	other := f.createDev(t, f.sample(t, directory.DeviceWebAuthn, v.PK, 9))
	_, err = f.devs.UpdateDevice(ctx, directory.DeviceWebAuthn, other.PK, func(d *directory.Device) error {
		d.WebAuthn.CredentialID = w.WebAuthn.CredentialID
		d.Name = "renamed"
		return nil
	})
	if !errors.Is(err, directory.ErrDeviceExists) {
		t.Errorf("UpdateDevice to a taken credential id: %v, want ErrDeviceExists", err)
	}
	sameDev(t, "after a refused update", f.readDev(t, directory.DeviceWebAuthn, other.PK), other)
	// A device keeps its own value on an update.
	if _, err := f.devs.UpdateDevice(ctx, directory.DeviceWebAuthn, w.PK, func(d *directory.Device) error { d.Name = "renamed"; return nil }); err != nil {
		t.Errorf("an update that keeps the device's own credential id: %v", err)
	}
}

func testDevUpdateKeeps(t *testing.T, f devFixture) {
	u := devUser(t, f, "alice")
	v := devUser(t, f, "bob")
	for i, class := range directory.DeviceClasses {
		cur := f.createDev(t, f.sample(t, class, u.PK, i))
		later(f.Fixture)
		next := f.sample(t, class, u.PK, i+10) // other values everywhere
		if next.Stage != uuid.Nil {
			next.Stage = cur.Stage
		}
		got, err := f.devs.UpdateDevice(ctx, class, cur.PK, func(d *directory.Device) error {
			sameDev(t, string(class)+": fn's device", *d, cur)
			*d = next.Clone()
			d.PK, d.User, d.Created = cur.PK+100, v.PK, time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: UpdateDevice: %v", class, err)
		}
		if !got.LastUpdated.After(cur.LastUpdated) {
			t.Errorf("%s: LastUpdated %v, want after %v", class, got.LastUpdated, cur.LastUpdated)
		}
		want := next
		want.PK, want.User, want.Created, want.LastUpdated = cur.PK, cur.User, cur.Created, got.LastUpdated
		sameDev(t, string(class)+": updated", got, want)
		sameDev(t, string(class)+": read back", f.readDev(t, class, cur.PK), got)
	}
	if n := len(f.userDevs(t, v.PK)); n != 0 {
		t.Errorf("updates moved %d devices to another user", n)
	}
}

func testDevUpdateRefused(t *testing.T, f devFixture) {
	u := devUser(t, f, "alice")
	cur := f.createDev(t, f.sample(t, directory.DeviceTOTP, u.PK, 1))
	boom := errors.New("boom")
	for what, fn := range map[string]func(*directory.Device) error{
		"an error":  func(d *directory.Device) error { d.Name = "changed"; return boom },
		"unchanged": func(d *directory.Device) error { d.Name = "changed"; return directory.ErrDeviceUnchanged },
		"no fields": func(d *directory.Device) error { d.Name = "changed"; d.TOTP = nil; return nil },
		"a class's fields": func(d *directory.Device) error {
			d.Name = "changed"
			d.Static = &directory.StaticDevice{}
			return nil
		},
	} {
		_, err := f.devs.UpdateDevice(ctx, directory.DeviceTOTP, cur.PK, fn)
		if err == nil {
			t.Errorf("UpdateDevice with %s: no error", what)
		}
		switch what {
		case "an error":
			if !errors.Is(err, boom) {
				t.Errorf("UpdateDevice with an error: %v, want it wrapped", err)
			}
		case "unchanged":
			if !errors.Is(err, directory.ErrDeviceUnchanged) {
				t.Errorf("UpdateDevice with ErrDeviceUnchanged: %v, want it wrapped", err)
			}
		}
		sameDev(t, "after UpdateDevice with "+what, f.readDev(t, directory.DeviceTOTP, cur.PK), cur)
	}
	called := false
	_, err := f.devs.UpdateDevice(ctx, directory.DeviceTOTP, cur.PK+1000, func(*directory.Device) error { called = true; return nil })
	isNotFound(t, "UpdateDevice(unknown)", err)
	if called {
		t.Error("UpdateDevice(unknown) called fn")
	}
}

func testDevUpdateAtomic(t *testing.T, f devFixture) {
	u := devUser(t, f, "alice")
	code := directory.HashStaticToken("the-last-code")
	st := f.sample(t, directory.DeviceStatic, u.PK, 1)
	st.Static.TokenHashes = []string{code}
	st = f.createDev(t, st)
	totp := f.createDev(t, f.sample(t, directory.DeviceTOTP, u.PK, 2))

	const n = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, unchanged, failed := 0, 0, []error{}
	for range n {
		wg.Add(2)
		go func() { // use the one code
			defer wg.Done()
			_, err := f.devs.UpdateDevice(ctx, directory.DeviceStatic, st.PK, func(d *directory.Device) error {
				i := slices.Index(d.Static.TokenHashes, code)
				if i < 0 {
					return directory.ErrDeviceUnchanged
				}
				d.Static.TokenHashes = slices.Delete(d.Static.TokenHashes, i, i+1)
				return nil
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, directory.ErrDeviceUnchanged):
				unchanged++
			default:
				failed = append(failed, err)
			}
		}()
		go func() { // count
			defer wg.Done()
			_, err := f.devs.UpdateDevice(ctx, directory.DeviceTOTP, totp.PK, func(d *directory.Device) error {
				d.TOTP.LastT++
				return nil
			})
			if err != nil {
				mu.Lock()
				failed = append(failed, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("concurrent updates failed: %v", failed)
	}
	if wins != 1 || unchanged != n-1 {
		t.Errorf("of %d concurrent uses of one code, %d succeeded and %d found it gone; want 1 and %d", n, wins, unchanged, n-1)
	}
	if got := f.readDev(t, directory.DeviceStatic, st.PK); len(got.Static.TokenHashes) != 0 {
		t.Errorf("the code is still there: %v", got.Static.TokenHashes)
	}
	if got := f.readDev(t, directory.DeviceTOTP, totp.PK); got.TOTP.LastT != totp.TOTP.LastT+n {
		t.Errorf("after %d concurrent increments LastT = %d, want %d", n, got.TOTP.LastT, totp.TOTP.LastT+n)
	}
}

func testDevNoAliasing(t *testing.T, f devFixture) {
	u := devUser(t, f, "alice")
	var made []directory.Device
	for i, class := range directory.DeviceClasses {
		in := f.sample(t, class, u.PK, i)
		got := f.createDev(t, in)
		scribbleDev(&in)
		want := got.Clone()
		scribbleDev(&got)
		read := f.readDev(t, class, got.PK)
		sameDev(t, string(class)+": after writing to the values given and returned", read, want)
		scribbleDev(&read)
		sameDev(t, string(class)+": after writing to a value read", f.readDev(t, class, got.PK), want)
		made = append(made, want)
	}
	all := f.userDevs(t, u.PK)
	for i := range all {
		scribbleDev(&all[i])
	}
	for _, d := range made {
		sameDev(t, string(d.Class)+": after writing to UserDevices' values", f.readDev(t, d.Class, d.PK), d)
		var kept *directory.Device
		up, err := f.devs.UpdateDevice(ctx, d.Class, d.PK, func(x *directory.Device) error { kept = x; return nil })
		if err != nil {
			t.Fatal(err)
		}
		want := f.readDev(t, d.Class, d.PK)
		scribbleDev(kept)
		scribbleDev(&up)
		sameDev(t, string(d.Class)+": after writing to UpdateDevice's values", f.readDev(t, d.Class, d.PK), want)
	}
}

// scribbleDev writes to everything d points at.
func scribbleDev(d *directory.Device) {
	if d.LastUsed != nil {
		*d.LastUsed = d.LastUsed.Add(time.Hour)
	}
	switch {
	case d.TOTP != nil:
		d.TOTP.Key[0] ^= 0xff
		d.TOTP.LastT += 7
	case d.Static != nil:
		d.Static.TokenHashes[0] = "scribbled"
	case d.WebAuthn != nil:
		d.WebAuthn.CredentialID[0] ^= 0xff
		d.WebAuthn.PublicKey[0] ^= 0xff
		d.WebAuthn.Transports[0] = "scribbled"
		d.WebAuthn.SignCount++
	case d.SMS != nil:
		d.SMS.Token = "scribbled"
	case d.Email != nil:
		d.Email.Email = "scribbled@example.com"
	case d.Duo != nil:
		d.Duo.DuoUserID = "scribbled"
	}
}

func testDevDelete(t *testing.T, f devFixture) {
	u := devUser(t, f, "alice")
	a := f.createDev(t, f.sample(t, directory.DeviceWebAuthn, u.PK, 1))
	b := f.createDev(t, f.sample(t, directory.DeviceWebAuthn, u.PK, 2))
	if err := f.devs.DeleteDevice(ctx, a.Class, a.PK); err != nil {
		t.Fatalf("DeleteDevice: %v", err)
	}
	_, err := f.devs.Device(ctx, a.Class, a.PK)
	isNotFound(t, "Device after DeleteDevice", err)
	_, err = f.devs.FindDevice(ctx, directory.DeviceFind{CredentialID: a.WebAuthn.CredentialID})
	isNotFound(t, "FindDevice after DeleteDevice", err)
	isNotFound(t, "DeleteDevice again", f.devs.DeleteDevice(ctx, a.Class, a.PK))
	isNotFound(t, "DeleteDevice(unknown)", f.devs.DeleteDevice(ctx, directory.DeviceTOTP, 12345))
	sameDev(t, "the other device", f.readDev(t, b.Class, b.PK), b)
	// Its credential id is free again.
	again := f.sample(t, directory.DeviceWebAuthn, u.PK, 3)
	again.WebAuthn.CredentialID = a.WebAuthn.CredentialID
	f.createDev(t, again)
}

func testDevDeleteUser(t *testing.T, f devFixture) {
	u := devUser(t, f, "alice")
	v := devUser(t, f, "bob")
	var mine []directory.Device
	for i, class := range directory.DeviceClasses {
		mine = append(mine, f.createDev(t, f.sample(t, class, u.PK, i)))
	}
	keep := f.createDev(t, f.sample(t, directory.DeviceTOTP, v.PK, 10))
	if err := f.Dir.DeleteUser(ctx, u.PK); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if got := f.userDevs(t, u.PK); len(got) != 0 {
		t.Errorf("a deleted user still has %d devices", len(got))
	}
	for _, d := range mine {
		_, err := f.devs.Device(ctx, d.Class, d.PK)
		isNotFound(t, "Device of a deleted user", err)
		if k, ok := d.Key(); ok {
			_, err := f.devs.FindDevice(ctx, k)
			isNotFound(t, "FindDevice of a deleted user", err)
		}
	}
	sameDev(t, "another user's device", f.readDev(t, keep.Class, keep.PK), keep)
	// The deleted devices' unique values are free.
	for _, d := range mine {
		if _, ok := d.Key(); ok && d.Class != directory.DeviceEmail {
			d.User = v.PK
			f.createDev(t, d)
		}
	}
}

func testDevOrder(t *testing.T, f devFixture) {
	u := devUser(t, f, "alice")
	v := devUser(t, f, "bob")
	if got := f.userDevs(t, u.PK); len(got) != 0 {
		t.Errorf("a user without devices has %d", len(got))
	}
	if got := f.userDevs(t, u.PK+1000); len(got) != 0 {
		t.Errorf("an unknown user has %d devices", len(got))
	}
	var want []directory.Device
	n := 0
	for range 2 {
		for _, class := range slices.Backward(directory.DeviceClasses) {
			n++
			want = append(want, f.createDev(t, f.sample(t, class, u.PK, n)))
			n++
			f.createDev(t, f.sample(t, class, v.PK, n))
		}
	}
	slices.SortStableFunc(want, func(a, b directory.Device) int {
		if c := slices.Index(directory.DeviceClasses, a.Class) - slices.Index(directory.DeviceClasses, b.Class); c != 0 {
			return c
		}
		return int(a.PK - b.PK)
	})
	got := f.userDevs(t, u.PK)
	if len(got) != len(want) {
		t.Fatalf("UserDevices: %d devices, want %d", len(got), len(want))
	}
	for i := range want {
		sameDev(t, fmt.Sprintf("UserDevices[%d]", i), got[i], want[i])
	}
}
