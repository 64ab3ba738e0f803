package api_test

import (
	"testing"
)

// The kinds without settings, or with only a message, go through every
// route of a stage kind, each response checked against authentik's
// schema.
func TestSimpleKinds(t *testing.T) {
	c := newClient(t, nil)
	for _, k := range []struct{ path, body, patch, bad, badKey, msg string }{
		{"deny", `{"name":"no-entry","deny_message":"Go away."}`, `{"deny_message":""}`, `{"deny_message":true}`, "deny_message", "Not a valid string."},
		{"user_logout", `{"name":"logout"}`, `{"name":"logout-2"}`, `{"name":""}`, "name", "This field may not be blank."},
		{"user_delete", `{"name":"delete"}`, `{"name":"delete-2"}`, `{"frobnicate":1}`, "frobnicate", "Unknown field."},
	} {
		t.Run(k.path, func(t *testing.T) {
			base := "/api/v3/stages/" + k.path + "/"
			created := c.must(201, "POST", base, k.body)
			pk, _ := created["pk"].(string)
			if pk == "" || created["component"] != "ak-stage-"+map[string]string{"deny": "deny", "user_logout": "user-logout", "user_delete": "user-delete"}[k.path]+"-form" {
				t.Fatalf("created %v", created)
			}
			got := c.must(200, "GET", base+pk+"/", "")
			if got["name"] != created["name"] {
				t.Errorf("get %v", got)
			}
			list := c.must(200, "GET", base+"?name="+created["name"].(string), "")
			if list["pagination"].(map[string]any)["count"] != 1.0 {
				t.Errorf("list %v", list)
			}
			c.must(200, "PATCH", base+pk+"/", k.patch)
			c.must(200, "PUT", base+pk+"/", k.body)
			c.do("PATCH", base+pk+"/", k.bad).expect(t, 400, `{"`+k.badKey+`":["`+k.msg+`"]}`)
			c.do("GET", base+pk+"/used_by/", "").expect(t, 200, `[]`)
			all := c.must(200, "GET", "/api/v3/stages/all/"+pk+"/", "")
			if all["meta_model_name"] != created["meta_model_name"] {
				t.Errorf("stages/all: %v", all)
			}
			if r := c.do("DELETE", base+pk+"/", ""); r.Code != 204 {
				t.Fatalf("delete: %d %s", r.Code, r.Body)
			}
			c.do("GET", base+pk+"/", "").expect(t, 404, `{"detail":"Not found."}`)
		})
	}
	if list := c.must(200, "GET", "/api/v3/stages/deny/?deny_message=nope", ""); list["pagination"].(map[string]any)["count"] != 0.0 {
		t.Errorf("deny_message filter: %v", list)
	}
}
