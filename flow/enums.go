package flow

// Designation says what a flow is used for.
type Designation string

// Designations, as authentik names them.
const (
	DesignationAuthentication     Designation = "authentication"
	DesignationAuthorization      Designation = "authorization"
	DesignationInvalidation       Designation = "invalidation"
	DesignationEnrollment         Designation = "enrollment"
	DesignationUnenrollment       Designation = "unenrollment"
	DesignationRecovery           Designation = "recovery"
	DesignationStageConfiguration Designation = "stage_configuration"
)

// Designations lists every [Designation] in authentik's order.
var Designations = []Designation{
	DesignationAuthentication, DesignationAuthorization, DesignationInvalidation,
	DesignationEnrollment, DesignationUnenrollment, DesignationRecovery,
	DesignationStageConfiguration,
}

// Layout is how the flow's pages are arranged.
type Layout string

// Layouts of the seed era.
const (
	LayoutStacked      Layout = "stacked"
	LayoutContentLeft  Layout = "content_left"
	LayoutContentRight Layout = "content_right"
	LayoutSidebarLeft  Layout = "sidebar_left"
	LayoutSidebarRight Layout = "sidebar_right"
)

// Layouts lists every [Layout].
var Layouts = []Layout{LayoutStacked, LayoutContentLeft, LayoutContentRight, LayoutSidebarLeft, LayoutSidebarRight}

// DeniedAction is what happens when a flow denies access.
type DeniedAction string

// Denied actions.
const (
	DeniedActionMessageContinue DeniedAction = "message_continue"
	DeniedActionMessage         DeniedAction = "message"
	DeniedActionContinue        DeniedAction = "continue"
)

// DeniedActions lists every [DeniedAction].
var DeniedActions = []DeniedAction{DeniedActionMessageContinue, DeniedActionMessage, DeniedActionContinue}

// Authentication is the level of authentication a flow requires.
type Authentication string

// Authentication requirements. require_redirect is in authentik's schema
// from 2024.12 on, and in the 2025.6 schema that authflow follows.
const (
	AuthenticationNone                   Authentication = "none"
	AuthenticationRequireAuthenticated   Authentication = "require_authenticated"
	AuthenticationRequireUnauthenticated Authentication = "require_unauthenticated"
	AuthenticationRequireSuperuser       Authentication = "require_superuser"
	AuthenticationRequireRedirect        Authentication = "require_redirect"
	AuthenticationRequireOutpost         Authentication = "require_outpost"
)

// Authentications lists every [Authentication].
var Authentications = []Authentication{
	AuthenticationNone, AuthenticationRequireAuthenticated, AuthenticationRequireUnauthenticated,
	AuthenticationRequireSuperuser, AuthenticationRequireRedirect, AuthenticationRequireOutpost,
}

// PolicyEngineMode says how the policies bound to an object combine. Flows
// and bindings both have one.
type PolicyEngineMode string

// Policy engine modes.
const (
	PolicyEngineModeAll PolicyEngineMode = "all" // all policies must pass
	PolicyEngineModeAny PolicyEngineMode = "any" // any policy must pass
)

// PolicyEngineModes lists every [PolicyEngineMode].
var PolicyEngineModes = []PolicyEngineMode{PolicyEngineModeAll, PolicyEngineModeAny}
