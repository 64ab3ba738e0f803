package blueprint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"
)

// Options configure an import. The zero value refuses !Env and !File.
type Options struct {
	// Context is the blueprint context (!Context). It is merged over the
	// document's own, as authentik merges them: a mapping into a mapping,
	// a list appended to a list; any other value replaces the document's,
	// whose tags are then not resolved.
	Context map[string]any
	// EnvPrefixes allows !Env for the variable names that start with one
	// of them ("" allows all). Nil refuses every !Env.
	EnvPrefixes []string
	// FileDir is the directory !File reads from ("" refuses !File).
	FileDir string
	// Strict makes an attr that the model does not have an error; by
	// default it is a warning and is left out, as authentik ignores it.
	Strict bool
	// DryRun checks and reports everything and writes nothing.
	DryRun bool
	// Now stamps the log events; nil means time.Now.
	Now func() time.Time
	// Dir is the blueprint directory that metaapplyblueprint entries find
	// other blueprints in: by a path relative to it, or by the
	// metadata.name of a file below it. "" finds none.
	Dir string
	// Limits bound the blueprints read from Dir.
	Limits Limits
	// Progress, when set, is called after every ProgressEvery entries
	// with the entries done and the total, for a progress line.
	Progress func(done, total int)
	// Actor is the pk of the user who imports: the creator (created_by)
	// of the invitations the blueprint creates, as
	// store.WriteOptions.Actor, so that they refer to that user and are
	// deleted with it. nil means stage.Anonymous. A pk that names no
	// user fails each entry that creates an invitation (its log names
	// store.ErrUnknownActor), so the import is not successful and
	// writes nothing.
	Actor *int64
	// Handlers import the models authflow does not hold, by model name
	// (brands, applications). An entry of another such model
	// is an error naming it.
	Handlers map[string]Handler
	// CheckExpression, when set, names the constructs of an expression
	// policy's expression that the host's evaluator cannot run
	// (expression.Check, adapted by the host so that this package does
	// not link an interpreter). Each is a warning event "expression cannot
	// run" of the entry that writes the policy, naming the policy, the
	// line and the construct; the entry still imports, as authentik
	// accepts the expression (a Python syntax error is the store's field
	// error instead).
	CheckExpression func(expression string) []ExpressionProblem
	// CheckPromptExpression, when set, names the constructs of a
	// prompt's placeholder or initial value, when its
	// placeholder_expression or initial_value_expression is set, that
	// the host's evaluator cannot run (expression.CheckPrompt, adapted
	// by the host), a Python syntax error included: authentik stores
	// prompt expressions unchecked. Each is a warning event "expression
	// cannot run" of the entry that writes the prompt, naming the
	// prompt, the field ("placeholder" or "initial_value"), the line and
	// the construct; the entry still imports.
	CheckPromptExpression func(expression string) []ExpressionProblem
}

// ExpressionProblem is a construct of an expression that the host's
// evaluator cannot run (see Options.CheckExpression).
type ExpressionProblem struct {
	// Line is the line of the expression's own text (authentik's
	// tracebacks count one more, for its def line).
	Line int
	// Construct names it: "import authentik.flows.models", "while", ...
	Construct string
	// Message says why, for the event's message.
	Message string
}

// EventExpressionCannotRun is the event of a warning of
// Options.CheckExpression and Options.CheckPromptExpression.
const EventExpressionCannotRun = "expression cannot run"

// LogEvent is one event of an import's result, in authentik's log event
// shape.
type LogEvent struct {
	LogLevel   string         `json:"log_level"`
	Event      string         `json:"event"`
	Logger     string         `json:"logger"`
	Timestamp  string         `json:"timestamp"`
	Attributes map[string]any `json:"attributes"`
}

// Result is what an import did, or (for a dry run or a failure) would
// have done.
type Result struct {
	// Success is false when an entry failed; then nothing was written.
	Success bool       `json:"success"`
	Logs    []LogEvent `json:"logs"`
	// Changed reports whether the import wrote anything.
	Changed bool `json:"-"`
}

// Actions of an entry, as its log event names them.
const (
	ActionCreate    = "create"
	ActionUpdate    = "update"
	ActionDelete    = "delete"
	ActionUnchanged = "unchanged"
	ActionSkipped   = "skipped"
)

