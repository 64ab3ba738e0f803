// Package kind is the one mechanism behind authflow's kind families:
// stages and policies. Each family is a collection whose objects share a
// few common fields (a stage's name; a policy's name and
// execution_logging) and carry the rest in a Config of a registered kind.
//
// The package holds the registry ([Registry]), the split of a write body
// between the common fields and the kind's ([Decode]), the stored
// envelope ([Encode], [Load]) and the flat representation ([Marshal]).
// Packages stage and policy wrap it in typed facades.
package kind

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/authflow/authflow/validate"
)

// ModelName is authentik's "<app_label>.<model_name>" for a kind, for
// example "authentik_stages_user_write.userwritestage". It is the key of
// the registry and the meta_model_name of the representation.
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

// Config is the kind-specific part of an object. Each kind is a struct
// whose exported fields carry "json" and "af" tags (see
// [validate.SchemaOf]); it may also implement [validate.FieldValidator]
// and [validate.ObjectValidator]. Methods must have value receivers.
type Config interface {
	// ModelName names the kind.
	ModelName() ModelName
}

// Family describes what the kinds of one family share: its name (for
// messages) and the keys of its common representation, which no kind's
// field may use.
type Family struct {
	// Name is "stage" or "policy".
	Name string
	// Common reports whether a key belongs to the common representation:
	// the common writable fields and the read-only keys (pk, component,
	// verbose_name, ...).
	Common func(string) bool
	// ErrUnknown is the family's sentinel for a model name that is not
	// registered (stage.ErrUnknownKind).
	ErrUnknown error
}

func (f Family) unknown(m ModelName) error {
	if f.ErrUnknown == nil {
		return fmt.Errorf("%s: unknown kind %q", f.Name, m)
	}
	return fmt.Errorf("%w: %q", f.ErrUnknown, m)
}

// Kind describes one registered kind of a family whose configs are C.
type Kind[C Config] struct {
	// Model is the registry key.
	Model ModelName
	// New returns a pointer to a Config holding the kind's defaults. It
	// must have no side effects.
	New func() C
	// Component is the UI form tag, e.g. "ak-stage-user-write-form".
	Component string
	// VerboseName is e.g. "User Write Stage"; the plural is VerboseName+"s"
	// unless VerboseNamePlural is set.
	VerboseName       string
	VerboseNamePlural string
	// Path is the kind's collection under the family's root, e.g.
	// "user_write" or "authenticator/duo": lowercase segments joined by
	// single slashes, never "all" (authentik's /stages/all/). It may be
	// empty for a kind that is not served over HTTP.
	Path string
	// Description is the text of the family's /types/ entry.
	Description string
	// StrPrefix starts the kind's str() (the family's default unless set).
	StrPrefix string
	// Filters are the list filter names of the kind's collection besides
	// the family's common ones: names of config fields, and the family's
	// computed filters (a stage's "no_flows"). A write-only field is never
	// a filter, and other names are ignored. nil means every
	// non-write-only config field; an empty, non-nil slice means none.
	Filters []string
	// Search are the config fields that the kind's list searches besides
	// the name.
	Search []string
	// UniqueMessage, when set, is the error of a name that another
	// object of the family has, for a kind whose authentik serializer
	// words it its own way (the prompt stage's "This field must be
	// unique."); the family's message otherwise.
	UniqueMessage string
	// Enterprise says authentik requires an enterprise licence for the
	// kind (requires_enterprise in /types/). authflow checks no licence:
	// it is information only.
	Enterprise bool
	// Debug marks a kind for debugging (authentik's DummyStage and
	// DummyPolicy): served like any other, but left out of /types/, as
	// authentik leaves it out unless it runs with DEBUG.
	Debug bool

	schema *validate.Schema
}

// Plural returns the plural verbose name.
func (k Kind[C]) Plural() string {
	if k.VerboseNamePlural != "" {
		return k.VerboseNamePlural
	}
	return k.VerboseName + "s"
}

// Schema returns the field schema of the kind's Config.
func (k Kind[C]) Schema() *validate.Schema { return k.schema }

