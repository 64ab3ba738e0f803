package executor

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/authflow/authflow/stage"
)

// Duo speaks to Duo's Auth API for a stage's integration
// (stage.AuthenticatorDuo: api_hostname, client_id, client_secret), as
// authentik does through duo_client's Auth: Enroll makes a Duo user
// (POST /auth/v2/enroll), EnrollStatus tells whether it activated its
// phone (POST /auth/v2/enroll_status: "success", "waiting", "invalid"),
// and Auth asks a Duo user to approve a login (POST /auth/v2/auth,
// factor auto, synchronously). An error is Duo refusing or failing (a
// *DuoError) or the API unreachable; errors never hold the secret key.
type Duo interface {
	Enroll(ctx context.Context, cfg stage.AuthenticatorDuo, username string) (DuoEnrollment, error)
	EnrollStatus(ctx context.Context, cfg stage.AuthenticatorDuo, userID, activationCode string) (string, error)
	Auth(ctx context.Context, cfg stage.AuthenticatorDuo, req DuoAuthRequest) (DuoAuthResult, error)
}

// DuoEnrollment is Duo's answer to an enrollment.
type DuoEnrollment struct {
	ActivationBarcode string `json:"activation_barcode"`
	ActivationCode    string `json:"activation_code"`
	UserID            string `json:"user_id"`
	Username          string `json:"username"`
}

// DuoAuthRequest is a login to approve: the Duo user, the client's
// address, the push's type line, the username shown, and the push's
// details (form-encoded, as Duo takes them).
type DuoAuthRequest struct {
	UserID          string
	IPAddr          string
	Type            string
	DisplayUsername string
	PushInfo        string
}

// DuoAuthResult is Duo's answer to a login: Result "allow" or "deny".
type DuoAuthResult struct {
	Result    string `json:"result"`
	Status    string `json:"status"`
	StatusMsg string `json:"status_msg"`
}

// DuoError is Duo's refusal or failure, in duo_client's words
// ("Received 401 Invalid signature in request credentials").
type DuoError struct {
	Status  int
	Message string
}

func (e *DuoError) Error() string { return e.Message }

// MsgNoDuo is the error_message of a stage that needs Duo when
// Options.Duo is nil.
const MsgNoDuo = "This flow needs Duo, and no Duo client is configured."

// maxDuoAnswer bounds the body of Duo's answer that is read.
const maxDuoAnswer = 1 << 20

// HTTPDuo is the built-in Duo: Duo's Auth API over HTTPS at the stage's
// api_hostname, each request signed as duo_client 5.5 signs them
// (signature version 5): the parameters as a JSON body with sorted keys,
// and an Authorization of HTTP basic (client_id, the hex HMAC-SHA512
// under client_secret of the lines: Date, method, host in lower case,
// path, the query's parameters (none), the hex SHA-512 of the body, and
// the hex SHA-512 of the X-Duo- headers (none)).
type HTTPDuo struct {
	// Client makes the requests; nil means http.DefaultClient.
	Client *http.Client
	// BaseURL, when not "", replaces "https://" + api_hostname as where
	// the requests go (tests point it to a local server); the requests
	// are signed for api_hostname all the same.
	BaseURL string
	// Now is the clock of the Date header; nil means time.Now.
	Now func() time.Time
}

// Enroll implements Duo.
func (h HTTPDuo) Enroll(ctx context.Context, cfg stage.AuthenticatorDuo, username string) (DuoEnrollment, error) {
	var out DuoEnrollment
	err := h.call(ctx, cfg, "/auth/v2/enroll", map[string]string{"username": username}, &out)
	return out, err
}

// EnrollStatus implements Duo.
func (h HTTPDuo) EnrollStatus(ctx context.Context, cfg stage.AuthenticatorDuo, userID, activationCode string) (string, error) {
	var out string
	err := h.call(ctx, cfg, "/auth/v2/enroll_status", map[string]string{"user_id": userID, "activation_code": activationCode}, &out)
	return out, err
}

// Auth implements Duo.
func (h HTTPDuo) Auth(ctx context.Context, cfg stage.AuthenticatorDuo, r DuoAuthRequest) (DuoAuthResult, error) {
	params := map[string]string{"factor": "auto", "async": "0", "user_id": r.UserID, "device": "auto"}
	for k, v := range map[string]string{"ipaddr": r.IPAddr, "type": r.Type, "display_username": r.DisplayUsername, "pushinfo": r.PushInfo} {
		if v != "" {
			params[k] = v
		}
	}
	var out DuoAuthResult
	err := h.call(ctx, cfg, "/auth/v2/auth", params, &out)
	return out, err
}

// DuoSign returns the Authorization header of a Duo API request
// (signature version 5, without X-Duo- headers): date is the request's
// Date header, body its JSON body.
func DuoSign(ikey, skey, method, host, path, date string, body []byte) string {
	bodyHash := sha512.Sum512(body)
	headersHash := sha512.Sum512(nil)
	canon := strings.Join([]string{
		date, strings.ToUpper(method), strings.ToLower(host), path, "",
		hex.EncodeToString(bodyHash[:]), hex.EncodeToString(headersHash[:]),
	}, "\n")
	mac := hmac.New(sha512.New, []byte(skey))
	mac.Write([]byte(canon))
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(ikey+":"+hex.EncodeToString(mac.Sum(nil))))
}

// call POSTs params to path and decodes Duo's response into out.
func (h HTTPDuo) call(ctx context.Context, cfg stage.AuthenticatorDuo, path string, params map[string]string, out any) error {
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	base := h.BaseURL
	if base == "" {
		base = "https://" + cfg.APIHostname
	}
	body, _ := json.Marshal(params) // sorted keys, no spaces
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("executor: duo: the stage's api_hostname %q is not a host", cfg.APIHostname)
	}
	// RFC 2822, as Python's email.utils.formatdate.
	date := now().UTC().Format("Mon, 02 Jan 2006 15:04:05 -0000")
	req.Header.Set("Date", date)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", DuoSign(cfg.ClientID, cfg.ClientSecret.Reveal(), http.MethodPost, cfg.APIHostname, path, date, body))
	resp, err := doQuiet(ctx, client, req, "duo: "+path, []string{cfg.ClientSecret.Reveal()})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxDuoAnswer))
	var env struct {
		Stat          string          `json:"stat"`
		Response      json.RawMessage `json:"response"`
		Message       string          `json:"message"`
		MessageDetail string          `json:"message_detail"`
	}
	decoded := json.Unmarshal(raw, &env) == nil
	if resp.StatusCode != http.StatusOK {
		msg := fmt.Sprintf("Received %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		if decoded && env.Stat == "FAIL" {
			msg = fmt.Sprintf("Received %d %s", resp.StatusCode, env.Message)
			if env.MessageDetail != "" {
				msg += " (" + env.MessageDetail + ")"
			}
		}
		return &DuoError{Status: resp.StatusCode, Message: mask(msg, []string{cfg.ClientSecret.Reveal()})}
	}
	if !decoded || env.Stat != "OK" || json.Unmarshal(env.Response, out) != nil {
		return &DuoError{Status: resp.StatusCode, Message: "Received bad response"}
	}
	return nil
}

var _ Duo = HTTPDuo{}