// errRollback ends a dry run's transaction without committing it.
var errRollback = errors.New("blueprint: dry run")

// Apply imports bp into s in one transaction: every entry or none. A
// failed entry is reported in the result (with every other failure of
// the document) and rolls everything back; the error is for failures of
// the store itself. An import whose entries all leave their objects as
// they are writes nothing: its transaction is rolled back, not
// committed.
//
// The passwords of user entries are hashed outside the transaction, as
// hashing takes a good part of a second each (see store.HashPassword): an
// import that meets passwords it has no hash for yet rolls its
// transaction back, hashes them, and runs again with the hashes (a dry
// run hashes nothing).
func Apply(ctx context.Context, s *store.Store, bp *Blueprint, opts Options) (Result, error) {
	pw := &passwords{outside: true}
	for pass := 1; ; pass++ {
		var res Result
		again := false
		err := s.Update(ctx, func(tx *store.Tx) error {
			im := newImporter(tx, bp, opts)
			im.pw = pw
			res = im.apply()
			again = res.Success && !opts.DryRun && !pw.complete()
			if again || opts.DryRun || !res.Success || !res.Changed {
				return errRollback
			}
			return nil
		})
		if errors.Is(err, errRollback) {
			err = nil
		}
		if err != nil || !again {
			return res, err
		}
		if pass == maxPasswordPasses {
			return res, fmt.Errorf("blueprint: %w", errPasswordsMoving)
		}
		if err := pw.hash(s); err != nil {
			return Result{}, err
		}
	}
}

type importer struct {
	tx      *store.Tx
	bp      *Blueprint
	opts    Options
	ctxVals map[string]any
	ids     map[string]any    // entry id -> what !KeyOf gives: the pk (a user's number, others' UUID text)
	pks     map[string]string // a pk identifier written in the document -> the object's pk
	res     Result
	budget  int
	depth   int // of blueprints applied by metaapplyblueprint entries
	models  map[string]bool
	pw      *passwords // the hashes of the user entries' passwords
}

func newImporter(tx *store.Tx, bp *Blueprint, opts Options) *importer {
	ctx := mergeContext(bp.context, opts.Context)
	return &importer{tx: tx, bp: bp, opts: opts, ctxVals: ctx, ids: map[string]any{}, pks: map[string]string{},
		res: Result{Success: true, Logs: []LogEvent{}}, budget: max(bp.nodes, 1000), pw: &passwords{}}
}

// ProgressEvery is how many entries pass between Options.Progress calls.
const ProgressEvery = 1000

func (im *importer) apply() Result {
	if !im.resolveContext() {
		return im.res // no entry runs on a context that failed
	}
	for i, e := range im.bp.Entries {
		im.entry(e)
		if im.opts.Progress != nil && (i+1)%ProgressEvery == 0 {
			im.opts.Progress(i+1, len(im.bp.Entries))
		}
	}
	return im.res
}

// log appends an event about entry e.
func (im *importer) log(level, event string, e *Entry, attrs map[string]any) {
	now := time.Now
	if im.opts.Now != nil {
		now = im.opts.Now
	}
	if attrs == nil {
		attrs = map[string]any{}
	}
	if e != nil {
		ent := map[string]any{"index": e.Index, "model": e.Model, "id": e.ID, "line": e.Line}
		if e.Section != "" {
			ent["section"] = e.Section
		}
		if ids, ok := attrs["identifiers"]; ok {
			ent["identifiers"] = ids
			delete(attrs, "identifiers")
		}
		attrs["entry"] = ent
	}
	im.res.Logs = append(im.res.Logs, LogEvent{LogLevel: level, Event: event, Logger: "authflow.blueprint",
		Timestamp: now().UTC().Format(time.RFC3339Nano), Attributes: attrs})
}

// fail records a failed entry.
func (im *importer) fail(e *Entry, ids map[string]any, err error) {
	im.res.Success = false
	attrs := map[string]any{"identifiers": ids}
	var ve *validate.Error
	if errors.As(err, &ve) {
		attrs["errors"] = ve
		im.log("error", "entry invalid", e, attrs)
		return
	}
	attrs["error"] = err.Error()
	im.log("error", "entry failed", e, attrs)
}

