package executor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/jsonvalue"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/store"
)

// DefaultBrandTitle is the title of a Brand without one, authentik's
// default branding_title.
const DefaultBrandTitle = "authentik"

// Brand holds the settings of authentik's brand (brands/models.py) that
// flows read; the zero Brand is authentik's default brand with no flows
// set. A flow is named by its slug; a slug that names no flow is as
// unset (authentik's brand refers to flows by key, set to null when the
// flow is deleted).
type Brand struct {
	// Title is branding_title; "" means DefaultBrandTitle. authentik
	// shows it as the page title of a flow page without its own, and
	// names the site with it in MFA challenges (issue 23).
	Title string
	// DefaultFlowBackground is branding_default_flow_background: the
	// flow_info.background of a flow without a background. "" means
	// flow.DefaultBackground.
	DefaultFlowBackground string
	// FlowAuthentication and FlowInvalidation are the flows the default
	// flow endpoints lead to (DefaultFlow): log in and log out.
	FlowAuthentication, FlowInvalidation string
	// FlowRecovery is the flow the password stage's recovery_url links
	// to, and DefaultFlow's of its designation.
	FlowRecovery string
	// FlowUnenrollment (delete the account; DefaultFlow's of its
	// designation), FlowUserSettings and FlowDeviceCode (the user's
	// settings, the OAuth device code flow) are the brand's other flows,
	// which authentik's user interface and providers link to; the
	// executor reports the last two only (Executor.Brand).
	FlowUnenrollment, FlowUserSettings, FlowDeviceCode string
	// Attributes are the brand's attributes: http_request.brand.attributes
	// in expressions, merged first by user.group_attributes(http_request).
	// They are given to a Request whose HTTP request has none
	// (plan.HTTPRequest.BrandAttributes).
	Attributes map[string]any
}

// Brand returns the executor's brand (Options.Brand), its defaults
// filled in.
func (e *Executor) Brand() Brand {
	b := e.brand
	if b.Title == "" {
		b.Title = DefaultBrandTitle
	}
	if b.DefaultFlowBackground == "" {
		b.DefaultFlowBackground = flow.DefaultBackground
	}
	b.Attributes = jsonvalue.CloneMap(b.Attributes)
	return b
}

// flowOf is the brand's flow of designation d: authentication,
// invalidation, recovery and unenrollment have one; "" for none.
func (b Brand) flowOf(d flow.Designation) string {
	switch d {
	case flow.DesignationAuthentication:
		return b.FlowAuthentication
	case flow.DesignationInvalidation:
		return b.FlowInvalidation
	case flow.DesignationRecovery:
		return b.FlowRecovery
	case flow.DesignationUnenrollment:
		return b.FlowUnenrollment
	}
	return ""
}

// withBrand is h with the brand's attributes when it has none: a copy,
// h is not changed.
func (e *Executor) withBrand(h *plan.HTTPRequest) *plan.HTTPRequest {
	if h == nil || h.BrandAttributes != nil || e.brand.Attributes == nil {
		return h
	}
	c := *h
	c.BrandAttributes = e.brand.Attributes
	return &c
}

// ErrNoDefaultFlow: no flow of the designation applies to the request
// (DefaultFlow); authentik answers 404.
var ErrNoDefaultFlow = errors.New("executor: no flow of the designation applies")

// DefaultFlowPath is where DefaultFlowHandler serves:
// GET DefaultFlowPath + "{designation}/".
const DefaultFlowPath = "/flows/-/default/"

