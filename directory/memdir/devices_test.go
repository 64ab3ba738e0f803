package memdir

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/directorytest"
	"github.com/google/uuid"
)

func TestDevices(t *testing.T) {
	ctx := context.Background()
	d, _ := newDir(t)
	u := directory.DefaultUser()
	u.Username = "alice"
	u, err := d.CreateUser(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateDevice(ctx, directory.Device{Class: directory.DeviceTOTP, User: 99, TOTP: &directory.TOTPDevice{}}); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("device of an unknown user: %v, want ErrNotFound", err)
	}
	if _, err := d.CreateDevice(ctx, directory.Device{Class: directory.DeviceTOTP, User: u.PK}); err == nil {
		t.Error("a totp device without its fields was stored")
	}
	key := []byte("12345678901234567890")
	totp, err := d.CreateDevice(ctx, directory.Device{Class: directory.DeviceTOTP, User: u.PK, Name: "phone", Confirmed: true,
		TOTP: &directory.TOTPDevice{Key: key, Digits: 6, Step: 30, LastT: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if totp.PK != 1 || totp.Created.IsZero() {
		t.Errorf("created %+v", totp)
	}
	if s := fmt.Sprintf("%v %+v %#v", totp, totp, totp); strings.Contains(s, string(key)) {
		t.Errorf("printing a device shows its key: %s", s)
	}
	totp.TOTP.Key[0] = 'x' // shares nothing with the stored one
	stage := uuid.New()
	sms := directory.Device{Class: directory.DeviceSMS, User: u.PK, Stage: stage, SMS: &directory.SMSDevice{Phone: "+15550100"}}
	if _, err := d.CreateDevice(ctx, sms); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateDevice(ctx, sms); !errors.Is(err, directory.ErrDeviceExists) {
		t.Errorf("a second device of one number and stage: %v, want ErrDeviceExists", err)
	}
	found, err := d.FindDevice(ctx, directory.DeviceFind{Stage: stage, Phone: "+15550100"})
	if err != nil || found.Class != directory.DeviceSMS {
		t.Errorf("FindDevice = %v, %v", found, err)
	}
	all, err := d.UserDevices(ctx, u.PK)
	if err != nil || len(all) != 2 || all[0].Class != directory.DeviceTOTP || string(all[0].TOTP.Key) != string(key) {
		t.Fatalf("UserDevices = %v, %v", all, err)
	}

	// UpdateDevice runs its function alone: of many updates that each
	// accept the step only if it is past LastT, one wins per step.
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := d.UpdateDevice(ctx, directory.DeviceTOTP, 1, func(dev *directory.Device) error {
				if dev.TOTP.LastT >= 7 {
					return directory.ErrDeviceUnchanged
				}
				dev.TOTP.LastT = 7
				return nil
			})
			if err == nil {
				mu.Lock()
				accepted++
				mu.Unlock()
			} else if !errors.Is(err, directory.ErrDeviceUnchanged) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if accepted != 1 {
		t.Errorf("a code of one step was accepted %d times", accepted)
	}
	moved, err := d.UpdateDevice(ctx, directory.DeviceTOTP, 1, func(dev *directory.Device) error { dev.User = 42; dev.PK = 9; return nil })
	if err != nil || moved.User != u.PK || moved.PK != 1 {
		t.Errorf("an update moved the device: %v, %v", moved, err)
	}
	if err := d.DeleteUser(ctx, u.PK); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Device(ctx, directory.DeviceSMS, 1); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("a deleted user's device: %v, want ErrNotFound", err)
	}
}

func TestDevicesConformance(t *testing.T) {
	directorytest.RunDevices(t, func(t *testing.T) directorytest.Fixture {
		d, c := newDir(t)
		return directorytest.Fixture{Dir: d, AddGroup: d.AddGroup, Advance: c.advance}
	})
}
