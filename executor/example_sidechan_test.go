package executor_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/authflow/authflow/executor"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
)

// HTTPSMS sends an SMS stage's code through Twilio's Messages API; its
// TwilioURL points it elsewhere (here a local stand-in for Twilio).
func ExampleHTTPSMS() {
	twilio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		account, _, _ := r.BasicAuth()
		fmt.Println(r.URL.Path, account)
		fmt.Println(form.Get("From"), "->", form.Get("To"), ":", form.Get("Body"))
		w.WriteHeader(http.StatusCreated)
	}))
	defer twilio.Close()
	cfg := stage.AuthenticatorSMS{Provider: stage.SMSProviderTwilio, FromNumber: "+15550100", AccountSID: "AC123", Auth: validate.NewSecret("token")}
	err := executor.HTTPSMS{TwilioURL: twilio.URL}.SendSMS(context.Background(), cfg, "+15550199", "123456")
	fmt.Println(err)
	// Output:
	// /2010-04-01/Accounts/AC123/Messages.json AC123
	// +15550100 -> +15550199 : Use this code to authenticate in authentik: 123456
	// <nil>
}

// DuoSign is the Authorization header of a Duo Auth API request, as
// duo_client signs it (signature version 5).
func ExampleDuoSign() {
	fmt.Println(executor.DuoSign("DIXXXXXXXXXXXXXXXXXX", "deadbeef", "POST", "api-xxx.duosecurity.com", "/auth/v2/enroll",
		"Tue, 21 Aug 2012 17:29:18 -0000", []byte(`{"username":"alice"}`)))
	// Output:
	// Basic RElYWFhYWFhYWFhYWFhYWFhYWFg6ZDRkNWM4NDdlYTc2MzM4OTMxYTFmN2FmZDE0Yzc4MzE5MTRhNDI3MDExNzU0ODcyNjM5OGQ0NzE3NWFiYWZjODUzMDMyY2Q2OWQ2MWY0NGJmOGRhNGI4MjQ1YjgzZGU1ZTA2YWI0OWVjYjA3ZjlhNDEwNzQ5N2QyOGE5Njg1MTE=
}
