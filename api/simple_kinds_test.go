package api_test

import (
	"strings"
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
		{"user_login", `{"name":"login","session_duration":"hours=8","network_binding":"bind_asn"}`, `{"remember_me_offset":"days=30"}`,
			`{"session_duration":"8h"}`, "session_duration", "8h is not in the correct format of 'hours=3;minutes=1'."},
		{"authenticator/static", `{"name":"backup","token_count":8}`, `{"friendly_name":"Backup codes"}`, `{"token_count":-1}`, "token_count", "Ensure this value is greater than or equal to 0."},
		{"authenticator/totp", `{"name":"otp","digits":6}`, `{"digits":"8"}`, `{"digits":7}`, "digits", `\"7\" is not a valid choice.`},
		{"consent", `{"name":"consent","mode":"permanent"}`, `{"consent_expire_in":"days=1"}`, `{"mode":"once"}`, "mode", `\"once\" is not a valid choice.`},
	} {
		kindRoutes(t, c, k.path, k.body, k.patch, k.bad, `{"`+k.badKey+`":["`+k.msg+`"]}`)
	}
	if list := c.must(200, "GET", "/api/v3/stages/deny/?deny_message=nope", ""); list["pagination"].(map[string]any)["count"] != 0.0 {
		t.Errorf("deny_message filter: %v", list)
	}
	c.must(201, "POST", "/api/v3/stages/user_login/", `{"name":"bound","network_binding":"bind_asn"}`)
	c.must(201, "POST", "/api/v3/stages/user_login/", `{"name":"unbound"}`)
	if list := c.must(200, "GET", "/api/v3/stages/user_login/?network_binding=bind_asn", ""); list["pagination"].(map[string]any)["count"] != 1.0 {
		t.Errorf("network_binding filter: %v", list)
	}
	c.do("GET", "/api/v3/stages/user_login/?network_binding=bind_moon", "").
		expect(t, 400, `{"network_binding":["Select a valid choice. bind_moon is not one of the available choices."]}`)
}

// kindRoutes takes one stage through every route of its kind at path:
// create (body), get, list by name, patch, put (body again), a bad patch
// answered with want400, used_by, /stages/all/, delete and a 404 after.
func kindRoutes(t *testing.T, c *client, path, body, patch, bad, want400 string) {
	t.Helper()
	t.Run(path, func(t *testing.T) {
		base := "/api/v3/stages/" + path + "/"
		created := c.must(201, "POST", base, body)
		pk, _ := created["pk"].(string)
		if pk == "" || created["component"] != "ak-stage-"+strings.NewReplacer("_", "-", "/", "-").Replace(path)+"-form" {
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
		c.must(200, "PATCH", base+pk+"/", patch)
		c.must(200, "PUT", base+pk+"/", body)
		c.do("PATCH", base+pk+"/", bad).expect(t, 400, want400)
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
