package stage

import "github.com/authflow/authflow/internal/kind"

// ModelName is authentik's "<app_label>.<model_name>" for a stage kind, for
// example "authentik_stages_user_write.userwritestage". It is the key of the
// registry and the meta_model_name of the representation.
type ModelName = kind.ModelName

// Config is the kind-specific part of a stage. Each kind is a struct whose
// exported fields carry "json" and "af" tags (see [validate.SchemaOf]); it
// may also implement [validate.FieldValidator] and
// [validate.ObjectValidator]. Methods must have value receivers.
type Config = kind.Config

// Kind describes one registered stage kind: its model name, its defaults
// (New), its component, verbose names, path under /api/v3/stages/,
// /stages/all/types/ description, str() prefix ("Stage " unless set),
// list filters (config fields and "no_flows"), and the Enterprise and
// Debug marks. The fields are documented on the shared kind mechanism
// that policies use too.
type Kind = kind.Kind[Config]

// Registry maps model names to stage kinds. The zero value is an empty
// registry ready to use; it is safe for concurrent use.
type Registry struct{ r kind.Registry[Config] }

// family is what every stage kind shares.
var family = kind.Family{Name: "stage", Common: commonKeys, ErrUnknown: ErrUnknownKind}

// Register adds a kind. It panics on a malformed model name, a nil New, a
// New that returns nil, a non-pointer or a Config of another model, a
// Config type whose fields cannot be described, a field that clashes with
// a common stage field, a malformed path or a duplicate: these are
// programming errors, found when the program starts.
func (r *Registry) Register(k Kind) { r.r.Register(family, k) }

// Lookup returns the kind registered under m.
func (r *Registry) Lookup(m ModelName) (Kind, bool) { return r.r.Lookup(m) }

// ByPath returns the kind served at path (e.g. "authenticator/duo").
func (r *Registry) ByPath(path string) (Kind, bool) { return r.r.ByPath(path) }

// Kinds returns every registered kind, sorted by model name.
func (r *Registry) Kinds() []Kind { return r.r.Kinds() }

// Default is the registry that the package-level functions use, holding
// the built-in kinds.
var Default = &Registry{}

// Register adds k to [Default]; see [Registry.Register].
func Register(k Kind) { Default.Register(k) }

// Lookup finds m in [Default].
func Lookup(m ModelName) (Kind, bool) { return Default.Lookup(m) }

func init() {
	for _, k := range builtin {
		Default.Register(k)
	}
}
