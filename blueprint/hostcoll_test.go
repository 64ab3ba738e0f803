package blueprint_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// memo is a host's own collection; a blueprint creates, finds and
// updates its objects by their declared identifiers with no edit to
// package blueprint.
type memo struct {
	PK   uuid.UUID `json:"pk" af:"readonly"`
	Text string    `json:"text" af:"required"`
	Note string    `json:"note"`
}

func TestHostCollectionBlueprint(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(filepath.Join(t.TempDir(), "bp.db"), &store.Options{NoSync: true, Collections: []store.Declarer{
		store.Declaration[memo, memo]{Model: "acme_memos.memo", Defaults: func() memo { return memo{} }, Unique: []string{"text"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	doc := func(note string) string {
		return `version: 1
entries:
  - model: acme_memos.memo
    identifiers: {text: hello}
    attrs: {note: ` + note + `}
`
	}
	for i, note := range []string{"first", "second"} {
		res, err := blueprint.Load(ctx, s, strings.NewReader(doc(note)), blueprint.Options{})
		if err != nil || !res.Success {
			t.Fatalf("import %d: %v %+v", i, err, res)
		}
	}
	memos := store.NewColl[memo, memo]("acme_memos.memo")
	err = s.View(ctx, func(tx *store.Tx) error {
		p, err := memos.List(tx, store.Query{})
		if err != nil || p.Pagination.Count != 1 || p.Results[0].Note != "second" || p.Results[0].Text != "hello" {
			t.Errorf("after two imports: %+v, %v", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