// DefaultFlow returns the slug of the flow of designation d the request
// is sent to, as authentik's /flows/-/default/{designation}/ finds it:
// the brand's flow of d (Brand.FlowAuthentication, FlowInvalidation,
// FlowRecovery, FlowUnenrollment; authentik's view reads the first two
// only, the only designations it serves) when it names a flow, whatever
// its policies; else the first flow of d by slug whose own policies pass
// for the request's user (plan.EvaluateFlow: not its authentication
// requirement, which the flow checks when it runs); else an error
// wrapping ErrNoDefaultFlow, as for a d that is no designation. The updates those policies ask for are
// applied (Options.ApplyUpdates). The request's Session and Query are
// not read. authentik drops a session's plan of another flow here;
// executions are kept per session and flow, so none is dropped.
func (e *Executor) DefaultFlow(ctx context.Context, d flow.Designation, req Request) (string, error) {
	if !slices.Contains(flow.Designations, d) {
		return "", fmt.Errorf("%w: %q is no flow designation", ErrNoDefaultFlow, d)
	}
	hr := req.HTTP
	if hr == nil {
		hr = &plan.HTTPRequest{Method: http.MethodGet, Path: DefaultFlowPath + string(d) + "/", Header: http.Header{}}
	}
	preq := plan.Request{User: req.User, Context: map[string]any{}, HTTP: e.withBrand(hr)}
	var (
		slug string
		ups  []plan.Update
	)
	err := e.s.View(ctx, func(tx *store.Tx) error {
		if want := e.brand.flowOf(d); want != "" {
			switch _, err := e.conf.flow(tx, want); {
			case err == nil:
				slug = want
				return nil
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
		}
		q := store.Query{Filters: map[string]string{"designation": string(d)}, Ordering: "slug", PageSize: 1000}
		for q.Page = 1; q.Page != 0; {
			p, err := store.Flows.List(tx, q)
			if err != nil {
				return err
			}
			for _, f := range p.Results {
				ev, err := plan.EvaluateFlow(ctx, tx, f.Flow, preq, e.popts)
				if err != nil {
					return err
				}
				ups = append(ups, ev.Updates...)
				if ev.Passing {
					slug = f.Slug
					return nil
				}
			}
			q.Page = p.Pagination.Next
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("executor: the default %s flow: %w", d, err)
	}
	if len(ups) > 0 {
		if err := e.apply(ctx, e.s, ups); err != nil {
			return "", fmt.Errorf("executor: the default %s flow: %w", d, err)
		}
	}
	if slug == "" {
		return "", fmt.Errorf("%w: %s", ErrNoDefaultFlow, d)
	}
	return slug, nil
}

// DefaultFlowHandler serves authentik's GET
// /flows/-/default/authentication/ and /flows/-/default/invalidation/
// (DefaultFlowPath; InvalidationURL is the second, where the cancel
// endpoint leads): a 302 to FlowInterfacePath + the DefaultFlow's slug
// + "/", with the request's query string, or 404 when no flow applies.
// The request's user is found as HTTPHandler finds it, with the same
// options; no session is made. Other paths under DefaultFlowPath are
// 404, other methods 405.
func (e *Executor) DefaultFlowHandler(o HTTPOptions) http.Handler {
	h := e.httpSessions(o)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, _ := strings.CutPrefix(r.URL.Path, DefaultFlowPath)
		d := flow.Designation(strings.TrimSuffix(rest, "/"))
		if !strings.HasSuffix(rest, "/") || (d != flow.DesignationAuthentication && d != flow.DesignationInvalidation) {
			writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
			return
		}
		if !getOnly(w, r) {
			return
		}
		req := Request{Session: h.existing(r), HTTP: httpRequest(r)}
		err := h.user(r, &req)
		var slug string
		if err == nil {
			slug, err = e.DefaultFlow(r.Context(), d, req)
		}
		switch {
		case errors.Is(err, ErrNoDefaultFlow):
			writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
		case err != nil:
			h.fail(w, "", err)
		default:
			toFlowPage(w, r, slug)
		}
	})
}

// background is flow_info.background: the flow's, else the brand's
// default.
func (e *Executor) background(f flow.Flow) string {
	if f.Background == "" && e.brand.DefaultFlowBackground != "" {
		return e.brand.DefaultFlowBackground
	}
	return f.BackgroundURL()
}

// brandRecoveryURL is the password challenge's recovery_url: the page of
// the brand's recovery flow, when it names one, after Options.BaseURL
// (authentik's is absolute, on the request's host; without a BaseURL it
// is relative); "" when there is none.
func (s *Step) brandRecoveryURL(ctx context.Context) (string, error) {
	slug := s.ex.brand.FlowRecovery
	if slug == "" {
		return "", nil
	}
	f, err := s.flowBy(ctx, store.By("slug", slug))
	if err != nil || f == nil {
		return "", err
	}
	return s.ex.baseURL + FlowInterfacePath + url.PathEscape(f.Slug) + "/", nil
}
