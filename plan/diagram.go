package plan

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// Diagram draws the flow with slug as authentik's flow diagram does
// (GET /flows/instances/{slug}/diagram/): Mermaid "graph TD" text, lines
// joined by newlines, no trailing newline, character for character.
// authentik's drawing is its own, not the planner's semantics: it shows
// only policy bindings (not group or user bindings), and every stage's
// policies as if they were evaluated when it is reached.
func Diagram(tx *store.Tx, slug string) (string, error) {
	f, err := store.Flows.Get(tx, store.By("slug", slug))
	if err != nil {
		return "", err
	}
	const done = `done[["End of the flow"]]`
	lines := []string{"graph TD"}
	if f.Authentication != flow.AuthenticationNone {
		lines = append(lines,
			`flow_auth_requirement["Flow authentication requirement`+"\n"+quote(string(f.Authentication))+`"]`,
			"flow_auth_requirement --Requirement not fulfilled--> "+done,
			`flow_auth_requirement --Requirement fulfilled--> flow_start["placeholder"]`)
	}
	flowPolicies, err := policyBindings(tx, f.PK)
	if err != nil {
		return "", err
	}
	start := `flow_start[["Flow` + "\n" + quote(f.Name) + `"]]`
	if len(flowPolicies) > 0 {
		lines = append(lines, `flow_pre[["Pre-flow policies"]]`)
		for i, b := range flowPolicies {
			lines = append(lines, "flow_pre --Binding "+strconv.Itoa(int(b.Order))+"--> flow_policy_"+strconv.Itoa(i)+policyShape(b))
		}
		for i := range flowPolicies {
			lines = append(lines, "flow_policy_"+strconv.Itoa(i)+" --Policy denied--> "+done)
		}
		for i := range flowPolicies {
			lines = append(lines, "flow_policy_"+strconv.Itoa(i)+" --> "+start)
		}
	} else {
		lines = append(lines, start)
	}
	bindings, err := store.Bindings.ByRef(tx, "target", f.PK)
	if err != nil {
		return "", err
	}
	if len(bindings) == 0 {
		return strings.Join(append(lines, "flow_start --> "+done), "\n"), nil
	}
	var stageLines, others []string
	parent := "flow_start"
	var prevPolicies []string
	for s, b := range bindings {
		id := "stage_" + strconv.Itoa(s)
		stage, err := stageShape(tx, id, b.Stage)
		if err != nil {
			return "", err
		}
		pols, err := policyBindings(tx, b.PK)
		if err != nil {
			return "", err
		}
		var ids []string
		for p, pb := range pols {
			pid := id + "_policy_" + strconv.Itoa(p)
			ids = append(ids, pid)
			others = append(others, parent+" --> "+pid+policyShape(pb))
		}
		if len(ids) == 0 {
			stageLines = append(stageLines, "--> "+stage)
		}
		for _, pid := range ids {
			stageLines = append(stageLines, pid+" --Policy passed--> "+stage)
		}
		for _, prev := range prevPolicies {
			others = append(others, prev+" --Policy denied--> "+stage)
		}
		parent, prevPolicies = id, ids
	}
	lines = append(lines, stageLines...)
	lines = append(lines, others...)
	lines = append(lines, "stage_"+strconv.Itoa(len(bindings)-1)+" --> "+done)
	return strings.Join(lines, "\n"), nil
}

// stageShape is the element of the stage with pk id:
// id(["Stage (<verbose name>)\n<name>"]).
func stageShape(tx *store.Tx, id string, pk uuid.UUID) (string, error) {
	st, err := referenced(tx, store.Stages, pk)
	if err != nil {
		return "", err
	}
	k, _ := tx.Store().StageKinds().Lookup(st.Model())
	return id + `(["Stage (` + quote(k.VerboseName) + `)` + "\n" + quote(st.Name) + `"])`, nil
}

// boundPolicy is a policy binding with its policy and the policy's kind.
type boundPolicy struct {
	policy.Binding
	policy policy.Policy
	kind   policy.Kind
}

// boundPolicies are target's policy bindings in order, each with its
// policy when it binds one (not a group or a user).
func boundPolicies(tx *store.Tx, target uuid.UUID) ([]boundPolicy, error) {
	all, err := store.PolicyBindings.ByRef(tx, "target", target)
	if err != nil {
		return nil, err
	}
	out := make([]boundPolicy, 0, len(all))
	for _, b := range all {
		bp := boundPolicy{Binding: b}
		if b.Policy != nil {
			p, err := referenced(tx, store.Policies, *b.Policy)
			if err != nil {
				return nil, err
			}
			k, ok := tx.Store().PolicyKinds().Lookup(p.Model())
			if !ok {
				return nil, fmt.Errorf("plan: policy %s: %w: %q", p.PK, policy.ErrUnknownKind, p.Model())
			}
			bp.policy, bp.kind = p, k
		}
		out = append(out, bp)
	}
	return out, nil
}

// policyBindings are target's bindings of a policy (not of a group or a
// user), in order.
func policyBindings(tx *store.Tx, target uuid.UUID) ([]boundPolicy, error) {
	all, err := boundPolicies(tx, target)
	if err != nil {
		return nil, err
	}
	var out []boundPolicy
	for _, b := range all {
		if b.Policy != nil {
			out = append(out, b)
		}
	}
	return out, nil
}

