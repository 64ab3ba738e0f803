package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

var _ directory.Devices = Directory{}

// deviceColl is the collection of class's devices.
func (s *Store) deviceColl(class directory.DeviceClass) (*collection, error) {
	if c := s.schema.byName[DeviceModels[class]]; c != nil && DeviceModels[class] != "" {
		return c, nil
	}
	return nil, fmt.Errorf("store: %w: no collection of %q devices (an unknown class, or its setup stage kind is not registered)", errors.Join(directory.ErrNotFound, ErrNotFound), class)
}

// devErr adds the directory's sentinels to a device write's error: a
// taken unique value is directory.ErrDeviceExists, a user that does not
// exist directory.ErrNotFound.
func devErr(err error) error {
	var ve *validate.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrConflict):
		return errors.Join(directory.ErrDeviceExists, err)
	case errors.As(err, &ve) && (ve.Has("user") || ve.Has("stage")):
		return errors.Join(directory.ErrNotFound, err)
	}
	return dirErr(err)
}

// deviceOf reads a stored record as a device.
func deviceOf(obj any) (directory.Device, error) {
	r, ok := obj.(deviceRecord)
	if !ok {
		return directory.Device{}, fmt.Errorf("store: %w: %T is no device", ErrCorrupt, obj)
	}
	return r.device()
}

// device reads device (class, pk) in tx.
func (tx *Tx) device(class directory.DeviceClass, pk int64) (*collection, directory.Device, error) {
	c, err := tx.s.deviceColl(class)
	if err != nil {
		return nil, directory.Device{}, err
	}
	obj, ok, err := tx.get(c, seqID(c.bucket, pk))
	if err != nil {
		return nil, directory.Device{}, err
	}
	if !ok {
		return nil, directory.Device{}, fmt.Errorf("store: %s device %d: %w", class, pk, errors.Join(directory.ErrNotFound, ErrNotFound))
	}
	d, err := deviceOf(obj)
	return c, d, err
}

// UserDevices returns the devices of user, by class and pk, read through
// the reference index (the user's referrers), not a scan.
func (d Directory) UserDevices(ctx context.Context, user int64) (out []directory.Device, err error) {
	err = d.s.View(ctx, func(tx *Tx) error {
		out, err = tx.userDevices(user)
		return err
	})
	return out, dirErr(err)
}

// userDevices is UserDevices in tx.
func (tx *Tx) userDevices(user int64) ([]directory.Device, error) {
	var buf [8]refField // on the stack, for every class there is
	from := buf[:0]
	for _, class := range directory.DeviceClasses {
		if c, err := tx.s.deviceColl(class); err == nil { // a class the store has
			from = append(from, refField{c, "user"})
		}
	}
	var out []directory.Device
	err := tx.eachRef(seqID(tx.s.schema.users.bucket, user), func(c *collection, src uuid.UUID, field string) {
		for _, f := range from {
			if c == f.c && field == f.field {
				out = append(out, directory.Device{PK: int64(binary.BigEndian.Uint32(src[12:])), Class: classOf(c)})
			}
		}
	})
	if err != nil {
		return nil, err
	}
	for i, ref := range out {
		_, dev, err := tx.device(ref.Class, ref.PK)
		if err != nil {
			return nil, fmt.Errorf("store: %w: the reference index names %s: %v", ErrCorrupt, ref, err)
		}
		out[i] = dev
	}
	slices.SortFunc(out, func(a, b directory.Device) int {
		if c := slices.Index(directory.DeviceClasses, a.Class) - slices.Index(directory.DeviceClasses, b.Class); c != 0 {
			return c
		}
		return int(a.PK - b.PK)
	})
	return out, nil
}

// classOf is the device class whose collection is c.
func classOf(c *collection) directory.DeviceClass {
	for class, m := range DeviceModels {
		if m == c.model {
			return class
		}
	}
	return ""
}

