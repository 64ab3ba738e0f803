package stage

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/kind"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Stage is a stored stage of any kind: the fields every stage has, and the
// kind's [Config].
type Stage struct {
	PK uuid.UUID
	// Name is unique across every kind of stage.
	Name   string
	Config Config
}

// Model returns the kind's model name, or "" when Config is nil.
func (s Stage) Model() ModelName {
	if s.Config == nil {
		return ""
	}
	return s.Config.ModelName()
}

// String is authentik's str(), e.g. "Stage my-stage" or
// "Duo Authenticator Setup Stage my-duo". It never shows secrets.
func (s Stage) String() string {
	if k, ok := Default.Lookup(s.Model()); ok && k.StrPrefix != "" {
		return k.StrPrefix + s.Name
	}
	return "Stage " + s.Name
}

// The keys every stage representation has. name is writable; the others
// are read-only and ignored on input.
var commonKeys = validate.Keys("pk", "name", "component", "verbose_name", "verbose_name_plural", "meta_model_name", "flow_set")

// base is the common writable part of a stage.
type base struct {
	Name string `json:"name" af:"required"`
}

// Decode applies body to cur as op (see [validate.Apply]), for the kind
// registered in r under cur's model; cur.Config must be set (for a create,
// to the kind's defaults: see [Registry.New]). The name and the kind's
// fields are decoded and the kind's field rules run. The store adds name
// uniqueness and reference checks.
func (r *Registry) Decode(cur Stage, body []byte, op validate.Op) (Stage, error) {
	if cur.Config == nil {
		return cur, fmt.Errorf("stage: %w: a stage without a config", ErrUnknownKind)
	}
	b, cfg, err := kind.Decode(&r.r, family, base{cur.Name}, cur.Config, body, op)
	next := cur
	next.Name, next.Config = b.Name, cfg
	return next, err
}

// New returns a Stage of kind m with the kind's defaults, or an error
// wrapping [ErrUnknownKind].
func (r *Registry) New(m ModelName) (Stage, error) {
	c, err := r.r.Defaults(family, m)
	return Stage{Config: c}, err
}

// ApplyPatch applies an RFC 7396 merge patch to the writable
// representation of cur (a kind registered in [Default]) and validates the
// result. Read-only keys are ignored and unknown keys are errors.
func ApplyPatch(cur Stage, patch []byte) (Stage, error) {
	next, err := Default.Decode(cur, patch, validate.Patch)
	if err != nil {
		return next, err
	}
	if oe := validate.CheckObject(next.Config); oe != nil {
		return next, oe
	}
	return next, nil
}

// Body returns a POST body holding every field of s, secrets included:
// what the store validates a stage built in Go as.
func (r *Registry) Body(s Stage) ([]byte, error) {
	if s.Config == nil {
		return nil, fmt.Errorf("stage: %w: a stage without a config", ErrUnknownKind)
	}
	return kind.Body(&r.r, family, base{s.Name}, s.Config)
}

// Encode returns the persisted JSON of s: its pk, name, model and every
// config field, secrets included. It is for storage only.
func (r *Registry) Encode(s Stage) ([]byte, error) {
	if s.Config == nil {
		return nil, fmt.Errorf("stage: %w: a stage without a config", ErrUnknownKind)
	}
	return kind.Encode(&r.r, family, s.PK, base{s.Name}, s.Config)
}

// DecodeStored reads what [Registry.Encode] wrote.
func (r *Registry) DecodeStored(b []byte) (Stage, error) {
	pk, bs, cfg, err := kind.Load[base](&r.r, family, b)
	if err != nil {
		return Stage{}, err
	}
	return Stage{PK: pk, Name: bs.Name, Config: cfg}, nil
}

// View is a stage as the API shows it: its fields, the kind's component
// and names, and flow_set, the flows it is bound into.
type View struct {
	Stage
	Kind    Kind
	FlowSet []flow.Set
}

// Summary is a stage as a binding's stage_obj shows it: only the common
// fields (authentik's StageSerializer).
type Summary struct{ View }

// MarshalJSON renders the flat representation: the common fields, then the
// kind's fields in declaration order, without write-only ones.
func (v View) MarshalJSON() ([]byte, error) { return v.marshal(true) }

// MarshalJSON renders the common fields only.
func (s Summary) MarshalJSON() ([]byte, error) { return s.View.marshal(false) }

func (v View) marshal(withConfig bool) ([]byte, error) {
	fs := v.FlowSet
	if fs == nil {
		fs = []flow.Set{}
	}
	var buf bytes.Buffer
	head := struct {
		PK                uuid.UUID  `json:"pk"`
		Name              string     `json:"name"`
		Component         string     `json:"component"`
		VerboseName       string     `json:"verbose_name"`
		VerboseNamePlural string     `json:"verbose_name_plural"`
		MetaModelName     ModelName  `json:"meta_model_name"`
		FlowSet           []flow.Set `json:"flow_set"`
	}{v.PK, v.Name, v.Kind.Component, v.Kind.VerboseName, v.Kind.Plural(), v.Kind.Model, fs}
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(head); err != nil {
		return nil, err
	}
	b := bytes.TrimRight(buf.Bytes(), "\n")
	if !withConfig {
		return b, nil
	}
	return kind.AppendConfig(v.Kind, b, v.Config)
}
