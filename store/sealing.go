package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

	"github.com/authflow/authflow/seal"
	"github.com/authflow/authflow/store/kv"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Secrets sealed at rest.
//
// An object's secrets are the validate.Secret fields of its kind (every
// write-only field is one): a Duo stage's client_secret, an email
// stage's password, an SMS stage's auth. A store opened with a keyring
// (Options.Keys) seals each of them on every write, in put, the one place
// every record is written: the record's JSON holds, for each, the
// base64 of the value sealed (package seal) for its place, the
// collection's model, the object's pk and the field's name, and the
// record's format byte is 5 (see record.go). Reads open them in
// decodeStored, the one place every record is read, so every typed read
// (the executor's Stages.Get) sees the values in the clear, in memory
// only. A store without a keyring writes records of format 4, secrets in
// the clear, as authflow always did.
//
// The meta bucket holds a check value, sealed under the primary key the
// first time a keyring opens the store: Open fails with ErrWrongKey when
// the keyring does not open it, and with ErrKeyRequired when a store
// that has one is opened without a keyring.

var (
	// keySealCheck is the meta key of the check value.
	keySealCheck = []byte("seal_check")
	// sealCheckText is what the check value holds; sealCheckPlace is its
	// place.
	sealCheckText  = []byte("authflow sealed store")
	sealCheckPlace = []byte("authflow\x00meta\x00seal_check")
)

// secretPlace is what a sealed secret is bound to: c's model, the
// object's pk and the field.
func secretPlace(c *collection, pk []byte, field string) []byte {
	b := make([]byte, 0, len(c.model)+len(field)+18)
	b = append(append(b, c.model...), 0)
	b = append(append(b, pk...), 0)
	return append(b, field...)
}

// hasSecrets reports whether obj's kind has secrets.
func (c *collection) hasSecrets(obj any) bool {
	return len(c.secrets) > 0 && c.secrets[c.codec.kind(obj)]
}

// sealed returns obj with its secrets sealed under the store's primary
// key, and whether it sealed anything: false, with obj itself, for a
// store without a keyring or a kind without secrets.
func (s *Store) sealed(c *collection, pk uuid.UUID, obj any) (any, bool, error) {
	if s.keys == nil || !c.hasSecrets(obj) {
		return obj, false, nil
	}
	out, err := c.codec.mapSecrets(obj, func(field string, v validate.Secret) (validate.Secret, error) {
		b, err := s.keys.Seal(nil, []byte(v.Reveal()), secretPlace(c, pk[:], field))
		if err != nil {
			return validate.Secret{}, err
		}
		return validate.NewSecret(base64.RawStdEncoding.EncodeToString(b)), nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: sealing the secrets of %s %s: %w", c.alias, pk, err)
	}
	return out, true, nil
}

// openSecrets returns obj, read from a record of format 5 under pk, with
// its secrets opened. A store without a keyring fails with
// ErrKeyRequired, a secret that does not open with ErrSealed (and seal's
// reason); neither error holds a value.
func openSecrets(keys *seal.Keyring, c *collection, pk []byte, obj any) (any, error) {
	if keys == nil {
		return nil, fmt.Errorf("store: %s %s: %w", c.alias, idFrom(pk), ErrKeyRequired)
	}
	return c.codec.mapSecrets(obj, func(field string, v validate.Secret) (validate.Secret, error) {
		b, err := base64.RawStdEncoding.DecodeString(v.Reveal())
		if err != nil {
			b = nil // not base64: no sealed value, which Open says
		}
		out, err := keys.Open(nil, b, secretPlace(c, pk, field))
		if err != nil {
			return validate.Secret{}, fmt.Errorf("store: %s %s: %s: %w (%w)", c.alias, idFrom(pk), field, ErrSealed, err)
		}
		return validate.NewSecret(string(out)), nil
	})
}

// sealedUnder calls fn with the key id of each sealed secret of obj, as
// stored (before openSecrets).
func sealedUnder(c *collection, obj any, fn func(id uint32, ok bool)) {
	_, _ = c.codec.mapSecrets(obj, func(_ string, v validate.Secret) (validate.Secret, error) {
		b, err := base64.RawStdEncoding.DecodeString(v.Reveal())
		id, err2 := seal.KeyID(b)
		fn(id, err == nil && err2 == nil)
		return v, nil
	})
}

// checkKeys compares the keyring with the store's check value, before
// anything else reads the file: a store that has one needs a keyring that
// opens it.
func (s *Store) checkKeys(ctx context.Context) error {
	var check []byte
	if err := s.db.View(ctx, func(tx kv.Tx) error {
		v, err := tx.Get(bucketMeta, keySealCheck)
		check = bytes.Clone(v)
		return err
	}); err != nil {
		return err
	}
	switch {
	case check == nil:
		return nil
	case s.keys == nil:
		return fmt.Errorf("%w: its secrets are sealed; open it with its key (Options.Keys; -key-file or $AUTHFLOW_KEY for the command)", ErrKeyRequired)
	}
	if _, err := s.keys.Open(nil, check, sealCheckPlace); err != nil {
		id, _ := seal.KeyID(check)
		return fmt.Errorf("%w: its secrets were sealed under key %08x, the keyring holds %s (%w)", ErrWrongKey, id, keyIDs(s.keys), err)
	}
	return nil
}

// putSealCheck writes the check value under the primary key, when the
// store has a keyring and the check is not already under it.
func (s *Store) putSealCheck(ctx context.Context) error {
	if s.keys == nil || s.readOnly {
		return nil
	}
	return s.db.Update(ctx, func(tx kv.Tx) error {
		v, err := tx.Get(bucketMeta, keySealCheck)
		if err != nil {
			return err
		}
		if id, err := seal.KeyID(v); err == nil && id == s.keys.Primary() {
			return nil
		}
		b, err := s.keys.Seal(nil, sealCheckText, sealCheckPlace)
		if err != nil {
			return err
		}
		return tx.Put(bucketMeta, keySealCheck, b)
	})
}

func keyIDs(r *seal.Keyring) string {
	var b []byte
	for i, id := range r.IDs() {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, "%08x", id)
	}
	return "key " + string(b)
}