// Device returns one device.
func (d Directory) Device(ctx context.Context, class directory.DeviceClass, pk int64) (dev directory.Device, err error) {
	err = d.s.View(ctx, func(tx *Tx) error {
		_, dev, err = tx.device(class, pk)
		return err
	})
	return dev, dirErr(err)
}

// FindDevice returns the device f names, through the index of its unique
// value.
func (d Directory) FindDevice(ctx context.Context, f directory.DeviceFind) (dev directory.Device, err error) {
	err = d.s.View(ctx, func(tx *Tx) error {
		dev, err = tx.findDevice(f)
		return err
	})
	return dev, dirErr(err)
}

// findDevice is FindDevice in tx.
func (tx *Tx) findDevice(f directory.DeviceFind) (directory.Device, error) {
	notFound := fmt.Errorf("store: find device: %w", errors.Join(directory.ErrNotFound, ErrNotFound))
	var (
		class directory.DeviceClass
		id    uuid.UUID
		ok    bool
		err   error
	)
	switch {
	case len(f.CredentialID) > 0:
		class = directory.DeviceWebAuthn
		c, _ := tx.s.deviceColl(class)
		id, ok, err = tx.lookup(c, "credential_id", b64.EncodeToString(f.CredentialID))
	case f.Phone != "" || f.Stage != uuid.Nil:
		class = directory.DeviceSMS
		id, ok, err = tx.lookupTogether(class, smsRecord{Stage: f.Stage, PhoneNumber: f.Phone})
	case f.Email != "" || f.User != 0:
		class = directory.DeviceEmail
		id, ok, err = tx.lookupTogether(class, emailRecord{User: f.User, Email: f.Email})
	default:
		return directory.Device{}, notFound
	}
	if err != nil {
		return directory.Device{}, err
	}
	if !ok {
		return directory.Device{}, notFound
	}
	c, _ := tx.s.deviceColl(class)
	obj, ok, err := tx.get(c, id)
	if err != nil {
		return directory.Device{}, err
	}
	if !ok {
		return directory.Device{}, fmt.Errorf("store: %s: %w: it names %s", c.bucket+"_unique", ErrCorrupt, id)
	}
	return deviceOf(obj)
}

// lookupTogether finds the device of class whose unique-together values
// are rec's.
func (tx *Tx) lookupTogether(class directory.DeviceClass, rec any) (uuid.UUID, bool, error) {
	c, err := tx.s.deviceColl(class)
	if err != nil {
		return uuid.Nil, false, err
	}
	key, ok := c.tupleKey(rec, c.together)
	if !ok {
		return uuid.Nil, false, nil
	}
	raw, err := kvGet(tx.kv, c.bucket+"_unique", key)
	if err != nil || raw == nil {
		return uuid.Nil, false, err
	}
	return idFrom(raw), true, nil
}

// CreateDevice stores dev as a new device of its class, numbered by the
// class's sequence, in one transaction: the user and the setup stage must
// exist (directory.ErrNotFound), the unique values be free
// (directory.ErrDeviceExists).
func (d Directory) CreateDevice(ctx context.Context, dev directory.Device) (out directory.Device, err error) {
	if err := directory.CheckDevice(dev); err != nil {
		return out, fmt.Errorf("store: create device: %w", err)
	}
	err = d.s.Update(ctx, func(tx *Tx) error {
		out, err = tx.createDevice(dev)
		return err
	})
	return out, devErr(err)
}

