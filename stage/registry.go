package stage

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/authflow/authflow/validate"
)

// ModelName is authentik's "<app_label>.<model_name>" for a stage kind, for
// example "authentik_stages_user_write.userwritestage". It is the key of the
// registry and the meta_model_name of the representation.
type ModelName string

// App returns the part before the dot.
func (m ModelName) App() string { a, _, _ := strings.Cut(string(m), "."); return a }

// Model returns the part after the dot.
func (m ModelName) Model() string { _, b, _ := strings.Cut(string(m), "."); return b }

var (
	reModelName = regexp.MustCompile(`^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$`)
	rePath      = regexp.MustCompile(`^[a-z0-9_]+(/[a-z0-9_]+)*$`)
)

// Valid reports whether m has the "<app>.<model>" form.
func (m ModelName) Valid() bool { return reModelName.MatchString(string(m)) }

// Config is the kind-specific part of a stage. Each kind is a struct whose
// exported fields carry "json" and "af" tags (see [validate.SchemaOf]); it
// may also implement [validate.FieldValidator] and
// [validate.ObjectValidator]. Methods must have value receivers.
type Config interface {
	// ModelName names the kind.
	ModelName() ModelName
}

// Kind describes one registered stage kind.
type Kind struct {
	// Model is the registry key.
	Model ModelName
	// New returns a pointer to a Config holding the kind's defaults. It
	// must have no side effects.
	New func() Config
	// Component is the UI form tag, e.g. "ak-stage-user-write-form".
	Component string
	// VerboseName is e.g. "User Write Stage"; the plural is VerboseName+"s"
	// unless VerboseNamePlural is set.
	VerboseName       string
	VerboseNamePlural string
	// Path is the kind's collection under /api/v3/stages/, e.g.
	// "user_write" or "authenticator/duo": lowercase segments joined by
	// single slashes, never "all" (authentik's /stages/all/). It may be
	// empty for a kind that is not served over HTTP.
	Path string
	// Description is the text of the /stages/all/types/ entry.
	Description string
	// StrPrefix starts the kind's str(), "Stage " unless set.
	StrPrefix string
	// Filters are the list filter names of the kind's collection besides
	// the common ones (stage_uuid and name): names of config fields, and
	// "no_flows" (true: only stages bound to no flow). A write-only field
	// is never a filter, and other names are ignored. nil means every
	// non-write-only config field; an empty, non-nil slice means none.
	Filters []string
	// Enterprise says authentik requires an enterprise licence for the
	// kind (requires_enterprise in /stages/all/types/). authflow checks
	// no licence: it is information only.
	Enterprise bool
	// Debug marks a kind for debugging (authentik's DummyStage): served
	// like any other, but left out of /stages/all/types/, as authentik
	// leaves it out unless it runs with DEBUG.
	Debug bool

	schema *validate.Schema
}

// Plural returns the plural verbose name.
func (k Kind) Plural() string {
	if k.VerboseNamePlural != "" {
		return k.VerboseNamePlural
	}
	return k.VerboseName + "s"
}

// Schema returns the field schema of the kind's Config.
func (k Kind) Schema() *validate.Schema { return k.schema }

// Registry maps model names to stage kinds. The zero value is an empty
// registry ready to use; it is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	kinds map[ModelName]Kind
}

// Register adds a kind. It panics on a malformed model name, a nil New, a
// New that returns nil, a non-pointer or a Config of another model, a
// Config type whose fields cannot be described, or a duplicate: these are
// programming errors, found when the program starts.
func (r *Registry) Register(k Kind) {
	if !k.Model.Valid() {
		panic(fmt.Sprintf("stage: Register: malformed model name %q", k.Model))
	}
	if k.New == nil {
		panic(fmt.Sprintf("stage: Register %s: nil New", k.Model))
	}
	c := k.New()
	if c == nil || reflect.ValueOf(c).Kind() != reflect.Pointer || reflect.ValueOf(c).IsNil() {
		panic(fmt.Sprintf("stage: Register %s: New must return a non-nil pointer", k.Model))
	}
	if c.ModelName() != k.Model {
		panic(fmt.Sprintf("stage: Register %s: New returned a %s", k.Model, c.ModelName()))
	}
	s, err := validate.SchemaOf(c)
	if err != nil {
		panic(fmt.Sprintf("stage: Register %s: %v", k.Model, err))
	}
	for _, n := range s.Names() {
		if commonKeys(n) {
			panic(fmt.Sprintf("stage: Register %s: field %q clashes with a common stage field", k.Model, n))
		}
	}
	if k.Path != "" && (!rePath.MatchString(k.Path) || k.Path == "all" || strings.HasPrefix(k.Path, "all/")) {
		panic(fmt.Sprintf("stage: Register %s: path %q must be lowercase segments separated by single slashes, outside all/", k.Model, k.Path))
	}
	k.schema = s
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.kinds[k.Model]; dup {
		panic(fmt.Sprintf("stage: Register: duplicate kind %s", k.Model))
	}
	if k.Path != "" {
		for _, o := range r.kinds {
			if o.Path == k.Path {
				panic(fmt.Sprintf("stage: Register %s: path %q is taken by %s", k.Model, k.Path, o.Model))
			}
		}
	}
	if r.kinds == nil {
		r.kinds = make(map[ModelName]Kind)
	}
	r.kinds[k.Model] = k
}

// Lookup returns the kind registered under m.
func (r *Registry) Lookup(m ModelName) (Kind, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.kinds[m]
	return k, ok
}

// ByPath returns the kind served at path (e.g. "authenticator/duo").
func (r *Registry) ByPath(path string) (Kind, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, k := range r.kinds {
		if k.Path != "" && k.Path == path {
			return k, true
		}
	}
	return Kind{}, false
}

// Kinds returns every registered kind, sorted by model name.
func (r *Registry) Kinds() []Kind {
	r.mu.RLock()
	out := make([]Kind, 0, len(r.kinds))
	for _, k := range r.kinds {
		out = append(out, k)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Model < out[j].Model })
	return out
}

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
