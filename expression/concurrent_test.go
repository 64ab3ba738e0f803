package expression_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
)

// TestConcurrent evaluates shared compiled programs from several
// goroutines, each with its own plan context (run with -race).
func TestConcurrent(t *testing.T) {
	ev := expression.Evaluator(&expression.Options{Cache: expression.NewCache(4)})
	srcs := []string{
		`context["flow_plan"].context["n"] = context.get("n", 0) + 1
return True`,
		`return 'username' not in context.get('prompt_data', {})`,
		`ak_message("m")
return regex_match(context["prompt_data"]["username"], "^u")`,
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				ctx := map[string]any{"prompt_data": map[string]any{"username": "u"}}
				for _, src := range srcs {
					res, err := ev.Evaluate(context.Background(), expr(src), plan.PolicyRequest{Context: ctx, Plan: new(redirects)})
					if err != nil {
						t.Errorf("goroutine %d #%d: %v", g, i, err)
						return
					}
					_ = res
				}
				if ctx["n"] != int64(1) {
					t.Errorf("goroutine %d #%d: n = %v", g, i, ctx["n"])
				}
			}
		}()
	}
	wg.Wait()
}

// TestConcurrentLocals: a compiled program's handler is defined once and
// shared, so each evaluation must still have its own locals, closures
// and lambdas: a list a nested function appends to starts empty in each
// evaluation, however many run at once (run with -race).
func TestConcurrentLocals(t *testing.T) {
	ev := expression.Evaluator(&expression.Options{Cache: expression.NewCache(4)})
	srcs := []string{`seen = []
def add(x):
    seen.append(x)
    return len(seen)
add(context["n"])
add(context["n"])
context["flow_plan"].context["seen"] = seen
return add(0) == 3`, `f = lambda: context["n"]
context["flow_plan"].context["got"] = f()
try:
    return context["missing"]
except:
    return f() == context["n"]`}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				n := int64(g*1000 + i)
				ctx := map[string]any{"n": n}
				for _, src := range srcs {
					res, err := ev.Evaluate(context.Background(), expr(src), plan.PolicyRequest{Context: ctx, Plan: new(redirects)})
					if err != nil || !res.Passing {
						t.Errorf("goroutine %d #%d: %+v %v", g, i, res, err)
						return
					}
				}
				if s, _ := ctx["seen"].([]any); len(s) != 3 || s[0] != n || s[1] != n || s[2] != int64(0) || ctx["got"] != n {
					t.Errorf("goroutine %d #%d: context %v", g, i, ctx)
				}
			}
		}()
	}
	wg.Wait()
}

// TestRunAfterRun: runs reuse the interpreter's threads; a run after
// one that reached the step limit or was stopped by its context's
// deadline starts afresh, with its own limit, no cancellation and its
// own messages.
func TestRunAfterRun(t *testing.T) {
	short := expression.Evaluator(&expression.Options{Limits: expression.Limits{MaxSteps: 1000}})
	long := expression.Evaluator(&expression.Options{Limits: expression.Limits{MaxSteps: 1 << 62}})
	count := expr("n = 0\nfor i in range(20):\n    n += 1\nak_message(str(n))\nreturn n == 20")
	for i := range 20 {
		if _, err := short.Evaluate(context.Background(), expr("while True:\n    pass"), plan.PolicyRequest{}); !errors.Is(err, expression.ErrSteps) {
			t.Fatalf("#%d runaway: %v, want ErrSteps", i, err)
		}
		res, err := short.Evaluate(context.Background(), count, plan.PolicyRequest{})
		if err != nil || !res.Passing || !reflect.DeepEqual(res.Messages, []string{"20"}) {
			t.Fatalf("#%d after the step limit: %+v, %v", i, res, err)
		}
		if i%5 == 0 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			_, err := long.Evaluate(ctx, expr("while True:\n    pass"), plan.PolicyRequest{})
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("#%d deadline: %v", i, err)
			}
			if res, err := short.Evaluate(context.Background(), count, plan.PolicyRequest{}); err != nil || !res.Passing {
				t.Fatalf("#%d after the deadline: %+v, %v", i, res, err)
			}
		}
	}
}
