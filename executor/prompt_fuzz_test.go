package executor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/authflow/authflow/validate"
)

// submitPrompt answers the first challenge of authentik's prompt stage
// setUp, in a new session, with body.
func submitPrompt(t testing.TB, h *harness, n *atomic.Int64, body []byte) (Response, error) {
	ctx := context.Background()
	req := Request{Session: fmt.Sprint("s", n.Add(1))}
	if _, err := h.e.Get(ctx, "f", req); err != nil {
		t.Fatal(err)
	}
	return h.e.Submit(ctx, "f", req, body)
}

// checkAnswer: a response is a challenge (with errors) or a pass; the
// only error is a body that is not JSON.
func checkAnswer(t testing.TB, body []byte, resp Response, err error) {
	t.Helper()
	switch {
	case err != nil:
		// Not JSON: malformed, not UTF-8, or a lone surrogate escape.
		notJSON := !json.Valid(body) || !utf8.Valid(body) || bytes.Contains(body, []byte(`\u`))
		if !errors.Is(err, validate.ErrSyntax) || !notJSON {
			t.Fatalf("%q: %v", truncate(body), err)
		}
	case resp.Reload:
	case resp.Challenge == nil:
		t.Fatalf("%q: no answer", truncate(body))
	default:
		raw, err := json.Marshal(resp.Challenge)
		if err != nil {
			t.Fatal(err)
		}
		checkChallenge(t, raw)
	}
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// Hostile prompt responses get a clean answer: thousands of keys, deep
// JSON in a prompt's value, huge strings.
func TestPromptHostileBodies(t *testing.T) {
	h := newHarness(t, flowDoc("f", "")+authentikPrompts+promptStage(authentikStage, ""))
	var n atomic.Int64
	var many strings.Builder
	many.WriteString(`{`)
	for i := range 20000 {
		fmt.Fprintf(&many, `"k%d":%d,`, i, i)
	}
	many.WriteString(`"text_prompt":"x"}`)
	deep := `{"text_prompt":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	huge := `{"text_prompt":"` + strings.Repeat("a", 2<<20) + `","number_prompt":"` + strings.Repeat("9", 2<<20) + `"}`
	for name, body := range map[string]string{"many keys": many.String(), "deep": deep, "huge": huge, "not json": `{"a":`} {
		t.Run(name, func(t *testing.T) {
			resp, err := submitPrompt(t, h, &n, []byte(body))
			checkAnswer(t, []byte(body), resp, err)
		})
	}
	resp, err := submitPrompt(t, h, &n, []byte(huge))
	if err != nil || resp.Challenge == nil {
		t.Fatalf("%+v %v", resp, err)
	}
	if got := resp.Challenge.envelope().ResponseErrors["number_prompt"]; len(got) != 1 || got[0].String != validate.MsgIntegerTooLarge {
		t.Errorf("number_prompt errors %v", got)
	}
}

func FuzzPromptResponse(f *testing.F) {
	h := newHarness(f, flowDoc("f", "")+authentikPrompts+promptStage(authentikStage, ""))
	var n atomic.Int64
	seed, _ := json.Marshal(authentikData())
	for _, s := range []string{string(seed), `{}`, `[]`, `null`, `{"number_prompt":1e999}`, `{"dropdown":{"a":[1]}}`,
		`{"password_prompt":"a","password2_prompt":"a "}`, `{"email_prompt":"\u0000"}`, `{"date":"2024-02-30"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := submitPrompt(t, h, &n, body)
		checkAnswer(t, body, resp, err)
	})
}
