package store

import (
	"fmt"
	"slices"
	"strings"

	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
)

// collection declares one collection. Everything the engine does for it
// (writes in DRF's order, indexes, reference checks, deletes and their
// cascades, used_by) is derived from this declaration and the af tags of
// its Go types.
type collection struct {
	// bucket holds the records, keyed by pk; it also names the
	// collection in index values.
	bucket string
	// model is the "<app>.<model>" name; alias is the short ref= target.
	model, alias string
	// verbose is the verbose name in uniqueness messages.
	verbose string
	codec   codec
	// unique fields, each with its own index bucket: value -> pk.
	unique []uniqueField
	// together is a unique-together set, reported as a non-field error.
	// As in Django, the set does not apply to an object with a null in
	// it.
	together []string
	// indexes are ordered secondary indexes: fields ‖ pk -> value.
	indexes []index
	// walkOn declares the index walks of the collection's lists (see
	// walkOn); walks are what they resolve to.
	walkOn []walkOn
	walks  []indexWalk
	// seq, when set, is an integer field the store numbers at create:
	// 1, 2, 3..., never reusing a number (a Django AutoField, such as a
	// user's pk or a group's num_pk). It is the pk, and then the records
	// are keyed by seqID of the number, or a unique field.
	seq string
	// secrets holds the kinds ("" for a collection without kinds) whose
	// objects have secrets, which a store with a key seals (see
	// sealing.go).
	secrets map[string]bool
	// numTargets are the buckets of the targets of the collection's
	// references by number (a numbered collection's), by ref= target
	// (set by check).
	numTargets map[string]string
	// unknownKind is the error a name that is no registered kind of the
	// collection wraps (stage.ErrUnknownKind).
	unknownKind error
	// kindIndex, when set, indexes the objects by kind: kind\0pk -> "".
	kindIndex string
	// pbm gives the objects a policy-binding-model id, indexed in the
	// pbm bucket: pbm id -> pk ‖ collection.
	pbm bool
	// identify are the fields that name an object across stores (a
	// blueprint's identifiers without a pk); unique or together fields
	// by default (see identifiers).
	identify []string
	// path is where package api serves the collection ("" for none);
	// key is the unique field that names an object there ("" for the
	// pk).
	path, key string
	// through marks a collection whose objects join two others (a
	// many-to-many "through" table): used_by lists each side's objects
	// on the other side as cascade_many.
	through *through
	// view renders an object with its computed fields (stages,
	// flow_set, stage_obj): the one part of a collection that is code.
	view func(tx *Tx, obj any) (any, error)
	// typedView is the typed function view wraps, a func(*Tx, T) (V,
	// error), for typed handles to call without boxing V.
	typedView any
	// list answers a list query on the collection, or on one of its
	// kinds (kind is "" for all of them).
	list func(tx *Tx, kind string, q Query) (Page[any], error)
	// onCreate, when set, completes a new object that passed every rule
	// (an invitation's creator, from the write's options); an error
	// refuses the write, which writes nothing.
	onCreate func(tx *Tx, obj any, o *WriteOptions) (any, error)
	// onWrite, when set, is a last check of a write that passed every
	// rule (an expression policy's host checker); cur is nil for a
	// create.
	onWrite func(tx *Tx, cur, next any) error
	// computed are pseudo-fields that the codec's value computes (a
	// user's case-folded username), which an index may hold.
	computed []string
	// afterWrite, when set, runs after a create or update was put, with
	// the object as written (its pk assigned): a group's users are
	// written on the users' side.
	afterWrite func(tx *Tx, obj any) error
	// onRemove, when set, runs when an object is removed (deleted, or
	// cascaded): what the collection keeps beside its records (a user's
	// password hash) goes with it.
	onRemove func(tx *Tx, obj any) error
	// pbmRefs is set (by check) when a kind of the collection refers to
	// any policy binding model: such a reference may name its target by
	// its pbm id, which the write resolves.
	pbmRefs bool
	// strOf, when set, is str() of an object that needs the store to say
	// it (a policy binding names its target); codec.str otherwise.
	strOf func(tx *Tx, obj any) string
	// cached objects are kept decoded in the store's cache: only types
	// without maps or slices, which a caller could modify in a view,
	// unless clone is set.
	cached bool
	// clone, when set, copies an object's maps and slices: the cache
	// keeps one copy and hands out others, so that a caller's changes
	// do not reach it.
	clone func(obj any) any
}