func (im *importer) resolver() *resolver {
	return &resolver{look: im, budget: &im.budget, max: DefaultMaxDepth}
}

// notAllowed are models a blueprint may not name: bases of kinds, and
// models only the store manages.
var notAllowed = []string{store.ModelStage, store.ModelPolicy, store.ModelPolicyBindingModel}

func (im *importer) entry(e *Entry) {
	r := im.resolver()
	for _, c := range e.conditions {
		v, err := r.value(c)
		if err != nil {
			im.fail(e, nil, fmt.Errorf("condition: %w", err))
			return
		}
		if !truthy(v) {
			im.log("info", "entry skipped", e, map[string]any{"action": ActionSkipped})
			return
		}
	}
	ids, err := im.mapping(r, e.identifiers, "identifiers")
	if err != nil {
		im.fail(e, nil, err)
		return
	}
	attrs, err := im.mapping(r, e.attrs, "attrs")
	if err != nil {
		im.fail(e, ids, err)
		return
	}
	if strings.EqualFold(e.Model, modelMetaApply) {
		im.meta(e, attrs)
		return
	}
	if h, ok := im.handler(e.Model); ok {
		pk, action, err := h.Apply(im.tx, e, ids, attrs)
		if err != nil {
			im.fail(e, ids, err)
			return
		}
		if pk != "" && e.ID != "" {
			if id, err := uuid.Parse(pk); err == nil {
				im.ids[e.ID] = id.String()
			}
		}
		if action != ActionUnchanged && action != ActionSkipped {
			im.res.Changed = true
		}
		im.log("info", "entry handled", e, map[string]any{"identifiers": ids, "action": action, "pk": pk})
		return
	}
	model, err := im.model(e.Model)
	if err != nil {
		im.fail(e, ids, err)
		return
	}
	// A user entry's blueprint-only attrs (its password, its permissions)
	// are taken out before the write, which knows only the API's fields.
	var u userExtras
	var extraErrs *validate.Error
	if model == store.ModelUser {
		if u, extraErrs, err = im.userExtras(e, ids, attrs); err != nil {
			im.fail(e, ids, err)
			return
		}
	}
	pk, found, err := im.match(model, ids)
	if err != nil {
		im.fail(e, ids, err)
		return
	}
	switch {
	case e.State == Absent:
		if !found {
			im.log("info", "entry unchanged", e, map[string]any{"identifiers": ids, "action": ActionUnchanged})
			return
		}
		key, err := im.keyValue(model, pk)
		if err == nil {
			err = im.tx.Delete(model, pk, nil)
		}
		if err != nil {
			im.fail(e, ids, err)
			return
		}
		im.res.Changed = true
		im.log("info", "entry deleted", e, map[string]any{"identifiers": ids, "action": ActionDelete, "pk": key})
		return
	case found && e.State == MustCreated:
		key, _ := im.keyValue(model, pk)
		im.fail(e, ids, fmt.Errorf("the entry must be created, but its object exists (%v)", key))
		return
	case found && e.State == Created:
		key, err := im.remember(e, ids, model, pk)
		if err != nil {
			im.fail(e, ids, err)
			return
		}
		im.log("info", "entry unchanged", e, map[string]any{"identifiers": ids, "action": ActionUnchanged, "pk": key})
		return
	case !found && model == store.ModelUser && ids["pk"] != nil:
		im.fail(e, ids, &validate.Error{Fields: map[string][]string{"pk": {MsgUserPK}}})
		return
	}
	body := deepMerge(attrs, ids)
	delete(body, "pk") // a create is given it apart; an update keeps the object's
	var before map[string]any
	var stored []byte
	if !found {
		// A default is left to the create, which gives it exactly (a write
		// of it through the API's input rules might not: DRF trims
		// strings).
		for f, v := range body {
			if isDefault(im.tx.Store(), model, f, v) {
				delete(body, f)
			}
		}
	} else {
		if before, err = im.representation(model, pk); err != nil {
			im.fail(e, ids, err)
			return
		}
		if stored, err = im.tx.Stored(model, pk); err != nil {
			im.fail(e, ids, err)
			return
		}
		// A value the object already shows is not written again: the API's
		// input rules (such as trimming a string) could change it, and an
		// export carries values exactly.
		for f, v := range body {
			if b, ok := before[f]; ok && sameJSON(b, v) {
				delete(body, f)
			}
		}
	}
	pk, warnings, err := im.write(model, pk, found, body)
	if err != nil || extraErrs != nil {
		// The password's errors are reported with the other fields'.
		var ve *validate.Error
		switch {
		case err == nil:
			err = extraErrs
		case extraErrs != nil && errors.As(err, &ve):
			merged := &validate.Error{}
			merged.Merge(ve)
			merged.Merge(extraErrs)
			err = merged
		}
		im.fail(e, ids, err)
		return
	}
	for _, w := range warnings {
		im.log("warning", "attribute ignored", e, map[string]any{"identifiers": ids, "field": w,
			"message": "the model has no such attribute: authflow ignores it, as authentik does"})
	}
	if model == string(policy.ModelExpression) && im.opts.CheckExpression != nil {
		if err := im.warnExpression(e, ids, pk); err != nil {
			im.fail(e, ids, err)
			return
		}
	}
	if model == store.ModelPrompt && im.opts.CheckPromptExpression != nil {
		if err := im.warnPrompt(e, ids, pk); err != nil {
			im.fail(e, ids, err)
			return
		}
	}
	key, err := im.remember(e, ids, model, pk)
	if err == nil && u.password != nil {
		err = im.setPassword(key, *u.password)
	}
	if err != nil {
		im.fail(e, ids, err)
		return
	}
	if !found {
		im.res.Changed = true
		im.log("info", "entry created", e, map[string]any{"identifiers": ids, "action": ActionCreate, "pk": key})
		return
	}
	after, err := im.representation(model, pk)
	if err != nil {
		im.fail(e, ids, err)
		return
	}
	now, err := im.tx.Stored(model, pk)
	if err != nil {
		im.fail(e, ids, err)
		return
	}
	changes := diff(before, after, body, im.tx.Store().Secrets(model))
	if string(now) == string(stored) {
		changes = nil // secrets written with their old values
	}
	if u.password != nil {
		// Set again on every import, as authentik does (its
		// password_change_date moves).
		if changes == nil {
			changes = map[string]any{}
		}
		changes["password"] = map[string]any{"secret": true}
	}
	if len(changes) == 0 {
		im.log("info", "entry unchanged", e, map[string]any{"identifiers": ids, "action": ActionUnchanged, "pk": key})
		return
	}
	im.res.Changed = true
	im.log("info", "entry updated", e, map[string]any{"identifiers": ids, "action": ActionUpdate, "pk": key, "changes": changes})
}

