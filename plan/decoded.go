package plan

import (
	"errors"
	"slices"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/jsonvalue"
	"github.com/authflow/authflow/internal/revcache"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// Decoded keeps the flow-stage bindings' policy engine modes with their
// policy bindings, the policy bindings (by target), the policies and
// the store's users with their facts that evaluations read, decoded,
// from one store revision to the next until a change touches what they
// were read from (package internal/revcache):
// a read transaction is served only what it would read itself, so
// without reading and decoding the records again. Write transactions
// bypass it. It holds at most DecodedUsers users and DecodedObjects of
// each other kind (a failed read is not kept). Its values are shared
// between evaluations and never modified. It is safe for concurrent use;
// Options.Decoded sets one.
type Decoded struct {
	c        *revcache.Cache
	bindings *revcache.Map[uuid.UUID, []policy.Binding]
	policies *revcache.Map[uuid.UUID, policy.Policy]
	users    *revcache.Map[int64, storedUser]
	bound    *revcache.Map[uuid.UUID, stagePolicies]
}

// The bounds of a Decoded.
const (
	// DecodedUsers is how many users a Decoded keeps.
	DecodedUsers = 10_000
	// DecodedObjects is how many objects of each other kind it keeps.
	DecodedObjects = 65_536
)

// storedUser is what storeFacts read for a user: the user, its facts,
// and the ids of the records they were read from.
type storedUser struct {
	u     directory.User
	facts directory.Facts
	// changed is u's password change date, parsed; nil for none.
	changed *time.Time
	reads   []uuid.UUID
}

// NewDecoded returns an empty Decoded of the objects in s, following its
// changes until Close.
func NewDecoded(s *store.Store) *Decoded {
	c := revcache.New(s)
	return &Decoded{
		c:        c,
		bindings: revcache.NewMap[uuid.UUID, []policy.Binding](c, DecodedObjects),
		policies: revcache.NewMap[uuid.UUID, policy.Policy](c, DecodedObjects),
		users:    revcache.NewMap[int64, storedUser](c, DecodedUsers),
		bound:    revcache.NewMap[uuid.UUID, stagePolicies](c, DecodedObjects),
	}
}

// Close stops d following its store and empties it.
func (d *Decoded) Close() { d.c.Close() }

// policyBindings is store.PolicyBindings.ByRef(tx, "target", target),
// through d (nil: no cache).
func (d *Decoded) policyBindings(tx *store.Tx, target uuid.UUID) ([]policy.Binding, error) {
	if d == nil {
		return store.PolicyBindings.ByRef(tx, "target", target)
	}
	return d.bindings.Get(tx, target, func() ([]policy.Binding, []uuid.UUID, error) {
		bs, err := store.PolicyBindings.ByRef(tx, "target", target)
		deps := []uuid.UUID{target}
		for _, b := range bs {
			deps = append(deps, b.PK)
		}
		return bs, deps, err
	})
}

// stagePolicies is what EvaluateBinding reads of a flow-stage binding:
// its policy engine mode and its policy bindings.
type stagePolicies struct {
	mode     flow.PolicyEngineMode
	bindings []policy.Binding
}

// bindingPolicies is the policy engine mode of the flow-stage binding
// with pk (store.Bindings.Get; any when there is no such binding) and
// its policy bindings (policyBindings), in one read through d (nil: no
// cache).
func (d *Decoded) bindingPolicies(tx *store.Tx, pk uuid.UUID) (flow.PolicyEngineMode, []policy.Binding, error) {
	read := func() (stagePolicies, []uuid.UUID, error) {
		v := stagePolicies{mode: flow.PolicyEngineModeAny}
		b, err := store.Bindings.Get(tx, store.PK(pk))
		switch {
		case err == nil:
			v.mode = b.PolicyEngineMode
		case !errors.Is(err, store.ErrNotFound):
			return v, nil, err
		}
		v.bindings, err = store.PolicyBindings.ByRef(tx, "target", pk)
		deps := []uuid.UUID{pk}
		for _, b := range v.bindings {
			deps = append(deps, b.PK)
		}
		return v, deps, err
	}
	var (
		v   stagePolicies
		err error
	)
	if d == nil {
		v, _, err = read()
	} else {
		v, err = d.bound.Get(tx, pk, read)
	}
	return v.mode, v.bindings, err
}

// policy is referenced(tx, store.Policies, pk), through d (nil: no
// cache).
func (d *Decoded) policy(tx *store.Tx, pk uuid.UUID) (policy.Policy, error) {
	if d == nil {
		return referenced(tx, store.Policies, pk)
	}
	return d.policies.Get(tx, pk, func() (policy.Policy, []uuid.UUID, error) {
		p, err := referenced(tx, store.Policies, pk)
		return p, []uuid.UUID{pk}, err
	})
}

// storeFacts is storeFacts(tx, pk, rd), through d (nil: no cache),
// with the user's password change date parsed (passwordChanged). Its
// values are copies the caller may change; the date's is made in room
// when it is not nil (the caller's engine).
func (d *Decoded) storeFacts(tx *store.Tx, pk int64, rd *reads, room *time.Time) (directory.User, directory.Facts, *time.Time, error) {
	if d == nil {
		u, f, err := storeFacts(tx, pk, rd)
		return u, f, passwordChanged(u), err
	}
	su, err := d.stored(tx, pk)
	if err != nil {
		return su.u, su.facts, nil, err
	}
	for _, id := range su.reads {
		rd.add(id)
	}
	u, f := su.u, su.facts
	u.Attributes = jsonvalue.CloneMap(u.Attributes)
	f.Groups = slices.Clone(f.Groups)
	f.Attributes = jsonvalue.CloneMap(f.Attributes)
	var changed *time.Time
	if su.changed != nil {
		if room == nil {
			room = new(time.Time)
		}
		*room = *su.changed
		changed = room
	}
	return u, f, changed, nil
}

// stored is the user numbered pk, with its facts, as d keeps them
// decoded: shared, for the caller to copy what it hands out.
func (d *Decoded) stored(tx *store.Tx, pk int64) (storedUser, error) {
	return d.users.Get(tx, pk, func() (storedUser, []uuid.UUID, error) {
		own := &reads{}
		u, f, err := storeFacts(tx, pk, own)
		return storedUser{u: u, facts: f, changed: passwordChanged(u), reads: own.pks}, own.pks, err
	})
}

// User returns the store's user numbered pk as tx holds it
// (store.Users.Get), through d (nil: no cache), so that a caller that
// reads the users policies read (a pending user) shares their decoding.
// The user is a copy the caller may change. It fails with an error
// wrapping ErrUnknownUser when there is none.
func (d *Decoded) User(tx *store.Tx, pk int64) (directory.User, error) {
	if d == nil {
		u, _, err := storeFacts(tx, pk, &reads{unkept: true})
		return u, err
	}
	// The user only: not its facts, nor what was read for them.
	su, err := d.stored(tx, pk)
	u := su.u
	if err == nil {
		u.Attributes = jsonvalue.CloneMap(u.Attributes)
	}
	return u, err
}
