package executor

import (
	"container/list"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// ErrNoPlan: the session has neither an execution of the flow nor a
// history of one (the inspector's 400, "No flow plan in session.").
var ErrNoPlan = errors.New("executor: no flow plan in session")

// Bounds of the inspector's history, which the executor keeps in memory.
const (
	// HistoryPlans bounds the plans kept per session and flow; older
	// ones are dropped first.
	HistoryPlans = 32
	// HistoryKeys bounds the sessions and flows with a history; the one
	// least recently written is dropped first.
	HistoryKeys = 10000
)

// Inspection is authentik's FlowInspection: the plans the session's
// execution of a flow passed through, one per stage passed, and its
// current plan (or, when the execution has ended, the last of the
// history, with IsCompleted).
type Inspection struct {
	Plans       []InspectorPlan `json:"plans"`
	CurrentPlan *InspectorPlan  `json:"current_plan,omitempty"`
	IsCompleted bool            `json:"is_completed"`
}

// InspectorPlan is authentik's FlowInspectorPlan: a plan's current and
// next stage as flow stage bindings, its context sanitized, and the
// session's id hashed.
type InspectorPlan struct {
	// CurrentStage is the plan's first binding, as the API renders it.
	CurrentStage json.RawMessage `json:"current_stage"`
	// NextPlannedStage is its second, or, with fewer than two, the
	// binding serializer's empty representation.
	NextPlannedStage json.RawMessage `json:"next_planned_stage"`
	// PlanContext is the context, sanitized (see Inspect).
	PlanContext map[string]any `json:"plan_context"`
	// SessionID is the hex SHA-256 of the session id.
	SessionID string `json:"session_id"`
}

// emptyBinding is DRF's FlowStageBindingSerializer().data: the writable
// fields' initial values (authentik's next_planned_stage of a plan of one
// stage).
var emptyBinding = json.RawMessage(`{"target":null,"stage":null,"evaluate_on_plan":false,"re_evaluate_policies":false,"order":null,"policy_engine_mode":null,"invalid_response_action":null}`)

// history keeps, per execution key, the executions that passed a
// stage, in memory, bounded by HistoryKeys and HistoryPlans.
type history struct {
	mu  sync.Mutex
	m   map[string]*list.Element
	lru *list.List // of *histEntry, most recent at the front
}

type histEntry struct {
	key   string
	plans []histPlan
}

// histPlan is an execution as it was before its stage was popped, kept
// unencoded (encoding it is left to Inspect): its stages shared, clipped
// (a request never writes to its stages in place, see keptStages), its
// context as encoded for its save (never modified).
type histPlan struct {
	flow         uuid.UUID
	stages       []plan.Stage
	query, shown string
	ctxJSON      []byte
}

// histFirstPlans is the room a key's history starts with: the passes of
// a login (identification, password, validation) without a reallocation.
const histFirstPlans = 4

func newHistory() *history { return &history{m: map[string]*list.Element{}, lru: list.New()} }

// add appends x, as it is before its stage is popped, with its context
// encoded as ctxJSON, to key's history.
func (h *history) add(key string, x *execution, ctxJSON []byte) {
	p := planOf(x)
	p.ctxJSON = ctxJSON
	h.addPlan(key, p)
}

// planOf is x as its history keeps it, its context left out.
func planOf(x *execution) histPlan {
	return histPlan{flow: x.Flow, stages: slices.Clip(x.Stages), query: x.Query, shown: x.Shown}
}

// addPlan appends p to key's history.
func (h *history) addPlan(key string, p histPlan) {
	h.mu.Lock()
	defer h.mu.Unlock()
	el, ok := h.m[key]
	switch {
	case ok:
		h.lru.MoveToFront(el)
	case h.lru.Len() >= HistoryKeys:
		// The key least recently written is dropped: its entry, list
		// element and plans are the new key's (get returns copies).
		el = h.lru.Back()
		h.lru.MoveToFront(el)
		e := el.Value.(*histEntry)
		delete(h.m, e.key)
		clear(e.plans)
		e.key, e.plans = key, e.plans[:0]
		h.m[key] = el
	default:
		el = h.lru.PushFront(&histEntry{key: key, plans: make([]histPlan, 0, histFirstPlans)})
		h.m[key] = el
	}
	e := el.Value.(*histEntry)
	e.plans = append(e.plans, p)
	if len(e.plans) > HistoryPlans {
		e.plans = append(e.plans[:0:0], e.plans[len(e.plans)-HistoryPlans:]...)
	}
}

// decode is p as decoding its encoding makes it.
func (p histPlan) decode() (*execution, error) {
	x := &execution{Flow: p.flow, Stages: p.stages, Query: p.query, Shown: p.shown}
	return decodeExecution(x.encodeWith(p.ctxJSON))
}

// get returns key's history, oldest first.
func (h *history) get(key string) []histPlan {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if el, ok := h.m[key]; ok {
		return slices.Clone(el.Value.(*histEntry).plans)
	}
	return nil
}

// clear drops key's history.
func (h *history) clear(key string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if el, ok := h.m[key]; ok {
		h.lru.Remove(el)
		delete(h.m, key)
	}
}

// Inspect returns the session's inspection of the flow with slug, as
// authentik's flow inspector shows it: the history of the session's
// execution of the flow (one plan per stage passed, kept in memory by
// this Executor, so not across a restart nor between replicas) and its
// current plan, else the last of the history with IsCompleted. It fails
// with ErrUnknownFlow for an unknown slug and ErrNoPlan when there is
// neither.
//
// The context is sanitized as authentik's sanitize_dict does (a user as
// {username, pk, email}), and, unlike authentik, which shows prompt_data
// in clear, every prompt_data value whose key holds "password" or
// "token", the consent stage's token and the invitation's pk are
// replaced by "********": secrets are never rendered.
func (e *Executor) Inspect(ctx context.Context, slug, session string) (Inspection, error) {
	if session == "" {
		return Inspection{}, ErrNoSession
	}
	var f flow.Flow
	err := e.s.View(ctx, func(tx *store.Tx) error {
		var err error
		f, err = store.Flows.Get(tx, store.By("slug", slug))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return Inspection{}, fmt.Errorf("%w: %q", ErrUnknownFlow, slug)
	}
	if err != nil {
		return Inspection{}, err
	}
	key := ExecutionKey(session, slug)
	sid := sumOf(session)
	sessionID := hex.EncodeToString(sid[:])
	var past []*execution
	for _, p := range e.hist.get(key) {
		if x, err := p.decode(); err == nil && x.Flow == f.PK {
			past = append(past, x)
		}
	}
	var current *execution
	rec, err := e.rs.Load(ctx, Executions, key)
	switch {
	case err == nil:
		if x, err := decodeExecution(rec.Data); err == nil && x.Flow == f.PK {
			current = x
		}
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrExpired):
	default:
		return Inspection{}, err
	}
	ins := Inspection{Plans: []InspectorPlan{}}
	err = e.s.View(ctx, func(tx *store.Tx) error {
		for _, x := range past {
			p, err := inspectorPlan(tx, x, sessionID)
			if err != nil {
				return err
			}
			ins.Plans = append(ins.Plans, p)
		}
		switch {
		case current != nil:
			p, err := inspectorPlan(tx, current, sessionID)
			if err != nil {
				return err
			}
			ins.CurrentPlan = &p
		case len(ins.Plans) > 0:
			p := ins.Plans[len(ins.Plans)-1]
			ins.CurrentPlan, ins.IsCompleted = &p, true
		}
		return nil
	})
	if err != nil {
		return Inspection{}, err
	}
	if ins.CurrentPlan == nil {
		return Inspection{}, ErrNoPlan
	}
	return ins, nil
}

// inspectorPlan renders x.
func inspectorPlan(tx *store.Tx, x *execution, sessionID string) (InspectorPlan, error) {
	p := InspectorPlan{NextPlannedStage: emptyBinding, PlanContext: sanitizeContext(x.Context), SessionID: sessionID}
	if len(x.Stages) == 0 {
		p.CurrentStage = emptyBinding
		return p, nil
	}
	var err error
	if p.CurrentStage, err = bindingJSON(tx, x.Stages[0]); err != nil {
		return p, err
	}
	if len(x.Stages) >= 2 {
		if p.NextPlannedStage, err = bindingJSON(tx, x.Stages[1]); err != nil {
			return p, err
		}
	}
	return p, nil
}

// bindingJSON renders a planned stage's binding as the API does; a stage
// a policy inserted, or whose binding was deleted since, as a binding of
// its order without a pk.
func bindingJSON(tx *store.Tx, st plan.Stage) (json.RawMessage, error) {
	v, err := store.Bindings.View(tx, store.PK(st.Binding))
	if errors.Is(err, store.ErrNotFound) || st.Redirect != "" {
		v = binding.View{Binding: binding.Binding{Order: st.Order, Stage: st.Stage}}
	} else if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// redacted replaces a secret in a rendering.
const redacted = "********"

// redactKey is v, when it is a map, copied with key's value redacted.
func redactKey(v any, key string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		if k == key {
			x = redacted
		}
		out[k] = x
	}
	return out
}

// sanitizeContext is authentik's sanitize_dict of a plan context: a user
// as {username, pk, email}, the HTTP request dropped, and (authflow's
// addition) secrets redacted: prompt_data's values whose key holds
// "password" or "token" (an invitation's pk), the consent token, the
// invitation's pk, and the code of an SMS or email device being set up.
func sanitizeContext(ctxm map[string]any) map[string]any {
	out := make(map[string]any, len(ctxm))
	for k, v := range ctxm {
		switch {
		case k == "http_request":
			continue
		case k == ContextTOTPDevice, k == ContextStaticTokens:
			// A TOTP key, static codes being set up.
			v = redacted
		case k == ContextConsentToken:
			// The consent challenge's token: not shown twice.
			v = redacted
		case k == ContextSMSDevice || k == ContextEmailDevice:
			// A side-channel device being set up: its code.
			v = redactKey(v, "token")
		case k == ContextInvitation:
			// An invitation's pk is its secret.
			v = redactKey(v, "pk")
		case k == "prompt_data":
			if m, ok := v.(map[string]any); ok {
				pd := make(map[string]any, len(m))
				for pk, pv := range m {
					if lk := strings.ToLower(pk); strings.Contains(lk, "password") || strings.Contains(lk, "token") {
						pv = redacted
					}
					pd[pk] = pv
				}
				v = pd
			}
		default:
			if pk, ok := directory.ContextUserPK(v); ok {
				m := v.(map[string]any)
				v = map[string]any{"username": m["username"], "pk": pk, "email": m["email"]}
			}
		}
		out[k] = v
	}
	return out
}