// uniqueField is a field whose value is unique in its collection. Hashed
// values are indexed by their SHA-256, for unbounded text.
type uniqueField struct {
	field, bucket string
	hash          bool
}

// index is an ordered index: the encoded fields, then the pk, as key, and
// the encoded value field (if any) as value, so that walks such as a
// flow's bindings in order need not load the objects.
type index struct {
	bucket string
	fields []string
	value  string
	// counted keeps a count of the objects per value of the first field,
	// so that a list filtered on it needs no scan for its count.
	counted bool
}

// through names the two reference fields of a join collection and the
// accessors authentik gives them: from's target lists to's targets under
// fromAccessor, and the other way round.
type through struct {
	from, to                 string
	fromAccessor, toAccessor string
}

// The store's meta buckets.
const (
	bucketMeta   = "meta"
	bucketCounts = "counts"
	bucketRefs   = "refs" // target ‖ source ‖ field -> source collection
	bucketPBM    = "pbm"  // pbm id -> pk ‖ collection
)

// schema is the resolved set of collections of one store.
type schema struct {
	colls []*collection
	// the built-in collections, for their views
	flows, stages, bindings, policies, policyBindings, prompts, invites *collection
	users, groups                                                       *collection
	byName                                                              map[string]*collection // bucket, model and alias
	// refFields holds bucket NUL field for every reference field of a
	// collection's (or one of its kinds'): what an entry of the
	// reference index may name.
	refFields map[string]bool
}

// builtins declare the built-in collections, in the order the store
// lists them; each declaration is in its own file (c_*.go).
var builtins = []func(*stage.Registry, *policy.Registry) *collection{
	flowsDecl, stagesDecl, bindingsDecl, policiesDecl, policyBindingsDecl, promptsDecl, invitesDecl,
	usersDecl, groupsDecl,
}

func newSchema(reg *stage.Registry, preg *policy.Registry, host []Declarer) (*schema, error) {
	s := &schema{byName: map[string]*collection{}}
	for _, decl := range builtins {
		s.colls = append(s.colls, decl(reg, preg))
	}
	devices := 0
	for _, d := range deviceDecls {
		if d.stage != "" {
			if _, ok := reg.Lookup(d.stage); !ok {
				continue
			}
		}
		c, err := d.decl.declaration()
		if err != nil {
			return nil, err
		}
		s.colls = append(s.colls, c)
		devices++
	}
	for _, d := range host {
		if d == nil {
			return nil, fmt.Errorf("%w: a nil collection declaration", ErrSchema)
		}
		c, err := d.declaration()
		if err != nil {
			return nil, err
		}
		s.colls = append(s.colls, c)
	}
	for _, c := range s.colls {
		for _, n := range []string{c.bucket, c.model, c.alias} {
			if prev, dup := s.byName[n]; dup && prev != c {
				return nil, fmt.Errorf("%w: the name %q is used twice", ErrSchema, n)
			}
			s.byName[n] = c
		}
	}
	if err := s.checkHost(s.colls[len(builtins)+devices:]); err != nil {
		return nil, err
	}
	s.flows, s.stages, s.bindings = s.byName[ModelFlow], s.byName[ModelStage], s.byName[ModelBinding]
	s.policies, s.policyBindings = s.byName[ModelPolicy], s.byName[ModelPolicyBinding]
	s.prompts, s.invites = s.byName[ModelPrompt], s.byName[ModelInvite]
	s.users, s.groups = s.byName[ModelUser], s.byName[ModelGroup]
	if err := s.check(); err != nil {
		return nil, err
	}
	for _, c := range s.colls {
		if err := c.resolveWalks(); err != nil {
			return nil, err
		}
	}
	s.refFields = map[string]bool{}
	for _, c := range s.colls {
		for _, kind := range s.kindsOf(c) {
			if sc, err := c.codec.schema(kind); err == nil {
				for _, r := range sc.RefFields() {
					s.refFields[c.bucket+"\x00"+r.Field] = true
				}
				if len(sc.Secrets()) > 0 {
					if c.secrets == nil {
						c.secrets = map[string]bool{}
					}
					c.secrets[kind] = true
				}
			}
		}
	}
	return s, nil
}