// createDevice is CreateDevice in tx.
func (tx *Tx) createDevice(dev directory.Device) (directory.Device, error) {
	c, err := tx.s.deviceColl(dev.Class)
	if err != nil {
		return directory.Device{}, err
	}
	if _, ok, err := tx.get(tx.s.schema.users, seqID(tx.s.schema.users.bucket, dev.User)); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("store: create device: user %d: %w", dev.User, errors.Join(directory.ErrNotFound, ErrNotFound))
		}
		return directory.Device{}, err
	}
	dev.PK = 0
	dev.Created = tx.s.now().UTC().Truncate(time.Microsecond)
	dev.LastUpdated = dev.Created
	rec, err := deviceRecordOf(dev)
	if err != nil {
		return directory.Device{}, err
	}
	_, body, err := c.codec.body(rec)
	if err != nil {
		return directory.Device{}, err
	}
	obj, err := tx.write(c, nil, "", body, validate.Create, uuid.Nil, nil)
	if err != nil {
		return directory.Device{}, fmt.Errorf("store: create %s device: %w", dev.Class, err)
	}
	return deviceOf(obj)
}

// UpdateDevice reads device (class, pk), calls fn with it and stores what
// fn left, all in one write transaction, so no other write runs between
// the read and the write. On a backend with optimistic transactions
// (etcd) a transaction that lost a race runs again, and fn with it, on
// the device as the winner left it: fn must change nothing but the
// device (a code accepted is then still accepted once).
func (d Directory) UpdateDevice(ctx context.Context, class directory.DeviceClass, pk int64, fn func(*directory.Device) error) (out directory.Device, err error) {
	err = d.s.Update(ctx, func(tx *Tx) error {
		out, err = tx.updateDevice(class, pk, fn)
		return err
	})
	return out, devErr(err)
}

// updateDevice is UpdateDevice in tx.
func (tx *Tx) updateDevice(class directory.DeviceClass, pk int64, fn func(*directory.Device) error) (directory.Device, error) {
	c, cur, err := tx.device(class, pk)
	if err != nil {
		return directory.Device{}, err
	}
	next := cur.Clone()
	if err := fn(&next); err != nil {
		return directory.Device{}, fmt.Errorf("store: update %s device %d: %w", class, pk, err)
	}
	next.Class, next.PK, next.User, next.Created = cur.Class, cur.PK, cur.User, cur.Created
	next.LastUpdated = tx.s.now().UTC().Truncate(time.Microsecond)
	if err := directory.CheckDevice(next); err != nil {
		return directory.Device{}, fmt.Errorf("store: update device: %w", err)
	}
	rec, err := deviceRecordOf(next)
	if err != nil {
		return directory.Device{}, err
	}
	_, body, err := c.codec.body(rec)
	if err != nil {
		return directory.Device{}, err
	}
	obj, err := tx.updateKey(c.model, deviceKey(pk), body, nil, validate.Replace)
	if err != nil {
		return directory.Device{}, fmt.Errorf("store: update %s device %d: %w", class, pk, err)
	}
	return deviceOf(obj)
}

// deviceKey names the device numbered pk in its collection.
func deviceKey(pk int64) Key { return By("pk", strconv.FormatInt(pk, 10)) }

// DeleteDevice deletes one device.
func (d Directory) DeleteDevice(ctx context.Context, class directory.DeviceClass, pk int64) error {
	return dirErr(d.s.Update(ctx, func(tx *Tx) error {
		c, err := tx.s.deviceColl(class)
		if err != nil {
			return err
		}
		return tx.deleteKey(c.model, deviceKey(pk), nil)
	}))
}

// DeviceOf reads a record of a device collection (what Tx.List and
// Tx.Get return for one) as a directory.Device.
func DeviceOf(obj any) (directory.Device, error) { return deviceOf(obj) }

// UserDevices returns the devices of user in the transaction (see
// Directory.UserDevices).
func (t TxDirectory) UserDevices(_ context.Context, user int64) ([]directory.Device, error) {
	out, err := t.tx.userDevices(user)
	return out, dirErr(err)
}

// Device returns one device in the transaction (see Directory.Device).
func (t TxDirectory) Device(_ context.Context, class directory.DeviceClass, pk int64) (directory.Device, error) {
	_, d, err := t.tx.device(class, pk)
	return d, dirErr(err)
}
