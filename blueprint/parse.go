// Package blueprint reads authentik's blueprint v1 YAML and imports it
// into a store in one transaction: every entry, or none.
//
// A blueprint lists entries, each a model ("authentik_flows.flow"), the
// identifiers that find an existing object, the attrs to give it, a state
// (present, created, must_created, absent), optional conditions and an id
// that later entries refer to with !KeyOf. The YAML tags of authentik
// 2025.8 are supported: !KeyOf, !Find, !Context, !Env, !Format, !If,
// !Condition, !Enumerate with !Index and !Value, !AtIndex, !ParseJSON and
// !File (the last two of 2025.8). The document's context mapping takes
// them too; its values are resolved before the first entry (see
// Options.Context).
//
// Users (authentik_core.user) and groups (authentik_core.group) are
// entries like any other, with the users API's attrs and rules: a user is
// named by its username (exactly) or its number, a group by its name or
// pk, and !KeyOf or !Find of a user gives its number, of a group its UUID
// (for a user's groups, a group's users and parent). A user entry also
// takes authentik's blueprint-only attrs:
//
//   - password is the raw password, read as DRF reads a string (trimmed;
//     blank is "This field may not be blank."): given, it is set at every
//     import, as authentik sets it, which moves password_change_date and
//     makes the entry an update; null or absent keeps the stored password,
//     and a created user without one has an unusable password. Apply
//     hashes passwords outside its transaction (see Apply); ApplyTx sets
//     none (ErrPasswordInTx). No log, error or result shows a password.
//   - permissions (global permissions) are ignored with a warning, or,
//     with Options.Strict, refused: authflow has no permissions to assign
//     (MsgPermissionsIgnored).
//
// A user entry cannot create a user with a given pk (MsgUserPK): the
// store numbers users. ExportDirectory writes every group and user as a
// blueprint, without passwords.
//
// YAML is parsed with go.yaml.in/yaml/v3, the maintained successor of
// gopkg.in/yaml.v3: it keeps the node tree (tags, positions, aliases)
// that the tags need, and only this package imports it.
package blueprint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits bound what a blueprint may cost to read. The zero value of a
// field means its default.
type Limits struct {
	// MaxBytes bounds the document's size (default 4 MiB).
	MaxBytes int64
	// MaxEntries bounds the entries, counted after !Enumerate is not
	// involved: the entries as written (default 10000).
	MaxEntries int
	// MaxDepth bounds the nesting of the document (default 64).
	MaxDepth int
	// MaxNodes bounds the nodes the document expands to, aliases
	// followed, so that a few aliases cannot stand for billions of nodes
	// (default 1,000,000).
	MaxNodes int
}

// Defaults of Limits.
const (
	DefaultMaxBytes   = 4 << 20
	DefaultMaxEntries = 10000
	DefaultMaxDepth   = 64
	DefaultMaxNodes   = 1000000
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = DefaultMaxNodes
	}
	return l
}

// ErrInvalid is matched by every error about a document that cannot be a
// blueprint: not YAML, a wrong version, a malformed entry, a limit passed.
var ErrInvalid = errors.New("blueprint: invalid document")

// ErrLimit is matched (besides ErrInvalid) by the error of a document
// that passes one of its Limits.
var ErrLimit = errors.New("blueprint: limit exceeded")

// Blueprint is a parsed document. Its entries keep their YAML nodes: tags
// are resolved when the blueprint is applied, against the store and the
// entries before them.
type Blueprint struct {
	Version  int
	Metadata Metadata
	Entries  []*Entry

	// context is the document's own context: a mapping whose values may
	// hold tags, resolved when the blueprint is applied (see
	// mergeContext), or nil.
	context *yaml.Node

	nodes int // the expansion budget left for tag resolution
}

// Metadata is a blueprint's metadata.
type Metadata struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Entry is one entry of a blueprint.
type Entry struct {
	// Index is the entry's place in the document, from 0 (across
	// sections, in order).
	Index int
	// Section is the name of the entries section it is in ("" for a
	// plain list of entries).
	Section string
	Model   string
	State   State
	ID      string
	// Line is where the entry starts in the document.
	Line int

	identifiers, attrs *yaml.Node
	conditions         []*yaml.Node
}

// State is what an entry asks for.
type State string

// The states of an entry.
const (
	// Present creates the object or updates it.
	Present State = "present"
	// Created creates the object and leaves an existing one alone.
	Created State = "created"
	// MustCreated creates the object and fails if it exists.
	MustCreated State = "must_created"
	// Absent deletes the object if it exists.
	Absent State = "absent"
)

