package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/store"
)

// ExampleStore_Directory creates a group and a member, sets the member's
// password, and finds and checks the user as an identification and a
// password stage would.
func ExampleStore_Directory() {
	dir, err := os.MkdirTemp("", "authflow-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	// A low iteration count keeps the example fast; the default is
	// Django's 870,000.
	s, err := store.Open(filepath.Join(dir, "authflow.db"), &store.Options{Passwords: password.Policy{Iterations: 1000}})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	err = s.Update(ctx, func(tx *store.Tx) error {
		admins, err := store.Groups.CreateJSON(tx, []byte(`{"name": "authentik Admins", "is_superuser": true}`), nil)
		if err != nil {
			return err
		}
		_, err = store.Users.CreateJSON(tx, fmt.Appendf(nil, `{"username": "akadmin", "name": "authentik Default Admin", "email": "root@example.com", "groups": ["%s"]}`, admins.PK), nil)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	secret := "correct horse battery staple"
	if err := s.SetPassword(ctx, 1, &secret); err != nil {
		log.Fatal(err)
	}

	d := s.Directory()
	u, err := d.FindUser(ctx, directory.Find{Identifier: "ROOT@example.com", Fields: []directory.Field{directory.FieldUsername, directory.FieldEmail}})
	if err != nil {
		log.Fatal(err)
	}
	ok, err := d.CheckPassword(ctx, u.PK, secret)
	if err != nil {
		log.Fatal(err)
	}
	facts, err := directory.FactsOf(ctx, d, u)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.PK, u.Username, ok, facts.Superuser)
	// Output: 1 akadmin true true
}

// ExampleWriteOptions_actor creates an invitation on behalf of a user,
// named by pk: the invitation refers to the user, who lists it in
// used_by, and goes when the user is deleted.
func ExampleWriteOptions_actor() {
	dir, err := os.MkdirTemp("", "authflow-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := store.Open(filepath.Join(dir, "authflow.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	err = s.Update(context.Background(), func(tx *store.Tx) error {
		u, err := store.Users.CreateJSON(tx, []byte(`{"username": "akadmin", "name": "Admin"}`), nil)
		if err != nil {
			return err
		}
		inv, err := store.Invites.CreateJSON(tx, []byte(`{"name": "team-a"}`), &store.WriteOptions{Actor: &u.PK})
		if err != nil {
			return err
		}
		fmt.Println(inv.Name, "created by", inv.CreatedBy.Username, *inv.CreatedByUser)

		id, err := tx.Lookup(store.ModelUser, store.By("pk", fmt.Sprint(u.PK)))
		if err != nil {
			return err
		}
		used, err := tx.UsedBy(store.ModelUser, id)
		if err != nil {
			return err
		}
		fmt.Println(used[0].ModelName, used[0].Action)

		if err := store.Users.Delete(tx, store.By("pk", fmt.Sprint(u.PK)), nil); err != nil {
			return err
		}
		p, err := store.Invites.List(tx, store.Query{})
		fmt.Println(p.Pagination.Count, "invitations left")
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// team-a created by akadmin 1
	// invitation cascade
	// 0 invitations left
}
