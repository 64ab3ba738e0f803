package blueprint_test

import (
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
