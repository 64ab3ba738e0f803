package api_test

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// guard is a stage kind a host registers whose references protect what
// they point at: a flow, a stage or a binding referred to by a guard
// cannot be deleted.
type guard struct {
	Flow    *uuid.UUID `json:"flow" af:"ref=flow,on_delete=protect"`
	Stage   *uuid.UUID `json:"stage" af:"ref=stage,on_delete=protect"`
	Binding *uuid.UUID `json:"binding" af:"ref=binding,on_delete=protect"`
}

func (guard) ModelName() stage.ModelName { return "authflow_test.guardstage" }

// guardRegistry is the built-in kinds and guard.
func guardRegistry() *stage.Registry {
	reg := &stage.Registry{}
	for _, k := range stage.Default.Kinds() {
		reg.Register(k)
	}
	reg.Register(stage.Kind{Model: "authflow_test.guardstage", New: func() stage.Config { return &guard{} },
		Component: "ak-stage-guard-form", VerboseName: "Guard Stage"})
	return reg
}

// TestProtectedDelete: a delete that a protected reference refuses is
// 409 with a sentence naming the object and its blockers, and the
// blockers in used_by's shape; nothing is deleted. Blockers the user may
// not view are counted, not shown.
func TestProtectedDelete(t *testing.T) {
	p := denying()
	var logged bytes.Buffer
	s := newStore(t, &store.Options{StageKinds: guardRegistry(), NewID: storetest.CounterIDs(1, 1)})
	f := setup(&client{t: t, h: api.NewHandler(s, &api.Options{Authorize: p.authorize, ErrorLog: log.New(&logged, "", 0)})})
	flow := "/api/v3/flows/instances/" + f.flowSlug + "/"
	// Guards are made in the store: their kind's path is not in
	// authentik's document, whose responses every request here is
	// checked against.
	mkGuard := func(name, field, pk string) string {
		t.Helper()
		v, err := inUpdate(s, func(tx *store.Tx) (stage.Stage, error) {
			return store.Stages.Kind("authflow_test.guardstage").CreateJSON(tx, []byte(`{"name": "`+name+`", "`+field+`": "`+pk+`"}`), nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		return v.PK.String()
	}
	entry := func(pk, name string) string {
		return `{"app": "authflow_test", "model_name": "guardstage", "pk": "` + pk + `", "name": "Stage ` + name + `", "action": "cascade"}`
	}
	const flowName = `\"Flow Welcome to authentik! (default-authentication-flow)\"`

	a := mkGuard("guard-a", "flow", f.flowPK)
	f.do("DELETE", flow, "").expect(t, http.StatusConflict, `{
		"detail": "Cannot delete `+flowName+` because it is referenced by \"Stage guard-a\"; change or delete those first.",
		"protected_by": [`+entry(a, "guard-a")+`]}`)
	b := mkGuard("guard-b", "flow", f.flowPK)
	f.do("DELETE", flow, "").expect(t, http.StatusConflict, `{
		"detail": "Cannot delete `+flowName+` because it is referenced by \"Stage guard-a\" and \"Stage guard-b\"; change or delete those first.",
		"protected_by": [`+entry(a, "guard-a")+`, `+entry(b, "guard-b")+`]}`)

	// Nothing went: not the flow, not its binding.
	f.must(http.StatusOK, "GET", flow, "")
	f.must(http.StatusOK, "GET", "/api/v3/flows/bindings/"+f.bindPK+"/", "")
	// used_by shows the blockers (protect is shown as cascade, as in
	// authentik).
	shown := map[string]string{}
	for _, u := range usedByList(t, f.do("GET", flow+"used_by/", "")) {
		shown[u.PK] = u.Action
	}
	if shown[a] != "cascade" || shown[b] != "cascade" {
		t.Errorf("used_by of the protected flow: %v", shown)
	}

	// Stages, under their kind's path and /stages/all/, and bindings.
	c := mkGuard("guard-c", "stage", f.userWrite)
	const uwName = `\"Stage default-source-enrollment-write\"`
	for _, path := range []string{"/api/v3/stages/user_write/" + f.userWrite + "/", "/api/v3/stages/all/" + f.userWrite + "/"} {
		f.do("DELETE", path, "").expect(t, http.StatusConflict, `{
			"detail": "Cannot delete `+uwName+` because it is referenced by \"Stage guard-c\"; change or delete those first.",
			"protected_by": [`+entry(c, "guard-c")+`]}`)
	}
	d := mkGuard("guard-d", "binding", f.bindPK)
	f.do("DELETE", "/api/v3/flows/bindings/"+f.bindPK+"/", "").expect(t, http.StatusConflict, `{
		"detail": "Cannot delete \"Flow-stage binding #10 to `+f.flowPK+`\" because it is referenced by \"Stage guard-d\"; change or delete those first.",
		"protected_by": [`+entry(d, "guard-d")+`]}`)
	f.must(http.StatusOK, "GET", "/api/v3/stages/user_write/"+f.userWrite+"/", "")
	f.must(http.StatusOK, "GET", "/api/v3/flows/bindings/"+f.bindPK+"/", "")

	// The flow's delete would cascade to the binding, which guard-d
	// protects: it blocks the flow too (the blockers come in the store's
	// order, that of its delete walk).
	f.do("DELETE", flow, "").expect(t, http.StatusConflict, `{
		"detail": "Cannot delete `+flowName+` because it is referenced by \"Stage guard-d\", \"Stage guard-a\" and \"Stage guard-b\"; change or delete those first.",
		"protected_by": [`+entry(d, "guard-d")+`, `+entry(a, "guard-a")+`, `+entry(b, "guard-b")+`]}`)

	// Blockers the user may not view are only counted.
	p.set("authflow_test.view_guardstage")
	f.do("DELETE", flow, "").expect(t, http.StatusConflict, `{
		"detail": "Cannot delete `+flowName+` because it is referenced by 3 objects you may not view; change or delete those first.",
		"protected_by": []}`)
	f.do("DELETE", "/api/v3/flows/bindings/"+f.bindPK+"/", "").expect(t, http.StatusConflict, `{
		"detail": "Cannot delete \"Flow-stage binding #10 to `+f.flowPK+`\" because it is referenced by 1 object you may not view; change or delete those first.",
		"protected_by": []}`)
	p.set()
	if logged.Len() != 0 {
		t.Errorf("a refused delete was logged as an internal error: %s", logged.String())
	}

	// With the blockers gone, the deletes go through.
	for _, g := range []string{a, b, c, d} {
		f.must(http.StatusNoContent, "DELETE", "/api/v3/stages/all/"+g+"/", "")
	}
	f.must(http.StatusNoContent, "DELETE", "/api/v3/flows/bindings/"+f.bindPK+"/", "")
	f.must(http.StatusNoContent, "DELETE", "/api/v3/stages/all/"+f.userWrite+"/", "")
	f.must(http.StatusNoContent, "DELETE", flow, "")
}

// TestDamagedRecord: a record whose checksum fails is a 500 whose detail
// says the file is damaged and names the record, on every operation that
// reads it; the other objects are served as usual.
func TestDamagedRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "damaged.db")
	s, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, h: api.NewHandler(s, nil)}
	pk := c.must(http.StatusCreated, "POST", "/api/v3/flows/instances/", flowBody)["pk"].(string)
	c.must(http.StatusCreated, "POST", "/api/v3/flows/instances/", `{"name": "Other", "slug": "other", "title": "Other", "designation": "recovery"}`)
	// Flip the case of a letter of the name: the JSON stays valid, the
	// checksum in the record's envelope no longer matches.
	id := uuid.MustParse(pk)
	s = damageFile(t, s, path, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("flows"))
		if b == nil {
			t.Fatal(`no bucket "flows"`)
		}
		v := append([]byte(nil), b.Get(id[:])...)
		i := bytes.Index(v, []byte(`"name":"Welcome`))
		if len(v) < 5 || i < 5 {
			t.Fatalf("the flow's record does not hold its name: %q", v)
		}
		v[i+len(`"name":"`)] ^= 0x20 // W -> w
		return b.Put(id[:], v)
	})
	defer s.Close()
	var logged bytes.Buffer
	c = &client{t: t, h: api.NewHandler(s, &api.Options{ErrorLog: log.New(&logged, "", 0)})}
	flow := "/api/v3/flows/instances/default-authentication-flow/"
	for _, r := range []struct{ method, path, body string }{
		{"GET", flow, ""},
		{"GET", flow + "used_by/", ""},
		{"PATCH", flow, `{"title": "x"}`},
		{"DELETE", flow, ""},
		{"GET", "/api/v3/flows/instances/", ""},
	} {
		res := c.do(r.method, r.path, r.body)
		if res.Code != http.StatusInternalServerError {
			t.Fatalf("%s %s: status %d, want 500: %s", r.method, r.path, res.Code, res.Body)
		}
		d, _ := res.object(t)["detail"].(string)
		t.Logf("%s %s: %s", r.method, r.path, d)
		msg, ok := strings.CutPrefix(d, "The store's file is damaged: ")
		if !ok || !strings.Contains(msg, pk) || !strings.Contains(msg, store.ErrCorrupt.Error()) || len(res.object(t)) != 1 {
			t.Errorf("%s %s: body %s, want the damage named", r.method, r.path, res.Body)
		}
		if !strings.Contains(logged.String(), r.method+" "+r.path) {
			t.Errorf("%s %s: not logged: %s", r.method, r.path, logged.String())
		}
	}
	c.must(http.StatusOK, "GET", "/api/v3/flows/instances/other/", "")
}