// modelMetaApply is authentik's entry that applies another blueprint.
const modelMetaApply = "authentik_blueprints.metaapplyblueprint"

// meta applies the blueprint a metaapplyblueprint entry names, from
// Options.Dir: by its path there (identifier path) or by its
// metadata.name (identifier name), in the same transaction. Not found is
// an error unless the entry says required: false, which makes it a
// warning.
func (im *importer) meta(e *Entry, attrs map[string]any) {
	required := true
	if r, ok := attrs["required"]; ok {
		required = truthy(r)
	}
	ids, _ := attrs["identifiers"].(map[string]any)
	bp, where, err := im.findBlueprint(ids)
	if err == nil && bp == nil {
		err = fmt.Errorf("no blueprint in %s has %s", where, describe(ids))
	}
	if err != nil {
		if required {
			im.fail(e, ids, err)
			return
		}
		im.log("warning", "blueprint not applied", e, map[string]any{"identifiers": ids, "action": ActionSkipped,
			"message": err.Error() + "; it is not required"})
		return
	}
	if im.depth >= maxMetaDepth {
		im.fail(e, ids, fmt.Errorf("blueprints apply each other more than %d deep", maxMetaDepth))
		return
	}
	sub := newImporter(im.tx, bp, im.opts)
	sub.depth, sub.budget, sub.pw = im.depth+1, im.budget, im.pw
	sub.res.Logs = im.res.Logs
	res := sub.apply()
	im.budget = sub.budget
	im.res.Logs = res.Logs
	im.res.Success = im.res.Success && res.Success
	im.res.Changed = im.res.Changed || res.Changed
	im.log("info", "blueprint applied", e, map[string]any{"identifiers": ids, "action": ActionUnchanged,
		"blueprint": bp.Metadata.Name, "success": res.Success})
}

