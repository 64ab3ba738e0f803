package plan

import (
	"context"
	"testing"

	"github.com/google/uuid"
)

// An evaluation outside Make keeps no plan, so its engine collects no
// reads; Make's does.
func TestReadsUnkept(t *testing.T) {
	e, err := engineFor(context.Background(), nil, Request{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.reads.add(uuid.New())
	if e.reads.pks != nil {
		t.Errorf("engineFor's reads collected %v", e.reads.pks)
	}
	kept := &reads{}
	kept.add(uuid.New())
	if len(kept.pks) != 1 {
		t.Errorf("Make's reads collected %v", kept.pks)
	}
}
