package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// ConfigurePath is where ConfigureHandler serves authentik's
// GET ConfigurePath + "{stage_uuid}/".
const ConfigurePath = "/flows/-/configure/"

// Errors of Configure.
var (
	// ErrNotConfigurable: no stage has the pk, or it has no
	// configure_flow (a kind without one, or none set).
	ErrNotConfigurable = errors.New("executor: no stage with a configure flow has this pk")
	// ErrLoginRequired: the request's user is anonymous.
	ErrLoginRequired = errors.New("executor: a logged-in user is required")
)

// Configure starts the configure_flow of stage pk for the request's
// user, as authentik's /flows/-/configure/{stage_uuid}/: the flow is
// planned now with the user as pending user (Execute), and its slug is
// returned. It fails with ErrLoginRequired for an anonymous request,
// ErrNotConfigurable, or a *NotApplicableError.
func (e *Executor) Configure(ctx context.Context, pk uuid.UUID, req Request) (string, error) {
	if !req.User.Authenticated || req.User.PK == 0 {
		return "", ErrLoginRequired
	}
	var slug string
	err := e.s.View(ctx, func(tx *store.Tx) error {
		st, err := store.Stages.Get(tx, store.PK(pk))
		if err != nil {
			return err
		}
		cf := configureFlow(st)
		if cf == nil {
			return ErrNotConfigurable
		}
		f, err := store.Flows.Get(tx, store.PK(*cf))
		if err != nil {
			return err
		}
		slug = f.Slug
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		err = ErrNotConfigurable
	}
	if err != nil {
		return "", err
	}
	if err := e.Execute(ctx, slug, req); err != nil {
		return "", fmt.Errorf("executor: configuring stage %s: %w", pk, err)
	}
	return slug, nil
}

// ConfigureHandler serves authentik's GET
// /flows/-/configure/{stage_uuid}/ (ConfigurePath): for a logged-in user,
// Configure and a 302 to the flow's page (FlowInterfacePath+slug+"/",
// keeping the query string); for an anonymous one, a 302 to the default
// authentication flow with next (authentik's login_required); 404 for
// a stage without a configure flow or a flow that does not apply; 403
// (MsgCrossOrigin) from another origin, as ExecuteHandler.
func (e *Executor) ConfigureHandler(o HTTPOptions) http.Handler {
	h := e.httpSessions(o)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, ConfigurePath)
		id, ok2 := strings.CutSuffix(rest, "/")
		pk, perr := uuid.Parse(id)
		if !ok || !ok2 || perr != nil || len(id) != 36 {
			writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
			return
		}
		if !getOnly(w, r) {
			return
		}
		if err := h.crossOrigin(r); err != nil {
			writeJSON(w, http.StatusForbidden, map[string]string{"detail": fmt.Sprintf(MsgCrossOrigin, r.Header.Get("Sec-Fetch-Site"))})
			return
		}
		req, err := h.Request(w, r)
		var slug string
		if err == nil {
			slug, err = e.Configure(r.Context(), pk, req)
		}
		var na *NotApplicableError
		switch {
		case errors.Is(err, ErrLoginRequired):
			http.Redirect(w, r, DefaultFlowPath+string(flow.DesignationAuthentication)+"/?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
		case errors.Is(err, ErrNotConfigurable), errors.Is(err, ErrUnknownFlow), errors.As(err, &na):
			writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
		case err != nil:
			h.fail(w, "", err)
		default:
			toFlowPage(w, r, slug)
		}
	})
}

// UserDevice is one of a user's confirmed authenticator devices as the
// user may see it: its class, name and last use, and no secret.
type UserDevice struct {
	Class    directory.DeviceClass
	Name     string
	LastUsed *time.Time
}

// setupKinds are the authenticator setup stage kinds, whose stages
// Authenticators offers when they have a configure flow.
var setupKinds = []stage.ModelName{
	stage.ModelAuthenticatorTOTP, stage.ModelAuthenticatorStatic, stage.ModelAuthenticatorWebAuthn,
	stage.ModelAuthenticatorSMS, stage.ModelAuthenticatorEmail, stage.ModelAuthenticatorDuo,
}

// MaxSetupStages bounds the setup stages of each kind that
// Authenticators reads.
const MaxSetupStages = 20

// Authenticators returns what a page may show a logged-in user of their
// authenticators: their confirmed devices (none when the executor keeps
// no devices), and the authenticator setup stages that have a
// configure_flow (at most MaxSetupStages of each kind, in the store's
// order), which ConfigurePath + pk + "/" starts for them.
func (e *Executor) Authenticators(ctx context.Context, user int64) ([]UserDevice, []SelectableStage, error) {
	var devs []UserDevice
	if e.devices != nil && user != 0 {
		all, err := e.devices.UserDevices(ctx, user)
		if err != nil {
			return nil, nil, fmt.Errorf("executor: the devices of user %d: %w", user, err)
		}
		for _, d := range all {
			if d.Confirmed {
				devs = append(devs, UserDevice{Class: d.Class, Name: d.Name, LastUsed: d.LastUsed})
			}
		}
	}
	var setup []SelectableStage
	err := e.s.View(ctx, func(tx *store.Tx) error {
		for _, m := range setupKinds {
			if _, ok := e.s.StageKinds().Lookup(m); !ok {
				continue
			}
			page, err := store.Stages.Kind(string(m)).List(tx, store.Query{PageSize: MaxSetupStages})
			if err != nil {
				return err
			}
			for _, v := range page.Results {
				if configureFlow(v.Stage) != nil {
					setup = append(setup, e.selectable(v.Stage))
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("executor: the setup stages: %w", err)
	}
	return devs, setup, nil
}

// configureFlow is st's configure_flow; nil for a kind without one, or
// none set.
func configureFlow(st stage.Stage) *uuid.UUID {
	var c struct {
		ConfigureFlow *uuid.UUID `json:"configure_flow"`
	}
	if b, err := json.Marshal(st.Config); err != nil || json.Unmarshal(b, &c) != nil {
		return nil
	}
	return c.ConfigureFlow
}
