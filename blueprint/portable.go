package blueprint

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"
)

// SecretEnv is the environment variable that a portable export reads a
// secret from: AUTHFLOW_<entry id>_<field>, upper case, every character
// that is not a letter or a digit an underscore (for example
// AUTHFLOW_STAGE_DUO_CLIENT_SECRET).
func SecretEnv(entryID, field string) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				return unicode.ToUpper(r)
			}
			return '_'
		}, s)
	}
	return "AUTHFLOW_" + clean(entryID) + "_" + clean(field)
}

// ExportPortable writes the flow with slug as a blueprint that imports
// on its own into any store, beyond authentik's export: objects are
// identified by their slugs and names (bindings by target, stage and
// order), references between exported objects are !KeyOf, references to
// other objects !Find them by slug or name, and secrets are !Env
// placeholders named by SecretEnv, so the file holds no secret and no
// primary key; attrs at their defaults are left out. Import it with blueprint.Options.EnvPrefixes allowing
// "AUTHFLOW_" when the flow has secrets. Export, import into an empty
// store and export again gives the same document but for metadata.name.
func ExportPortable(tx *store.Tx, slug string, now time.Time) ([]byte, error) {
	objs, err := flowObjects(tx, slug)
	if err != nil {
		return nil, err
	}
	refs := map[string][]store.Reference{}
	for _, r := range tx.Store().References() {
		refs[r.Model] = append(refs[r.Model], r)
	}
	// An entry names its object by the fields its collection declares
	// (store.Collection.Identifiers), never by pk.
	idKeys := map[string][]string{}
	for _, c := range tx.Store().Collections() {
		idKeys[c.Model] = c.Identifiers
	}
	ids := map[string]string{} // pk -> entry id
	for i := range objs {
		o := &objs[i]
		switch o.coll {
		case store.ModelFlow:
			o.id = "flow-" + str(o.attrs["slug"])
		case store.ModelPrompt:
			o.id = "prompt-" + str(o.attrs["name"])
		case store.ModelPolicy:
			o.id = "policy-" + str(o.attrs["name"])
		case store.ModelStage:
			o.id = "stage-" + str(o.attrs["name"])
		case store.ModelBinding:
			o.id = fmt.Sprintf("binding-%s-%v", ids[str(o.attrs["stage"])], o.attrs["order"])
		}
		if o.id != "" {
			ids[o.pk.String()] = o.id
		}
	}
	// ref renders a reference: !KeyOf an exported object, or !Find
	// another by its slug or name, or the pk as a last resort.
	ref := func(r store.Reference, v any) *yaml.Node {
		target := r.Target
		var pk uuid.UUID
		if n, ok := v.(float64); ok && r.Numbered {
			// A reference by number (a user's): found by its
			// identifiers, as a number differs between stores.
			id, err := tx.Lookup(target, store.By("pk", strconv.FormatFloat(n, 'f', -1, 64)))
			if err != nil {
				return valueNode(v)
			}
			pk = id
		} else {
			s, ok := v.(string)
			if !ok {
				return valueNode(v)
			}
			if id, ok := ids[s]; ok {
				return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!KeyOf", Value: id}
			}
			id, err := uuid.Parse(s)
			if err != nil || target == store.ModelPolicyBindingModel {
				return valueNode(v)
			}
			pk = id
		}
		model, err := tx.KindOf(target, pk)
		if err != nil {
			return valueNode(v)
		}
		attrs, err := tx.Attrs(model, pk)
		if err != nil {
			return valueNode(v)
		}
		keys := []string{"slug", "name"}
		if len(idKeys[target]) == 1 {
			keys = append(slices.Clone(idKeys[target]), keys...) // a user's username
		}
		for _, key := range keys {
			if name, ok := attrs[key].(string); ok {
				return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!Find", Style: yaml.FlowStyle, Content: []*yaml.Node{
					valueNode(model), {Kind: yaml.SequenceNode, Style: yaml.FlowStyle, Content: []*yaml.Node{valueNode(key), valueNode(name)}},
				}}
			}
		}
		return valueNode(v)
	}
	var entries []*yaml.Node
	for _, o := range objs {
		attrs := map[string]*yaml.Node{}
		fields := map[string]store.Reference{}
		for _, r := range refs[o.model] {
			fields[r.Field] = r
		}
		for _, r := range refs[o.coll] {
			fields[r.Field] = r
		}
		for k, v := range o.attrs {
			if leftOut(tx.Store(), o.model, k, v, true) {
				continue
			}
			r, isRef := fields[k]
			switch {
			case isRef && r.Many:
				list := &yaml.Node{Kind: yaml.SequenceNode}
				for _, item := range v.([]any) {
					list.Content = append(list.Content, ref(r, item))
				}
				attrs[k] = list
			case isRef:
				attrs[k] = ref(r, v)
			default:
				attrs[k] = valueNode(v)
			}
		}
		for _, f := range tx.Store().Secrets(o.model) {
			attrs[f] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!Env", Value: SecretEnv(o.id, f)}
		}
		identifiers := map[string]*yaml.Node{}
		for _, k := range idKeys[o.coll] {
			if n, ok := attrs[k]; ok {
				identifiers[k] = n
			}
		}
		entry := map[string]*yaml.Node{
			"model":       valueNode(o.model),
			"identifiers": mappingNode(identifiers),
			"attrs":       mappingNode(attrs),
			"state":       valueNode(string(Present)),
		}
		if o.id != "" {
			entry["id"] = valueNode(o.id)
		}
		entries = append(entries, mappingNode(entry))
	}
	return encodeDoc("authflow Export - ", now, entries)
}

