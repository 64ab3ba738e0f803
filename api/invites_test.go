package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/store/storetest"
)

// Invitations: the seed era's slug name, DRF's date-time format, the
// JSONDictField message, created_by from the host (or the anonymous
// placeholder), flow_obj, the list's filters and order, and a flow's
// delete setting flow to null.
func TestInvitations(t *testing.T) {
	s := newStore(t, nil)
	admin, other := mkUsers(t, s, `{"username":"akadmin","name":"Admin","email":"akadmin@example.com"}`, `{"username":"other","name":"Other"}`)
	adminPK, otherPK := fmt.Sprint(admin.PK), fmt.Sprint(other.PK)
	c := &client{t: t, h: api.NewHandler(s, &api.Options{Creator: func(r *http.Request) (int64, bool) {
		pk, err := strconv.ParseInt(r.Header.Get("X-User"), 10, 64)
		return pk, err == nil
	}})}
	base := "/api/v3/stages/invitation/invitations/"
	c.do("POST", base, `{}`).expect(t, 400, `{"name":["This field is required."]}`)
	c.do("POST", base, `{"name":"not a slug","expires":"tomorrow","fixed_data":[1]}`).expect(t, 400,
		`{"name":["Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens."],`+
			`"expires":["Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."],`+
			`"fixed_data":["Value must be a dictionary, and not have any duplicate keys."]}`)
	c.do("POST", base, `{"name":"`+string(make([]byte, 51))+`"}`).status(t, 400)
	missing := storetest.MissingPK(0).String()
	c.do("POST", base, `{"name":"x","flow":"`+missing+`"}`).
		expect(t, 400, `{"flow":["Invalid pk \"`+missing+`\" - object does not exist."]}`)

	f := c.must(201, "POST", "/api/v3/flows/instances/", `{"name":"Enroll","slug":"enroll","title":"Enroll","designation":"enrollment"}`)
	anon := c.must(201, "POST", base, `{"name":"anon"}`)
	if by := anon["created_by"].(map[string]any); by["username"] != "AnonymousUser" || by["pk"] != 0.0 || anon["flow_obj"] != nil || anon["expires"] != nil {
		t.Errorf("anonymous invitation: %v", anon)
	}
	inv := c.must(201, "POST", base, `{"name":"team-a","expires":"2030-01-02 03:04:05.5+01:00","fixed_data":{"email":"a@example.com"},"flow":"`+f["pk"].(string)+`","single_use":true}`, "X-User", adminPK)
	if by := inv["created_by"].(map[string]any); by["pk"] != float64(admin.PK) || by["name"] != "Admin" || by["email"] != "akadmin@example.com" || by["uid"] == "" {
		t.Errorf("created_by %v, want the user %+v", by, admin)
	}
	if _, shown := inv["created_by_user"]; shown {
		t.Errorf("the reference is shown: %v", inv)
	}
	if inv["expires"] != "2030-01-02T02:04:05.500000Z" || inv["created_by"].(map[string]any)["username"] != "akadmin" || inv["flow_obj"].(map[string]any)["slug"] != "enroll" {
		t.Errorf("invitation: %v", inv)
	}
	ipk := inv["pk"].(string)
	// created_by is read-only and stays as it was.
	p := c.must(200, "PATCH", base+ipk+"/", `{"created_by":{"username":"mallory"},"fixed_data":{"name":"A"}}`, "X-User", otherPK)
	if p["created_by"].(map[string]any)["username"] != "akadmin" || len(p["fixed_data"].(map[string]any)) != 2 {
		t.Errorf("patched: %v", p)
	}
	c.must(201, "POST", base, `{"name":"later","expires":"2031-01-01T00:00:00Z"}`)

	names := func(q string) []string {
		var out []string
		for _, r := range c.must(200, "GET", base+q, "")["results"].([]any) {
			out = append(out, r.(map[string]any)["name"].(string))
		}
		return out
	}
	if got := names(""); len(got) != 3 || got[0] != "anon" || got[1] != "later" || got[2] != "team-a" {
		t.Errorf("default order (-expires, null first): %v", got)
	}
	for q, want := range map[string]string{
		"?flow__slug=enroll": "team-a", "?created_by__username=akadmin": "team-a", "?search=akadmin": "team-a",
		"?expires=2030-01-02T02:04:05.5Z": "team-a", "?expires=2030-01-02T03:04:05.500%2B01:00": "team-a",
	} {
		if got := names(q); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %v", q, got)
		}
	}
	c.do("GET", base+"?expires=soon", "").expect(t, 400, `{"expires":["Enter a valid date/time."]}`)

	// The creator is a reference: created_by shows the user as it is
	// now, and a creator that names no user fails the write (the host's
	// error) and writes nothing.
	if _, err := inUpdate(s, func(tx *store.Tx) (directory.User, error) {
		return store.Users.Patch(tx, store.By("pk", adminPK), []byte(`{"name":"Renamed"}`), nil)
	}); err != nil {
		t.Fatal(err)
	}
	if by := c.must(200, "GET", base+ipk+"/", "")["created_by"].(map[string]any); by["name"] != "Renamed" || by["username"] != "akadmin" {
		t.Errorf("created_by after the user's rename: %v", by)
	}
	c.do("POST", base, `{"name":"ghost"}`, "X-User", "999").expect(t, 500, `{"detail":"A server error occurred."}`)
	if got := names("?name=ghost"); len(got) != 0 {
		t.Errorf("the write of an unknown creator left %v", got)
	}

	c.do("GET", "/api/v3/flows/instances/enroll/used_by/", "").expect(t, 200,
		`[{"app":"authentik_stages_invitation","model_name":"invitation","pk":"`+ipk+`","name":"Invitation `+strings.ReplaceAll(ipk, "-", "")+` created by akadmin","action":"set_default"}]`)
	c.must(204, "DELETE", "/api/v3/flows/instances/enroll/", "")
	after := c.must(200, "GET", base+ipk+"/", "")
	if after["flow"] != nil || after["flow_obj"] != nil {
		t.Errorf("after the flow's delete: %v", after)
	}
	c.do("GET", base+ipk+"/used_by/", "").expect(t, 200, `[]`)
	c.must(204, "DELETE", base+ipk+"/", "")
}

// mkUsers creates users from JSON bodies in s, in one transaction.
func mkUsers(t testing.TB, s *store.Store, bodies ...string) (directory.User, directory.User) {
	t.Helper()
	var out []directory.User
	_, err := inUpdate(s, func(tx *store.Tx) (any, error) {
		for _, b := range bodies {
			u, err := store.Users.CreateJSON(tx, []byte(b), nil)
			if err != nil {
				return nil, err
			}
			out = append(out, u)
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, directory.User{}, directory.User{})
	return out[0], out[1]
}
