package expression

import "github.com/authflow/authflow/plan"

// EagerEvaluator is Evaluator(opts) making the context dicts for every
// expression, as it does for one that does more than look values up in
// them: the tests compare it with Evaluator's lazy lookups.
func EagerEvaluator(opts *Options) plan.Evaluator {
	e := Evaluator(opts).(evaluator)
	e.eager = true
	return e
}

// ReachLookups reports whether the compiled expression src only looks
// values up in its context dicts (reach.lookups).
func ReachLookups(src string) (bool, error) {
	p, err := NewCache(1).Compile(src)
	if err != nil {
		return false, err
	}
	return p.reach.lookups, nil
}

// CompiledPolicies are the texts compiled as policies in the package's
// cache, most recent first.
func CompiledPolicies() []string {
	c := defaultCache
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for el := c.lru.Front(); el != nil; el = el.Next() {
		if e := el.Value.(*cacheEntry); e.key.kind == policyKind && e.err == nil {
			out = append(out, e.key.src)
		}
	}
	return out
}
