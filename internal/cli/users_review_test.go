package cli

import (
	"context"
	"testing"

	"github.com/authflow/authflow/store"
)

// groups add-user and remove-user change an internal service account's
// groups too, as authentik's add_user does (only a write of the user
// itself is refused for one).
func TestGroupsMemberInternalServiceAccount(t *testing.T) {
	f := newDirFixture(t)
	f.run(t, nil, "groups", "add", "outposts")
	f.run(t, nil, "users", "add", "-username", "svc", "-no-password")
	s := f.open(t)
	err := s.Update(context.Background(), func(tx *store.Tx) error {
		_, err := store.Users.Patch(tx, store.By("username", "svc"), []byte(`{"type":"internal_service_account"}`), nil)
		return err
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errs := f.run(t, nil, "groups", "add-user", "outposts", "svc"); code != exitOK || out != "added user svc to group outposts\n" {
		t.Fatalf("add-user: %d %q %q", code, out, errs)
	}
	if u := f.users(t)["svc"]; len(u.Groups) != 1 {
		t.Errorf("svc's groups after add-user: %v", u.Groups)
	}
	if code, out, errs := f.run(t, nil, "groups", "remove-user", "outposts", "svc"); code != exitOK || out != "removed user svc from group outposts\n" {
		t.Fatalf("remove-user: %d %q %q", code, out, errs)
	}
	if u := f.users(t)["svc"]; len(u.Groups) != 0 {
		t.Errorf("svc's groups after remove-user: %v", u.Groups)
	}
}
