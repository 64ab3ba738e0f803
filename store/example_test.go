package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
)

// ExampleStore_Backup copies a live store into a new file and opens the
// copy read-only.
func ExampleStore_Backup() {
	dir, err := os.MkdirTemp("", "authflow-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := store.Open(filepath.Join(dir, "authflow.db"), &store.Options{Timeout: time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	err = s.Update(ctx, func(tx *store.Tx) error {
		_, err := store.Flows.Create(tx, flow.New("Welcome", "default-authentication-flow", "Welcome to authentik!", flow.DesignationAuthentication), nil)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}

	var buf bytes.Buffer
	if _, err := s.Backup(ctx, &buf); err != nil {
		log.Fatal(err)
	}
	copyPath := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(copyPath, buf.Bytes(), 0o600); err != nil {
		log.Fatal(err)
	}

	c, err := store.Open(copyPath, &store.Options{ReadOnly: true})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	welcome := store.By("slug", "default-authentication-flow")
	var f flow.Flow
	err = c.View(ctx, func(tx *store.Tx) (err error) {
		f, err = store.Flows.Get(tx, welcome)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Name, f.Designation)
	err = c.Update(ctx, func(tx *store.Tx) error {
		_, err := store.Flows.Patch(tx, welcome, []byte(`{"title":"Hello"}`), nil)
		return err
	})
	fmt.Println(errors.Is(err, store.ErrReadOnly))
	// Output:
	// Welcome authentication
	// true
}

// ExampleStore_Update creates a flow, a stage and a binding in one
// transaction: either all of them are stored or none is.
func ExampleStore_Update() {
	dir, err := os.MkdirTemp("", "authflow-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := store.Open(filepath.Join(dir, "authflow.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	err = s.Update(ctx, func(tx *store.Tx) error {
		f, err := store.Flows.Create(tx, flow.New("Enroll", "enroll", "Sign up", flow.DesignationEnrollment), nil)
		if err != nil {
			return err
		}
		st, err := store.Stages.Create(tx, stage.Stage{Name: "write-user", Config: stage.DefaultUserWrite()}, nil)
		if err != nil {
			return err
		}
		_, err = store.Bindings.Create(tx, binding.New(f.PK, st.PK, 10), nil)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	var f flow.View // the API representation, with the stages bound
	err = s.View(ctx, func(tx *store.Tx) (err error) {
		f, err = store.Flows.View(tx, store.By("slug", "enroll"))
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(f.Stages), "stage bound")

	// The second time, the slug is taken: nothing of this attempt is kept.
	err = s.Update(ctx, func(tx *store.Tx) error {
		if _, err := store.Stages.Create(tx, stage.Stage{Name: "another", Config: stage.Invitation{}}, nil); err != nil {
			return err
		}
		_, err := store.Flows.Create(tx, flow.New("Enroll", "enroll", "Sign up", flow.DesignationEnrollment), nil)
		return err
	})
	fmt.Println(err, errors.Is(err, store.ErrConflict))
	var stages store.Page[stage.View]
	err = s.View(ctx, func(tx *store.Tx) (err error) {
		stages, err = store.Stages.List(tx, store.Query{})
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(stages.Pagination.Count, "stage stored")
	// Output:
	// 1 stage bound
	// validation failed; slug: Flow with this slug already exists. true
	// 1 stage stored
}
