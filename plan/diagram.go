package plan

import (
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
	f, err := tx.GetFlowBySlug(slug)
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
	flowPolicies, err := boundPolicies(tx, f.PK)
	if err != nil {
		return "", err
	}
	start := `flow_start[["Flow` + "\n" + quote(f.Name) + `"]]`
	if len(flowPolicies) > 0 {
		lines = append(lines, `flow_pre[["Pre-flow policies"]]`)
		for i, b := range flowPolicies {
			lines = append(lines, "flow_pre --Binding "+strconv.Itoa(int(b.Order))+"--> flow_policy_"+strconv.Itoa(i)+policyShape(*b.PolicyObj))
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
	bindings, err := tx.FlowBindings(f.PK)
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
		k, _ := tx.Store().Registry().Lookup(b.StageObj.Model())
		stage := id + `(["Stage (` + quote(k.VerboseName) + `)` + "\n" + quote(b.StageObj.Name) + `"])`
		pols, err := boundPolicies(tx, b.PK)
		if err != nil {
			return "", err
		}
		var ids []string
		for p, pb := range pols {
			pid := id + "_policy_" + strconv.Itoa(p)
			ids = append(ids, pid)
			others = append(others, parent+" --> "+pid+policyShape(*pb.PolicyObj))
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

// boundPolicies are target's bindings of a policy (not of a group or a
// user), in order.
func boundPolicies(tx *store.Tx, target uuid.UUID) ([]policy.BindingView, error) {
	all, err := tx.PolicyBindings(target)
	if err != nil {
		return nil, err
	}
	var out []policy.BindingView
	for _, b := range all {
		if b.PolicyObj != nil {
			out = append(out, b)
		}
	}
	return out, nil
}

// policyShape is a policy element: {{"Policy (<verbose name>)\n<name>"}}.
func policyShape(p policy.View) string {
	return `{{"Policy (` + quote(p.Kind.VerboseName) + `)` + "\n" + quote(p.Name) + `"}}`
}

// quote escapes text for a Mermaid label, as authentik does.
func quote(s string) string { return strings.ReplaceAll(s, `"`, "#quot;") }