// maxMetaDepth bounds blueprints that apply blueprints (a cycle ends
// there with an error).
const maxMetaDepth = 8

func describe(ids map[string]any) string {
	if p, ok := ids["path"]; ok {
		return "path " + str(p)
	}
	return "name " + str(ids["name"])
}

// findBlueprint reads the blueprint that a meta entry's identifiers name.
func (im *importer) findBlueprint(ids map[string]any) (*Blueprint, string, error) {
	dir := im.opts.Dir
	if dir == "" {
		return nil, "", fmt.Errorf("there is no blueprint directory to find %s in", describe(ids))
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, dir, err
	}
	defer root.Close()
	read := func(path string) (*Blueprint, error) {
		f, err := root.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return Parse(f, im.opts.Limits)
	}
	if p, ok := ids["path"]; ok {
		path := str(p)
		if filepath.IsAbs(path) || !filepath.IsLocal(path) {
			return nil, dir, fmt.Errorf("path %q must be relative and stay inside the blueprint directory", path)
		}
		bp, err := read(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, dir, nil
		}
		return bp, dir, err
	}
	name, ok := ids["name"]
	if !ok {
		return nil, dir, fmt.Errorf("a blueprint is named by its path or its name")
	}
	var found *Blueprint
	n := 0
	err = fs.WalkDir(root.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != nil {
			return err
		}
		if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		if n++; n > maxBlueprintFiles {
			return fmt.Errorf("more than %d blueprint files in %s", maxBlueprintFiles, dir)
		}
		bp, err := read(path)
		if err == nil && bp.Metadata.Name == str(name) {
			found = bp
		}
		return nil // a file that is no blueprint is not this one
	})
	return found, dir, err
}

// maxBlueprintFiles bounds the files a search by name reads.
const maxBlueprintFiles = 1000

// mapping resolves an entry's identifiers or attrs.
func (im *importer) mapping(r *resolver, node *yaml.Node, what string) (map[string]any, error) {
	if node == nil {
		return map[string]any{}, nil
	}
	v, err := r.value(node)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	switch m := v.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return m, nil
	}
	return nil, fmt.Errorf("%s must be a mapping", what)
}

// handler is the registered handler of model, if any.
func (im *importer) handler(model string) (Handler, bool) {
	for m, h := range im.opts.Handlers {
		if strings.EqualFold(m, model) {
			return h, true
		}
	}
	return nil, false
}

// model checks and normalizes an entry's model: the app label as given,
// the model part in any case.
func (im *importer) model(name string) (string, error) {
	app, m, ok := strings.Cut(name, ".")
	if !ok {
		return "", fmt.Errorf("model %q is not <app>.<model>", name)
	}
	name = app + "." + strings.ToLower(m)
	if slices.Contains(notAllowed, name) {
		return "", fmt.Errorf("model %s is not allowed in a blueprint: name its kind", name)
	}
	if !im.known(name) {
		return "", fmt.Errorf("model %s is not one authflow holds, and no handler is registered for it", name)
	}
	return name, nil
}

// known reports whether the store holds model (a collection without
// kinds, or a kind), from the set read once per import.
func (im *importer) known(model string) bool {
	if im.models == nil {
		im.models = map[string]bool{}
		for _, c := range im.tx.Store().Collections() {
			if c.Kinds == nil {
				im.models[c.Model] = true
			}
			for _, k := range c.Kinds {
				im.models[k] = true
			}
		}
	}
	return im.models[model]
}

// givenPK is the entry's pk identifier, if it has one: the pk its
// object has, or is created with. One that is not a UUID is a field error
// on pk.
func givenPK(ids map[string]any) (uuid.UUID, bool, error) {
	v, ok := ids["pk"]
	if !ok {
		return uuid.Nil, false, nil
	}
	s := str(v)
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, false, &validate.Error{Fields: map[string][]string{"pk": {validate.InvalidUUID(s)}}}
	}
	return id, true, nil
}

