package memdir

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/authflow/authflow/directory"
	"github.com/google/uuid"
)

var _ directory.Devices = (*Dir)(nil)

// deviceKey names one device.
type deviceKey struct {
	class directory.DeviceClass
	pk    int64
}

// UserDevices returns the devices of user, by class and pk.
func (d *Dir) UserDevices(ctx context.Context, user int64) ([]directory.Device, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []directory.Device
	for _, dev := range d.devices {
		if dev.User == user {
			out = append(out, dev.Clone())
		}
	}
	slices.SortFunc(out, func(a, b directory.Device) int {
		if c := slices.Index(directory.DeviceClasses, a.Class) - slices.Index(directory.DeviceClasses, b.Class); c != 0 {
			return c
		}
		return int(a.PK - b.PK)
	})
	return out, nil
}

// Device returns one device.
func (d *Dir) Device(ctx context.Context, class directory.DeviceClass, pk int64) (directory.Device, error) {
	if err := ctx.Err(); err != nil {
		return directory.Device{}, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	dev, ok := d.devices[deviceKey{class, pk}]
	if !ok {
		return directory.Device{}, fmt.Errorf("memdir: %s device %d: %w", class, pk, directory.ErrNotFound)
	}
	return dev.Clone(), nil
}

// FindDevice returns the device f names.
func (d *Dir) FindDevice(ctx context.Context, f directory.DeviceFind) (directory.Device, error) {
	if err := ctx.Err(); err != nil {
		return directory.Device{}, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if dev, ok := d.findLocked(f); ok {
		return dev.Clone(), nil
	}
	return directory.Device{}, fmt.Errorf("memdir: find device: %w", directory.ErrNotFound)
}

// findLocked is the device whose unique value is f's.
func (d *Dir) findLocked(f directory.DeviceFind) (directory.Device, bool) {
	for _, dev := range d.devices {
		k, ok := dev.Key()
		if ok && bytes.Equal(k.CredentialID, f.CredentialID) && k.Stage == f.Stage && k.Phone == f.Phone &&
			k.User == f.User && k.Email == f.Email {
			return dev, true
		}
	}
	return directory.Device{}, false
}

// CreateDevice stores dev as a new device of its class.
func (d *Dir) CreateDevice(ctx context.Context, dev directory.Device) (directory.Device, error) {
	if err := ctx.Err(); err != nil {
		return directory.Device{}, err
	}
	if err := directory.CheckDevice(dev); err != nil {
		return directory.Device{}, fmt.Errorf("memdir: create device: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.users[dev.User]; !ok {
		return directory.Device{}, fmt.Errorf("memdir: create device: user %d: %w", dev.User, directory.ErrNotFound)
	}
	if k, ok := dev.Key(); ok {
		if _, taken := d.findLocked(k); taken {
			return directory.Device{}, fmt.Errorf("memdir: create device: %w", directory.ErrDeviceExists)
		}
	}
	dev = dev.Clone()
	d.lastDevice[dev.Class]++
	dev.PK = d.lastDevice[dev.Class]
	dev.Created = d.now().UTC()
	dev.LastUpdated = dev.Created
	d.devices[deviceKey{dev.Class, dev.PK}] = dev
	return dev.Clone(), nil
}

// UpdateDevice changes one device with fn, under the directory's lock.
func (d *Dir) UpdateDevice(ctx context.Context, class directory.DeviceClass, pk int64, fn func(*directory.Device) error) (directory.Device, error) {
	if err := ctx.Err(); err != nil {
		return directory.Device{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	cur, ok := d.devices[deviceKey{class, pk}]
	if !ok {
		return directory.Device{}, fmt.Errorf("memdir: %s device %d: %w", class, pk, directory.ErrNotFound)
	}
	next := cur.Clone()
	if err := fn(&next); err != nil {
		return directory.Device{}, fmt.Errorf("memdir: update %s device %d: %w", class, pk, err)
	}
	next.Class, next.PK, next.User, next.Created = cur.Class, cur.PK, cur.User, cur.Created
	if err := directory.CheckDevice(next); err != nil {
		return directory.Device{}, fmt.Errorf("memdir: update device: %w", err)
	}
	if k, ok := next.Key(); ok {
		if o, taken := d.findLocked(k); taken && (o.Class != class || o.PK != pk) {
			return directory.Device{}, fmt.Errorf("memdir: update device: %w", directory.ErrDeviceExists)
		}
	}
	next.LastUpdated = d.now().UTC()
	d.devices[deviceKey{class, pk}] = next.Clone()
	return next, nil
}

// DeleteDevice deletes one device.
func (d *Dir) DeleteDevice(ctx context.Context, class directory.DeviceClass, pk int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.devices[deviceKey{class, pk}]; !ok {
		return fmt.Errorf("memdir: %s device %d: %w", class, pk, directory.ErrNotFound)
	}
	delete(d.devices, deviceKey{class, pk})
	return nil
}

// deleteDevicesLocked deletes the devices of user.
func (d *Dir) deleteDevicesLocked(user int64) {
	for k, dev := range d.devices {
		if dev.User == user {
			delete(d.devices, k)
		}
	}
}

// DeleteStageDevices deletes the devices set up by stage, as deleting an
// SMS, email or Duo setup stage does in authentik. memdir holds no
// stages, so a test calls it where a store would cascade.
func (d *Dir) DeleteStageDevices(stage uuid.UUID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, dev := range d.devices {
		if dev.Stage == stage {
			delete(d.devices, k)
		}
	}
}
