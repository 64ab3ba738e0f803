package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/store"
)

// BenchmarkUserDevices reads one user's devices (a TOTP and a static
// device) in stores of 100 and 5,000 users that each have two, beside
// its baseline from the same run, reading the user (one record):
//
//	go test ./store/ -run=NONE -bench=UserDevices -benchtime=2s -count=3
//
// x-User is UserDevices' time over User's. UserDevices reads the user's
// entries of the reference index and then the devices, so the ratio stays
// the same as the store grows: no scan of the device collections.
func BenchmarkUserDevices(b *testing.B) {
	for _, n := range []int{100, 5000} {
		s := openTestStore(b, filepath.Join(b.TempDir(), "d.db"), &store.Options{Passwords: cheap})
		d := s.Directory()
		ctx := context.Background()
		for i := range n {
			u := directory.DefaultUser()
			u.Username = fmt.Sprint("user", i)
			u, err := d.CreateUser(ctx, u)
			if err != nil {
				b.Fatal(err)
			}
			for _, dev := range []directory.Device{
				{Class: directory.DeviceTOTP, User: u.PK, Name: "phone", TOTP: &directory.TOTPDevice{Key: []byte("12345678901234567890"), Digits: 6, Step: 30}},
				{Class: directory.DeviceStatic, User: u.PK, Name: "codes", Static: &directory.StaticDevice{TokenHashes: []string{directory.HashStaticToken("code")}}},
			} {
				if _, err := d.CreateDevice(ctx, dev); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			alternate(b, "User", func(i int) error {
				devs, err := d.UserDevices(ctx, int64(i%n)+1)
				if err == nil && len(devs) != 2 {
					err = fmt.Errorf("%d devices", len(devs))
				}
				return err
			}, func(i int) error {
				_, err := d.User(ctx, int64(i%n)+1)
				return err
			})
		})
	}
}
