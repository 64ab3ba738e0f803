package blueprint

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A blueprint's context is the document's top-level "context" mapping
// merged with the caller's Options.Context, as authentik merges them: the
// document's first, then the caller's over it, deeply (a mapping merges
// into a mapping, a list is appended to a list, anything else replaces).
// The document's values may hold tags. They are resolved before the
// first entry, in document order, each once, with the resolver the
// entries use; a !Context inside the context sees the merged context,
// the caller's values included. A value the caller replaces is never
// resolved. authentik resolves a context value at each !Context that
// reads it instead, so there a !Find or !KeyOf in the context can see
// the objects of earlier entries; here they see the store before the
// import, and a !KeyOf in the context finds no entry.

// ctxSlot is a context value of the document, resolved once.
type ctxSlot struct {
	// tree is what to resolve: a *yaml.Node, or (where the caller's value
	// merged into the document's) a ctxMap or ctxList holding nodes and
	// the caller's values.
	tree     any
	busy     bool // being resolved: a !Context that reaches it is a cycle
	done     bool
	val      any
	cost     int // the budget its resolution took, which every read takes again
	err      error
	reported bool
}

// ctxMap and ctxList are a mapping and a list of the document's context
// that a caller's value merged into.
type (
	ctxMap  map[string]any
	ctxList []any
)

// readContext checks the document's context: a mapping whose keys are
// plain text, or null (nil).
func readContext(n *yaml.Node) (*yaml.Node, error) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode || isTag(n) {
		return nil, invalid(n.Line, "context must be a mapping")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k.Kind != yaml.ScalarNode || isTag(k) {
			return nil, invalid(k.Line, "a context key must be plain text")
		}
	}
	return n, nil
}

// mergeContext is the context of an import: the document's values (not
// yet resolved, as *ctxSlot) with the caller's merged over them.
func mergeContext(doc *yaml.Node, caller map[string]any) map[string]any {
	out := make(map[string]any, len(caller))
	if doc != nil {
		for i := 0; i+1 < len(doc.Content); i += 2 {
			out[deref(doc.Content[i]).Value] = &ctxSlot{tree: doc.Content[i+1]}
		}
	}
	for k, v := range caller {
		if s, ok := out[k].(*ctxSlot); ok {
			if t, ok := mergeTree(s.tree.(*yaml.Node), v); ok {
				out[k] = &ctxSlot{tree: t}
				continue
			}
		}
		out[k] = v
	}
	return out
}

// mergeTree merges the caller's value c into the document's node d, if
// both are mappings (untagged, with plain keys) or both lists; otherwise
// c replaces d (false).
func mergeTree(d *yaml.Node, c any) (any, bool) {
	d = deref(d)
	if isTag(d) {
		return nil, false
	}
	switch cv := c.(type) {
	case map[string]any:
		if d.Kind != yaml.MappingNode {
			return nil, false
		}
		m := make(ctxMap, len(d.Content)/2+len(cv))
		for i := 0; i+1 < len(d.Content); i += 2 {
			k := deref(d.Content[i])
			if k.Kind != yaml.ScalarNode || isTag(k) {
				return nil, false
			}
			m[k.Value] = d.Content[i+1]
		}
		for k, v := range cv {
			if dn, ok := m[k].(*yaml.Node); ok {
				if t, ok := mergeTree(dn, v); ok {
					m[k] = t
					continue
				}
			}
			m[k] = v
		}
		return m, true
	case []any:
		if d.Kind != yaml.SequenceNode {
			return nil, false
		}
		l := make(ctxList, 0, len(d.Content)+len(cv))
		for _, n := range d.Content {
			l = append(l, n)
		}
		return append(l, cv...), true
	}
	return nil, false
}

// slot resolves a context value once; ref is the !Context that reads it
// (nil for the pass before the entries).
func (r *resolver) slot(ref *yaml.Node, key string, s *ctxSlot) (any, error) {
	wrap := func(err error) error { // a !Context is named where it reads the value
		if ref == nil {
			return err
		}
		return fmt.Errorf("line %d: !Context %s: %w", ref.Line, key, err)
	}
	switch {
	case s.done:
		// The value is shared, not copied, but whatever reads it may
		// build or write it whole: a read costs what the value did, or
		// values that read the one before would stand for billions.
		if err := r.spend(s.cost); err != nil {
			return nil, wrap(err)
		}
		return s.val, nil
	case s.err != nil && ref != nil:
		return nil, wrap(errors.New("the context value failed (see its own error)"))
	case s.err != nil:
		return nil, s.err
	case s.busy:
		return nil, wrap(fmt.Errorf("the context value refers to itself"))
	}
	s.busy = true
	loops := r.loops
	r.loops = nil // the context's own tags see no entry's !Enumerate
	left := *r.budget
	v, err := r.materialize(s.tree)
	s.cost = left - *r.budget
	r.loops = loops
	s.busy = false
	if err != nil {
		s.err = err
		return nil, wrap(err)
	}
	s.val, s.done = v, true
	return v, nil
}

// materialize resolves a context tree.
func (r *resolver) materialize(t any) (any, error) {
	switch x := t.(type) {
	case *yaml.Node:
		return r.value(x)
	case ctxMap:
		out := make(map[string]any, len(x))
		for k, v := range x {
			mv, err := r.materialize(v)
			if err != nil {
				return nil, err
			}
			out[k] = mv
		}
		return out, nil
	case ctxList:
		out := make([]any, 0, len(x))
		for _, v := range x {
			mv, err := r.materialize(v)
			if err != nil {
				return nil, err
			}
			out = append(out, mv)
		}
		return out, nil
	}
	return t, nil
}

// resolveContext resolves the document's context values before the
// entries. A value that fails is an error event of its own ("context
// failed", naming the key), which makes the import fail.
func (im *importer) resolveContext() bool {
	c := im.bp.context
	if c == nil {
		return true
	}
	for i := 0; i+1 < len(c.Content); i += 2 {
		key := deref(c.Content[i]).Value
		s, ok := im.ctxVals[key].(*ctxSlot)
		if !ok || s.done || s.reported {
			continue // the caller's value, or resolved through another key
		}
		_, err := im.resolver().slot(nil, key, s)
		if err == nil {
			continue
		}
		s.reported = true
		im.res.Success = false
		im.log("error", "context failed", nil, map[string]any{"key": key,
			"error": fmt.Sprintf("key %s: %v", key, err)})
	}
	return im.res.Success
}

// deref follows an alias.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// isTag reports whether n carries a blueprint tag (!Env, …) rather than
// a YAML type (!!str, …).
func isTag(n *yaml.Node) bool {
	return strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!")
}