// policyShape is a policy element: {{"Policy (<verbose name>)\n<name>"}}.
func policyShape(b boundPolicy) string {
	return `{{"Policy (` + quote(b.kind.VerboseName) + `)` + "\n" + quote(b.policy.Name) + `"}}`
}

// quote escapes text for a Mermaid label, as authentik does.
func quote(s string) string { return strings.ReplaceAll(s, `"`, "#quot;") }

// PlannerDiagram draws the flow with slug as the planner runs it, where
// authentik's drawing (Diagram) does not: the authentication check and
// the flow's policies lead to the denied action; each binding's policies
// (policy, group and user bindings, with the engine mode and negation)
// are checked when planned (evaluate_on_plan) or when the stage is
// reached (re_evaluate_policies), and a failing check skips to the next
// stage.
func PlannerDiagram(tx *store.Tx, slug string) (string, error) {
	f, err := store.Flows.Get(tx, store.By("slug", slug))
	if err != nil {
		return "", err
	}
	lines := []string{"graph TD"}
	denied := `denied[["Denied: ` + quote(string(f.DeniedAction)) + `"]]`
	start := `flow_start[["Flow` + "\n" + quote(f.Name) + `"]]`
	lines = append(lines, start)
	prev := "flow_start"
	if f.Authentication != flow.AuthenticationNone {
		lines = append(lines, prev+` --> auth{"Authentication`+"\n"+quote(string(f.Authentication))+`"}`, "auth --fails--> "+denied)
		prev = "auth"
	}
	flowChecks, err := checks(tx, f.PK, f.PolicyEngineMode)
	if err != nil {
		return "", err
	}
	if flowChecks != "" {
		lines = append(lines, prev+` --passes--> flow_policies{{"Flow policies, `+flowChecks+`"}}`, "flow_policies --fail--> "+denied)
		prev = "flow_policies"
	}
	bindings, err := store.Bindings.ByRef(tx, "target", f.PK)
	if err != nil {
		return "", err
	}
	edge := " --> "
	if prev != "flow_start" {
		edge = " --passes--> "
	}
	// Each stage is its checks (when planned, when reached) and then the
	// stage; a failing check skips to the next stage's first node.
	type chain struct {
		entry, stage string
		checks       []string // the check nodes' ids, which skip on failure
	}
	var chains []chain
	var body []string
	for s, b := range bindings {
		id := "stage_" + strconv.Itoa(s)
		stage, err := stageShape(tx, id, b.Stage)
		if err != nil {
			return "", err
		}
		c, err := checks(tx, b.PK, b.PolicyEngineMode)
		if err != nil {
			return "", err
		}
		var nodes []string // shapes, in order: checks, then the stage
		ch := chain{stage: id}
		if c != "" && b.EvaluateOnPlan {
			nodes = append(nodes, id+`_plan{{"When planned, `+c+`"}}`)
			ch.checks = append(ch.checks, id+"_plan")
		}
		if c != "" && b.ReEvaluatePolicies {
			nodes = append(nodes, id+`_run{{"When reached, `+c+`"}}`)
			ch.checks = append(ch.checks, id+"_run")
		}
		nodes = append(nodes, stage)
		ch.entry = id
		if len(ch.checks) > 0 {
			ch.entry = ch.checks[0]
		}
		if len(nodes) == 1 {
			body = append(body, stage)
		}
		for i := 0; i+1 < len(nodes); i++ {
			body = append(body, nodes[i]+" --pass--> "+nodes[i+1])
		}
		chains = append(chains, ch)
	}
	lines = append(lines, body...)
	first := "done"
	if len(chains) > 0 {
		first = chains[0].entry
	}
	lines = append(lines, prev+edge+first)
	for i, ch := range chains {
		next := "done"
		if i+1 < len(chains) {
			next = chains[i+1].entry
		}
		lines = append(lines, ch.stage+" --> "+next)
		for _, c := range ch.checks {
			lines = append(lines, c+" --fail: skipped--> "+next)
		}
	}
	lines = append(lines, `done[["End of the flow"]]`)
	return strings.Join(lines, "\n"), nil
}

// checks describes target's enabled policy bindings under mode, or ""
// when there are none.
func checks(tx *store.Tx, target uuid.UUID, mode flow.PolicyEngineMode) (string, error) {
	all, err := boundPolicies(tx, target)
	if err != nil {
		return "", err
	}
	var items []string
	for _, b := range all {
		if !b.Enabled {
			continue
		}
		var s string
		switch {
		case b.Policy != nil:
			s = "Policy (" + b.kind.VerboseName + ") " + b.policy.Name
		case b.Group != nil:
			s = "Group " + b.Group.String()
		case b.User != nil:
			s = "User " + strconv.FormatInt(*b.User, 10)
		}
		if b.Negate {
			s += ", negated"
		}
		items = append(items, quote(s))
	}
	if len(items) == 0 {
		return "", nil
	}
	return string(mode) + " of:\n" + strings.Join(items, "\n"), nil
}