// Sealed reports whether the store seals secrets at rest: whether it was
// opened with a keyring (Options.Keys).
func (s *Store) Sealed() bool { return s.keys != nil }

// Keys returns the keyring the store seals with (Options.Keys), nil for
// none. A collection's secrets need no more than a validate.Secret field
// (a device's TOTP seed, bound to its device like any secret); Keys is for
// what a host keeps beside the collections, in the same backend, and
// seals itself, with a place of its own that no collection's model
// starts.
func (s *Store) Keys() *seal.Keyring { return s.keys }

// SecretFields returns every secret the store's collections and kinds
// have, as "model.field" (a kind's model for a collection with kinds),
// sorted: what a store without a keyring keeps in the clear.
func (s *Store) SecretFields() []string {
	var out []string
	for _, c := range s.schema.colls {
		for _, kind := range s.schema.kindsOf(c) {
			sc, err := c.codec.schema(kind)
			if err != nil {
				continue
			}
			model := kind
			if model == "" {
				model = c.model
			}
			for _, f := range sc.Secrets() {
				out = append(out, model+"."+f)
			}
		}
	}
	slices.Sort(out)
	return out
}

// DefaultRekeyChunk is how many records one transaction of [Store.Rekey]
// re-seals when RekeyOptions.Chunk is zero.
const DefaultRekeyChunk = 100

// RekeyOptions configures [Store.Rekey].
type RekeyOptions struct {
	// Chunk is how many records one transaction handles. Zero means
	// DefaultRekeyChunk.
	Chunk int
}

// RekeyResult is what [Store.Rekey] did.
type RekeyResult struct {
	// Records is how many records with secrets it read; Resealed how many
	// of them it sealed again (under an older key, or in the clear).
	Records, Resealed int
}

// Rekey seals every secret under the keyring's primary key: those sealed
// under an older key of the keyring, and those a store without a keyring
// wrote in the clear. It works through each collection in transactions
// of RekeyOptions.Chunk records while the store is in use: each record is
// read and written again in one transaction, so a concurrent write is
// never lost (it is sealed under the primary key by itself), and a record
// keeps its revision and indexes, since its values do not change. Last, it
// seals the store's check value under the primary key, after which the
// older keys may be dropped. A secret that does not open stops it with
// an error wrapping ErrSealed naming the object; the records re-sealed
// until then stay so, and Rekey may run again. A store without a keyring
// fails with ErrKeyRequired.
func (s *Store) Rekey(ctx context.Context, o *RekeyOptions) (RekeyResult, error) {
	var res RekeyResult
	if s.keys == nil {
		return res, fmt.Errorf("store: rekey: %w", ErrKeyRequired)
	}
	chunk := DefaultRekeyChunk
	if o != nil && o.Chunk > 0 {
		chunk = o.Chunk
	}
	primary := s.keys.Primary()
	for _, c := range s.schema.colls {
		if len(c.secrets) == 0 {
			continue
		}
		var after []byte // the last record handled
		for more := true; more; {
			var done RekeyResult
			var last []byte
			// fn may run more than once (an optimistic backend): it
			// reads after and sets only what it returns.
			err := s.Update(ctx, func(tx *Tx) error {
				done, last = RekeyResult{}, nil
				var keys [][]byte
				err := kvScan(tx.kv, c.bucket, kv.Range{Start: after}, func(k, _ []byte) (bool, error) {
					if after != nil && bytes.Equal(k, after) {
						return true, nil
					}
					keys = append(keys, bytes.Clone(k))
					return len(keys) < chunk, nil
				})
				if err != nil {
					return err
				}
				more = len(keys) == chunk
				for _, k := range keys {
					has, wrote, err := tx.reseal(c, k, primary)
					if err != nil {
						return err
					}
					if has {
						done.Records++
					}
					if wrote {
						done.Resealed++
					}
				}
				if len(keys) > 0 {
					last = keys[len(keys)-1]
				}
				return nil
			})
			if err != nil {
				return res, fmt.Errorf("store: rekey: %w", err)
			}
			if last != nil {
				after = last
			}
			res.Records += done.Records
			res.Resealed += done.Resealed
		}
	}
	if err := s.putSealCheck(ctx); err != nil {
		return res, fmt.Errorf("store: rekey: %w", err)
	}
	return res, nil
}

