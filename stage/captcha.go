package stage

import (
	"github.com/authflow/authflow/validate"
	"github.com/invopop/validation"
)

// ModelCaptcha is the model name of [Captcha].
const ModelCaptcha ModelName = "authentik_stages_captcha.captchastage"

// Captcha checks that the user is human with reCAPTCHA or a compatible
// service: authentik's CaptchaStage. PrivateKey is write-only: stored,
// never shown.
type Captcha struct {
	PublicKey  string          `json:"public_key" af:"required"`
	PrivateKey validate.Secret `json:"private_key" af:"required,writeonly"`
	JSURL      string          `json:"js_url"`
	APIURL     string          `json:"api_url"`
	// Interactive is for services that show a challenge.
	Interactive bool `json:"interactive"`
	// ScoreMinThreshold and ScoreMaxThreshold bound the score a
	// score-based service must give.
	ScoreMinThreshold   float64 `json:"score_min_threshold"`
	ScoreMaxThreshold   float64 `json:"score_max_threshold"`
	ErrorOnInvalidScore bool    `json:"error_on_invalid_score"`
}

// DefaultCaptcha returns a Captcha with authentik's defaults. The keys
// have none: a create must give them.
func DefaultCaptcha() Captcha {
	return Captcha{
		JSURL:               "https://www.recaptcha.net/recaptcha/api.js",
		APIURL:              "https://www.recaptcha.net/recaptcha/api/siteverify",
		ScoreMinThreshold:   0.5,
		ScoreMaxThreshold:   1,
		ErrorOnInvalidScore: true,
	}
}

// ModelName implements [Config].
func (Captcha) ModelName() ModelName { return ModelCaptcha }

// Validate checks the fields that a Go caller may have left blank.
func (c Captcha) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.PublicKey, validate.NotBlank),
		validation.Field(&c.PrivateKey, validation.By(notBlankSecret)),
		validation.Field(&c.JSURL, validate.NotBlank),
		validation.Field(&c.APIURL, validate.NotBlank),
	)
}

var _ Config = Captcha{}
