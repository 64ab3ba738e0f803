package blueprint_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
)

// A password written unquoted after "*" is a YAML alias: the document
// is refused without naming the alias, which is the password (the YAML
// parser's message quoted it).
func TestParseUnknownAnchorQuotesNothing(t *testing.T) {
	doc := "version: 1\nentries:\n- model: authentik_core.user\n  identifiers: {username: a}\n  attrs: {password: *hunter2}\n"
	_, err := blueprint.Parse(strings.NewReader(doc), blueprint.Limits{})
	if !errors.Is(err, blueprint.ErrInvalid) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Parse: %v", err)
	}
	if err != nil && !strings.Contains(err.Error(), "unknown anchor") {
		t.Errorf("Parse: %v, want it to say an alias names an unknown anchor", err)
	}
}

// A password under a YAML type tag it does not fit (!!int, !!float,
// !!bool) fails its entry without the YAML decoder's message, which
// quoted the value.
func TestTaggedScalarQuotesNothing(t *testing.T) {
	for _, tag := range []string{"!!int", "!!float", "!!bool"} {
		s := newStore(t)
		doc := "version: 1\nentries:\n- model: authentik_core.user\n  identifiers: {username: a}\n  attrs: {name: a, password: " + tag + " hunter2}\n"
		res, err := blueprint.Load(context.Background(), s, strings.NewReader(doc), blueprint.Options{})
		b, _ := json.Marshal(res)
		if err == nil || res.Success || strings.Contains(string(b)+err.Error(), "hunter2") {
			t.Errorf("%s: %v %s", tag, err, b)
		}
		if !strings.Contains(string(b), "line 5: the "+tag+" scalar is not one") {
			t.Errorf("%s: the log does not say what failed: %s", tag, b)
		}
	}
}