// match finds the object the identifiers name: its pk, or else all the
// other identifiers together. When there is none, pk is the pk identifier
// (uuid.Nil without one), which a create gives the new object. A user's
// pk identifier is its number (a user entry does not create a user with
// one: the store numbers users).
func (im *importer) match(model string, ids map[string]any) (pk uuid.UUID, found bool, err error) {
	var id uuid.UUID
	if model == store.ModelUser {
		if v, ok := ids["pk"]; ok {
			n, err := userNumber(v)
			if err != nil {
				return uuid.Nil, false, err
			}
			id, err := im.tx.Lookup(model, store.By("pk", strconv.FormatInt(n, 10)))
			if err == nil {
				return id, true, nil
			} else if !errors.Is(err, store.ErrNotFound) {
				return uuid.Nil, false, err
			}
		}
	} else {
		given, ok, err := givenPK(ids)
		if err != nil {
			return uuid.Nil, false, err
		}
		if ok {
			if _, err := im.tx.Get(model, given); err == nil {
				return given, true, nil
			} else if !errors.Is(err, store.ErrNotFound) {
				return uuid.Nil, false, err
			}
		}
		id = given
	}
	rest := map[string]any{}
	for k, v := range ids {
		if k != "pk" {
			rest[k] = v
		}
	}
	if len(rest) > 0 {
		if pk, found, err := im.tx.Find(model, rest); err != nil || found {
			return pk, found, err
		}
	}
	return id, false, nil
}

// writeOptions are the options of the import's writes: its actor.
func (im *importer) writeOptions() *store.WriteOptions {
	return &store.WriteOptions{Actor: im.opts.Actor}
}

// write patches the object with pk (found), or creates one: with pk, when
// it is not uuid.Nil (the entry's pk identifier), or else with a new pk.
// Attrs the model does not have are left out with a warning (or, strict,
// an error).
func (im *importer) write(model string, pk uuid.UUID, found bool, body map[string]any) (uuid.UUID, []string, error) {
	var warnings []string
	for {
		raw, err := json.Marshal(body)
		if err != nil {
			return uuid.Nil, nil, err
		}
		switch {
		case found:
			err = im.tx.Patch(model, pk, raw, im.writeOptions())
		case pk != uuid.Nil:
			err = im.tx.CreateWithPK(model, pk, raw, im.writeOptions())
		default:
			pk, err = im.tx.Create(model, raw, im.writeOptions())
		}
		var ve *validate.Error
		if err == nil || im.opts.Strict || !errors.As(err, &ve) {
			return pk, warnings, err
		}
		unknown := false
		for f, msgs := range ve.Fields {
			if slices.Equal(msgs, []string{validate.MsgUnknownField}) {
				if _, ok := body[f]; ok {
					delete(body, f)
					warnings = append(warnings, f)
					unknown = true
				}
			}
		}
		if !unknown {
			return pk, warnings, err
		}
	}
}

// remember records the entry's object for !KeyOf, and, when its pk is not
// the entry's pk identifier as written (another spelling, or an object
// matched by its other identifiers), the rewrite of that identifier to its
// pk in later entries, as authentik's importer does. It returns the
// object's key: what !KeyOf gives and the log shows (a user's number,
// another object's UUID text).
func (im *importer) remember(e *Entry, ids map[string]any, model string, pk uuid.UUID) (any, error) {
	key, err := im.keyValue(model, pk)
	if err != nil {
		return nil, err
	}
	if e.ID != "" {
		im.ids[e.ID] = key
	}
	if v, ok := ids["pk"]; ok && model != store.ModelUser && str(v) != pk.String() {
		im.pks[str(v)] = pk.String()
	}
	return key, nil
}

// warnExpression logs a warning for each construct of the stored
// expression policy pk that Options.CheckExpression names.
func (im *importer) warnExpression(e *Entry, ids map[string]any, pk uuid.UUID) error {
	v, err := im.representation(string(policy.ModelExpression), pk)
	if err != nil {
		return err
	}
	src, _ := v["expression"].(string)
	for _, p := range im.opts.CheckExpression(src) {
		im.log("warning", EventExpressionCannotRun, e, map[string]any{"identifiers": ids, "policy": v["name"],
			"line": p.Line, "construct": p.Construct, "message": p.Message})
	}
	return nil
}