// sealState is how a record holds its secrets.
type sealState int

const (
	noSecrets     sealState = iota // its kind has none
	sealedPrimary                  // sealed under the keyring's primary key
	sealedOther                    // sealed, some under another key
	inClear                        // in the clear (written without a key)
)

// stateOf says how the record raw, stored under key in c, holds its
// secrets, reading the ids of the keys they were sealed under without
// opening them. primary is the keyring's primary key id.
func stateOf(c *collection, key, raw []byte, primary uint32) (sealState, error) {
	js, err := unwrap(c.bucket, key, raw)
	if err != nil {
		return noSecrets, err
	}
	stored, err := c.codec.load(js)
	if err != nil {
		return noSecrets, fmt.Errorf("store: decoding %s %s: %w", c.alias, idFrom(key), errors.Join(ErrCorrupt, err))
	}
	switch {
	case !c.hasSecrets(stored):
		return noSecrets, nil
	case raw[0] != recordV5:
		return inClear, nil
	}
	current := true
	sealedUnder(c, stored, func(id uint32, ok bool) { current = current && ok && id == primary })
	if current {
		return sealedPrimary, nil
	}
	return sealedOther, nil
}

// SealReport counts the objects that have secrets by how they hold them.
type SealReport struct {
	// Sealed are sealed under the keyring's primary key, Older under
	// another key (a rotation Rekey has not finished), Clear in the
	// clear (written without a key, and not written since).
	Sealed, Older, Clear int
}

// SealReport reads, in one read transaction, how every object that has
// secrets holds them, without opening any. On a store without a keyring
// every such object is Clear or Older.
func (s *Store) SealReport(ctx context.Context) (SealReport, error) {
	var r SealReport
	primary := uint32(0)
	if s.keys != nil {
		primary = s.keys.Primary()
	}
	err := s.View(ctx, func(tx *Tx) error {
		for _, c := range s.schema.colls {
			if len(c.secrets) == 0 {
				continue
			}
			err := kvScan(tx.kv, c.bucket, kv.Range{}, func(k, v []byte) (bool, error) {
				if err := tx.ctxErr(); err != nil {
					return false, err
				}
				st, err := stateOf(c, k, v, primary)
				switch {
				case err != nil:
					return false, err
				case st == sealedPrimary && s.keys != nil:
					r.Sealed++
				case st == sealedPrimary, st == sealedOther:
					r.Older++
				case st == inClear:
					r.Clear++
				}
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return r, err
}

// reseal writes the record under key in c again with its secrets sealed
// under the primary key, when they are not all already: with the same
// JSON but for them, and the same revision. has is false for a record
// whose kind has no secrets (or one deleted meanwhile); wrote says
// whether it wrote.
func (tx *Tx) reseal(c *collection, key []byte, primary uint32) (has, wrote bool, err error) {
	raw, err := kvGet(tx.kv, c.bucket, key)
	if err != nil || raw == nil {
		return false, false, err
	}
	st, err := stateOf(c, key, raw, primary)
	if err != nil || st == noSecrets || st == sealedPrimary {
		return st != noSecrets, false, err
	}
	_, rev, err := unwrapRev(c.bucket, key, raw)
	if err != nil {
		return false, false, err
	}
	obj, err := decodeStored(c, key, raw, tx.s.keys)
	if err != nil {
		return false, false, err
	}
	pk := idFrom(key)
	out, _, err := tx.s.sealed(c, pk, obj)
	if err != nil {
		return false, false, err
	}
	njs, err := c.codec.encode(out)
	if err != nil {
		return false, false, fmt.Errorf("store: encoding %s %s: %w", c.alias, pk, err)
	}
	if err := tx.kv.Put(c.bucket, key, wrap(c.bucket, key, njs, rev, true)); err != nil {
		return false, false, fmt.Errorf("store: writing %s %s: %w", c.alias, pk, err)
	}
	return true, true, nil
}
