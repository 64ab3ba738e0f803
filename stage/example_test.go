package stage_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
)

// Webhook is a host application's own stage kind.
type Webhook struct {
	URL     string          `json:"url" af:"required"`
	Retries int32           `json:"retries" af:"min=0,max=10"`
	Secret  validate.Secret `json:"secret" af:"writeonly,blank"`
}

// ModelName implements stage.Config.
func (Webhook) ModelName() stage.ModelName { return "example_stages_webhook.webhookstage" }

// Register adds a kind to a registry; a private Registry keeps tests and
// examples away from the Default one. The kind's "af" tags drive decoding,
// validation and the representation.
func ExampleRegister() {
	r := &stage.Registry{}
	r.Register(stage.Kind{
		Model:       "example_stages_webhook.webhookstage",
		New:         func() stage.Config { return &Webhook{Retries: 3} },
		Component:   "ak-stage-webhook-form",
		VerboseName: "Webhook Stage",
		Path:        "webhook",
	})

	cur, _ := r.New("example_stages_webhook.webhookstage")
	_, err := r.Decode(cur, []byte(`{"name":"notify","retries":"11"}`), validate.Create)
	var ve *validate.Error
	if errors.As(err, &ve) {
		body, _ := json.Marshal(ve)
		fmt.Println(string(body))
	}

	s, err := r.Decode(cur, []byte(`{"name":"notify","url":"https://example.com/hook","secret":"s3cret"}`), validate.Create)
	if err != nil {
		fmt.Println(err)
		return
	}
	k, _ := r.Lookup(s.Model())
	view, _ := json.Marshal(stage.View{Stage: s, Kind: k})
	fmt.Println(string(view))
	fmt.Println(s.Config.(Webhook).Secret.Reveal())
	// Output:
	// {"retries":["Ensure this value is less than or equal to 10."],"url":["This field is required."]}
	// {"pk":"00000000-0000-0000-0000-000000000000","name":"notify","component":"ak-stage-webhook-form","verbose_name":"Webhook Stage","verbose_name_plural":"Webhook Stages","meta_model_name":"example_stages_webhook.webhookstage","flow_set":[],"url":"https://example.com/hook","retries":3}
	// s3cret
}