// encodeDoc writes a portable export's document: its entries, with a
// name of title and the time.
func encodeDoc(title string, now time.Time, entries []*yaml.Node) ([]byte, error) {
	doc := mappingNode(map[string]*yaml.Node{
		"version": valueNode(int64(1)),
		"metadata": mappingNode(map[string]*yaml.Node{
			"name": valueNode(title + now.UTC().Format("2006-01-02 15:04:05.000000+00:00")),
			"labels": mappingNode(map[string]*yaml.Node{
				"blueprints.goauthentik.io/generated": valueNode("true"),
				"authflow.dev/portable":               valueNode("true"),
			}),
		}),
		"entries": {Kind: yaml.SequenceNode, Content: entries},
	})
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("blueprint: export: %w", err)
	}
	return buf.Bytes(), enc.Close()
}

// isDefault reports whether v is field's default in model: what a create
// gives the field when it is not sent (a default that a write cannot give,
// such as the password policy's charset with its trailing space, survives
// only that way).
func isDefault(s *store.Store, model, field string, v any) bool {
	d, ok := s.Default(model, field)
	return ok && sameJSON(d, v)
}

// leftOut reports whether an export leaves out attr field of model with
// value v. A value other than the field's default is always carried (a
// false where the default is true included), so that an export carries
// every value. Otherwise an empty value (null, false, "", [], {}) is left
// out, as the seed-era export leaves them out, and, with defaults (the
// portable export), so is the default, which a create gives anyway. A
// required field is always carried, even empty (a GeoIP policy's
// countries), or the import would refuse it.
func leftOut(s *store.Store, model, field string, v any, defaults bool) bool {
	if s.Required(model, field) {
		return false
	}
	d, ok := s.Default(model, field)
	if ok && !sameJSON(d, v) {
		return false
	}
	return (ok && defaults) || empty(v)
}

// valueNode is v as a YAML node.
func valueNode(v any) *yaml.Node {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	return &n
}

// mappingNode is m as a YAML mapping, keys sorted.
func mappingNode(m map[string]*yaml.Node) *yaml.Node {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range keys {
		n.Content = append(n.Content, valueNode(k), m[k])
	}
	return n
}

