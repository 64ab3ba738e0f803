package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/api"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/store"
	"github.com/google/uuid"
)

// deviceFixture is a store with two users, alice (a device of every
// class) and bob (a TOTP device), and a client whose requests name their
// user in the X-User header.
func deviceFixture(t *testing.T, opts *api.Options) (*client, *store.Store, map[directory.DeviceClass]directory.Device, directory.Device) {
	t.Helper()
	s, mine, bobs := deviceStore(t)
	var o api.Options
	if opts != nil {
		o = *opts
	}
	if o.RequestUser == nil {
		o.RequestUser = func(r *http.Request) (int64, error) {
			n, err := strconv.ParseInt(r.Header.Get("X-User"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("no user: %w", api.ErrNotAuthenticated)
			}
			return n, nil
		}
	}
	return &client{t: t, h: api.NewHandler(s, &o)}, s, mine, bobs
}

// deviceStore is deviceFixture's store: alice (pk 1) with a device of
// every class, bob (pk 2) with a TOTP device.
func deviceStore(t *testing.T) (*store.Store, map[directory.DeviceClass]directory.Device, directory.Device) {
	t.Helper()
	ctx := context.Background()
	s := newStore(t, nil)
	d := s.Directory()
	var pks []int64
	for _, name := range []string{"alice", "bob"} {
		u := directory.DefaultUser()
		u.Username, u.Name = name, "User "+name
		u, err := d.CreateUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		pks = append(pks, u.PK)
	}
	stages := map[directory.DeviceClass]uuid.UUID{}
	for class, st := range map[directory.DeviceClass]struct {
		model stage.ModelName
		body  string
	}{
		directory.DeviceSMS:   {stage.ModelAuthenticatorSMS, `{"name":"sms","provider":"generic","from_number":"+15550000","account_sid":"sid","auth":"SECRET-sms"}`},
		directory.DeviceEmail: {stage.ModelAuthenticatorEmail, `{"name":"amail"}`},
		directory.DeviceDuo:   {stage.ModelAuthenticatorDuo, `{"name":"duo","client_id":"c","client_secret":"SECRET-duo","api_hostname":"h"}`},
	} {
		err := s.Update(ctx, func(tx *store.Tx) error {
			id, err := tx.Create(string(st.model), []byte(st.body), nil)
			stages[class] = id
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	used := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	mine := map[directory.DeviceClass]directory.Device{}
	for _, dev := range []directory.Device{
		{Class: directory.DeviceTOTP, Name: "phone", Confirmed: true, LastUsed: &used, TOTP: &directory.TOTPDevice{Key: []byte("SECRET-totp-key-raw"), Digits: 6, Step: 30, LastT: -1}},
		{Class: directory.DeviceStatic, Name: "codes", Confirmed: true, Static: &directory.StaticDevice{TokenHashes: []string{directory.HashStaticToken("SECRET-code")}}},
		{Class: directory.DeviceWebAuthn, Name: "key", Confirmed: true, WebAuthn: &directory.WebAuthnDevice{CredentialID: []byte("cred"), PublicKey: []byte("pk"), RPID: "example.com", AAGUID: uuid.MustParse("08987058-cadc-4b81-b6e1-30de50dcbe96")}},
		{Class: directory.DeviceSMS, Name: "sms", Confirmed: true, Stage: stages[directory.DeviceSMS], SMS: &directory.SMSDevice{Phone: "+15550100", SideChannel: directory.SideChannel{Token: "SECRET-sms-code"}}},
		{Class: directory.DeviceEmail, Name: "mail", Confirmed: true, Stage: stages[directory.DeviceEmail], Email: &directory.EmailDevice{Email: "alice@example.com", SideChannel: directory.SideChannel{Token: "SECRET-mail-code"}}},
		{Class: directory.DeviceDuo, Name: "duo", Confirmed: true, Stage: stages[directory.DeviceDuo], Duo: &directory.DuoDevice{DuoUserID: "DU1"}},
	} {
		dev.User = pks[0]
		got, err := d.CreateDevice(ctx, dev)
		if err != nil {
			t.Fatal(err)
		}
		mine[dev.Class] = got
	}
	bobs, err := d.CreateDevice(ctx, directory.Device{Class: directory.DeviceTOTP, User: pks[1], Name: "bob's phone", TOTP: &directory.TOTPDevice{Key: []byte("SECRET-bob-key"), Digits: 6, Step: 30}})
	if err != nil {
		t.Fatal(err)
	}
	return s, mine, bobs
}

// The admin paths list, retrieve, rename and delete every class's
// devices in authentik's shapes (checked against the schema), with no
// secret in any response (the client checks every body for SECRET-).
func TestDevicesAdmin(t *testing.T) {
	c, _, mine, bobs := deviceFixture(t, nil)
	alice := `{"pk":1,"username":"alice","name":"User alice","is_active":true,"last_login":null,"email":"","attributes":{},"uid":"%s"}`
	for path, class := range map[string]directory.DeviceClass{"totp": directory.DeviceTOTP, "static": directory.DeviceStatic, "webauthn": directory.DeviceWebAuthn, "sms": directory.DeviceSMS, "email": directory.DeviceEmail, "duo": directory.DeviceDuo} {
		res := c.do("GET", "/api/v3/authenticators/admin/"+path+"/", "")
		var page struct {
			Pagination struct{ Count int }
			Results    []map[string]any
		}
		if res.Code != 200 || json.Unmarshal(res.Body, &page) != nil {
			t.Fatalf("%s list: %d %s", path, res.Code, res.Body)
		}
		want := 1
		if class == directory.DeviceTOTP {
			want = 2 // bob's too
		}
		if page.Pagination.Count != want || len(page.Results) != want {
			t.Errorf("%s list: %d devices, want %d: %s", path, len(page.Results), want, res.Body)
		}
		if want == 2 && page.Results[0]["pk"].(float64) > page.Results[1]["pk"].(float64) {
			t.Errorf("%s list: not in pk order: %s", path, res.Body)
		}
		pk := strconv.FormatInt(mine[class].PK, 10)
		one := c.do("GET", "/api/v3/authenticators/admin/"+path+"/"+pk+"/", "").object(t)
		user, _ := json.Marshal(one["user"])
		var uid struct{ UID string }
		_ = json.Unmarshal(user, &uid)
		jsonEqual(t, user, fmt.Sprintf(alice, uid.UID))
		if one["name"] != mine[class].Name {
			t.Errorf("%s retrieve: %v", path, one)
		}
	}
	// A static device shows no codes; a WebAuthn device its AAGUID and
	// creation time.
	st := c.do("GET", fmt.Sprintf("/api/v3/authenticators/admin/static/%d/", mine[directory.DeviceStatic].PK), "").object(t)
	if ts, ok := st["token_set"].([]any); !ok || len(ts) != 0 {
		t.Errorf("token_set = %v, want []", st["token_set"])
	}
	wa := c.do("GET", fmt.Sprintf("/api/v3/authenticators/admin/webauthn/%d/", mine[directory.DeviceWebAuthn].PK), "").object(t)
	if wa["aaguid"] != "08987058-cadc-4b81-b6e1-30de50dcbe96" || wa["device_type"] != nil {
		t.Errorf("webauthn = %v", wa)
	}

	totp := fmt.Sprintf("/api/v3/authenticators/admin/totp/%d/", mine[directory.DeviceTOTP].PK)
	c.do("PUT", totp, `{}`).expect(t, 400, `{"name":["This field is required."]}`)
	c.do("PATCH", totp, `{"name":"  "}`).expect(t, 400, `{"name":["This field may not be blank."]}`)
	c.do("PATCH", totp, `{"name":"`+strings.Repeat("x", 65)+`"}`).expect(t, 400, `{"name":["Ensure this field has no more than 64 characters."]}`)
	if got := c.do("PATCH", totp, `{"name":"renamed","key":"00"}`).object(t); got["name"] != "renamed" {
		t.Errorf("patch: %v", got)
	}
	if got := c.do("GET", totp, "").object(t); got["name"] != "renamed" {
		t.Errorf("after patch: %v", got)
	}
	if r := c.do("DELETE", totp, ""); r.Code != 204 {
		t.Fatalf("delete: %d %s", r.Code, r.Body)
	}
	c.do("GET", totp, "").expect(t, 404, `{"detail":"Not found."}`)
	c.do("GET", "/api/v3/authenticators/admin/totp/99/", "").expect(t, 404, `{"detail":"Not found."}`)
	c.do("GET", "/api/v3/authenticators/admin/endpoint/", "").expect(t, 404, `{"detail":"Not found."}`)

	// all/?user= lists one user's devices as authentik's Device.
	res := c.do("GET", "/api/v3/authenticators/admin/all/?user=1", "")
	var all []map[string]any
	if res.Code != 200 || json.Unmarshal(res.Body, &all) != nil || len(all) != 5 {
		t.Fatalf("admin all: %d %s", res.Code, res.Body)
	}
	if all[0]["type"] != "authentik_stages_authenticator_static.StaticDevice" || all[0]["pk"] != strconv.FormatInt(mine[directory.DeviceStatic].PK, 10) ||
		all[0]["verbose_name"] != "Static Device" || all[0]["meta_model_name"] != "authentik_stages_authenticator_static.staticdevice" {
		t.Errorf("admin all[0] = %v", all[0])
	}
	if all[1]["extra_description"] != "Extra description not available" {
		t.Errorf("a webauthn device's extra_description = %v", all[1]["extra_description"])
	}
	if err := json.Unmarshal(c.do("GET", "/api/v3/authenticators/admin/all/", "").Body, &all); err != nil || len(all) != 6 {
		t.Errorf("admin all without user: %d devices, %v", len(all), err)
	}
	_ = bobs
}

// An admin create needs a user; it makes a TOTP or static device, and
// refuses the classes set up through their stages.
func TestDevicesAdminCreate(t *testing.T) {
	c, _, _, _ := deviceFixture(t, nil)
	c.do("POST", "/api/v3/authenticators/admin/totp/", `{"name":"new"}`).expect(t, 400, `{"user":["This field is required."]}`)
	c.do("POST", "/api/v3/authenticators/admin/totp/", `{"user":"x"}`).expect(t, 400, `{"name":["This field is required."],"user":["A valid integer is required."]}`)
	c.do("POST", "/api/v3/authenticators/admin/totp/", `[]`).expect(t, 400, `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`)
	c.do("POST", "/api/v3/authenticators/admin/totp/", `{"name":"new","user":99}`).expect(t, 400, `{"user":["Invalid pk \"99\" - object does not exist."]}`)
	res := c.do("POST", "/api/v3/authenticators/admin/totp/", `{"name":"new","user":2}`)
	if res.Code != 201 || res.object(t)["name"] != "new" {
		t.Fatalf("create: %d %s", res.Code, res.Body)
	}
	c.do("POST", "/api/v3/authenticators/admin/sms/", `{"name":"new","user":2}`).expect(t, 400, `{"non_field_errors":["A device of this class is set up through its stage."]}`)
}

// The admin paths ask Authorize for the device model's permissions: a
// denied list is an empty page, a device the caller may not view is 404
// whatever the method, a denied change or delete 403.
func TestDevicesAdminPermissions(t *testing.T) {
	var asked []string
	denied := map[string]bool{
		"authentik_stages_authenticator_static.view_staticdevice": true,
		"authentik_stages_authenticator_totp.delete_totpdevice":   true,
	}
	c, _, mine, _ := deviceFixture(t, &api.Options{Authorize: func(_ *http.Request, perm string) error {
		asked = append(asked, perm)
		if denied[perm] {
			return errors.New("denied")
		}
		return nil
	}})
	if got := c.do("GET", "/api/v3/authenticators/admin/static/", "").object(t); len(got["results"].([]any)) != 0 {
		t.Errorf("a denied list: %v, want an empty page", got)
	}
	static := fmt.Sprintf("/api/v3/authenticators/admin/static/%d/", mine[directory.DeviceStatic].PK)
	c.do("GET", static, "").expect(t, 404, `{"detail":"Not found."}`)
	c.do("DELETE", static, "").expect(t, 404, `{"detail":"Not found."}`)
	totp := fmt.Sprintf("/api/v3/authenticators/admin/totp/%d/", mine[directory.DeviceTOTP].PK)
	c.do("DELETE", totp, "").expect(t, 403, `{"detail":"You do not have permission to perform this action."}`)
	if r := c.do("GET", totp, ""); r.Code != 200 {
		t.Errorf("totp retrieve: %d", r.Code)
	}
	if want := "authentik_stages_authenticator_totp.delete_totpdevice"; !strings.Contains(strings.Join(asked, " "), want) {
		t.Errorf("asked %v, want %s among them", asked, want)
	}
	var all []map[string]any
	if err := json.Unmarshal(c.do("GET", "/api/v3/authenticators/admin/all/?user=1", "").Body, &all); err != nil || len(all) != 5 {
		t.Errorf("admin all without the static view permission: %d devices, %v; want 5", len(all), err)
	}
	noCreds := &client{t: t, h: api.NewHandler(newStore(t, nil), &api.Options{Authorize: func(*http.Request, string) error { return api.ErrNotAuthenticated }})}
	noCreds.do("GET", "/api/v3/authenticators/admin/totp/", "").expect(t, 403, `{"detail":"Authentication credentials were not provided."}`)
	noCreds.do("GET", "/api/v3/authenticators/admin/totp/1/", "").expect(t, 403, `{"detail":"Authentication credentials were not provided."}`)
	noCreds.do("GET", "/api/v3/authenticators/admin/all/", "").expect(t, 403, `{"detail":"Authentication credentials were not provided."}`)
}

// The user's own paths reach only the requesting user's devices; without
// Options.RequestUser they answer 403.
func TestDevicesOwn(t *testing.T) {
	c, _, mine, bobs := deviceFixture(t, nil)
	as := func(user string) []string { return []string{"X-User", user} }
	c.do("GET", "/api/v3/authenticators/totp/", "").expect(t, 403, `{"detail":"Authentication credentials were not provided."}`)
	res := c.do("GET", "/api/v3/authenticators/totp/", "", as("1")...)
	var page struct{ Results []map[string]any }
	if json.Unmarshal(res.Body, &page) != nil || len(page.Results) != 1 || page.Results[0]["name"] != "phone" {
		t.Fatalf("alice's totp list: %d %s", res.Code, res.Body)
	}
	bob := fmt.Sprintf("/api/v3/authenticators/totp/%d/", bobs.PK)
	c.do("GET", bob, "", as("1")...).expect(t, 404, `{"detail":"Not found."}`)
	c.do("PATCH", bob, `{"name":"mine now"}`, as("1")...).expect(t, 404, `{"detail":"Not found."}`)
	c.do("DELETE", bob, "", as("1")...).expect(t, 404, `{"detail":"Not found."}`)
	c.do("GET", bob+"used_by/", "", as("1")...).expect(t, 404, `{"detail":"Not found."}`)
	c.do("GET", bob+"used_by/", "", as("2")...).expect(t, 200, `[]`)
	if got := c.do("PATCH", bob, `{"name":"bob's"}`, as("2")...).object(t); got["name"] != "bob's" {
		t.Errorf("bob renames his: %v", got)
	}
	sms := fmt.Sprintf("/api/v3/authenticators/sms/%d/", mine[directory.DeviceSMS].PK)
	if got := c.do("GET", sms, "", as("1")...).object(t); got["phone_number"] != "+15550100" {
		t.Errorf("alice's sms: %v", got)
	}
	var all []map[string]any
	if err := json.Unmarshal(c.do("GET", "/api/v3/authenticators/all/", "", as("2")...).Body, &all); err != nil || len(all) != 1 || all[0]["name"] != "bob's" {
		t.Errorf("bob's all: %v, %v", all, err)
	}

	// A RequestUser that names pk 0 (no such user) sees no devices, not
	// everyone's.
	zero, _, _, _ := deviceFixture(t, &api.Options{RequestUser: func(*http.Request) (int64, error) { return 0, nil }})
	zero.do("GET", "/api/v3/authenticators/all/", "").expect(t, 200, `[]`)
	c.do("GET", "/api/v3/authenticators/admin/all/?user=x", "").expect(t, 400, `{"user":["Enter a number."]}`)

	nohook := &client{t: t, h: api.NewHandler(newStore(t, nil), nil)}
	nohook.do("GET", "/api/v3/authenticators/all/", "").expect(t, 403, `{"detail":"Authentication credentials were not provided."}`)
	nohook.do("GET", "/api/v3/authenticators/totp/1/", "").expect(t, 403, `{"detail":"Authentication credentials were not provided."}`)
}
