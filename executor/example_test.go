package executor_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authflow/authflow/executor"
)

// Two tabs of one session post to the same execution: the second save
// over the version both read loses, and the tab reloads.
func ExampleRunState_compareAndSwap() {
	ctx := context.Background()
	rs := executor.NewMemRunState(executor.MemOptions{})
	key := executor.ExecutionKey("session-id", "default-authentication-flow")
	exp := time.Now().Add(30 * time.Minute)

	v1, _ := rs.Save(ctx, executor.Executions, key, executor.Record{Data: []byte("at identification"), Expires: exp})
	_, err := rs.Save(ctx, executor.Executions, key, executor.Record{Data: []byte("at password"), Expires: exp, Version: v1})
	fmt.Println("first tab:", err)
	_, err = rs.Save(ctx, executor.Executions, key, executor.Record{Data: []byte("at password, again"), Expires: exp, Version: v1})
	fmt.Println("second tab conflicts:", errors.Is(err, executor.ErrConflict))
	r, _ := rs.Load(ctx, executor.Executions, key)
	fmt.Printf("%s\n", r.Data)
	// Output:
	// first tab: <nil>
	// second tab conflicts: true
	// at password
}

// A flow token from an emailed link is used once.
func ExampleRunState_Take() {
	ctx := context.Background()
	rs := executor.NewMemRunState(executor.MemOptions{})
	rs.Save(ctx, executor.FlowTokens, "tok-123", executor.Record{Data: []byte("suspended plan"), Expires: time.Now().Add(time.Hour)})
	r, err := rs.Take(ctx, executor.FlowTokens, "tok-123")
	fmt.Printf("%s %v\n", r.Data, err)
	_, err = rs.Take(ctx, executor.FlowTokens, "tok-123")
	fmt.Println(errors.Is(err, executor.ErrNotFound))
	// Output:
	// suspended plan <nil>
	// true
}
