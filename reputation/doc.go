// Package reputation keeps authentik 2025.6's reputation scores and
// evaluates its reputation policies (issue 21): failed logins lower the
// score of the client's address and the identifier it tried, so that a
// reputation policy can answer them with a captcha or a denial.
//
// # Scores
//
// A score belongs to one (client IP, identifier) pair, as authentik's
// Reputation row (policies/reputation/models.py). [Add] changes it, as
// authentik's update_score (signals.py): a new pair starts at the
// amount, an existing one moves by it, both clamped to [Limits] (the
// tenant's reputation_lower_limit and reputation_upper_limit, -5 and 5
// by default). A pair expires [Options].Expiry after it was created
// (reputation.expiry, a day), whatever changed it since, as authentik
// sets expires on creation only. The executor changes scores where
// authentik's signals do: login_failed and identification_failed -1,
// a login +1. An unknown client address counts as 255.255.255.255, as
// authentik's ClientIPMiddleware answers.
//
// Scores are high-churn data, not configuration: they are behind the
// [Scores] seam, which [Mem] implements in memory and the executor's
// RunStateScores on its run state (beside the executions, in a bbolt
// file or on etcd).
//
// # Policies
//
// [Evaluator] evaluates authentik_policies_reputation.reputationpolicy
// as authentik's ReputationPolicy.passes: the sum of the scores of the
// pairs whose IP is the request's client IP (check_ip) or whose
// identifier is the request user's username (check_username), each pair
// counted once, passes when it is at most threshold. The username is
// the pending user's (the context's pending_user, a stand-in after an
// unknown identifier included), else the request's user's, else empty
// (authentik's anonymous user), as authentik's policy engine takes
// plan.context["pending_user"] before the request's user. Its results
// are never cached (a zero ValidUntil): a score changes by itself.
//
// # Where authflow differs
//
//   - An expired pair is gone at once; authentik keeps counting it until
//     its cleanup task deletes it.
//   - Scores are bounded (Options.MaxRecords): past the bound the pairs
//     created first (which expire first) are dropped, so that a flood of
//     random identifiers cannot grow memory without bound; an
//     identifier is cut to MaxIdentifierSize bytes.
//   - The limits and expiry are options, not the tenant's settings:
//     authflow has no tenants.
//   - ip_geo_data and ip_asn_data are not kept (no GeoIP database), and
//     the scores API (/policies/reputation/scores/) is not served yet.
package reputation
