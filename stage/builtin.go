package stage

// builtin lists the kinds that [Default] starts with. Descriptions are
// authentik 2025.6's class docstrings, line breaks included.
var builtin = []Kind{
	{
		Model:       ModelUserWrite,
		New:         func() Config { c := DefaultUserWrite(); return &c },
		Component:   "ak-stage-user-write-form",
		VerboseName: "User Write Stage",
		Path:        "user_write",
		Description: "Writes currently pending data into the pending user, or if no user exists,\ncreates a new user with the data.",
		Filters:     []string{"user_creation_mode", "create_users_as_inactive", "create_users_group", "user_type", "user_path_template"},
	},
	{
		Model:       ModelInvitation,
		New:         func() Config { return &Invitation{} },
		Component:   "ak-stage-invitation-form",
		VerboseName: "Invitation Stage",
		Path:        "invitation/stages",
		Description: "Simplify enrollment; allow users to use a single\nlink to create their user with pre-defined parameters.",
		Filters:     []string{"continue_flow_without_invitation", "no_flows"},
	},
	{
		Model:       ModelAuthenticatorDuo,
		New:         func() Config { return &AuthenticatorDuo{} },
		Component:   "ak-stage-authenticator-duo-form",
		VerboseName: "Duo Authenticator Setup Stage",
		Path:        "authenticator/duo",
		Description: "Setup Duo authenticator devices",
		StrPrefix:   "Duo Authenticator Setup Stage ",
		Filters:     []string{"configure_flow", "client_id", "api_hostname"},
	},
	{
		Model:       ModelDeny,
		New:         func() Config { return &Deny{} },
		Component:   "ak-stage-deny-form",
		VerboseName: "Deny Stage",
		Path:        "deny",
		Description: "Cancels the current flow.",
		Filters:     []string{"deny_message"},
	},
	{
		Model:       ModelUserLogout,
		New:         func() Config { return &UserLogout{} },
		Component:   "ak-stage-user-logout-form",
		VerboseName: "User Logout Stage",
		Path:        "user_logout",
		Description: "Resets the users current session.",
		Filters:     []string{},
	},
	{
		Model:       ModelUserDelete,
		New:         func() Config { return &UserDelete{} },
		Component:   "ak-stage-user-delete-form",
		VerboseName: "User Delete Stage",
		Path:        "user_delete",
		Description: "Deletes the currently pending user without confirmation.\nUse with caution.",
		Filters:     []string{},
	},
}