// Parse reads a blueprint document within limits. Its errors match
// ErrInvalid and name the line.
func Parse(r io.Reader, limits Limits) (*Blueprint, error) {
	lim := limits.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("blueprint: reading: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, invalid(0, "%w: the document is larger than %d bytes", ErrLimit, lim.MaxBytes)
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, invalid(0, "the document is empty")
		}
		return nil, fmt.Errorf("%w: %s", ErrInvalid, yamlMessage(err))
	}
	n, err := measure(&root, lim)
	if err != nil {
		return nil, err
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, invalid(doc.Line, "a blueprint is a mapping")
	}
	bp := &Blueprint{nodes: lim.MaxNodes - n}
	seen := false
	for i := 0; i+1 < len(doc.Content); i += 2 {
		key, val := doc.Content[i], doc.Content[i+1]
		switch key.Value {
		case "version":
			seen = true
			if err := val.Decode(&bp.Version); err != nil || bp.Version != 1 {
				return nil, invalid(val.Line, "Invalid blueprint version")
			}
		case "metadata":
			if err := val.Decode(&bp.Metadata); err != nil {
				return nil, invalid(val.Line, "metadata: %v", err)
			}
		case "context":
			c, err := readContext(val)
			if err != nil {
				return nil, err
			}
			bp.context = c
		case "entries":
			if err := bp.readEntries(val); err != nil {
				return nil, err
			}
		}
	}
	if !seen {
		return nil, invalid(doc.Line, "Invalid blueprint version")
	}
	if len(bp.Entries) > lim.MaxEntries {
		return nil, invalid(0, "%w: %d entries, at most %d", ErrLimit, len(bp.Entries), lim.MaxEntries)
	}
	return bp, nil
}

// readEntries reads the entries: a list, or (2025.8) a mapping of section
// names to lists, in order.
func (bp *Blueprint) readEntries(val *yaml.Node) error {
	switch val.Kind {
	case yaml.SequenceNode:
		return bp.readList("", val)
	case yaml.MappingNode:
		for i := 0; i+1 < len(val.Content); i += 2 {
			if err := bp.readList(val.Content[i].Value, val.Content[i+1]); err != nil {
				return err
			}
		}
		return nil
	case yaml.ScalarNode:
		if val.Tag == "!!null" {
			return nil
		}
	}
	return invalid(val.Line, "entries must be a list, or a mapping of sections to lists")
}

func (bp *Blueprint) readList(section string, list *yaml.Node) error {
	if list.Kind != yaml.SequenceNode {
		return invalid(list.Line, "entries section %q must be a list", section)
	}
	for _, n := range list.Content {
		e, err := readEntry(n)
		if err != nil {
			return err
		}
		e.Index, e.Section = len(bp.Entries), section
		bp.Entries = append(bp.Entries, e)
	}
	return nil
}

func readEntry(n *yaml.Node) (*Entry, error) {
	if n.Kind != yaml.MappingNode {
		return nil, invalid(n.Line, "an entry must be a mapping")
	}
	e := &Entry{State: Present, Line: n.Line}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		switch key {
		case "model":
			if val.Kind != yaml.ScalarNode || val.Value == "" {
				return nil, invalid(val.Line, "an entry's model must be text such as authentik_flows.flow")
			}
			e.Model = val.Value
		case "state":
			switch s := State(val.Value); s {
			case Present, Created, MustCreated, Absent:
				e.State = s
			default:
				return nil, invalid(val.Line, "state %q is none of present, created, must_created and absent", val.Value)
			}
		case "id":
			e.ID = val.Value
		case "identifiers":
			e.identifiers = val
		case "attrs":
			e.attrs = val
		case "conditions":
			if val.Kind != yaml.SequenceNode {
				return nil, invalid(val.Line, "conditions must be a list")
			}
			e.conditions = val.Content
		case "permissions":
			// authentik's object permissions: authflow has no
			// permissions (no roles, no RBAC) to give.
		default:
			return nil, invalid(n.Content[i].Line, "unknown entry key %q", key)
		}
	}
	if e.Model == "" {
		return nil, invalid(n.Line, "an entry needs a model")
	}
	return e, nil
}

// measure checks the depth and counts the nodes of the tree, aliases
// expanded, within the limits.
func measure(root *yaml.Node, lim Limits) (int, error) {
	count := 0
	var walk func(n *yaml.Node, depth int) error
	walk = func(n *yaml.Node, depth int) error {
		count++
		if count > lim.MaxNodes {
			return invalid(n.Line, "%w: more than %d nodes once aliases are expanded", ErrLimit, lim.MaxNodes)
		}
		if depth > lim.MaxDepth {
			return invalid(n.Line, "%w: nested deeper than %d", ErrLimit, lim.MaxDepth)
		}
		if n.Kind == yaml.AliasNode {
			return walk(n.Alias, depth+1)
		}
		for _, c := range n.Content {
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root, 0); err != nil {
		return 0, err
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		return 0, invalid(root.Line, "the document must hold one blueprint")
	}
	return count, nil
}

// invalid is an ErrInvalid error at line (0: none).
func invalid(line int, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	if line > 0 {
		return fmt.Errorf("%w: line %d: %w", ErrInvalid, line, err)
	}
	return fmt.Errorf("%w: %w", ErrInvalid, err)
}

// yamlMessage is the YAML parser's message for err, but for an unknown
// anchor, whose name it quotes: a password written unquoted after "*"
// is read as an alias, and the name is the password.
func yamlMessage(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "unknown anchor") {
		return "yaml: an alias (*name) names an unknown anchor; a value that begins with * must be quoted"
	}
	return msg
}