// ExportDirectory writes the store's groups and users as a portable
// blueprint (see ExportPortable), which recreates them, with their
// hierarchy and memberships, in any store: groups first, each after its
// parent, identified by name ("group-<name>" entries), then users by
// username ("user-<username>"), whose groups are !KeyOf their groups'
// entries. Membership is carried on the users' side only (a group entry
// has no users). Attrs at their defaults are left out.
//
// No password or hash is exported, in any form: a user that the export
// creates has an unusable password (set one, or import the hash with
// store.ImportPasswordHash), and one that exists keeps its own (the
// entries have no password attr). Internal service accounts, which
// authentik's outposts make and no write may create, are left out.
func ExportDirectory(tx *store.Tx, now time.Time) ([]byte, error) {
	s := tx.Store()
	groups, err := all[directory.GroupView](tx, store.ModelGroup)
	if err != nil {
		return nil, err
	}
	users, err := all[directory.UserView](tx, store.ModelUser)
	if err != nil {
		return nil, err
	}
	entryOf := map[uuid.UUID]string{} // group pk -> entry id
	for _, g := range groups {
		entryOf[g.PK] = "group-" + g.Name
	}
	keyOf := func(pk uuid.UUID) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!KeyOf", Value: entryOf[pk]}
	}
	attrsOf := func(model string, pk uuid.UUID, drop ...string) (map[string]*yaml.Node, error) {
		attrs, err := tx.Attrs(model, pk)
		if err != nil {
			return nil, err
		}
		out := map[string]*yaml.Node{}
		for k, v := range attrs {
			if !slices.Contains(drop, k) && !leftOut(s, model, k, v, true) {
				out[k] = valueNode(v)
			}
		}
		return out, nil
	}
	entry := func(model, id, key, name string, attrs map[string]*yaml.Node) *yaml.Node {
		delete(attrs, key)
		e := map[string]*yaml.Node{
			"model":       valueNode(model),
			"identifiers": mappingNode(map[string]*yaml.Node{key: valueNode(name)}),
			"attrs":       mappingNode(attrs),
			"state":       valueNode(string(Present)),
		}
		if id != "" {
			e["id"] = valueNode(id)
		}
		return mappingNode(e)
	}
	var entries []*yaml.Node
	// Groups in name order, each once its parent is written; the groups
	// of a cycle of parents (which authentik does not refuse) are written
	// without their parents, which entries at the end then set.
	done := map[uuid.UUID]bool{}
	var late []directory.GroupView
	for len(done) < len(groups) {
		progress := false
		for _, g := range groups {
			if done[g.PK] || (g.Parent != nil && !done[*g.Parent] && entryOf[*g.Parent] != "") {
				continue
			}
			attrs, err := attrsOf(store.ModelGroup, g.PK, "users", "roles", "parent")
			if err != nil {
				return nil, err
			}
			if g.Parent != nil && done[*g.Parent] {
				attrs["parent"] = keyOf(*g.Parent)
			}
			entries = append(entries, entry(store.ModelGroup, entryOf[g.PK], "name", g.Name, attrs))
			done[g.PK], progress = true, true
		}
		if !progress {
			for _, g := range groups {
				if !done[g.PK] {
					late = append(late, g)
					done[g.PK] = true
					attrs, err := attrsOf(store.ModelGroup, g.PK, "users", "roles", "parent")
					if err != nil {
						return nil, err
					}
					entries = append(entries, entry(store.ModelGroup, entryOf[g.PK], "name", g.Name, attrs))
					break // the others may now follow it
				}
			}
		}
	}
	for _, u := range users {
		if u.Type == directory.UserTypeInternalServiceAccount {
			continue
		}
		id, err := tx.Lookup(store.ModelUser, store.By("pk", strconv.FormatInt(u.PK, 10)))
		if err != nil {
			return nil, err
		}
		attrs, err := attrsOf(store.ModelUser, id, "groups")
		if err != nil {
			return nil, err
		}
		if len(u.Groups) > 0 {
			list := &yaml.Node{Kind: yaml.SequenceNode}
			for _, g := range u.Groups {
				list.Content = append(list.Content, keyOf(g))
			}
			attrs["groups"] = list
		}
		entries = append(entries, entry(store.ModelUser, "user-"+u.Username, "username", u.Username, attrs))
	}
	for _, g := range late {
		entries = append(entries, entry(store.ModelGroup, "", "name", g.Name,
			map[string]*yaml.Node{"parent": keyOf(*g.Parent)}))
	}
	return encodeDoc("authflow Directory Export - ", now, entries)
}

// all lists every object of model, page by page, in the list's default
// order, as T (its representation).
func all[T any](tx *store.Tx, model string) ([]T, error) {
	var out []T
	for page := 1; ; page++ {
		p, err := tx.List(model, store.Query{Page: page, PageSize: store.MaxPageSize})
		if err != nil {
			return nil, fmt.Errorf("blueprint: export: %w", err)
		}
		for _, r := range p.Results {
			v, ok := r.(T)
			if !ok {
				return nil, fmt.Errorf("blueprint: export: %s lists %T", model, r)
			}
			out = append(out, v)
		}
		if p.Pagination.Next == 0 {
			return out, nil
		}
	}
}
