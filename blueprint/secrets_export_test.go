package blueprint_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/store"
)

// Neither export, nor an import's log, holds a secret in the clear: not the write-only ones,
// and not those a response shows (an SMS stage's auth, an email
// authenticator's password), which authentik's export carries.
func TestExportLeavesSecretsOut(t *testing.T) {
	s := newStore(t)
	setup := `version: 1
entries:
- model: authentik_flows.flow
  id: flow
  identifiers: {slug: login}
  attrs: {name: Login, title: Welcome, designation: authentication}
- model: authentik_stages_authenticator_sms.authenticatorsmsstage
  id: sms
  identifiers: {name: sms}
  attrs: {provider: twilio, from_number: "+1555", account_sid: sid, auth: s3cret-sms-auth, auth_password: s3cret-sms-pw}
- model: authentik_stages_authenticator_email.authenticatoremailstage
  id: mail
  identifiers: {name: mail}
  attrs: {password: s3cret-mail}
- model: authentik_stages_captcha.captchastage
  id: cap
  identifiers: {name: cap}
  attrs: {public_key: pub, private_key: s3cret-captcha}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf sms, order: 10}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf mail, order: 20}
- model: authentik_flows.flowstagebinding
  identifiers: {target: !KeyOf flow, stage: !KeyOf cap, order: 30}
`
	if res := apply(t, s, setup, blueprint.Options{}); !res.Success {
		t.Fatalf("setup: %+v", res.Logs)
	}
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for name, export := range map[string]func(*store.Tx, string, time.Time) ([]byte, error){
		"Export": blueprint.Export, "ExportPortable": blueprint.ExportPortable,
	} {
		var out []byte
		if err := s.View(context.Background(), func(tx *store.Tx) error {
			var err error
			out, err = export(tx, "login", now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), "s3cret") {
			t.Errorf("%s holds a secret:\n%s", name, out)
		}
		if name == "ExportPortable" && !strings.Contains(string(out), "auth: !Env AUTHFLOW_STAGE_SMS_AUTH") {
			t.Errorf("%s writes no !Env placeholder for the SMS auth:\n%s", name, out)
		}
	}
	// An import's log says that a shown secret changed, not its values.
	res := apply(t, s, strings.Replace(setup, "s3cret-sms-auth", "s3cret-sms-auth2", 1), blueprint.Options{})
	logs, _ := json.Marshal(res)
	if !res.Success || strings.Contains(string(logs), "s3cret") || !strings.Contains(string(logs), `"auth":{"secret":true}`) {
		t.Errorf("re-import log: %s", logs)
	}
}
