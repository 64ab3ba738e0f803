package api

import (
	"net/http"
	"strings"

	"github.com/authflow/authflow/executor"
)

// Permissions of the executor's endpoints, authentik's codenames.
const (
	permInspectFlow = "authentik_flows.inspect_flow"
	permViewFlow    = "authentik_flows.view_flow"
)

// serveExecutor serves the executor's endpoints under the prefix when
// Options.Executor is set, and reports whether the path was one of them.
// The executor and Duo's enrollment_status (the session's enrollment)
// ask for no permission (authentik's executor serves any client, and
// enrollment_status any authenticated one); the inspector asks for inspect_flow and answers a denial with
// 404, as authentik does.
func (h *handler) serveExecutor(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case h.exec == nil:
		return false
	case strings.HasPrefix(r.URL.Path, executor.ExecutorPath):
		h.execHTTP.ServeHTTP(w, r)
		return true
	case strings.HasPrefix(r.URL.Path, executor.InspectorPath):
		h.inspector.ServeHTTP(w, r)
		return true
	case executor.IsDuoEnrollmentPath(r.URL.Path):
		h.duoEnroll.ServeHTTP(w, r)
		return true
	}
	return false
}

// serveExecute answers GET /flows/instances/{slug}/execute/: the flow
// planned now for the request's user, kept as the session's execution,
// and the link to authentik's flow interface. It asks for view_flow.
// Without Options.Executor it is 404, saying the executor is not served.
func (h *handler) serveExecute(w http.ResponseWriter, r *http.Request, slug string) {
	if h.exec == nil {
		writeDetail(w, http.StatusNotFound, msgNoExecutor)
		return
	}
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r, "GET")
		return
	}
	if !h.allowed(w, r, permViewFlow) {
		return
	}
	h.exec.ExecuteHandler(h.execOpts, slug).ServeHTTP(w, r)
}

// msgNoExecutor answers execute without an executor.
const msgNoExecutor = "authflow does not serve this endpoint here: the handler was made without an executor."
