package executor

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
	"github.com/google/uuid"
)

// Flow tokens (authentik's FlowToken, EXECUTOR.md §2.13): an execution
// suspended into the run state's FlowTokens namespace, restored by a
// request whose query carries flow_token=<key>, in any session.
const (
	// QueryFlowToken is the query parameter that restores a flow token.
	QueryFlowToken = "flow_token"
	// ContextIsRestored is set in the context of an execution restored
	// from a flow token: a map with the token's "identifier", its "user"
	// (a pk, when it has one) and "token", the SHA-256 of its key (never
	// the key).
	ContextIsRestored = "is_restored"
	// FlowTokenKeyLength is the length of a flow token's key: authentik's
	// default token key, 60 letters and digits.
	FlowTokenKeyLength = 60
)

// FlowToken describes a flow token to issue.
type FlowToken struct {
	// Identifier names the token (authentik's Token.identifier); it is
	// not secret.
	Identifier string
	// User is the pk of the token's user, 0 for none.
	User int64
	// Expires is when the token stops working.
	Expires time.Time
	// RevokeOnExecution removes the token when it restores an execution
	// (authentik's default); false keeps it until it expires or a stage
	// removes it (the email stage's link).
	RevokeOnExecution bool
}

// tokenRecord is a flow token as the run state keeps it, under the
// SHA-256 of its key.
type tokenRecord struct {
	Flow       uuid.UUID `json:"flow"`
	User       int64     `json:"user,omitempty"`
	Identifier string    `json:"identifier"`
	Revoke     bool      `json:"revoke_on_execution"`
	// Plan is the encoded execution.
	Plan []byte `json:"plan"`
}

// tokenHash is the run state key of a flow token's key.
func tokenHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newTokenKey returns FlowTokenKeyLength random letters and digits.
func newTokenKey() string {
	b := make([]byte, FlowTokenKeyLength)
	out := make([]byte, 0, FlowTokenKeyLength)
	for len(out) < FlowTokenKeyLength {
		_, _ = rand.Read(b)
		for _, c := range b {
			// 248 is the largest multiple of 62 below 256: no bias.
			if c < 248 && len(out) < FlowTokenKeyLength {
				out = append(out, tokenAlphabet[c%62])
			}
		}
	}
	return string(out)
}

// suspend keeps x, an execution of flow f, as a flow token and returns
// the token's key. The key is kept nowhere: the run state holds its
// SHA-256 only.
func (e *Executor) suspend(ctx context.Context, f flow.Flow, x *execution, t FlowToken) (string, error) {
	data, err := x.encode()
	if err != nil {
		return "", err
	}
	rec, err := json.Marshal(tokenRecord{Flow: f.PK, User: t.User, Identifier: t.Identifier, Revoke: t.RevokeOnExecution, Plan: data})
	if err != nil {
		return "", err
	}
	key := newTokenKey()
	if _, err := e.rs.Save(ctx, FlowTokens, tokenHash(key), Record{Data: rec, Expires: t.Expires}); err != nil {
		return "", fmt.Errorf("executor: saving flow token %q: %w", t.Identifier, err)
	}
	return key, nil
}

// Suspend keeps the session's execution of the flow with slug, as it
// stands, as a flow token, and returns its key: a request of any
// session whose query carries flow_token=<key> continues it (as
// authentik's admin recovery link does). It fails with ErrNotFound when
// the session has no execution of the flow (ErrExpired when it expired),
// and with an error wrapping
// ErrInvalid when t.Expires is not in the future.
func (e *Executor) Suspend(ctx context.Context, slug string, session string, t FlowToken) (string, error) {
	rec, err := e.rs.Load(ctx, Executions, ExecutionKey(session, slug))
	if err != nil {
		return "", err
	}
	x, err := decodeExecution(rec.Data)
	if err != nil {
		return "", err
	}
	var f flow.Flow
	f.PK = x.Flow
	return e.suspend(ctx, f, x, t)
}

// flowTokenParam is the flow_token of a query string, "" when none.
func flowTokenParam(query string) string {
	if !strings.Contains(query, QueryFlowToken) {
		return ""
	}
	q, _ := url.ParseQuery(query)
	return q.Get(QueryFlowToken)
}

// restoreToken replaces the execution by the one the flow token key
// holds (authentik's _check_flow_token): an unknown, used or expired
// token changes nothing, and the request continues the session's
// execution or starts a new one. A token of another flow is revoked as
// authentik revokes it, but its plan is not restored: the session's
// execution of this flow is kept (authentik cancels it). A token that
// is kept after restoring (revoke_on_execution false) is not restored
// again over the execution it restored, which has moved on.
func (r *run) restoreToken(key string) error {
	hk := tokenHash(key)
	if r.ex != nil {
		if m, ok := r.ex.Context[ContextIsRestored].(map[string]any); ok && m["token"] == hk {
			return nil
		}
	}
	rec, err := r.e.rs.Load(r.ctx, FlowTokens, hk)
	switch {
	case errors.Is(err, ErrExpired):
		// authentik deletes expired tokens on the way.
		return r.e.rs.Delete(r.ctx, FlowTokens, hk)
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	var t tokenRecord
	if err := json.Unmarshal(rec.Data, &t); err != nil {
		return r.e.rs.Delete(r.ctx, FlowTokens, hk)
	}
	if t.Revoke {
		// Of two requests racing on one token, one restores it.
		if _, err := r.e.rs.Take(r.ctx, FlowTokens, hk); errors.Is(err, ErrNotFound) || errors.Is(err, ErrExpired) {
			return nil
		} else if err != nil {
			return err
		}
	}
	x, err := decodeExecution(t.Plan)
	if err != nil || t.Flow != r.f.PK {
		return nil
	}
	restored := map[string]any{"identifier": t.Identifier, "token": hk}
	if t.User != 0 {
		restored["user"] = t.User
	}
	x.Context[ContextIsRestored] = restored
	x.Shown = ""
	r.ex, r.expired = x, false
	return nil
}

// restoredToken is the run state key (SHA-256) of the flow token the
// context was restored from, and the token's user; false when it was
// not restored.
func restoredToken(ctxm map[string]any) (hash string, user int64, ok bool) {
	m, ok := ctxm[ContextIsRestored].(map[string]any)
	if !ok {
		return "", 0, false
	}
	hash, _ = m["token"].(string)
	switch n := m["user"].(type) {
	case int64:
		user = n
	case float64:
		user = int64(n)
	}
	return hash, user, hash != ""
}

// copyExecution is a deep copy of x (its context through JSON, as the
// record keeps it).
func copyExecution(x *execution) (*execution, error) {
	data, err := x.encode()
	if err != nil {
		return nil, err
	}
	return decodeExecution(data)
}

// inMemoryStage is a plan entry of a stage that exists only in the
// plan, handled by h (authentik's in_memory_stage).
func inMemoryStage(name, marker string) plan.Stage {
	return plan.Stage{Name: name, Marker: plan.MarkerStage, Redirect: marker}
}
