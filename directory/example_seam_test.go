package directory_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/password"
	"github.com/google/uuid"
)

// hostDir is a host's own directory: its users table (here a map, with
// password hashes beside it), which flows read but do not write.
type hostDir struct {
	users  map[int64]directory.User
	hashes map[int64]string
	groups map[uuid.UUID]directory.Group
	policy password.Policy
}

func (h *hostDir) User(_ context.Context, pk int64) (directory.User, error) {
	if u, ok := h.users[pk]; ok {
		// A host that reads a row builds a new User each time; this map
		// shares its values, so the caller must not change them.
		return u, nil
	}
	return directory.User{}, fmt.Errorf("user %d: %w", pk, directory.ErrNotFound)
}

func (h *hostDir) UserByUUID(ctx context.Context, id uuid.UUID) (directory.User, error) {
	for pk, u := range h.users {
		if u.UUID == id {
			return h.User(ctx, pk)
		}
	}
	return directory.User{}, fmt.Errorf("user %s: %w", id, directory.ErrNotFound)
}

func (h *hostDir) FindUser(ctx context.Context, q directory.Find) (directory.User, error) {
	var best int64
	for pk, u := range h.users {
		for _, f := range q.Fields {
			var v string
			switch f {
			case directory.FieldUsername:
				v = u.Username
			case directory.FieldEmail:
				v = u.Email
			case directory.FieldUPN:
				v, _ = u.Attributes["upn"].(string)
			}
			match := v == q.Identifier || !q.CaseSensitive && strings.EqualFold(v, q.Identifier)
			if q.Identifier != "" && match && (best == 0 || pk < best) {
				best = pk
			}
		}
	}
	return h.User(ctx, best) // pk 0 is nobody: ErrNotFound
}

func (h *hostDir) CheckPassword(_ context.Context, pk int64, raw string) (bool, error) {
	stored, ok := h.hashes[pk]
	if !ok {
		return false, fmt.Errorf("user %d: %w", pk, directory.ErrNotFound)
	}
	match, _, err := h.policy.Check(raw, stored) // read-only: no upgrade
	return match, err
}

func (h *hostDir) Group(_ context.Context, pk uuid.UUID) (directory.Group, error) {
	if g, ok := h.groups[pk]; ok {
		return g, nil
	}
	return directory.Group{}, fmt.Errorf("group %s: %w", pk, directory.ErrNotFound)
}

// The writes: this host's table is read-only.
func (*hostDir) CreateUser(context.Context, directory.User) (directory.User, error) {
	return directory.User{}, directory.ErrReadOnly
}
func (*hostDir) UpdateUser(context.Context, directory.User) (directory.User, error) {
	return directory.User{}, directory.ErrReadOnly
}
func (*hostDir) DeleteUser(context.Context, int64) error           { return directory.ErrReadOnly }
func (*hostDir) SetPassword(context.Context, int64, *string) error { return directory.ErrReadOnly }

// Example_hostDirectory shows a host's own users behind the seam: a flow
// finds a user by identifier, checks its password, and reads its groups,
// superuser status and attributes with FactsOf.
func Example_hostDirectory() {
	ctx := context.Background()
	policy := password.Policy{Iterations: 1000} // a host's choice; Django's is 870,000
	admins := directory.Group{PK: uuid.UUID{15: 1}, Name: "admins", IsSuperuser: true,
		Attributes: map[string]any{"theme": "dark"}}
	ops := directory.Group{PK: uuid.UUID{15: 2}, Name: "ops", Parent: &admins.PK,
		Attributes: map[string]any{"pager": true}}
	hash, _ := policy.Hash("s3cret")
	d := &hostDir{
		users: map[int64]directory.User{
			1: {PK: 1, Username: "alice", Email: "alice@example.com", IsActive: true, Groups: []uuid.UUID{ops.PK},
				Attributes: map[string]any{"theme": "light"}},
		},
		hashes: map[int64]string{1: hash},
		groups: map[uuid.UUID]directory.Group{admins.PK: admins, ops.PK: ops},
		policy: policy,
	}

	u, err := d.FindUser(ctx, directory.Find{Identifier: "Alice@Example.com",
		Fields: []directory.Field{directory.FieldUsername, directory.FieldEmail}})
	fmt.Println("found:", u, err)
	ok, err := d.CheckPassword(ctx, u.PK, "s3cret")
	fmt.Println("password:", ok, err)

	facts, err := directory.FactsOf(ctx, d, u)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, pk := range facts.Groups {
		fmt.Println("group:", d.groups[pk].Name)
	}
	attrs, _ := json.Marshal(facts.Attributes)
	fmt.Println("superuser:", facts.Superuser, "attributes:", string(attrs))

	_, err = d.CreateUser(ctx, directory.DefaultUser())
	fmt.Println("create:", errors.Is(err, directory.ErrReadOnly))
	// Output:
	// found: alice <nil>
	// password: true <nil>
	// group: ops
	// group: admins
	// superuser: true attributes: {"pager":true,"theme":"light"}
	// create: true
}
