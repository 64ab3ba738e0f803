package store

import (
	"fmt"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// ModelPolicyBindingModel is what a policy binding's target is: any
// object with a policy-binding-model id (a flow, a flow-stage binding).
const ModelPolicyBindingModel = "authentik_policies.policybindingmodel"

// targetPBM is the ref= target of a reference to any object with a
// policy-binding-model id (the collections declared pbm).
const targetPBM = "pbm"

// pbmObject finds the object with pk among the collections whose objects
// are policy binding models (flows, flow-stage bindings).
func (tx *Tx) pbmObject(pk uuid.UUID) (*collection, any, bool, error) {
	for _, c := range tx.s.schema.colls {
		if !c.pbm {
			continue
		}
		obj, ok, err := tx.get(c, pk)
		if err != nil || ok {
			return c, obj, ok, err
		}
	}
	return nil, nil, false, nil
}

// pbmOwner returns the pk of the object whose policy-binding-model id is
// id, if any. The entry must name a collection of policy binding models
// and an object of it whose pbm id is id: anything else is ErrCorrupt,
// not an absent id or another object.
func (tx *Tx) pbmOwner(id uuid.UUID) (uuid.UUID, bool, error) {
	raw, err := kvGet(tx.kv, bucketPBM, id[:])
	if err != nil || raw == nil {
		return uuid.Nil, false, err
	}
	bad := fmt.Errorf("store: %s: %w: the entry of %s names no object with that policy-binding-model id", bucketPBM, ErrCorrupt, id)
	if len(raw) <= 16 {
		return uuid.Nil, false, bad
	}
	c := tx.s.schema.byName[string(raw[16:])]
	if c == nil || !c.pbm || c.bucket != string(raw[16:]) {
		return uuid.Nil, false, bad
	}
	obj, ok, err := tx.get(c, idFrom(raw[:16]))
	if err != nil {
		return uuid.Nil, false, err
	}
	if !ok {
		return uuid.Nil, false, bad
	}
	if _, pbm := c.codec.ids(obj); pbm != id {
		return uuid.Nil, false, bad
	}
	return idFrom(raw[:16]), true, nil
}

// resolvePBM rewrites each reference of next to any policy binding model
// that names the object by its policy-binding-model id (pbm_uuid) to the
// object's own pk, as authentik's target field accepts either and shows
// the object's pk.
func (tx *Tx) resolvePBM(c *collection, next any) (any, error) {
	for _, r := range c.refs(next) {
		if r.Target != targetPBM || r.Null || r.Many {
			continue
		}
		if _, _, ok, err := tx.pbmObject(r.ID); err != nil || ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		owner, ok, err := tx.pbmOwner(r.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // the existence check reports it
		}
		patched, err := c.codec.decode(next, marshalField(r.Field, []byte(quote(owner.String()))), validate.Patch)
		if err != nil {
			return nil, err
		}
		next = patched
	}
	return next, nil
}

// pbmString is authentik's str() of a policy binding model as its base
// row, which is how a policy's used_by names the objects it is bound to:
// "PolicyBindingModel <pbm_uuid>".
func pbmString(pbm uuid.UUID) string { return "PolicyBindingModel " + pbm.String() }
