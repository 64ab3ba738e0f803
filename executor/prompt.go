package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
)

// ComponentPrompt is the prompt stage's challenge.
const ComponentPrompt = "ak-stage-prompt"

// ContextPromptData is the plan context key of the values prompt stages
// collected, by field key: authentik's PLAN_CONTEXT_PROMPT.
const ContextPromptData = "prompt_data"

// Messages of the prompt stage, in authentik's and DRF's words.
const (
	// MsgPasswordsMismatch is the non-field error of a stage with exactly
	// two password prompts whose answers differ.
	MsgPasswordsMismatch = "Passwords don't match."
	// MsgUsernameTaken is the error of a username prompt naming another
	// user's username.
	MsgUsernameTaken = "Username is already taken."
	// MsgInvalidScheme and MsgInvalidEncoding are the errors of a file
	// prompt whose value is not a data: URI, or not a base64 one.
	MsgInvalidScheme   = "Invalid scheme"
	MsgInvalidEncoding = "Invalid encoding"
	// MsgDate is DRF's DateField message for text it cannot read.
	MsgDate = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
)

// MaxFileLength bounds the value of a file prompt (its data: URI), in
// characters: a longer one fails with DRF's max_length message.
// authentik bounds it only by the size of the request.
const MaxFileLength = 4 << 20

// EventMessage is the action of an event holding a message authentik
// shows the user with Django's messages framework (level INFO): the
// messages of a prompt stage's validation policies when they pass.
const EventMessage = "message"

// PromptChallenge is the prompt stage's ak-stage-prompt: its prompts, by
// order.
type PromptChallenge struct {
	Envelope
	Fields []StagePrompt `json:"fields"`
}

// StagePrompt is one prompt of a PromptChallenge: authentik's
// StagePromptSerializer, with the placeholder, initial value and choices
// evaluated for the request.
type StagePrompt struct {
	FieldKey     string           `json:"field_key"`
	Label        string           `json:"label"`
	Type         stage.PromptType `json:"type"`
	Required     bool             `json:"required"`
	Placeholder  string           `json:"placeholder"`
	InitialValue string           `json:"initial_value"`
	Order        int32            `json:"order"`
	SubText      string           `json:"sub_text"`
	// Choices are a dropdown's or radio-button group's; nil (null) for
	// other types and for a choice prompt without choices.
	Choices []string `json:"choices"`
}

// promptHandler is authentik's prompt stage.
type promptHandler struct{}

// promptData is the context's prompt_data, nil when there is none.
func promptData(ctxm map[string]any) map[string]any {
	m, _ := ctxm[ContextPromptData].(map[string]any)
	return m
}

// prompts reads the stage's prompts, by order.
func (s *Step) prompts(ctx context.Context) (stage.PromptStage, []stage.Prompt, error) {
	cfg := s.Stage.Config.(stage.PromptStage)
	ps := make([]stage.Prompt, 0, len(cfg.Fields))
	err := s.ex.s.View(ctx, func(tx *store.Tx) error {
		for _, pk := range cfg.Fields {
			p, err := store.Prompts.Get(tx, store.PK(pk))
			if err != nil {
				return store.Dangling(err)
			}
			ps = append(ps, p)
		}
		return nil
	})
	slices.SortStableFunc(ps, func(a, b stage.Prompt) int { return int(a.Order) - int(b.Order) })
	return cfg, ps, err
}

// promptVars are what a prompt's expressions see: the pending user (the
// context's, else the request's), the HTTP request, and prompt_data.
func (s *Step) promptVars(data map[string]any) expression.PromptVars {
	v := expression.PromptVars{
		PendingUser: s.run.policyUser(s.Context), Directory: s.enrollDirectory(), PromptContext: data, HTTP: s.Request.HTTP,
	}
	if m, ok := s.Context[directory.ContextPendingUser].(map[string]any); ok {
		if _, ok := directory.ContextUserPK(m); !ok {
			v.User = m // a user not yet written
		}
	}
	return v
}

// evaluated is a prompt with its values for this request.
type evaluated struct {
	stage.Prompt
	placeholder, initial string
	choices              []string
}