// checkHost checks the names and paths of the host's collections against
// everything else the store and package api name: a model that is a
// kind's, or the policy binding models', would shadow it in every lookup
// by name; a path under a built-in collection's first segment (flows,
// stages, policies: where the built-in collections and the kinds are
// served), or equal to or inside another host collection's, would shadow
// a route.
func (s *schema) checkHost(host []*collection) error {
	roots := map[string]bool{}
	for _, c := range s.colls[:len(s.colls)-len(host)] {
		if c.path != "" {
			root, _, _ := strings.Cut(c.path, "/")
			roots[root] = true
		}
	}
	for i, c := range host {
		for _, n := range []string{c.bucket, c.model, c.alias} {
			if n == targetPBM || n == ModelPolicyBindingModel {
				return fmt.Errorf("%w: collection %s: the name %q is the policy binding models'", ErrSchema, c.model, n)
			}
			for _, o := range s.colls {
				if o.codec.hasKind(n) {
					return fmt.Errorf("%w: collection %s: the name %q is a kind of %s", ErrSchema, c.model, n, o.model)
				}
			}
		}
		if c.path == "" {
			continue
		}
		if root, _, _ := strings.Cut(c.path, "/"); roots[root] {
			return fmt.Errorf("%w: collection %s: path %q is under %s/, where the built-in collections are served", ErrSchema, c.model, c.path, root)
		}
		for _, o := range host[:i] {
			if o.path != "" && (o.path == c.path || strings.HasPrefix(c.path, o.path+"/") || strings.HasPrefix(o.path, c.path+"/")) {
				return fmt.Errorf("%w: collections %s and %s: paths %q and %q overlap", ErrSchema, o.model, c.model, o.path, c.path)
			}
		}
	}
	return nil
}

// kindsOf returns the kinds of a collection ("" alone for one without
// kinds).
func (s *schema) kindsOf(c *collection) []string {
	if c.kindIndex == "" {
		return []string{""}
	}
	return c.codec.kindNames()
}

// target resolves a ref= target: a collection by model, bucket or alias,
// or one stage kind by its model name (then kind is that model).
func (s *schema) target(name string) (c *collection, kind string, ok bool) {
	if c, ok := s.byName[name]; ok {
		return c, "", true
	}
	if name == targetPBM || name == ModelPolicyBindingModel {
		return nil, "", true
	}
	for _, c := range s.colls {
		if c.codec.hasKind(name) {
			return c, name, true
		}
	}
	return nil, "", false
}

// writeTarget resolves the model a create names: a collection, or one
// kind of a collection with kinds.
func (s *schema) writeTarget(model string) (*collection, string, error) {
	c, kind, ok := s.target(model)
	if !ok || c == nil {
		return nil, "", fmt.Errorf("store: create: %w: unknown model %q", ErrNotFound, model)
	}
	return c, kind, nil
}

