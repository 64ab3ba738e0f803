package blueprint_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

func exportDirectory(t *testing.T, s *store.Store) string {
	t.Helper()
	var out []byte
	err := s.View(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = blueprint.ExportDirectory(tx, time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// directoryOf is every group and user of s as the API shows them, less
// what differs between stores (pks, uuids, dates).
func directoryOf(t *testing.T, s *store.Store) string {
	t.Helper()
	var b strings.Builder
	err := s.View(context.Background(), func(tx *store.Tx) error {
		groups, err := tx.List(store.ModelGroup, store.Query{PageSize: store.MaxPageSize})
		if err != nil {
			return err
		}
		names := map[string]string{}
		for _, r := range groups.Results {
			g := r.(directory.GroupView)
			names[g.PK.String()] = g.Name
		}
		for _, r := range groups.Results {
			g := r.(directory.GroupView)
			parent := ""
			if g.Parent != nil {
				parent = names[g.Parent.String()]
			}
			var members []string
			for _, u := range g.UsersObj {
				members = append(members, u.Username)
			}
			b.WriteString(jsonOf(t, []any{g.Name, g.IsSuperuser, parent, g.Attributes, members}) + "\n")
		}
		users, err := tx.List(store.ModelUser, store.Query{PageSize: store.MaxPageSize})
		if err != nil {
			return err
		}
		for _, r := range users.Results {
			u := r.(directory.UserView)
			var in []string
			for _, g := range u.Groups {
				in = append(in, names[g.String()])
			}
			usable, err := tx.HasUsablePassword(u.PK)
			if err != nil {
				return err
			}
			b.WriteString(jsonOf(t, []any{u.Username, u.Name, u.Email, u.IsActive, u.LastLogin, u.Path, u.Type, u.Attributes, in, u.IsSuperuser, usable}) + "\n")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The directory's export recreates its groups (with their hierarchy, a
// cycle of parents included) and users (with their memberships) in an
// empty store, without any password: a restored user's password is
// unusable. Imported again, anywhere, nothing changes; the copy exports
// as the original does.
func TestExportDirectoryRoundTrip(t *testing.T) {
	const secret = "Walrus-Pelican-4410"
	src, _ := userStore(t)
	if got := exportDirectory(t, src); !strings.Contains(got, "entries: []") {
		t.Errorf("an empty directory's export:\n%s", got)
	}
	res := apply(t, src, `version: 1
entries:
- {model: authentik_core.group, id: ring-a, identifiers: {name: ring a}}
- {model: authentik_core.group, id: ring-b, identifiers: {name: ring b}, attrs: {parent: !KeyOf ring-a}}
- {model: authentik_core.group, identifiers: {name: ring a}, attrs: {parent: !KeyOf ring-b}}
- {model: authentik_core.group, id: eng, identifiers: {name: eng}, attrs: {attributes: {team: {lead: alice}}}}
- {model: authentik_core.group, id: admins, identifiers: {name: admins}, attrs: {is_superuser: true}}
- {model: authentik_core.group, identifiers: {name: eng}, attrs: {parent: !KeyOf admins}}
- {model: authentik_core.group, identifiers: {name: empty}}
- {model: authentik_core.group, id: odd, identifiers: {name: "*odd: 'name' #1 "}}
- {model: authentik_core.user, identifiers: {username: "- !odd user"}, attrs: {name: Odd, groups: [!KeyOf odd, !KeyOf eng]}}
- model: authentik_core.user
  identifiers: {username: alice}
  attrs: {name: Alice, email: alice@example.com, password: `+secret+`, groups: [!KeyOf eng, !KeyOf ring-b], attributes: {upn: alice@corp}, last_login: "2026-12-01T10:00:00Z"}
- {model: authentik_core.user, identifiers: {username: bob}, attrs: {name: "", is_active: false, type: external, path: users/ext}}
- {model: authentik_core.user, identifiers: {username: Bob}, attrs: {name: Other Bob, groups: [!KeyOf admins]}}
`, blueprint.Options{})
	if !res.Success {
		t.Fatal(entryErrors(t, res))
	}
	want := directoryOf(t, src)
	doc := exportDirectory(t, src)
	for _, leak := range []string{secret, "pbkdf2", "password", "uuid", "date_joined"} {
		if strings.Contains(doc, leak) {
			t.Errorf("the export holds %q:\n%s", leak, doc)
		}
	}
	dst, _ := userStore(t)
	res = apply(t, dst, doc, blueprint.Options{})
	if !res.Success {
		t.Fatalf("%v\n%s", entryErrors(t, res), doc)
	}
	// Everything comes back but alice's password, which the export does
	// not carry.
	usable := `{"upn":"alice@corp"},["eng","ring b"],true,true]`
	restored := strings.Replace(want, usable, `{"upn":"alice@corp"},["eng","ring b"],true,false]`, 1)
	if got := directoryOf(t, dst); !strings.Contains(want, usable) || got != restored {
		t.Errorf("restored:\n%s\nwant:\n%s\n%s", got, restored, doc)
	}
	for name, s := range map[string]*store.Store{"the copy": dst, "the original": src} {
		if res := apply(t, s, doc, blueprint.Options{}); !res.Success || res.Changed {
			t.Errorf("again into %s: %v", name, actions(res))
		}
	}
	alice, _ := user(t, src, "alice")
	if ok, err := src.CheckPassword(context.Background(), alice.PK, secret); !ok || err != nil {
		t.Errorf("the original's password after its export's import: %v %v", ok, err)
	}
	if again := exportDirectory(t, dst); again != doc {
		t.Errorf("the copy exports differently:\n%s\n---\n%s", again, doc)
	}
}

// ownerStage is a host's stage kind that refers to a user (by number) and
// a group, as policy bindings do.
type ownerStage struct {
	Owner *int64     `json:"owner" af:"ref=authentik_core.user"`
	Team  *uuid.UUID `json:"team" af:"ref=authentik_core.group"`
}

func (*ownerStage) ModelName() stage.ModelName { return "acme_stages.ownerstage" }

// A flow's portable export finds the users and groups it refers to by
// username and name, so that, after the directory's export, it imports
// into a store where their pks differ.
func TestExportPortableFindsUsersAndGroups(t *testing.T) {
	reg := &stage.Registry{}
	for _, k := range stage.Default.Kinds() {
		reg.Register(k)
	}
	reg.Register(stage.Kind{Model: "acme_stages.ownerstage", New: func() stage.Config { return &ownerStage{} },
		Component: "ak-stage-owner-form", VerboseName: "Owner Stage"})
	open := func() *store.Store {
		s, err := store.Open(filepath.Join(t.TempDir(), "owner.db"), &store.Options{NoSync: true, StageKinds: reg,
			Passwords: password.Policy{Iterations: 1000}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	src, dst := open(), open()
	doc := `version: 1
entries:
- {model: authentik_core.group, id: eng, identifiers: {name: eng}}
- {model: authentik_core.user, id: alice, identifiers: {username: alice}, attrs: {name: Alice, groups: [!KeyOf eng]}}
- {model: authentik_flows.flow, id: flow, identifiers: {slug: owned}, attrs: {name: Owned, title: Owned, designation: authentication}}
- {model: acme_stages.ownerstage, id: st, identifiers: {name: owner}, attrs: {owner: !KeyOf alice, team: !KeyOf eng}}
- {model: authentik_flows.flowstagebinding, identifiers: {target: !KeyOf flow, stage: !KeyOf st, order: 10}}
`
	if res := apply(t, src, doc, blueprint.Options{}); !res.Success {
		t.Fatal(entryErrors(t, res))
	}
	var flowDoc []byte
	err := src.View(context.Background(), func(tx *store.Tx) error {
		var err error
		flowDoc, err = blueprint.ExportPortable(tx, "owned", time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"owner: !Find [authentik_core.user, [username, alice]]", "team: !Find [authentik_core.group, [name, eng]]"} {
		if !strings.Contains(string(flowDoc), want) {
			t.Errorf("no %q in\n%s", want, flowDoc)
		}
	}
	// In dst, alice is number 2.
	if res := apply(t, dst, "version: 1\nentries:\n- {model: authentik_core.user, identifiers: {username: first}, attrs: {name: First}}\n", blueprint.Options{}); !res.Success {
		t.Fatal(entryErrors(t, res))
	}
	for _, d := range []string{exportDirectory(t, src), string(flowDoc)} {
		if res := apply(t, dst, d, blueprint.Options{}); !res.Success {
			t.Fatalf("%v\n%s", entryErrors(t, res), d)
		}
	}
	alice, _ := user(t, dst, "alice")
	eng := group(t, dst, "eng")
	err = dst.View(context.Background(), func(tx *store.Tx) error {
		st, err := store.Stages.Get(tx, store.By("name", "owner"))
		if err != nil {
			return err
		}
		c := st.Config.(*ownerStage)
		if alice.PK != 2 || c.Owner == nil || *c.Owner != 2 || c.Team == nil || *c.Team != eng.PK {
			t.Errorf("owner %v team %v; alice %d, eng %s", c.Owner, c.Team, alice.PK, eng.PK)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A user entry's password is hashed and set; the directory's export
// recreates the group and the user, without it.
func ExampleExportDirectory() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	s, err := store.Open(filepath.Join(dir, "example.db"), &store.Options{NoSync: true})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()
	res, err := blueprint.Load(ctx, s, strings.NewReader(`version: 1
entries:
- {model: authentik_core.group, id: admins, identifiers: {name: admins}, attrs: {is_superuser: true}}
- {model: authentik_core.user, identifiers: {username: alice}, attrs: {name: Alice, password: s3cret, groups: [!KeyOf admins]}}
`), blueprint.Options{})
	if err != nil {
		panic(err)
	}
	for _, l := range res.Logs {
		fmt.Println(l.Attributes["action"], l.Attributes["pk"] != nil)
	}
	ok, _ := s.CheckPassword(ctx, 1, "s3cret")
	fmt.Println("password verifies:", ok)
	_ = s.View(ctx, func(tx *store.Tx) error {
		out, err := blueprint.ExportDirectory(tx, time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC))
		fmt.Print(string(out))
		return err
	})
	// Output:
	// create true
	// create true
	// password verifies: true
	// entries:
	//   - attrs:
	//       is_superuser: true
	//     id: group-admins
	//     identifiers:
	//       name: admins
	//     model: authentik_core.group
	//     state: present
	//   - attrs:
	//       groups:
	//         - !KeyOf group-admins
	//       name: Alice
	//     id: user-alice
	//     identifiers:
	//       username: alice
	//     model: authentik_core.user
	//     state: present
	// metadata:
	//   labels:
	//     authflow.dev/portable: "true"
	//     blueprints.goauthentik.io/generated: "true"
	//   name: authflow Directory Export - 2026-12-07 07:00:00.000000+00:00
	// version: 1
}
