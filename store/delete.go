package store

import (
	"fmt"
	"sort"
	"strings"

	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// UsedBy is one object that refers to another, in authentik's used_by
// shape: the referring object's app and model, its pk and str(), and
// what deleting the referred object does to it.
type UsedBy struct {
	App       string `json:"app"`
	ModelName string `json:"model_name"`
	PK        string `json:"pk"`
	Name      string `json:"name"`
	// Action is cascade, cascade_many, set_null or set_default.
	Action string `json:"action"`
}

// ProtectedError is the error of a refused delete.
type ProtectedError struct {
	// Model and PK name the object that was to be deleted, and Name is
	// its str(), as used_by names objects.
	Model string
	PK    uuid.UUID
	Name  string
	// Blockers are the objects whose protected references refuse it.
	Blockers []UsedBy
}

// Error names the object and its blockers.
func (e *ProtectedError) Error() string {
	names := make([]string, len(e.Blockers))
	for i, b := range e.Blockers {
		names[i] = b.Name
	}
	return fmt.Sprintf("store: cannot delete %s %s: it is referenced by %s", e.Model, e.PK, strings.Join(names, ", "))
}

// Is makes errors.Is(err, ErrProtected) hold.
func (e *ProtectedError) Is(target error) bool { return target == ErrProtected }

// Impact is what deleting an object would do, as [Tx.DeleteImpact]
// reports it: the objects deleted with it (itself first), the objects
// whose references would be set to null or to their default or whose
// lists would lose it, and the objects that block the delete.
type Impact struct {
	Deleted    []UsedBy `json:"deleted"`
	SetNull    []UsedBy `json:"set_null"`
	SetDefault []UsedBy `json:"set_default"`
	// RemovedFrom are the objects whose many-to-many lists lose it.
	RemovedFrom []UsedBy `json:"removed_from"`
	Blocked     []UsedBy `json:"blocked"`
}

// node is one object in a delete walk.
type node struct {
	c   *collection
	obj any
	pk  uuid.UUID
}

// deletePlan is the result of walking the reverse reference graph from
// one object: what goes, what changes, what refuses.
type deletePlan struct {
	doomed  []node
	seen    map[uuid.UUID]bool
	patches []backRef // set_null, set_default and cascade_many, on objects that stay
	protect []backRef
}

// plan walks the references to obj, recursively through cascades, with a
// visited set so that cycles end.
func (tx *Tx) plan(c *collection, obj any) (*deletePlan, error) {
	p := &deletePlan{seen: map[uuid.UUID]bool{}}
	var walk func(n node) error
	walk = func(n node) error {
		if p.seen[n.pk] {
			return nil
		}
		p.seen[n.pk] = true
		p.doomed = append(p.doomed, n)
		refs, err := tx.refsTo(n.pk)
		if err != nil {
			return err
		}
		for _, r := range refs {
			switch r.decl.OnDelete {
			case validate.Cascade:
				pk, _ := r.c.codec.ids(r.obj)
				if err := walk(node{r.c, r.obj, pk}); err != nil {
					return err
				}
			case validate.Protect:
				p.protect = append(p.protect, r)
			default:
				p.patches = append(p.patches, r)
			}
		}
		return nil
	}
	pk, _ := c.codec.ids(obj)
	if err := walk(node{c, obj, pk}); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *deletePlan) staying(rs []backRef) []backRef {
	var out []backRef
	for _, r := range rs {
		if pk, _ := r.c.codec.ids(r.obj); !p.seen[pk] {
			out = append(out, r)
		}
	}
	return out
}

// del deletes obj of c with everything its references' on-delete actions
// imply, or nothing when a protected reference refuses.
func (tx *Tx) del(c *collection, obj any) error {
	if err := tx.canWrite(); err != nil {
		return err
	}
	p, err := tx.plan(c, obj)
	if err != nil {
		return err
	}
	if blockers := p.staying(p.protect); len(blockers) > 0 {
		pk, _ := c.codec.ids(obj)
		e := &ProtectedError{Model: c.modelOf(obj), PK: pk, Name: tx.usedBy(c, obj, "cascade").Name}
		for _, b := range blockers {
			e.Blockers = append(e.Blockers, tx.usedBy(b.c, b.obj, "cascade"))
		}
		return e
	}
	for _, r := range p.staying(p.patches) {
		pk, _ := r.c.codec.ids(r.obj)
		cur, err := tx.must(r.c, pk) // fresh: an earlier patch may have changed it
		if err != nil {
			return err
		}
		if r.decl.OnDelete == validate.CascadeMany {
			next, err := r.c.codec.without(cur, r.field, r.target)
			if err != nil {
				return err
			}
			if err := tx.put(r.c, cur, next); err != nil {
				return err
			}
			continue
		}
		val := []byte("null")
		if r.decl.OnDelete == validate.SetDefault {
			if val, err = tx.fieldDefault(r.c, cur, r.field); err != nil {
				return err
			}
		}
		next, err := r.c.codec.decode(cur, marshalField(r.field, val), validate.Patch)
		if err != nil {
			return fmt.Errorf("store: %s of %s %s on delete: %w", r.decl.OnDelete, r.c.alias, pk, err)
		}
		if d, ok := r.c.refDecl(next, r.field); ok && !d.Null {
			// A default must itself be an object that stays.
			ok, err := tx.exists(d.Target, d.ID)
			if err != nil {
				return err
			}
			if !ok || p.seen[d.ID] {
				return fmt.Errorf("store: set_default of %s.%s on %s %s: the default %s does not exist or is being deleted", r.c.modelOf(cur), r.field, r.c.alias, pk, d.ID)
			}
		}
		if err := tx.put(r.c, cur, next); err != nil {
			return err
		}
	}
	for _, n := range p.doomed {
		cur, ok, err := tx.get(n.c, n.pk)
		if err != nil {
			return err
		}
		if ok {
			if err := tx.remove(n.c, cur); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldDefault is the JSON of field's default in obj's kind.
func (tx *Tx) fieldDefault(c *collection, obj any, field string) ([]byte, error) {
	raw, ok := c.codec.defaultJSON(c.codec.kind(obj), field)
	if !ok {
		return nil, fmt.Errorf("store: %s has no field %q", c.modelOf(obj), field)
	}
	return raw, nil
}

// usedBy renders obj as a used_by entry.
func (tx *Tx) usedBy(c *collection, obj any, action string) UsedBy {
	app, model, _ := strings.Cut(c.modelOf(obj), ".")
	pk, _ := c.codec.ids(obj)
	return UsedBy{App: app, ModelName: model, PK: pk.String(), Name: tx.str(c, obj), Action: action}
}

// str is authentik's str() of obj.
func (tx *Tx) str(c *collection, obj any) string {
	if c.strOf != nil {
		return c.strOf(tx, obj)
	}
	return c.codec.str(obj)
}

// usedByAction is the used_by action of an on-delete action: authentik
// shows protect as cascade.
func usedByAction(a validate.OnDelete) string {
	switch a {
	case validate.SetNull, validate.SetDefault, validate.CascadeMany:
		return string(a)
	}
	return "cascade"
}

// usedByOf lists what refers to obj, as authentik's used_by does: each
// accessor in alphabetical order, references declared related=+ left out,
// and the far side of a join collection (a flow's stages, a stage's
// flows, a flow's or a binding's policies, a policy's targets) as
// cascade_many.
func (tx *Tx) usedByOf(c *collection, obj any) ([]UsedBy, error) {
	pk, _ := c.codec.ids(obj)
	refs, err := tx.refsTo(pk)
	if err != nil {
		return nil, err
	}
	type item struct {
		accessor string
		u        UsedBy
	}
	var items []item
	for _, r := range refs {
		if r.decl.Related != "+" {
			items = append(items, item{r.c.accessor(r.obj, r.decl), tx.usedBy(r.c, r.obj, usedByAction(r.decl.OnDelete))})
		}
		// A join's far side is listed whether or not the join's own
		// reference is hidden: a policy's targets, through policy
		// bindings that it does not list.
		if th := r.c.through; th != nil && (r.field == th.from || r.field == th.to) {
			other, accessor := th.to, th.fromAccessor
			if r.field == th.to {
				other, accessor = th.from, th.toAccessor
			}
			far, ok := r.c.refDecl(r.obj, other)
			if !ok || far.Null {
				continue
			}
			u, ok, err := tx.manyEntry(far)
			if err != nil {
				return nil, err
			}
			if ok {
				items = append(items, item{accessor, u})
			}
		}
	}
	// Its own many-to-many lists (a prompt stage's prompts, a validation
	// stage's configuration stages) appear too, whether or not their
	// reverse side is hidden.
	for _, r := range c.refs(obj) {
		if !r.Many {
			continue
		}
		u, ok, err := tx.manyEntry(r)
		if err != nil {
			return nil, err
		}
		if ok {
			items = append(items, item{r.Field, u})
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].accessor < items[j].accessor })
	out := make([]UsedBy, len(items))
	for i, it := range items {
		out[i] = it.u
	}
	return out, nil
}

// manyEntry renders the object that a many-to-many holds (r is a
// reference to it: a join's far side, or an item of an object's own list)
// as used_by lists it, cascade_many, and as authentik's many-to-many
// manager yields it. A list of a collection with kinds holds base rows
// (authentik_flows.stage, "Stage x"), unless it is a list of one kind; a
// list of any policy binding model (a policy's targets) holds base
// authentik_policies.policybindingmodel rows, each with its pbm id as
// pk. ok is false for a target that is no collection's.
func (tx *Tx) manyEntry(r validate.Ref) (u UsedBy, ok bool, err error) {
	tc, kind, found := tx.s.schema.target(r.Target)
	if !found {
		return UsedBy{}, false, nil
	}
	if tc == nil { // any policy binding model
		c, obj, found, err := tx.pbmObject(r.ID)
		if err != nil || !found {
			if err == nil {
				err = fmt.Errorf("store: %w: the policy binding model %s does not exist", ErrCorrupt, r.ID)
			}
			return UsedBy{}, false, err
		}
		_, pbm := c.codec.ids(obj)
		app, model, _ := strings.Cut(ModelPolicyBindingModel, ".")
		return UsedBy{App: app, ModelName: model, PK: pbm.String(), Name: pbmString(pbm), Action: "cascade_many"}, true, nil
	}
	tobj, err := tx.must(tc, r.ID)
	if err != nil {
		return UsedBy{}, false, err
	}
	u = tx.usedBy(tc, tobj, "cascade_many")
	if tc.kindIndex != "" && kind == "" {
		u.App, u.ModelName, _ = strings.Cut(tc.model, ".")
		u.Name = tc.codec.baseStr(tobj)
	}
	return u, true, nil
}

// impact is the dry run of del.
func (tx *Tx) impact(c *collection, obj any) (Impact, error) {
	p, err := tx.plan(c, obj)
	if err != nil {
		return Impact{}, err
	}
	im := Impact{Deleted: []UsedBy{}, SetNull: []UsedBy{}, SetDefault: []UsedBy{}, RemovedFrom: []UsedBy{}, Blocked: []UsedBy{}}
	for _, n := range p.doomed {
		im.Deleted = append(im.Deleted, tx.usedBy(n.c, n.obj, "cascade"))
	}
	for _, r := range p.staying(p.patches) {
		u := tx.usedBy(r.c, r.obj, string(r.decl.OnDelete))
		switch r.decl.OnDelete {
		case validate.SetDefault:
			im.SetDefault = append(im.SetDefault, u)
		case validate.CascadeMany:
			im.RemovedFrom = append(im.RemovedFrom, u)
		default:
			im.SetNull = append(im.SetNull, u)
		}
	}
	for _, r := range p.staying(p.protect) {
		im.Blocked = append(im.Blocked, tx.usedBy(r.c, r.obj, "cascade"))
	}
	return im, nil
}

// UsedBy lists the objects that refer to the object of model (a
// collection's model name, such as ModelFlow, or a stage kind's) with pk,
// in authentik's used_by shape and order.
func (tx *Tx) UsedBy(model string, pk uuid.UUID) ([]UsedBy, error) {
	c, obj, err := tx.byModel(model, pk)
	if err != nil {
		return nil, err
	}
	return tx.usedByOf(c, obj)
}

// DeleteImpact reports what deleting the object of model with pk would
// delete, change and be blocked by, without deleting anything.
func (tx *Tx) DeleteImpact(model string, pk uuid.UUID) (Impact, error) {
	c, obj, err := tx.byModel(model, pk)
	if err != nil {
		return Impact{}, err
	}
	return tx.impact(c, obj)
}

// byModel loads pk from the collection (or kind) that model names.
func (tx *Tx) byModel(model string, pk uuid.UUID) (*collection, any, error) {
	c, kind, ok := tx.s.schema.target(model)
	if !ok {
		return nil, nil, fmt.Errorf("store: %w: unknown model %q", ErrNotFound, model)
	}
	if c == nil { // any policy binding model
		c, obj, ok, err := tx.pbmObject(pk)
		if err == nil && !ok {
			err = fmt.Errorf("store: %s %s: %w", model, pk, ErrNotFound)
		}
		return c, obj, err
	}
	obj, err := tx.must(c, pk)
	if err != nil {
		return nil, nil, err
	}
	if kind != "" && c.codec.kind(obj) != kind {
		return nil, nil, fmt.Errorf("store: %s %s: %w", kind, pk, ErrNotFound)
	}
	return c, obj, nil
}
