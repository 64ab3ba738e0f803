package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/authflow/authflow/internal/kind"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// ErrUnknownKind is returned for a model name that is not registered.
var ErrUnknownKind = errors.New("policy: unknown kind")

// ModelName is authentik's "<app_label>.<model_name>" for a policy kind,
// for example "authentik_policies_expression.expressionpolicy".
type ModelName = kind.ModelName

// Config is the kind-specific part of a policy: a struct whose exported
// fields carry "json" and "af" tags (see [validate.SchemaOf]); it may also
// implement [validate.FieldValidator] and [validate.ObjectValidator].
// Methods must have value receivers.
type Config = kind.Config

// Kind describes one registered policy kind: its model name, its defaults
// (New), component, verbose names, path under /api/v3/policies/, the
// /policies/all/types/ description, list filters and search fields, and
// the Enterprise and Debug marks. Policies share the kind mechanism of
// stages: the fields are those listed on [stage.Kind], with
// paths under /api/v3/policies/ and types in /policies/all/types/.
type Kind = kind.Kind[Config]

// Registry maps model names to policy kinds. The zero value is an empty
// registry ready to use; it is safe for concurrent use.
type Registry struct{ r kind.Registry[Config] }

// The keys every policy representation has. name and execution_logging
// are writable; the others are read-only and ignored on input.
var commonKeys = validate.Keys("pk", "name", "execution_logging", "component", "verbose_name", "verbose_name_plural", "meta_model_name", "bound_to")

var family = kind.Family{Name: "policy", Common: commonKeys, ErrUnknown: ErrUnknownKind}

// Register adds a kind. It panics on a malformed model name, a nil New, a
// New that returns nil, a non-pointer or a Config of another model, a
// Config type whose fields cannot be described, a field that clashes with
// a common policy field, a malformed path or a duplicate.
func (r *Registry) Register(k Kind) { r.r.Register(family, k) }

// Lookup returns the kind registered under m.
func (r *Registry) Lookup(m ModelName) (Kind, bool) { return r.r.Lookup(m) }

// ByPath returns the kind served at path (e.g. "expression").
func (r *Registry) ByPath(path string) (Kind, bool) { return r.r.ByPath(path) }

// Kinds returns every registered kind, sorted by model name.
func (r *Registry) Kinds() []Kind { return r.r.Kinds() }

// Default is the registry holding the built-in kinds, which the store
// uses unless told otherwise.
var Default = &Registry{}

// Register adds k to [Default]; see [Registry.Register].
func Register(k Kind) { Default.Register(k) }

func init() {
	for _, k := range builtin {
		Default.Register(k)
	}
}

// Policy is a stored policy of any kind.
type Policy struct {
	PK uuid.UUID
	// Name is unique across every kind of policy.
	Name string
	// ExecutionLogging logs every execution, not only failures.
	ExecutionLogging bool
	Config           Config
}

// Model returns the kind's model name, or "" when Config is nil.
func (p Policy) Model() ModelName {
	if p.Config == nil {
		return ""
	}
	return p.Config.ModelName()
}

// String is authentik's str() of a policy: its name.
func (p Policy) String() string { return p.Name }

// base is the common writable part of a policy.
type base struct {
	Name             string `json:"name" af:"required"`
	ExecutionLogging bool   `json:"execution_logging"`
}

func (p Policy) base() base { return base{p.Name, p.ExecutionLogging} }

// New returns a Policy of kind m with the kind's defaults, or an error
// wrapping [ErrUnknownKind].
func (r *Registry) New(m ModelName) (Policy, error) {
	c, err := r.r.Defaults(family, m)
	return Policy{Config: c}, err
}

// Decode applies body to cur as op (see [validate.Apply]) for the kind of
// cur's Config (for a create, the kind's defaults: see [Registry.New]).
// The common fields and the kind's are decoded and the field rules run;
// the object rules do not (see [validate.CheckObject]).
func (r *Registry) Decode(cur Policy, body []byte, op validate.Op) (Policy, error) {
	if cur.Config == nil {
		return cur, fmt.Errorf("policy: %w: a policy without a config", ErrUnknownKind)
	}
	b, cfg, err := kind.Decode(&r.r, family, cur.base(), cur.Config, body, op)
	next := cur
	next.Name, next.ExecutionLogging, next.Config = b.Name, b.ExecutionLogging, cfg
	return next, err
}

// Body returns a POST body holding every field of p, secrets included:
// what the store validates a policy built in Go as.
func (r *Registry) Body(p Policy) ([]byte, error) {
	if p.Config == nil {
		return nil, fmt.Errorf("policy: %w: a policy without a config", ErrUnknownKind)
	}
	return kind.Body(&r.r, family, p.base(), p.Config)
}

// Encode returns the stored JSON of p, for storage only.
func (r *Registry) Encode(p Policy) ([]byte, error) {
	if p.Config == nil {
		return nil, fmt.Errorf("policy: %w: a policy without a config", ErrUnknownKind)
	}
	return kind.Encode(&r.r, family, p.PK, p.base(), p.Config)
}

// DecodeStored reads what [Registry.Encode] wrote.
func (r *Registry) DecodeStored(b []byte) (Policy, error) {
	pk, bs, cfg, err := kind.Load[base](&r.r, family, b)
	if err != nil {
		return Policy{}, err
	}
	return Policy{PK: pk, Name: bs.Name, ExecutionLogging: bs.ExecutionLogging, Config: cfg}, nil
}

// View is a policy as the API shows it: its fields, the kind's component
// and names, and bound_to. authentik's list of all policies and a
// binding's policy_obj show every kind in its own representation too.
type View struct {
	Policy
	Kind Kind
	// BoundTo counts the policy bindings that use the policy and the
	// prompt stages that validate with it.
	BoundTo int
}

// MarshalJSON renders the flat representation: the common fields, then the
// kind's fields in declaration order, without write-only ones.
func (v View) MarshalJSON() ([]byte, error) {
	head := struct {
		PK                uuid.UUID `json:"pk"`
		Name              string    `json:"name"`
		ExecutionLogging  bool      `json:"execution_logging"`
		Component         string    `json:"component"`
		VerboseName       string    `json:"verbose_name"`
		VerboseNamePlural string    `json:"verbose_name_plural"`
		MetaModelName     ModelName `json:"meta_model_name"`
		BoundTo           int       `json:"bound_to"`
	}{v.PK, v.Name, v.ExecutionLogging, v.Kind.Component, v.Kind.VerboseName, v.Kind.Plural(), v.Kind.Model, v.BoundTo}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(head); err != nil {
		return nil, err
	}
	b, err := kind.AppendConfig(v.Kind, bytes.TrimRight(buf.Bytes(), "\n"), v.Config)
	if err != nil {
		return nil, err
	}
	if g, ok := v.Config.(GeoIP); ok {
		// countries_obj: the read-only names of the countries.
		obj, err := json.Marshal(CountriesOf(g.Countries))
		if err != nil {
			return nil, err
		}
		b = append(append(append(b[:len(b)-1], `,"countries_obj":`...), obj...), '}')
	}
	return b, nil
}