// check validates the declarations: every indexed field exists, every
// reference target resolves, every on_delete action can be carried out.
func (s *schema) check() error {
	buckets := map[string]string{}
	claim := func(b, what string) error {
		if prev, dup := buckets[b]; dup {
			return fmt.Errorf("%w: bucket %q is used by %s and %s", ErrSchema, b, prev, what)
		}
		buckets[b] = what
		return nil
	}
	for _, b := range []string{bucketMeta, bucketCounts, bucketRefs, bucketPBM} {
		if err := claim(b, "the store"); err != nil {
			return err
		}
	}
	for _, c := range s.colls {
		if err := claim(c.bucket, c.model); err != nil {
			return err
		}
		var fields []string
		for _, u := range c.unique {
			fields = append(fields, u.field)
			if err := claim(u.bucket, c.model+" unique "+u.field); err != nil {
				return err
			}
		}
		fields = append(fields, c.together...)
		for _, ix := range c.indexes {
			if err := claim(ix.bucket, c.model+" index"); err != nil {
				return err
			}
			fields = append(fields, ix.fields...)
			if ix.value != "" {
				fields = append(fields, ix.value)
			}
		}
		if len(c.together) > 0 {
			if err := claim(c.bucket+"_unique", c.model+" unique together"); err != nil {
				return err
			}
		}
		if c.kindIndex != "" {
			if err := claim(c.kindIndex, c.model+" kinds"); err != nil {
				return err
			}
		}
		if err := c.checkSeq(); err != nil {
			return err
		}
		if c.through != nil {
			fields = append(fields, c.through.from, c.through.to)
		}
		for _, kind := range s.kindsOf(c) {
			sc, err := c.codec.schema(kind)
			if err != nil && kind != "" {
				return fmt.Errorf("%w: %s: %v", ErrSchema, kind, err)
			}
			where := c.model
			if kind != "" {
				where = kind
			}
			if c.kindIndex == "" {
				for _, f := range fields {
					if !sc.Has(f) && !slices.Contains(c.computed, f) {
						return fmt.Errorf("%w: %s: index on %q, which is not a field", ErrSchema, where, f)
					}
				}
			}
			for _, r := range sc.RefFields() {
				if r.Target == targetPBM {
					c.pbmRefs = true
				}
				tc, _, ok := s.target(r.Target)
				if !ok {
					return fmt.Errorf("%w: %s.%s refers to %q, which is neither a collection nor a registered kind", ErrSchema, where, r.Field, r.Target)
				}
				if r.Numbered {
					if tc == nil || tc.seq != "pk" {
						return fmt.Errorf("%w: %s.%s refers by number to %q, whose pk is not a number (a sequence)", ErrSchema, where, r.Field, r.Target)
					}
					if c.numTargets == nil {
						c.numTargets = map[string]string{}
					}
					c.numTargets[r.Target] = tc.bucket
				}
				if r.OnDelete == validate.SetDefault {
					if _, ok := c.codec.defaultJSON(kind, r.Field); !ok {
						return fmt.Errorf("%w: %s.%s: on_delete=set_default without a default", ErrSchema, where, r.Field)
					}
				}
			}
		}
		if kinds := c.codec.kindNames(); c.kindIndex != "" && len(kinds) > 0 {
			// An index of a collection with kinds is on common fields:
			// every kind has them, so the first one tells.
			blank, err := c.codec.blank(kinds[0])
			if err != nil {
				return fmt.Errorf("%w: %s: %v", ErrSchema, kinds[0], err)
			}
			sc, err := c.codec.schema(kinds[0])
			if err != nil {
				return fmt.Errorf("%w: %s: %v", ErrSchema, kinds[0], err)
			}
			for _, f := range fields {
				if _, ok := c.codec.value(blank, f); !ok || sc.Has(f) {
					return fmt.Errorf("%w: %s: index on %q, which is not a common field", ErrSchema, c.model, f)
				}
			}
		}
	}
	return nil
}

// refs are obj's references with their targets' ids: a reference by
// number (validate.Ref.Numbered) gets the id of its target's record,
// which the number gives without a lookup (see seqID).
func (c *collection) refs(obj any) []validate.Ref {
	rs := c.codec.refs(obj)
	if c.numTargets == nil {
		return rs
	}
	for i := range rs {
		if rs[i].Numbered && !rs[i].Null {
			rs[i].ID = seqID(c.numTargets[rs[i].Target], rs[i].Num)
		}
	}
	return rs
}

// identifiers are the fields that name an object of c across stores: its
// declared ones, or its first unique field, or its unique-together set.
func (c *collection) identifiers() []string {
	switch {
	case c.identify != nil:
		return c.identify
	case len(c.unique) > 0:
		return []string{c.unique[0].field}
	}
	return c.together
}

// checkSeq checks a sequence field: a unique, not hashed, integer field
// of a collection without kinds.
func (c *collection) checkSeq() error {
	if c.seq == "" {
		return nil
	}
	if u := c.uniqueOn(c.seq); (u == nil || u.hash) && c.seq != "pk" || c.kindIndex != "" {
		return fmt.Errorf("%w: %s: the sequence %q must be the pk or a unique field (not hashed) of a collection without kinds", ErrSchema, c.model, c.seq)
	}
	blank, err := c.codec.blank("")
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrSchema, c.model, err)
	}
	if v, ok := c.codec.value(blank, c.seq); !ok {
		return fmt.Errorf("%w: %s: the sequence %q is not a field", ErrSchema, c.model, c.seq)
	} else if _, isInt := v.(int64); !isInt {
		return fmt.Errorf("%w: %s: the sequence %q is a %T, not an integer", ErrSchema, c.model, c.seq, v)
	}
	if c.codec.withSeq(blank, 1) == nil {
		return fmt.Errorf("%w: %s: its codec cannot set the sequence %q", ErrSchema, c.model, c.seq)
	}
	return nil
}

// refDecl returns the declaration of field on obj's kind.
func (c *collection) refDecl(obj any, field string) (validate.Ref, bool) {
	for _, r := range c.refs(obj) {
		if r.Field == field {
			return r, true
		}
	}
	return validate.Ref{}, false
}

// modelOf is the "<app>.<model>" of obj: its kind's model for a kinded
// collection.
func (c *collection) modelOf(obj any) string {
	if k := c.codec.kind(obj); k != "" {
		return k
	}
	return c.model
}

