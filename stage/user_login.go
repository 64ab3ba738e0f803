package stage

import (
	"github.com/authflow/authflow/validate"
	"github.com/invopop/validation"
)

// ModelUserLogin is the model name of [UserLogin].
const ModelUserLogin ModelName = "authentik_stages_user_login.userloginstage"

// NetworkBinding binds a session to the network it was created from.
type NetworkBinding string

// Network bindings.
const (
	NetworkNoBinding        NetworkBinding = "no_binding"
	NetworkBindASN          NetworkBinding = "bind_asn"
	NetworkBindASNNetwork   NetworkBinding = "bind_asn_network"
	NetworkBindASNNetworkIP NetworkBinding = "bind_asn_network_ip"
)

// GeoIPBinding binds a session to the place it was created from.
type GeoIPBinding string

// GeoIP bindings.
const (
	GeoIPNoBinding                GeoIPBinding = "no_binding"
	GeoIPBindContinent            GeoIPBinding = "bind_continent"
	GeoIPBindContinentCountry     GeoIPBinding = "bind_continent_country"
	GeoIPBindContinentCountryCity GeoIPBinding = "bind_continent_country_city"
)

// UserLogin attaches the pending user to the session: authentik's
// UserLoginStage, in its 2025.6 form (no remember_device).
type UserLogin struct {
	// SessionDuration is a timedelta string ([validate.Timedelta]);
	// "seconds=0" lasts until the browser is closed.
	SessionDuration        string `json:"session_duration"`
	TerminateOtherSessions bool   `json:"terminate_other_sessions"`
	// RememberMeOffset extends the session when the user asks to be
	// remembered; "seconds=0" hides the option.
	RememberMeOffset string         `json:"remember_me_offset"`
	NetworkBinding   NetworkBinding `json:"network_binding"`
	GeoIPBinding     GeoIPBinding   `json:"geoip_binding"`
}

// DefaultUserLogin returns a UserLogin with authentik's defaults.
func DefaultUserLogin() UserLogin {
	return UserLogin{SessionDuration: "seconds=0", RememberMeOffset: "seconds=0", NetworkBinding: NetworkNoBinding, GeoIPBinding: GeoIPNoBinding}
}

// ModelName implements [Config].
func (UserLogin) ModelName() ModelName { return ModelUserLogin }

// Validate checks the durations and the choices.
func (c UserLogin) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.SessionDuration, validate.Timedelta),
		validation.Field(&c.RememberMeOffset, validate.Timedelta),
		validation.Field(&c.NetworkBinding, validate.Choice(NetworkNoBinding, NetworkBindASN, NetworkBindASNNetwork, NetworkBindASNNetworkIP)),
		validation.Field(&c.GeoIPBinding, validate.Choice(GeoIPNoBinding, GeoIPBindContinent, GeoIPBindContinentCountry, GeoIPBindContinentCountryCity)),
	)
}

// ModelConsent is the model name of [Consent].
const ModelConsent ModelName = "authentik_stages_consent.consentstage"

// ConsentMode says how long a consent lasts.
type ConsentMode string

// Consent modes.
const (
	ConsentAlwaysRequire ConsentMode = "always_require"
	ConsentPermanent     ConsentMode = "permanent"
	ConsentExpiring      ConsentMode = "expiring"
)

// Consent asks the user for confirmation: authentik's ConsentStage.
type Consent struct {
	Mode ConsentMode `json:"mode"`
	// ConsentExpireIn is a timedelta string ([validate.Timedelta]): how
	// long an expiring consent lasts.
	ConsentExpireIn string `json:"consent_expire_in"`
}

// DefaultConsent returns a Consent with authentik's defaults.
func DefaultConsent() Consent { return Consent{Mode: ConsentExpiring, ConsentExpireIn: "weeks=4"} }

// ModelName implements [Config].
func (Consent) ModelName() ModelName { return ModelConsent }

// Validate checks the mode and the duration.
func (c Consent) Validate() error {
	return validation.ValidateStruct(&c,
		validation.Field(&c.Mode, validate.Choice(ConsentAlwaysRequire, ConsentPermanent, ConsentExpiring)),
		validation.Field(&c.ConsentExpireIn, validate.Timedelta),
	)
}

var _ = []Config{UserLogin{}, Consent{}}