// TestDamagedBucket: a collection's bucket lost from the file (a damaged
// page of the bucket list) is a 500 that names it, on a list and on a
// get, not a 404 or an empty list as if the collection had no objects.
func TestDamagedBucket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bucket.db")
	s, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, h: api.NewHandler(s, nil)}
	pk := c.must(http.StatusCreated, "POST", "/api/v3/stages/prompt/prompts/", `{"name": "p", "field_key": "k", "label": "K", "type": "text"}`)["pk"].(string)
	s = damageFile(t, s, path, func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("prompts")) })
	defer s.Close()
	c = &client{t: t, h: api.NewHandler(s, &api.Options{ErrorLog: log.New(io.Discard, "", 0)})}
	for _, p := range []string{"/api/v3/stages/prompt/prompts/", "/api/v3/stages/prompt/prompts/" + pk + "/"} {
		res := c.do("GET", p, "")
		d, _ := res.object(t)["detail"].(string)
		if res.Code != http.StatusInternalServerError || !strings.HasPrefix(d, "The store's file is damaged: ") || !strings.Contains(d, `bucket "prompts" is missing`) {
			t.Errorf("GET %s: status %d, %s; want a 500 naming the missing bucket", p, res.Code, res.Body)
		}
	}
	c.must(http.StatusOK, "GET", "/api/v3/flows/instances/", "")
}

// damageFile closes s, changes its file at path behind the store's back
// with bbolt itself, and opens the store again.
func damageFile(t *testing.T, s *store.Store, path string, change func(*bolt.Tx) error) *store.Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(change); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
