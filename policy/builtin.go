package policy

// builtin are the policy kinds of authentik 2025.6, with their
// /policies/all/types/ descriptions (Python 3.13 docstrings: common
// indentation removed, line breaks kept).
var builtin = []Kind{
	{
		Model: ModelDummy, New: func() Config { c := DefaultDummy(); return &c },
		Component: "ak-policy-dummy-form", VerboseName: "Dummy Policy", VerboseNamePlural: "Dummy Policies", Path: "dummy",
		Description: "Policy used for debugging the PolicyEngine. Returns a fixed result,\nbut takes a random time to process.",
		Debug:       true,
	},
	{
		Model: ModelEventMatcher, New: func() Config { return &EventMatcher{} },
		Component: "ak-policy-event-matcher-form", VerboseName: "Event Matcher Policy", VerboseNamePlural: "Event Matcher Policies", Path: "event_matcher",
		Description: "Passes when Event matches selected criteria.",
	},
	{
		Model: ModelExpression, New: func() Config { return &Expression{} },
		Component: "ak-policy-expression-form", VerboseName: "Expression Policy", VerboseNamePlural: "Expression Policies", Path: "expression",
		Description: "Execute arbitrary Python code to implement custom checks and validation.",
	},
	{
		Model: ModelGeoIP, New: func() Config { c := DefaultGeoIP(); return &c },
		Component: "ak-policy-geoip-form", VerboseName: "GeoIP Policy", VerboseNamePlural: "GeoIP Policies", Path: "geoip",
		Description: "Ensure the user satisfies requirements of geography or network topology, based on IP\naddress.",
		Filters:     []string{},
	},
	{
		Model: ModelPasswordExpiry, New: func() Config { return &PasswordExpiry{} },
		Component: "ak-policy-password-expiry-form", VerboseName: "Password Expiry Policy", VerboseNamePlural: "Password Expiry Policies", Path: "password_expiry",
		Description: "If password change date is more than x days in the past, invalidate the user's password\nand show a notice",
	},
	{
		Model: ModelPassword, New: func() Config { c := DefaultPassword(); return &c },
		Component: "ak-policy-password-form", VerboseName: "Password Policy", VerboseNamePlural: "Password Policies", Path: "password",
		Description: "Policy to make sure passwords have certain properties",
	},
	{
		Model: ModelUniquePassword, New: func() Config { c := DefaultUniquePassword(); return &c },
		Component: "ak-policy-password-uniqueness-form", VerboseName: "Password Uniqueness Policy", VerboseNamePlural: "Password Uniqueness Policies", Path: "unique_password",
		Description: "Policy ensuring a user's password is not identical to a previously used password.\n\nAfter enabling the policy, Authentik stores every user's previous password whenever a user\nchanges their own password. Old passwords remain stored in hashed form.\n",
		Enterprise:  true,
	},
	{
		Model: ModelReputation, New: func() Config { c := DefaultReputation(); return &c },
		Component: "ak-policy-reputation-form", VerboseName: "Reputation Policy", VerboseNamePlural: "Reputation Policies", Path: "reputation",
		Description: "Return true if request IP/target username's score is below a certain threshold",
		Search:      []string{"threshold"},
	},
}
