package plan

import (
	"slices"
	"sync"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/internal/jsonvalue"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// Decoded keeps the flow-stage bindings, the policy bindings (by
// target), the policies and the store's users with their facts that
// evaluations read, decoded, for one store revision: a read
// transaction at that revision sees exactly what they were decoded from,
// so it is served them without reading and decoding the records again; a
// read at a later revision starts it over. Write transactions, whose
// revision names data that may still change, bypass it. It holds at most
// what the store holds (a failed read is not kept). Its values are
// shared between evaluations and never modified. It is safe for
// concurrent use; Options.Decoded sets one.
type Decoded struct {
	mu            sync.Mutex
	rev           int64 // -1: none yet
	bindings      map[uuid.UUID][]policy.Binding
	policies      map[uuid.UUID]policy.Policy
	users         map[int64]storedUser
	stageBindings map[uuid.UUID]binding.Binding
}

// storedUser is what storeFacts read for a user: the user, its facts,
// and the ids of the records they were read from.
type storedUser struct {
	u     directory.User
	facts directory.Facts
	reads []uuid.UUID
}

// NewDecoded returns an empty Decoded.
func NewDecoded() *Decoded {
	return &Decoded{rev: -1, bindings: map[uuid.UUID][]policy.Binding{}, policies: map[uuid.UUID]policy.Policy{}, users: map[int64]storedUser{}, stageBindings: map[uuid.UUID]binding.Binding{}}
}

// policyBindings is store.PolicyBindings.ByRef(tx, "target", target),
// through d (nil: no cache).
func (d *Decoded) policyBindings(tx *store.Tx, target uuid.UUID) ([]policy.Binding, error) {
	read := func() ([]policy.Binding, error) { return store.PolicyBindings.ByRef(tx, "target", target) }
	if d == nil {
		return read()
	}
	return decodedGet(d, tx, d.bindings, target, read)
}

// stageBinding is store.Bindings.Get(tx, store.PK(pk)), through d (nil:
// no cache).
func (d *Decoded) stageBinding(tx *store.Tx, pk uuid.UUID) (binding.Binding, error) {
	read := func() (binding.Binding, error) { return store.Bindings.Get(tx, store.PK(pk)) }
	if d == nil {
		return read()
	}
	return decodedGet(d, tx, d.stageBindings, pk, read)
}

// policy is referenced(tx, store.Policies, pk), through d (nil: no
// cache).
func (d *Decoded) policy(tx *store.Tx, pk uuid.UUID) (policy.Policy, error) {
	read := func() (policy.Policy, error) { return referenced(tx, store.Policies, pk) }
	if d == nil {
		return read()
	}
	return decodedGet(d, tx, d.policies, pk, read)
}

// storeFacts is storeFacts(tx, pk, rd), through d (nil: no cache). Its
// values are copies the caller may change.
func (d *Decoded) storeFacts(tx *store.Tx, pk int64, rd *reads) (directory.User, directory.Facts, error) {
	if d == nil {
		return storeFacts(tx, pk, rd)
	}
	su, err := decodedGet(d, tx, d.users, pk, func() (storedUser, error) {
		own := &reads{}
		u, f, err := storeFacts(tx, pk, own)
		return storedUser{u: u, facts: f, reads: own.pks}, err
	})
	if err != nil {
		return su.u, su.facts, err
	}
	for _, id := range su.reads {
		rd.add(id)
	}
	u, f := su.u, su.facts
	u.Attributes = jsonvalue.CloneMap(u.Attributes)
	f.Groups = slices.Clone(f.Groups)
	f.Attributes = jsonvalue.CloneMap(f.Attributes)
	return u, f, nil
}

// User returns the store's user numbered pk as tx holds it
// (store.Users.Get), through d (nil: no cache), so that a caller that
// reads the users policies read (a pending user) shares their decoding.
// The user is a copy the caller may change. It fails with an error
// wrapping ErrUnknownUser when there is none.
func (d *Decoded) User(tx *store.Tx, pk int64) (directory.User, error) {
	u, _, err := d.storeFacts(tx, pk, &reads{})
	return u, err
}

func decodedGet[K comparable, V any](d *Decoded, tx *store.Tx, m map[K]V, k K, read func() (V, error)) (V, error) {
	if !tx.ReadOnly() {
		return read()
	}
	rev, err := tx.Revision()
	if err != nil {
		var zero V
		return zero, err
	}
	d.mu.Lock()
	v, ok := m[k]
	ok = ok && d.rev == rev
	d.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err = read()
	if err != nil {
		return v, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if rev > d.rev {
		d.rev = rev
		clear(d.bindings)
		clear(d.policies)
		clear(d.users)
		clear(d.stageBindings)
	}
	if rev == d.rev {
		m[k] = v
	}
	return v, nil
}