func (s *Step) evaluate(ctx context.Context, ps []stage.Prompt) ([]evaluated, error) {
	vars := s.promptVars(promptData(s.Context))
	out := make([]evaluated, len(ps))
	for i, p := range ps {
		e := evaluated{Prompt: p}
		var err error
		if e.choices, err = expression.PromptChoices(ctx, p, vars, s.ex.expr); err != nil {
			return nil, err
		}
		if e.placeholder, err = expression.PromptValue(ctx, p, expression.PromptPlaceholder, vars, s.ex.expr); err != nil {
			return nil, err
		}
		if e.initial, err = expression.PromptValue(ctx, p, expression.PromptInitialValue, vars, s.ex.expr); err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

func (promptHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	_, ps, err := s.prompts(ctx)
	if err != nil {
		return Result{}, err
	}
	ev, err := s.evaluate(ctx, ps)
	if err != nil {
		return Result{}, err
	}
	c := &PromptChallenge{Envelope: s.Envelope(ComponentPrompt), Fields: make([]StagePrompt, len(ev))}
	for i, e := range ev {
		var choices []string
		if len(e.choices) > 0 {
			choices = e.choices
		}
		c.Fields[i] = StagePrompt{
			FieldKey: e.FieldKey, Label: e.Label, Type: e.Type, Required: e.Required, Placeholder: e.placeholder,
			InitialValue: e.initial, Order: e.Order, SubText: e.SubText, Choices: choices,
		}
	}
	return Show(c), nil
}

func (promptHandler) Respond(ctx context.Context, s *Step, body json.RawMessage) (Result, error) {
	obj, err := validate.Object(body)
	var verr *validate.Error
	switch {
	case errors.As(err, &verr):
		return Retry(verr), nil
	case err != nil:
		return Result{}, err
	}
	cfg, ps, err := s.prompts(ctx)
	if err != nil {
		return Result{}, err
	}
	ev, err := s.evaluate(ctx, ps)
	if err != nil {
		return Result{}, err
	}
	attrs := map[string]any{"component": ComponentPrompt}
	if raw, ok := obj["component"]; ok {
		var c string
		if json.Unmarshal(raw, &c) == nil && strings.TrimSpace(c) != "" {
			attrs["component"] = strings.TrimSpace(c)
		}
	}
	errs := &validate.Error{}
	for _, e := range ev {
		raw, present := obj[e.FieldKey]
		v, set, msgs := cleanPrompt(e, raw, present)
		if len(msgs) == 0 && set && e.Type == "username" {
			if msgs, err = s.usernameTaken(ctx, v.(string)); err != nil {
				return Result{}, err
			}
		}
		if len(msgs) > 0 {
			errs.Add(e.FieldKey, msgs...)
			continue
		}
		if set {
			attrs[e.FieldKey] = v
		}
	}
	if !errs.Empty() {
		return Retry(errs), nil
	}
	// The read-only types are forced to their defaults, "" without one.
	for _, e := range ev {
		switch e.Type {
		case "hidden", "static", "text_read_only", "text_area_read_only":
			d, _ := promptDefault(e)
			attrs[e.FieldKey] = d
		}
	}
	var pw []string
	for _, e := range ev {
		if e.Type == "password" {
			pw = append(pw, e.FieldKey)
		}
	}
	if len(pw) == 2 && !bytesEqualJSON(obj[pw[0]], obj[pw[1]]) {
		errs.AddNonField(MsgPasswordsMismatch)
		return Retry(errs), nil
	}
	if len(cfg.ValidationPolicies) > 0 {
		var res plan.Evaluation
		req := plan.Request{User: s.run.policyUser(s.Context), Context: map[string]any{ContextPromptData: attrs}, HTTP: s.Request.HTTP}
		err := s.ex.s.View(ctx, func(tx *store.Tx) error {
			var err error
			res, err = plan.EvaluatePolicies(ctx, tx, cfg.ValidationPolicies, req, s.ex.popts)
			return err
		})
		if err != nil {
			return Result{}, err
		}
		s.run.updates = append(s.run.updates, res.Updates...)
		if !res.Passing {
			for _, m := range res.Messages {
				errs.AddNonField(m)
			}
			return Retry(errs), nil
		}
		for _, m := range res.Messages {
			s.Event(EventMessage, m)
		}
	}
	data := promptData(s.Context)
	if data == nil {
		data = map[string]any{}
		s.Context[ContextPromptData] = data
	}
	for k, v := range attrs {
		data[k] = v
	}
	return Pass(), nil
}

// bytesEqualJSON compares two raw answers as Python compares the values
// json.loads gives: equal text, or equal after decoding.
func bytesEqualJSON(a, b json.RawMessage) bool {
	if string(a) == string(b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xs, ok1 := x.(string)
	ys, ok2 := y.(string)
	return ok1 && ok2 && xs == ys
}

// usernameTaken checks that no other user has the username: the
// pending user's own username is allowed when the pending user is
// stored.
func (s *Step) usernameTaken(ctx context.Context, name string) ([]string, error) {
	if m, ok := s.Context[directory.ContextPendingUser].(map[string]any); ok {
		if _, stored := directory.ContextUserPK(m); stored && m["username"] == name {
			return nil, nil
		}
	}
	_, err := s.enrollDirectory().FindUser(ctx, directory.Find{Identifier: name, Fields: []directory.Field{directory.FieldUsername}, CaseSensitive: true})
	switch {
	case errors.Is(err, directory.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return []string{MsgUsernameTaken}, nil
}

// promptDefault is the default of a prompt's field: its initial value
// when truthy, else a hidden or static prompt's placeholder; false when
// it has none.
func promptDefault(e evaluated) (string, bool) {
	if e.initial != "" {
		return e.initial, true
	}
	if e.Type == "hidden" || e.Type == "static" {
		return e.placeholder, true
	}
	return "", false
}

// cleanPrompt is DRF's run_validation of the field authentik builds for
// a prompt (Prompt.field): the value, whether it is set, or the field's
// errors.
func cleanPrompt(e evaluated, raw json.RawMessage, present bool) (any, bool, []string) {
	def, hasDef := promptDefault(e)
	required := e.Required && !hasDef
	switch e.Type {
	case "checkbox", "separator", "static":
		required = false
	case "hidden":
		return def, true, nil // a hidden field never reads the response
	}
	if !present {
		switch {
		case hasDef:
			return def, true, nil
		case required:
			return nil, false, []string{validate.MsgRequired}
		}
		return nil, false, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, false, []string{validate.MsgNotString}
	}
	if v == nil {
		return nil, false, []string{validate.MsgNull}
	}
	switch e.Type {
	case "dropdown", "radio-button-group":
		in := pyStr(v, raw)
		if slices.Contains(e.choices, in) {
			return in, true, nil
		}
		return nil, false, []string{validate.InvalidChoice(in)}
	case "checkbox":
		return cleanBool(v)
	case "number":
		return cleanInt(v, raw)
	case "date":
		s, ok := v.(string)
		if !ok {
			return nil, false, []string{MsgDate}
		}
		d, ok := parseDate(s)
		if !ok {
			return nil, false, []string{MsgDate}
		}
		return d, true, nil
	case "date-time":
		s, ok := v.(string)
		if !ok {
			return nil, false, []string{validate.MsgDateTime}
		}
		t, ok := validate.ParseDateTime(s)
		if !ok {
			return nil, false, []string{validate.MsgDateTime}
		}
		return validate.FormatDateTime(t), true, nil
	}
	// A CharField: text and text_area keep whitespace and allow blank
	// when optional; email and ak-locale allow blank (email when
	// optional); the others trim and refuse blank.
	trim := e.Type != "text" && e.Type != "text_area"
	allowBlank := false
	switch e.Type {
	case "text", "text_area", "email":
		allowBlank = !e.Required
	case "ak-locale":
		allowBlank = true
	}
	switch v.(type) {
	case string, float64:
	default:
		return nil, false, []string{validate.MsgNotString}
	}
	s := pyStr(v, raw)
	if s == "" || (trim && strings.TrimSpace(s) == "") {
		if !allowBlank {
			return nil, false, []string{validate.MsgBlank}
		}
		return "", true, nil
	}
	if trim {
		s = strings.TrimSpace(s)
	}
	if e.Type == "file" {
		// InlineFileField checks the URI before the validators run.
		if n := len([]rune(s)); n > MaxFileLength {
			return nil, false, []string{validate.MaxLength(MaxFileLength)}
		}
		if msg := checkDataURI(s); msg != "" {
			return nil, false, []string{msg}
		}
	}
	// The validators all run, in DRF's order.
	var msgs []string
	if strings.ContainsRune(s, 0) {
		msgs = append(msgs, validate.MsgNullCharacters)
	}
	if e.Type == "email" && validate.Email.Validate(s) != nil {
		msgs = append(msgs, validate.MsgEmail)
	}
	if msgs != nil {
		return nil, false, msgs
	}
	return s, true, nil
}

// checkDataURI is authentik's InlineFileField: a data: URI whose media
// type ends in ";base64". A data: URI without a comma, which authentik
// fails on with a server error, is MsgInvalidEncoding.
func checkDataURI(s string) string {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || !validScheme(scheme) || !strings.EqualFold(scheme, "data") {
		return MsgInvalidScheme
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	header, _, ok := strings.Cut(rest, ",")
	if !ok {
		return MsgInvalidEncoding
	}
	if _, enc, _ := strings.Cut(header, ";"); enc != "base64" {
		return MsgInvalidEncoding
	}
	return ""
}

// validScheme is a URL scheme as Python's urlparse reads one.
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r < unicode.MaxASCII && (unicode.IsLetter(r) || (i > 0 && (unicode.IsDigit(r) || r == '+' || r == '-' || r == '.')))
		if !ok {
			return false
		}
	}
	return true
}

// pyStr is Python's str() of a JSON value as json.loads gives it: an
// integer literal stays as written, a float as Python's repr.
func pyStr(v any, raw json.RawMessage) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		lit := strings.TrimSpace(string(raw))
		if !strings.ContainsAny(lit, ".eE") {
			return strings.TrimPrefix(lit, "+")
		}
		return validate.PyFloat(x)
	case nil:
		return "None"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// DRF's BooleanField values.
var (
	trueStrings  = []string{"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1"}
	falseStrings = []string{"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0"}
)

func cleanBool(v any) (any, bool, []string) {
	switch x := v.(type) {
	case bool:
		return x, true, nil
	case float64:
		switch x {
		case 1:
			return true, true, nil
		case 0:
			return false, true, nil
		}
	case string:
		switch {
		case slices.Contains(trueStrings, x):
			return true, true, nil
		case slices.Contains(falseStrings, x):
			return false, true, nil
		}
	}
	return nil, false, []string{validate.MsgBoolean}
}

// reDecimal is DRF's IntegerField.re_decimal: a trailing ".000".
var reDecimal = regexp.MustCompile(`\.0*\s*$`)

// cleanInt is DRF's IntegerField, bounded to 64 bits.
func cleanInt(v any, raw json.RawMessage) (any, bool, []string) {
	var s string
	switch x := v.(type) {
	case string:
		if len([]rune(x)) > 1000 {
			return nil, false, []string{validate.MsgIntegerTooLarge}
		}
		s = x
	case float64:
		s = pyStr(x, raw)
	default:
		return nil, false, []string{validate.MsgInteger}
	}
	s = strings.TrimSpace(reDecimal.ReplaceAllString(s, ""))
	s = strings.TrimPrefix(s, "+")
	if strings.Contains(s, "_") {
		// Python's int() takes single underscores between digits.
		if strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") || strings.HasPrefix(s, "-_") {
			return nil, false, []string{validate.MsgInteger}
		}
		s = strings.ReplaceAll(s, "_", "")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, false, []string{validate.MsgInteger}
	}
	return n, true, nil
}

// reDate is Django's date_re.
var reDate = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)

// parseDate reads a date as DRF's DateField does (Django's parse_date):
// YYYY-MM-DD, YYYY-M-D or YYYYMMDD; the date as YYYY-MM-DD.
func parseDate(s string) (string, bool) {
	var y, m, d int
	if sm := reDate.FindStringSubmatch(s); sm != nil {
		y, _ = strconv.Atoi(sm[1])
		m, _ = strconv.Atoi(sm[2])
		d, _ = strconv.Atoi(sm[3])
	} else if len(s) == 8 && strings.Trim(s, "0123456789") == "" {
		y, _ = strconv.Atoi(s[:4])
		m, _ = strconv.Atoi(s[4:6])
		d, _ = strconv.Atoi(s[6:])
	} else {
		return "", false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y < 1 || t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return "", false
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, m, d), true
}