// accessor is the used_by accessor name of a reference declared on obj's
// model: related= or "<model>_set".
func (c *collection) accessor(obj any, r validate.Ref) string {
	if r.Related != "" {
		return r.Related
	}
	_, model, _ := strings.Cut(c.modelOf(obj), ".")
	return model + "_set"
}

// Collection describes one collection of a store, as [Store.Collections]
// reports it.
type Collection struct {
	// Model is the collection's model name, such as ModelFlow.
	Model string
	// Verbose is its verbose name, as uniqueness messages use it.
	Verbose string
	// Kinds are the registered kinds' model names, for a collection
	// whose objects have kinds (stages); nil otherwise.
	Kinds []string
	// Unique are the fields unique across the collection.
	Unique []string
	// Together is a set of fields unique together, or nil.
	Together []string
	// KindMessages are the kinds whose unique fields, when taken, say so
	// in their own words (kind.Kind.UniqueMessage), by model; for a
	// collection without kinds that words it its own way (a user's
	// username, DRF's "This field must be unique."), the collection's
	// model.
	KindMessages map[string]string
	// Path is where package api serves the collection, under its prefix
	// ("flows/instances"), or "" for nowhere. A collection with kinds is
	// served there for reading and deleting; each kind is written at its
	// own path (kind.Kind.Path).
	Path string
	// Key is the unique field that names an object in Path ("slug" for
	// flows), or "" for the pk.
	Key string
	// Identifiers are the fields that name an object across stores,
	// without its pk: a blueprint entry's identifiers ("slug" for a
	// flow; a binding's target, stage and order).
	Identifiers []string
}

// Reference describes one reference field, as [Store.References]
// reports it.
type Reference struct {
	// Model holds the field: a collection's model, or a kind's.
	Model string
	Field string
	// Target is the model of what it refers to: a collection's, or one
	// kind's.
	Target   string
	OnDelete validate.OnDelete
	// Related is the used_by accessor tag ("+" hides it from used_by).
	Related  string
	Nullable bool
	// Many marks a many-to-many field (a []uuid.UUID).
	Many bool
	// Numbered marks a reference by number (an int64 field holding the
	// target's pk, a sequence).
	Numbered bool
	// ReadOnly marks a reference that no body writes: the store sets it
	// (an invitation's created_by_user, from WriteOptions.Actor), and
	// the representation may leave it out.
	ReadOnly bool
}

// Collections describes the store's collections.
func (s *Store) Collections() []Collection {
	var out []Collection
	for _, c := range s.schema.colls {
		col := Collection{Model: c.model, Verbose: c.verbose, Together: c.together, Path: c.path, Key: c.key, Identifiers: c.identifiers()}
		for _, u := range c.unique {
			col.Unique = append(col.Unique, u.field)
		}
		if blank, err := c.codec.blank(""); c.kindIndex == "" && err == nil {
			if m := c.codec.uniqueMessage(blank); m != "" {
				col.KindMessages = map[string]string{c.model: m}
			}
		}
		if c.kindIndex != "" {
			col.Kinds = s.schema.kindsOf(c)
			for _, k := range col.Kinds {
				blank, err := c.codec.blank(k)
				if err != nil {
					continue
				}
				if m := c.codec.uniqueMessage(blank); m != "" {
					if col.KindMessages == nil {
						col.KindMessages = map[string]string{}
					}
					col.KindMessages[k] = m
				}
			}
		}
		out = append(out, col)
	}
	return out
}

// References describes every reference field of every collection and
// registered kind.
func (s *Store) References() []Reference {
	var out []Reference
	for _, c := range s.schema.colls {
		for _, kind := range s.schema.kindsOf(c) {
			sc, err := c.codec.schema(kind)
			if err != nil {
				continue
			}
			model := c.model
			if kind != "" {
				model = kind
			}
			for _, r := range sc.RefFields() {
				tc, tkind, _ := s.schema.target(r.Target)
				target := ModelPolicyBindingModel
				if tc != nil {
					target = tc.model
				}
				if tkind != "" {
					target = tkind
				}
				out = append(out, Reference{Model: model, Field: r.Field, Target: target, OnDelete: r.OnDelete, Related: r.Related, Nullable: r.Nullable, Many: r.Many, Numbered: r.Numbered, ReadOnly: sc.ReadOnly(r.Field)})
			}
		}
	}
	return out
}
