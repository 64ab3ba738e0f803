package cli

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/store"
)

// A first start sets akadmin's password from AUTHENTIK_BOOTSTRAP_PASSWORD
// (hashed outside the import's transaction), and leaves it unusable
// without it.
func TestFirstStartBootstrapPassword(t *testing.T) {
	// An API token is left out (authflow keeps none), not a failure.
	t.Setenv(bootstrapToken, "a token")
	for _, pw := range []string{"", "a bootstrap password 9"} {
		t.Setenv(bootstrapPassword, pw)
		ctx := context.Background()
		s, err := store.Open(filepath.Join(t.TempDir(), "x.db"), &store.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if done, err := firstStart(ctx, s); err != nil || !done {
			t.Fatalf("password %q: firstStart = %v, %v", pw, done, err)
		}
		d := s.Directory()
		u, err := d.FindUser(ctx, directory.Find{Identifier: "akadmin", Fields: []directory.Field{directory.FieldUsername}})
		if err != nil {
			t.Fatal(err)
		}
		usable, err := d.HasUsablePassword(ctx, u.PK)
		if err != nil || usable != (pw != "") {
			t.Errorf("password %q: usable %v, %v", pw, usable, err)
		}
		if pw != "" {
			if ok, err := d.CheckPassword(ctx, u.PK, pw); err != nil || !ok {
				t.Errorf("the bootstrap password does not check: %v, %v", ok, err)
			}
		}
		// A second start changes nothing.
		if done, err := firstStart(ctx, s); err != nil || done {
			t.Errorf("second start = %v, %v", done, err)
		}
	}
}
