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

// Kind describes one registered stage kind. It is a struct (shared with
// policy kinds, whose mechanism lives in an internal package) with these
// fields, all set in a literal passed to [Register]:
//
//	Model             ModelName      the registry key,
//	                                 "<app_label>.<model_name>"
//	New               func() Config  a pointer to a Config holding the kind's
//	                                 defaults; no side effects
//	Component         string         the UI form tag, "ak-stage-user-write-form"
//	VerboseName       string         "User Write Stage"
//	VerboseNamePlural string         the plural, when it is not VerboseName+"s"
//	Path              string         the kind's collection under
//	                                 /api/v3/stages/, "user_write" or
//	                                 "authenticator/duo": lowercase segments,
//	                                 never "all"; empty for a kind not served
//	                                 over HTTP
//	Description       string         the text of its /stages/all/types/ entry
//	StrPrefix         string         what starts its str() ("Stage " unless set)
//	Filters           []string       list filters besides the common ones:
//	                                 config field names and "no_flows"; nil
//	                                 means every field that is not write-only,
//	                                 an empty non-nil slice none
//	Search            []string       config fields a list's search reads besides
//	                                 the name
//	UniqueMessage     string         the error of a taken name, for a kind whose
//	                                 authentik serializer words it its own way
//	Enterprise        bool           requires_enterprise in /types/ (information
//	                                 only: authflow checks no licence)
//	Debug             bool           a debugging kind (DummyStage): served, but
//	                                 left out of /types/
//
// and the methods Plural (the plural verbose name) and Schema (the field
// schema of its Config, from the "json" and "af" tags). stage/example_test.go
// registers a host kind.
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