// Registry maps model names to the kinds of one family. The zero value is
// an empty registry ready to use; it is safe for concurrent use.
type Registry[C Config] struct {
	mu    sync.RWMutex
	kinds map[ModelName]Kind[C]
}

// Register adds a kind of family f. It panics on a malformed model name, a
// nil New, a New that returns nil, a non-pointer or a Config of another
// model, a Config type whose fields cannot be described, a field that
// clashes with a common key, a malformed path or a duplicate: these are
// programming errors, found when the program starts.
func (r *Registry[C]) Register(f Family, k Kind[C]) {
	fail := func(format string, args ...any) {
		panic(fmt.Sprintf("%s: Register %s: ", f.Name, k.Model) + fmt.Sprintf(format, args...))
	}
	if !k.Model.Valid() {
		fail("malformed model name")
	}
	if k.New == nil {
		fail("nil New")
	}
	c := k.New()
	if rv := reflect.ValueOf(c); !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() {
		fail("New must return a non-nil pointer")
	}
	if c.ModelName() != k.Model {
		fail("New returned a %s", c.ModelName())
	}
	s, err := validate.SchemaOf(c)
	if err != nil {
		fail("%v", err)
	}
	for _, n := range s.Names() {
		if f.Common != nil && f.Common(n) {
			fail("field %q clashes with a common %s field", n, f.Name)
		}
	}
	if k.Path != "" && (!rePath.MatchString(k.Path) || k.Path == "all" || strings.HasPrefix(k.Path, "all/")) {
		fail("path %q must be lowercase segments separated by single slashes, outside all/", k.Path)
	}
	k.schema = s
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.kinds[k.Model]; dup {
		fail("duplicate kind")
	}
	if k.Path != "" {
		for _, o := range r.kinds {
			if o.Path == k.Path {
				fail("path %q is taken by %s", k.Path, o.Model)
			}
		}
	}
	if r.kinds == nil {
		r.kinds = make(map[ModelName]Kind[C])
	}
	r.kinds[k.Model] = k
}

// Lookup returns the kind registered under m.
func (r *Registry[C]) Lookup(m ModelName) (Kind[C], bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.kinds[m]
	return k, ok
}

// ByPath returns the kind served at path (e.g. "authenticator/duo").
func (r *Registry[C]) ByPath(path string) (Kind[C], bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, k := range r.kinds {
		if k.Path != "" && k.Path == path {
			return k, true
		}
	}
	return Kind[C]{}, false
}

// Kinds returns every registered kind, sorted by model name.
func (r *Registry[C]) Kinds() []Kind[C] {
	r.mu.RLock()
	out := make([]Kind[C], 0, len(r.kinds))
	for _, k := range r.kinds {
		out = append(out, k)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Model < out[j].Model })
	return out
}

// Models returns the registered model names, sorted.
func (r *Registry[C]) Models() []string {
	ks := r.Kinds()
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k.Model)
	}
	return out
}

// Defaults returns the value Config holding the defaults of kind m.
func (r *Registry[C]) Defaults(f Family, m ModelName) (C, error) {
	k, ok := r.Lookup(m)
	if !ok {
		var zero C
		return zero, f.unknown(m)
	}
	return deref(k.New()), nil
}

// deref turns the pointer that Kind.New returns into the value Config that
// an object holds, so that objects never share state.
func deref[C Config](c C) C {
	v := reflect.ValueOf(c)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		if vc, ok := v.Elem().Interface().(C); ok {
			return vc
		}
	}
	return c
}

// copyInto sets *ptr to cur, which must be of ptr's element type (or a
// pointer to it).
func copyInto[C Config](ptr, cur C) error {
	src := reflect.ValueOf(cur)
	if !src.IsValid() {
		return nil
	}
	dst := reflect.ValueOf(ptr).Elem()
	if src.Kind() == reflect.Pointer {
		src = src.Elem()
	}
	if src.Type() != dst.Type() {
		return fmt.Errorf("config is %s, kind needs %s", src.Type(), dst.Type())
	}
	dst.Set(src)
	return nil
}
