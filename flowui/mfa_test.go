package flowui_test

import (
	"context"
	"encoding/base32"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/directory/memdir"
	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/otp"
	"github.com/authflow/authflow/password"
	"github.com/authflow/authflow/store"
)

// MFA through the pages: akadmin sets TOTP up through the stage's
// configure endpoint (the page shows the link
// as text and as a QR image, and a one-time-code field), logs out, logs
// in and is asked for a code (the page lists the device), and, with
// last_auth_threshold set, the next login in the same browser skips the
// code (the remembered-MFA cookie the pages set and read).
func TestMFAThroughPages(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().Truncate(time.Second).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	devs, err := memdir.New(memdir.Options{Policy: password.Policy{Iterations: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	sv := newServerWith(t, func(o *executor.Options, _ string) { o.Devices, o.Now = devs, now })
	b := sv.browser()
	setup(t, b, "admin Passw0rd")
	admin, err := sv.s.Directory().FindUser(context.Background(), directory.Find{Identifier: "akadmin", Fields: []directory.Field{directory.FieldUsername}})
	if err != nil {
		t.Fatal(err)
	}
	// memdir holds the devices: akadmin under the same pk.
	for i := int64(1); i <= admin.PK; i++ {
		u := directory.DefaultUser()
		u.Username = "u" + string(rune('a'+i))
		if _, err := devs.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}

	// The user's settings link to the stage's configure endpoint, which
	// starts its configure flow.
	var setupPK string
	err = sv.s.View(context.Background(), func(tx *store.Tx) error {
		st, err := store.Stages.Get(tx, store.By("name", "default-authenticator-totp-setup"))
		setupPK = st.PK.String()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	p := b.get(executor.ConfigurePath + setupPK + "/")
	p.want(t, 200, "/if/flow/default-authenticator-totp-setup/")
	p.wantComponent(t, executor.ComponentAuthenticatorTOTP)
	var link string
	for _, el := range all(p.doc, "p") {
		if strings.HasPrefix(text(el), "otpauth://totp/") {
			link = text(el)
		}
	}
	imgs := all(p.doc, "img")
	if link == "" || len(imgs) != 2 || !strings.HasPrefix(attrOf(imgs[1], "src"), "data:image/png;base64,") {
		t.Fatalf("the TOTP page: %s", p.body)
	}
	if in := p.input("code"); attrOf(in, "autocomplete") != "one-time-code" || attrOf(in, "inputmode") != "numeric" {
		t.Fatalf("code field: %s", p.body)
	}
	u, _ := url.Parse(link)
	key, _ := base32.StdEncoding.DecodeString(u.Query().Get("secret"))
	g := otp.TOTP{Key: key}
	p = b.submit(map[string]string{"code": "000000"})
	p.wantComponent(t, executor.ComponentAuthenticatorTOTP)
	if !strings.Contains(p.body, "Code does not match") {
		t.Fatalf("%s", p.body)
	}
	p = b.submit(map[string]string{"code": g.Code(now())})
	p.want(t, 200, "/")

	err = sv.s.Update(context.Background(), func(tx *store.Tx) error {
		_, err := store.Stages.Patch(tx, store.By("name", "default-authentication-mfa-validation"), []byte(`{"last_auth_threshold": "hours=1"}`), nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	logIn := func() *page {
		t.Helper()
		b.get("/if/flow/default-invalidation-flow/")
		p := b.get("/if/flow/default-authentication-flow/")
		p.wantComponent(t, executor.ComponentIdentification)
		p = b.submit(map[string]string{"uid_field": "akadmin"})
		return b.submit(map[string]string{"password": "admin Passw0rd"})
	}
	clock.Add(int64(30 * time.Second))
	p = logIn()
	p.wantComponent(t, executor.ComponentAuthenticatorValidate)
	if !strings.Contains(p.body, "A code from your authenticator app") || attrOf(p.input("code"), "autocomplete") != "one-time-code" {
		t.Fatalf("the validation page: %s", p.body)
	}
	p = b.submit(map[string]string{"code": "000000"})
	if !strings.Contains(p.body, executor.MsgInvalidToken) {
		t.Fatalf("%s", p.body)
	}
	p = b.submit(map[string]string{"code": g.Code(now())})
	p.want(t, 200, "/")
	var remembered bool
	for _, c := range b.c.Jar.Cookies(u0(sv)) {
		remembered = remembered || c.Name == executor.CookieMFA
	}
	if !remembered {
		t.Fatal("no remembered-MFA cookie")
	}
	// Within the threshold: no code asked.
	clock.Add(int64(10 * time.Minute))
	logIn().want(t, 200, "/")
}

// u0 is the server's URL.
func u0(sv *server) *url.URL { u, _ := url.Parse(sv.srv.URL); return u }
