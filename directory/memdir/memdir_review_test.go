package memdir_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/memdir"
	"github.com/authflow/authflow/password"
)

// Printing a Dir shows none of its password hashes (fmt would print its
// maps, hashes included, and read them without the lock).
func TestDirPrintsNoHash(t *testing.T) {
	d, err := memdir.New(memdir.Options{Policy: password.Policy{Iterations: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u, err := d.CreateUser(ctx, directory.User{Username: "a", Path: "users", Type: directory.UserTypeInternal})
	if err != nil {
		t.Fatal(err)
	}
	pw := "pw"
	if err := d.SetPassword(ctx, u.PK, &pw); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if got := fmt.Sprintf(verb, d); strings.Contains(got, "pbkdf2") || strings.Contains(got, "!") {
			t.Errorf("%s shows a hash: %s", verb, got)
		}
	}
}