// warnPrompt logs a warning for each construct of the stored prompt
// pk's expressions that Options.CheckPromptExpression names.
func (im *importer) warnPrompt(e *Entry, ids map[string]any, pk uuid.UUID) error {
	v, err := im.representation(store.ModelPrompt, pk)
	if err != nil {
		return err
	}
	for _, field := range []string{"placeholder", "initial_value"} {
		if on, _ := v[field+"_expression"].(bool); !on {
			continue
		}
		src, _ := v[field].(string)
		for _, p := range im.opts.CheckPromptExpression(src) {
			im.log("warning", EventExpressionCannotRun, e, map[string]any{"identifiers": ids, "prompt": v["name"],
				"field": field, "line": p.Line, "construct": p.Construct, "message": p.Message})
		}
	}
	return nil
}

// representation is the object's API representation, as a map.
func (im *importer) representation(model string, pk uuid.UUID) (map[string]any, error) {
	v, err := im.tx.Get(model, pk)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	err = json.Unmarshal(b, &m)
	return m, err
}

// sameJSON reports whether a and b encode to the same JSON.
func sameJSON(a, b any) bool {
	aj, err := json.Marshal(a)
	if err != nil {
		return false
	}
	bj, err := json.Marshal(b)
	return err == nil && string(aj) == string(bj)
}

// diff lists the fields of body whose representation changed: old and
// new values, or for a field the representation does not show (a
// write-only secret), that it was written, without its value. A secret
// the representation shows (an SMS stage's auth, among secrets) is
// reported the same way, by that it changed, never by its values.
func diff(before, after, body map[string]any, secrets []string) map[string]any {
	out := map[string]any{}
	for f := range body {
		b, inB := before[f]
		a, inA := after[f]
		if !inB && !inA {
			out[f] = map[string]any{"secret": true}
			continue
		}
		if slices.Contains(secrets, f) {
			if !sameJSON(b, a) {
				out[f] = map[string]any{"secret": true}
			}
			continue
		}
		if !sameJSON(b, a) {
			out[f] = map[string]any{"old": b, "new": a}
		}
	}
	return out
}

// deepMerge merges src into dst (src wins), recursively for mappings.
func deepMerge(dst, src map[string]any) map[string]any {
	out := make(map[string]any, len(dst)+len(src))
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := out[k].(map[string]any); ok {
				out[k] = deepMerge(dm, sm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// The lookups of the tags.

func (im *importer) keyOf(id string) (any, error) {
	key, ok := im.ids[id]
	if !ok {
		return nil, fmt.Errorf("KeyOf: failed to find entry with `id` of `%s` and a model instance", id)
	}
	return key, nil
}

// find is !Find: the key of the first object that matches (a user's
// number, another object's UUID text), or nil.
func (im *importer) find(model string, conds map[string]any) (any, error) {
	m, err := im.model(model)
	if err != nil {
		return nil, fmt.Errorf("!Find: %w", err)
	}
	pk, ok, err := im.tx.Find(m, conds)
	if err != nil || !ok {
		return nil, err
	}
	return im.keyValue(m, pk)
}

func (im *importer) findObject(model string, conds map[string]any) (any, error) {
	m, err := im.model(model)
	if err != nil {
		return nil, fmt.Errorf("!FindObject: %w", err)
	}
	id, ok, err := im.tx.Find(m, conds)
	if err != nil || !ok {
		return nil, err
	}
	v, err := im.representation(m, id)
	if err != nil {
		return nil, err
	}
	return normalize(any(v)), nil
}

func (im *importer) context(key string) (any, bool) {
	v, ok := im.ctxVals[key]
	return v, ok
}

func (im *importer) env(name string) (string, bool, error) {
	allowed := false
	for _, p := range im.opts.EnvPrefixes {
		if strings.HasPrefix(name, p) {
			allowed = true
			break
		}
	}
	if !allowed {
		if len(im.opts.EnvPrefixes) == 0 {
			return "", false, fmt.Errorf("!Env %q is not allowed here: the host allows no environment variable", name)
		}
		return "", false, fmt.Errorf("!Env %q is not allowed here: the host allows the variables whose names start with one of %q",
			name, im.opts.EnvPrefixes)
	}
	v, ok := os.LookupEnv(name)
	return v, ok, nil
}

func (im *importer) file(path string) (string, bool, error) {
	return readFile(im.opts.FileDir, path)
}

func (im *importer) rewrite(v string) string {
	if n, ok := im.pks[v]; ok {
		return n
	}
	return v
}
