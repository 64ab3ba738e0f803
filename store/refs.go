package store

import (
	"errors"
	"fmt"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// refEntry reads an entry of the reference index (target ‖ source ‖
// field -> the source's collection): an entry that names no collection
// or no reference field of it is damage.
func (tx *Tx) refEntry(k, v []byte) (*collection, string, error) {
	if len(k) < 33 {
		return nil, "", fmt.Errorf("store: refs: %w: malformed key %x", ErrCorrupt, k)
	}
	c := tx.s.schema.byName[string(v)]
	field := string(k[32:])
	if c == nil || c.bucket != string(v) || !tx.s.schema.refFields[c.bucket+"\x00"+field] {
		return nil, "", fmt.Errorf("store: refs: %w: key %x names no reference field (%q of %q)", ErrCorrupt, k, field, v)
	}
	return c, field, nil
}

// backRef is one reference to an object: the object holding it and the
// field.
type backRef struct {
	c      *collection
	obj    any
	field  string
	decl   validate.Ref
	target uuid.UUID // the object referred to
}

// eachRef calls fn for every entry of the reference index naming pk, in
// index order (source pk, then field), with the collection and field
// holding the reference: the one reader of the reference index. The
// entries must add up to the count kept for pk (see scanCounted).
func (tx *Tx) eachRef(pk uuid.UUID, fn func(c *collection, src uuid.UUID, field string)) error {
	return tx.scanCounted(bucketRefs, pk[:], func(k, v []byte) (bool, error) {
		c, field, err := tx.refEntry(k, v)
		if err != nil {
			return false, err
		}
		fn(c, idFrom(k[16:32]), field)
		return true, nil
	})
}

// refsTo returns every reference to pk, in index order (source pk, then
// field), with the objects holding them.
func (tx *Tx) refsTo(pk uuid.UUID) ([]backRef, error) {
	type raw struct {
		c     *collection
		src   uuid.UUID
		field string
	}
	var found []raw
	if err := tx.eachRef(pk, func(c *collection, src uuid.UUID, field string) {
		found = append(found, raw{c, src, field})
	}); err != nil {
		return nil, err
	}
	out := make([]backRef, 0, len(found))
	for _, f := range found {
		obj, err := tx.must(f.c, f.src)
		if err != nil {
			return nil, fmt.Errorf("store: refs to %s: %w", pk, errors.Join(ErrCorrupt, err))
		}
		decl, ok := f.c.refDecl(obj, f.field)
		if !ok {
			return nil, fmt.Errorf("store: refs: %w: %s %s has no reference field %q", ErrCorrupt, f.c.alias, f.src, f.field)
		}
		out = append(out, backRef{c: f.c, obj: obj, field: f.field, decl: decl, target: pk})
	}
	return out, nil
}

// referrers are the pks of the objects whose reference fields, among
// those named (collection and field), refer to pk.
func (tx *Tx) referrers(pk uuid.UUID, from ...refField) ([]uuid.UUID, error) {
	var out []uuid.UUID
	err := tx.eachRef(pk, func(c *collection, src uuid.UUID, field string) {
		for _, f := range from {
			if c == f.c && field == f.field {
				out = append(out, src)
				return
			}
		}
	})
	return out, err
}

// refField names a reference field of a collection.
type refField struct {
	c     *collection
	field string
}

// indexValues are the values (a reference each) of the entries of c's
// ordered index led by the reference field, under id: a flow's stages,
// in binding order, from the bindings index led by target. Null values
// are left out. The entries must add up to the kept count.
func (tx *Tx) indexValues(c *collection, field string, id uuid.UUID) ([]uuid.UUID, error) {
	ix, ok := c.indexLedBy(field)
	if !ok {
		return nil, fmt.Errorf("store: %s: no ordered index leads with %q", c.model, field)
	}
	out := []uuid.UUID{}
	err := tx.scanCounted(ix.bucket, id[:], func(k, v []byte) (bool, error) {
		val, ok, err := indexedID(ix.bucket, k, v)
		if ok {
			out = append(out, val)
		}
		return err == nil, err
	})
	return out, err
}

// indexCount is how many entries of c's ordered index led by field are
// under id, from the kept count: how many bindings bind a stage.
func (tx *Tx) indexCount(c *collection, field string, id uuid.UUID) (int64, error) {
	ix, ok := c.indexLedBy(field)
	if !ok || !ix.counted {
		return 0, fmt.Errorf("store: %s: no counted ordered index leads with %q", c.model, field)
	}
	return tx.counted([]byte(countKey(ix.bucket, id[:])))
}
