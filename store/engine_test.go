package store_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/authflow/authflow/binding"
	"github.com/authflow/authflow/internal/testutil"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
	"github.com/invopop/validation"
	bolt "go.etcd.io/bbolt"
)

// A version-1 file made by the code before the engine opens, is migrated
// in place, and lists exactly what it listed before, secrets included.
func TestMigrateV1(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "v1.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v1.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	// Read-only, it cannot be migrated: refused, and left alone.
	if _, err := store.Open(path, &store.Options{ReadOnly: true}); !errors.Is(err, store.ErrVersion) || !strings.Contains(err.Error(), "migrate") {
		t.Errorf("read-only Open of a version-1 file = %v, want ErrVersion saying to migrate", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, src) {
		t.Fatal("a refused read-only open changed the file")
	}
	s := openTestStore(t, path, nil)
	ctx := t.Context()
	fl, err := listIn(ctx, s, store.Flows, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := listIn(ctx, s, store.Stages, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	bs, err := listIn(ctx, s, store.Bindings, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(map[string]any{"flows": fl, "stages": st, "bindings": bs}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(append(got, '\n')) != string(want) {
		t.Errorf("after migration the lists differ from testdata/v1.json:\n%s", got)
	}
	checkInvariants(t, s)
	var duo stage.View
	for _, v := range st.Results {
		if v.Name == "duo" {
			duo = v
		}
	}
	if c := duoConfig(t, duo); c.ClientSecret.Reveal() != "s3cret" {
		t.Errorf("the Duo secret did not survive the migration")
	}
	// The migrated indexes work: the duo stage's configure_flow is a
	// tracked reference, so deleting that flow clears it.
	if err := deleteIn(ctx, s, store.Flows, store.By("slug", "duo-setup")); err != nil {
		t.Fatal(err)
	}
	if v, _ := viewIn(ctx, s, store.Stages, store.PK(duo.PK)); duoConfig(t, v).ConfigureFlow != nil {
		t.Error("configure_flow survived the deletion of its flow after migration")
	}
	checkInvariants(t, s)
}

// Every record carries a checksum: a flipped byte in a record gives
// ErrCorrupt naming the object, never different data.
func TestRecordChecksum(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crc.db")
	s := openTestStore(t, path, nil)
	f := mkFlow(t, s, "victim")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("flows"))
		v := bytes.Clone(b.Get(f.PK[:]))
		i := bytes.Index(v, []byte("victim"))
		v[i] = 'V' // still valid JSON, still a valid slug: only the checksum can tell
		return b.Put(f.PK[:], v)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = viewIn(t.Context(), s, store.Flows, store.PK(f.PK))
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), f.PK.String()) {
		t.Errorf("GetFlow of a damaged record = %v, want ErrCorrupt naming %s", err, f.PK)
	}
	if _, err := listIn(t.Context(), s, store.Flows, store.Query{}); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("ListFlows over a damaged record = %v, want ErrCorrupt", err)
	}
}

// used_by lists what refers to an object in authentik's shape and order.
func TestUsedBy(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	setup := mkFlow(t, s, "setup")
	uw := mkUserWrite(t, s, "uw")
	duo := mkDuo(t, s, "duo", &setup.PK)
	b1 := mkBinding(t, s, f.PK, uw.PK, 10)
	b2 := mkBinding(t, s, setup.PK, duo.PK, 20)

	got, err := readIn(ctx, s, func(tx *store.Tx) ([]store.UsedBy, error) { return tx.UsedBy(store.ModelFlow, setup.PK) })
	if err != nil {
		t.Fatal(err)
	}
	want := []store.UsedBy{
		{App: "authentik_stages_authenticator_duo", ModelName: "authenticatorduostage", PK: duo.PK.String(), Name: "Duo Authenticator Setup Stage duo", Action: "set_null"},
		{App: "authentik_flows", ModelName: "flowstagebinding", PK: b2.PK.String(), Name: "Flow-stage binding #20 to " + setup.PK.String(), Action: "cascade"},
		// Through Flow.stages authentik yields base Stage rows, whose
		// str() is "Stage <name>", not the Duo stage's own.
		{App: "authentik_flows", ModelName: "stage", PK: duo.PK.String(), Name: "Stage duo", Action: "cascade_many"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("used_by of the setup flow:\n got %+v\nwant %+v", got, want)
	}
	got, err = readIn(ctx, s, func(tx *store.Tx) ([]store.UsedBy, error) { return tx.UsedBy(store.ModelStage, uw.PK) })
	if err != nil {
		t.Fatal(err)
	}
	want = []store.UsedBy{
		{App: "authentik_flows", ModelName: "flow", PK: f.PK.String(), Name: "Flow Name of f (f)", Action: "cascade_many"},
		{App: "authentik_flows", ModelName: "flowstagebinding", PK: b1.PK.String(), Name: "Flow-stage binding #10 to " + f.PK.String(), Action: "cascade"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("used_by of the user write stage:\n got %+v\nwant %+v", got, want)
	}
	// A kind's own model name works too, and the wrong kind is not found.
	if _, err := readIn(ctx, s, func(tx *store.Tx) ([]store.UsedBy, error) { return tx.UsedBy(string(stage.ModelUserWrite), uw.PK) }); err != nil {
		t.Errorf("UsedBy by kind: %v", err)
	}
	if _, err := readIn(ctx, s, func(tx *store.Tx) ([]store.UsedBy, error) {
		return tx.UsedBy(string(stage.ModelAuthenticatorDuo), uw.PK)
	}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UsedBy of the wrong kind = %v, want ErrNotFound", err)
	}
	if _, err := readIn(ctx, s, func(tx *store.Tx) ([]store.UsedBy, error) { return tx.UsedBy("authentik_nope.thing", uw.PK) }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UsedBy of an unknown model = %v, want ErrNotFound", err)
	}
}

// DeleteImpact previews a delete without doing it.
func TestDeleteImpact(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	setup := mkFlow(t, s, "setup")
	duo := mkDuo(t, s, "duo", &setup.PK)
	b := mkBinding(t, s, setup.PK, duo.PK, 1)
	before := backup(t, s)
	im, err := readIn(ctx, s, func(tx *store.Tx) (store.Impact, error) { return tx.DeleteImpact(store.ModelFlow, setup.PK) })
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, u := range im.Deleted {
		deleted = append(deleted, u.PK)
	}
	if want := []string{setup.PK.String(), b.PK.String()}; !reflect.DeepEqual(deleted, want) {
		t.Errorf("Deleted = %v, want %v", deleted, want)
	}
	if len(im.SetNull) != 1 || im.SetNull[0].PK != duo.PK.String() || len(im.Blocked) != 0 || len(im.SetDefault) != 0 {
		t.Errorf("impact = %+v", im)
	}
	if after := backup(t, s); !bytes.Equal(before, after) {
		t.Error("DeleteImpact changed the store")
	}
}

// Kinds a host registers declare their own references and on-delete
// actions; the engine carries them out with no code of theirs.
type guardStage struct {
	Guarded  *uuid.UUID `json:"guarded" af:"ref=flow,on_delete=protect"`
	Fallback *uuid.UUID `json:"fallback" af:"ref=flow,on_delete=set_default"`
	Next     *uuid.UUID `json:"next" af:"ref=stage,on_delete=cascade"`
}

func (guardStage) ModelName() stage.ModelName { return "authflow_test.guardstage" }

func guardRegistry() *stage.Registry {
	reg := &stage.Registry{}
	for _, k := range stage.Default.Kinds() {
		reg.Register(k)
	}
	reg.Register(stage.Kind{Model: "authflow_test.guardstage", New: func() stage.Config { return &guardStage{} },
		Component: "ak-stage-guard-form", VerboseName: "Guard Stage"})
	return reg
}

func TestProtectSetDefaultAndRecursiveCascade(t *testing.T) {
	s := openTestStore(t, filepath.Join(t.TempDir(), "guard.db"), &store.Options{StageKinds: guardRegistry(), NewID: storetest.CounterIDs(1, 1)})
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	g := mkFlow(t, s, "g")
	guard, err := createJSONIn(ctx, s, store.Stages.Kind("authflow_test.guardstage"), []byte(`{"name":"guard","guarded":"`+f.PK.String()+`","fallback":"`+g.PK.String()+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	// protect: the delete is refused with what blocks it, and nothing changes.
	before := backup(t, s)
	err = deleteIn(ctx, s, store.Flows, store.By("slug", "f"))
	var pe *store.ProtectedError
	if !errors.Is(err, store.ErrProtected) || !errors.As(err, &pe) {
		t.Fatalf("DeleteFlow of a protected flow = %v, want ErrProtected", err)
	}
	if len(pe.Blockers) != 1 || pe.Blockers[0].PK != guard.PK.String() || pe.Blockers[0].Name != "Stage guard" {
		t.Errorf("blockers = %+v", pe.Blockers)
	}
	if after := backup(t, s); !bytes.Equal(before, after) {
		t.Error("a refused delete changed the store")
	}
	if im, err := readIn(ctx, s, func(tx *store.Tx) (store.Impact, error) { return tx.DeleteImpact(store.ModelFlow, f.PK) }); err != nil || len(im.Blocked) != 1 {
		t.Errorf("DeleteImpact = %+v, %v; want one blocker", im, err)
	}
	// set_default: the kind's default (null) replaces the reference.
	if err := deleteIn(ctx, s, store.Flows, store.By("slug", "g")); err != nil {
		t.Fatal(err)
	}
	v, _ := viewIn(ctx, s, store.Stages, store.PK(guard.PK))
	if c := v.Config.(guardStage); c.Fallback != nil || c.Guarded == nil || *c.Guarded != f.PK {
		t.Errorf("after deleting g: %+v", c)
	}
	checkInvariants(t, s)
	// A recursive cascade: a stage that points at the guard goes with it,
	// bindings and all, and a self-reference ends the walk.
	child, err := createJSONIn(ctx, s, store.Stages.Kind("authflow_test.guardstage"), []byte(`{"name":"child","next":"`+guard.PK.String()+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := patchIn(ctx, s, store.Stages, store.PK(guard.PK), []byte(`{"next":"`+guard.PK.String()+`"}`)); err != nil {
		t.Fatal(err)
	}
	h := mkFlow(t, s, "h")
	bound := mkBinding(t, s, h.PK, child.PK, 1)
	if err := deleteIn(ctx, s, store.Stages, store.PK(guard.PK)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []uuid.UUID{guard.PK, child.PK} {
		if _, err := viewIn(ctx, s, store.Stages, store.PK(id)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("stage %s survived the cascade: %v", id, err)
		}
	}
	if _, err := viewIn(ctx, s, store.Bindings, store.PK(bound.PK)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the cascaded stage's binding survived: %v", err)
	}
	// With the guard gone, f deletes.
	if err := deleteIn(ctx, s, store.Flows, store.By("slug", "f")); err != nil {
		t.Errorf("DeleteFlow after the guard went: %v", err)
	}
	checkInvariants(t, s)
}

// Open refuses a schema whose kinds refer to something that does not
// exist, before it touches the file.
type badRefStage struct {
	X *uuid.UUID `json:"x" af:"ref=authentik_nope.thing"`
}

func (badRefStage) ModelName() stage.ModelName { return "authflow_test.badrefstage" }

func TestOpenRefusesBadSchema(t *testing.T) {
	reg := &stage.Registry{}
	reg.Register(stage.Kind{Model: "authflow_test.badrefstage", New: func() stage.Config { return &badRefStage{} },
		Component: "ak-stage-bad-form", VerboseName: "Bad Stage"})
	path := filepath.Join(t.TempDir(), "bad.db")
	_, err := store.Open(path, &store.Options{StageKinds: reg})
	if !errors.Is(err, store.ErrSchema) || !strings.Contains(err.Error(), "authentik_nope.thing") {
		t.Errorf("Open with a dangling kind reference = %v, want ErrSchema naming the target", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused Open left a file behind: %v", err)
	}
}

// A reference to a kind checks the kind, not only the collection.
type kindRefStage struct {
	Duo *uuid.UUID `json:"duo" af:"ref=authentik_stages_authenticator_duo.authenticatorduostage"`
}

func (kindRefStage) ModelName() stage.ModelName { return "authflow_test.kindrefstage" }

func TestReferenceToOneKind(t *testing.T) {
	reg := &stage.Registry{}
	for _, k := range stage.Default.Kinds() {
		reg.Register(k)
	}
	reg.Register(stage.Kind{Model: "authflow_test.kindrefstage", New: func() stage.Config { return &kindRefStage{} },
		Component: "ak-stage-kindref-form", VerboseName: "Kind Ref Stage"})
	s := openTestStore(t, filepath.Join(t.TempDir(), "kind.db"), &store.Options{StageKinds: reg})
	ctx := t.Context()
	uw := mkUserWrite(t, s, "uw")
	duo := mkDuo(t, s, "duo", nil)
	_, err := createJSONIn(ctx, s, store.Stages.Kind("authflow_test.kindrefstage"), []byte(`{"name":"k","duo":"`+uw.PK.String()+`"}`))
	testutil.WantInvalid(t, err, map[string][]string{"duo": {validate.DoesNotExist(uw.PK.String())}})
	k, err := createJSONIn(ctx, s, store.Stages.Kind("authflow_test.kindrefstage"), []byte(`{"name":"k","duo":"`+duo.PK.String()+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := deleteIn(ctx, s, store.Stages, store.PK(duo.PK)); err != nil {
		t.Fatal(err)
	}
	if v, _ := viewIn(ctx, s, store.Stages, store.PK(k.PK)); v.Config.(kindRefStage).Duo != nil {
		t.Error("the reference to the deleted Duo stage was not set to null")
	}
	checkInvariants(t, s)
}

// The generic JSON form reaches every collection and kind by model name.
func TestGenericForm(t *testing.T) {
	s := newTestStore(t)
	ctx := t.Context()
	var fpk, spk, bpk uuid.UUID
	err := s.Update(ctx, func(tx *store.Tx) error {
		var err error
		if fpk, err = tx.Create(store.ModelFlow, []byte(`{"name":"F","slug":"f","title":"T","designation":"authentication"}`), nil); err != nil {
			return err
		}
		if spk, err = tx.Create(string(stage.ModelUserWrite), []byte(`{"name":"uw"}`), nil); err != nil {
			return err
		}
		bpk, err = tx.Create(store.ModelBinding, []byte(`{"target":"`+fpk.String()+`","stage":"`+spk.String()+`","order":3}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.Create(store.ModelStage, []byte(`{"name":"x"}`), nil); err == nil {
			t.Error("Create(ModelStage) without a kind succeeded")
		}
		if _, err := tx.Create("authentik_nope.thing", []byte(`{}`), nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Create of an unknown model = %v", err)
		}
		_, err := tx.Create(store.ModelFlow, []byte(`{"name":"F","slug":"f","title":"T","designation":"authentication"}`), nil)
		testutil.WantInvalid(t, err, map[string][]string{"slug": {"Flow with this slug already exists."}})
		if err := tx.Patch(store.ModelBinding, bpk, []byte(`{"order":4}`), nil); err != nil {
			return err
		}
		if err := tx.Replace(string(stage.ModelUserWrite), spk, []byte(`{"name":"uw2"}`), nil); err != nil {
			return err
		}
		v, err := tx.Get(store.ModelBinding, bpk)
		if err != nil {
			return err
		}
		if b := v.(binding.View); b.Order != 4 || b.StageObj.Name != "uw2" {
			t.Errorf("Get after Patch and Replace: %+v", b)
		}
		return tx.Delete(store.ModelFlow, fpk, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := viewIn(ctx, s, store.Bindings, store.PK(bpk)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the flow's binding survived Delete: %v", err)
	}
	checkInvariants(t, s)
}

// Check finds every kind of damage: a record that fails its checksum, a
// missing or stray index entry, a wrong count, a dangling reference.
func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "check.db")
	s, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	g := mkFlow(t, s, "g")
	uw := mkUserWrite(t, s, "uw")
	mkBinding(t, s, f.PK, uw.PK, 1)
	if p := s.Check(ctx); len(p) != 0 {
		t.Fatalf("Check of a healthy store = %v", p)
	}
	s.Close()
	damage := func(fn func(tx *bolt.Tx) error) {
		t.Helper()
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(fn); err != nil {
			t.Fatal(err)
		}
	}
	damage(func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte("flows_by_slug")).Delete([]byte("g")); err != nil { // missing entry
			return err
		}
		if err := tx.Bucket([]byte("bindings_by_flow")).Put(bytes.Repeat([]byte{7}, 36), []byte("x")); err != nil { // stray
			return err
		}
		if err := tx.Bucket([]byte("counts")).Put([]byte("flows"), []byte{0, 0, 0, 0, 0, 0, 0, 9}); err != nil { // count
			return err
		}
		b := tx.Bucket([]byte("stages"))
		v := bytes.Clone(b.Get(uw.PK[:]))
		v[bytes.Index(v, []byte(`"uw"`))+1] = 'U' // checksum
		if err := b.Put(uw.PK[:], v); err != nil {
			return err
		}
		return tx.Bucket([]byte("flows")).Delete(f.PK[:]) // dangling binding target
	})
	s, err = store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var text []string
	for _, p := range s.Check(ctx) {
		text = append(text, p.Error())
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{
		"flows_by_slug: kv: database is damaged: 1 entries the objects imply are missing",
		"bindings_by_flow: kv: database is damaged: key 0707",
		`count "flows"`,
		"stages record " + uw.PK.String() + ": kv: database is damaged: checksum mismatch",
		"target points at " + f.PK.String(),
	} {
		if !strings.Contains(all, want) {
			t.Errorf("Check missed %q; it said:\n%s", want, all)
		}
	}
	_ = g
}

// A many-to-many reference and list fields, as a host kind declares them.
type listStage struct {
	Flows []uuid.UUID `json:"flows" af:"ref=flow"`
	Tags  []string    `json:"tags"`
	Modes []listMode  `json:"modes" af:"nonempty"`
}

type listMode string

func (listStage) ModelName() stage.ModelName { return "authflow_test.liststage" }

func (c listStage) Validate() error {
	return validation.ValidateStruct(&c, validation.Field(&c.Modes, validation.Each(validate.Choice[listMode]("a", "b"))))
}

func listRegistry() *stage.Registry {
	reg := &stage.Registry{}
	for _, k := range stage.Default.Kinds() {
		reg.Register(k)
	}
	reg.Register(stage.Kind{Model: "authflow_test.liststage", New: func() stage.Config { return &listStage{Modes: []listMode{"a"}} },
		Component: "ak-stage-list-form", VerboseName: "List Stage"})
	return reg
}

func TestManyToManyAndLists(t *testing.T) {
	s := openTestStore(t, filepath.Join(t.TempDir(), "m2m.db"), &store.Options{StageKinds: listRegistry(), NewID: storetest.CounterIDs(1, 1)})
	ctx := t.Context()
	f := mkFlow(t, s, "f")
	g := mkFlow(t, s, "g")
	const model = "authflow_test.liststage"
	missing := storetest.MissingPK(0)
	_, err := createJSONIn(ctx, s, store.Stages.Kind(string(model)), []byte(`{"name":"l","flows":["`+f.PK.String()+`","`+missing.String()+`"],"tags":["ok",""," ",5],"modes":["a","x","b","y"]}`))
	body, _ := json.Marshal(err)
	want := `{"flows":["Invalid pk \"` + missing.String() + `\" - object does not exist."],"modes":{"1":["\"x\" is not a valid choice."],"3":["\"y\" is not a valid choice."]},"tags":{"1":["This field may not be blank."],"2":["This field may not be blank."]}}`
	if string(body) != want {
		t.Errorf("item errors:\n got %s\nwant %s", body, want)
	}
	_, err = createJSONIn(ctx, s, store.Stages.Kind(string(model)), []byte(`{"name":"l","flows":["`+f.PK.String()+`","`+missing.String()+`"]}`))
	testutil.WantInvalid(t, err, map[string][]string{"flows": {validate.DoesNotExist(missing.String())}})
	_, err = createJSONIn(ctx, s, store.Stages.Kind(string(model)), []byte(`{"name":"l","flows":"x","modes":[]}`))
	testutil.WantInvalid(t, err, map[string][]string{"flows": {`Expected a list of items but got type "str".`}, "modes": {"This list may not be empty."}})
	l, err := createJSONIn(ctx, s, store.Stages.Kind(string(model)), []byte(`{"name":"l","flows":["`+f.PK.String()+`","`+g.PK.String()+`"],"tags":[" x "]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c := l.Config.(listStage); len(c.Flows) != 2 || c.Tags[0] != "x" {
		t.Errorf("stored %+v", c)
	}
	// used_by: the flow lists the stage as cascade_many; the stage lists
	// its own flows.
	used, _ := readIn(ctx, s, func(tx *store.Tx) ([]store.UsedBy, error) { return tx.UsedBy(store.ModelFlow, f.PK) })
	if len(used) != 1 || used[0].PK != l.PK.String() || used[0].Action != "cascade_many" {
		t.Errorf("used_by of f = %+v", used)
	}
	used, _ = readIn(ctx, s, func(tx *store.Tx) ([]store.UsedBy, error) { return tx.UsedBy(model, l.PK) })
	if len(used) != 2 || used[0].ModelName != "flow" || used[0].Action != "cascade_many" {
		t.Errorf("used_by of the stage = %+v", used)
	}
	im, _ := readIn(ctx, s, func(tx *store.Tx) (store.Impact, error) { return tx.DeleteImpact(store.ModelFlow, f.PK) })
	if len(im.RemovedFrom) != 1 || len(im.Deleted) != 1 {
		t.Errorf("impact = %+v", im)
	}
	// Deleting a flow removes it from the list, and leaves the stage.
	if err := deleteIn(ctx, s, store.Flows, store.By("slug", "f")); err != nil {
		t.Fatal(err)
	}
	v, err := viewIn(ctx, s, store.Stages, store.PK(l.PK))
	if err != nil {
		t.Fatal(err)
	}
	if c := v.Config.(listStage); len(c.Flows) != 1 || c.Flows[0] != g.PK {
		t.Errorf("after deleting f: flows = %v", c.Flows)
	}
	// The last one too: the list may become empty.
	if err := deleteIn(ctx, s, store.Flows, store.By("slug", "g")); err != nil {
		t.Fatal(err)
	}
	v, _ = viewIn(ctx, s, store.Stages, store.PK(l.PK))
	if got := jsonOf(t, v); !strings.Contains(got, `"flows":[]`) {
		t.Errorf("after deleting g: %s", got)
	}
	checkInvariants(t, s)
}

func TestConformanceManyToMany(t *testing.T) {
	sample := func(name string, _ func(string) uuid.UUID) []byte { return fmt.Appendf(nil, `{"name":%q}`, name) }
	storetest.Run(t, func(t *testing.T) *store.Store {
		s, err := store.Open(filepath.Join(t.TempDir(), "c.db"), &store.Options{NoSync: true, StageKinds: listRegistry()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, &storetest.Options{Samples: map[string]storetest.Sample{"authflow_test.liststage": sample}})
}

// A file whose indexes were built for other declarations is reindexed on
// a writable Open, and refused read-only.
func TestReindexOnOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "re.db")
	s, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	setup := mkFlow(t, s, "setup")
	duo := mkDuo(t, s, "duo", &setup.PK)
	for i := range 7 { // several chunks of the reindex below
		mkBinding(t, s, setup.PK, duo.PK, int32(i))
	}
	defer store.SetReindexChunk(2)()
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte("meta")).Put([]byte("indexes"), []byte("an older engine")); err != nil {
			return err
		}
		return tx.DeleteBucket([]byte("refs"))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(path, &store.Options{ReadOnly: true}); !errors.Is(err, store.ErrVersion) {
		t.Errorf("read-only Open of a file with stale indexes = %v, want ErrVersion", err)
	}
	s = openTestStore(t, path, nil)
	used, err := readIn(t.Context(), s, func(tx *store.Tx) ([]store.UsedBy, error) { return tx.UsedBy(store.ModelFlow, setup.PK) })
	// The Duo stage's configure_flow, and the 7 bindings with their stage.
	if err != nil || len(used) != 15 || used[0].PK != duo.PK.String() || used[0].Action != "set_null" {
		t.Errorf("used_by after reindexing = %+v, %v", used, err)
	}
}
