package executor

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

// Messages of the built-in stages, in authentik's words.
const (
	// MsgDummyError is the error of a dummy stage with throw_error.
	MsgDummyError = "Test error"
	// MsgRedirectNoTarget is the error_message of a redirect stage
	// without a target.
	MsgRedirectNoTarget = "No target found for Redirect stage. The stage's target_flow may have been deleted."
)

// Context keys the built-in stages read.
const (
	// ContextDenyMessage overrides a deny stage's message.
	ContextDenyMessage = "deny_message"
	// ContextRedirectTarget overrides a redirect stage's target: a URL,
	// or ak-flow://<slug> for a flow.
	ContextRedirectTarget = "redirect_stage_target"
	// ContextIsRedirected is set in the context of a flow a redirect
	// stage switched to: the pk of the flow it came from.
	ContextIsRedirected = "is_redirected"
)

// dummyHandler is authentik's dummy stage: ak-stage-dummy with the
// stage's name; any response passes. With throw_error its challenge
// fails (ak-stage-flow-error).
type dummyHandler struct{}

func (dummyHandler) Challenge(_ context.Context, s *Step) (Result, error) {
	if s.Stage.Config.(stage.Dummy).ThrowError {
		return Result{}, errors.New(MsgDummyError)
	}
	return Show(&DummyChallenge{Envelope: s.Envelope(ComponentDummy), Name: s.Stage.Name}), nil
}

func (dummyHandler) Respond(context.Context, *Step, json.RawMessage) (Result, error) {
	return Pass(), nil
}

// denyHandler is authentik's deny stage: stage_invalid with the
// context's deny_message, else the stage's.
type denyHandler struct{}

func (denyHandler) deny(s *Step) (Result, error) {
	msg, ok := s.Context[ContextDenyMessage].(string)
	if !ok {
		msg = s.Stage.Config.(stage.Deny).DenyMessage
	}
	return Invalid(msg), nil
}

func (d denyHandler) Challenge(_ context.Context, s *Step) (Result, error) { return d.deny(s) }

func (d denyHandler) Respond(_ context.Context, s *Step, _ json.RawMessage) (Result, error) {
	return d.deny(s)
}

// redirectResponse is the redirect challenge's response: {"to": ...}.
type redirectResponse struct {
	To string `json:"to" af:"required"`
}

// respondRedirect checks a response to a redirect challenge: to is
// required and not blank.
func respondRedirect(body json.RawMessage) (Result, error) {
	_, verr, err := DecodeResponse[redirectResponse](body)
	switch {
	case err != nil:
		return Result{}, err
	case verr != nil:
		return Retry(verr), nil
	}
	return Pass(), nil
}

// redirectHandler is authentik's redirect stage: xak-flow-redirect to
// the context's redirect_stage_target, else to the stage's static URL or
// flow. A flow target is planned now, with the context (keep_context)
// or an empty one, and is_redirected; its execution replaces this one.
type redirectHandler struct{}

func (redirectHandler) Challenge(ctx context.Context, s *Step) (Result, error) {
	cfg := s.Stage.Config.(stage.Redirect)
	var (
		to     string
		target *flow.Flow
	)
	if t, _ := s.Context[ContextRedirectTarget].(string); t != "" {
		if u, err := url.Parse(t); err == nil && u.Scheme == "ak-flow" {
			f, err := s.flowBy(ctx, store.By("slug", u.Host))
			if err != nil {
				return Result{}, err
			}
			target = f
		} else {
			to = t
		}
	}
	if to == "" && target == nil {
		switch cfg.Mode {
		case stage.RedirectStatic:
			to = cfg.TargetStatic
		case stage.RedirectFlow:
			if cfg.TargetFlow != nil {
				f, err := s.flowBy(ctx, store.PK(*cfg.TargetFlow))
				if err != nil {
					return Result{}, err
				}
				target = f
			}
		}
	}
	if target != nil {
		var ok bool
		var err error
		to, ok, err = s.run.switchTo(*target, cfg.KeepContext)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			return Invalid(""), nil
		}
	}
	if to == "" {
		return Invalid(MsgRedirectNoTarget), nil
	}
	return Show(&Redirect{Envelope: s.Envelope(ComponentRedirect), To: to}), nil
}

func (redirectHandler) Respond(_ context.Context, _ *Step, body json.RawMessage) (Result, error) {
	return respondRedirect(body)
}

// flowBy reads a flow; nil when there is none.
func (s *Step) flowBy(ctx context.Context, k store.Key) (*flow.Flow, error) {
	var f flow.Flow
	err := s.ex.s.View(ctx, func(tx *store.Tx) error {
		var err error
		f, err = store.Flows.Get(tx, k)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// memRedirect is the stage a policy inserted with flow_plan.redirect:
// xak-flow-redirect to its URL.
type memRedirect struct{ to string }

func (m memRedirect) Challenge(_ context.Context, s *Step) (Result, error) {
	return Show(&Redirect{Envelope: s.Envelope(ComponentRedirect), To: m.to}), nil
}

func (memRedirect) Respond(_ context.Context, _ *Step, body json.RawMessage) (Result, error) {
	return respondRedirect(body)
}

// switchTo replaces the execution by one of target, planned now with the
// context (keep) or an empty one, and is_redirected, and returns the URL
// of the target's page; false when the target is denied.
func (r *run) switchTo(target flow.Flow, keep bool) (string, bool, error) {
	ctxm := map[string]any{}
	if keep {
		ctxm = r.ex.Context
	}
	ctxm[ContextIsRedirected] = r.f.PK.String()
	p, err := r.e.cache.Make(r.ctx, target.Slug, plan.Request{User: r.req.User, Context: ctxm, HTTP: r.req.HTTP})
	switch {
	case errors.Is(err, plan.ErrEmptyFlow):
		p = plan.Plan{Applicable: true}
	case err != nil:
		return "", false, err
	case !p.Applicable:
		return "", false, nil
	}
	x := &execution{Flow: target.PK, Stages: p.Stages, Context: ctxm, Query: r.ex.Query}
	r.updates = append(r.updates, p.Updates...)
	to := "/if/flow/" + url.PathEscape(target.Slug) + "/"
	if r.ex.Query != "" {
		to += "?" + r.ex.Query
	}
	if target.Slug == r.f.Slug {
		// A flow that redirects to itself starts over in its own record.
		r.ex, r.restarted = x, true
		return to, true, nil
	}
	data, err := x.encode()
	if err != nil {
		return "", false, err
	}
	key := ExecutionKey(r.req.Session, target.Slug)
	if err := r.e.rs.Delete(r.ctx, Executions, key); err != nil {
		return "", false, err
	}
	if _, err := r.e.rs.Save(r.ctx, Executions, key, Record{Data: data, Expires: r.e.now().Add(r.e.ttl)}); err != nil {
		return "", false, err
	}
	r.switched = true
	return to, true, nil
}
