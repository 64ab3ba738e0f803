package blueprint

import (
	"embed"
	"io/fs"
)

// The blueprints authentik 2025.6 ships that a first start applies,
// embedded once; the tests read the same files.
//
//go:embed testdata/authentik/default/*.yaml testdata/system/bootstrap.yaml
var shipped embed.FS

// Defaults returns authentik 2025.6's default flow blueprints
// (blueprints/default: the authentication, invalidation, password change,
// user settings, source, provider authorization and authenticator setup
// flows, and initial-setup), unchanged, as *.yaml files at the root of
// the returned file system. They are in the binary of every program that
// links this package (about 60 KB).
func Defaults() fs.FS {
	sub, err := fs.Sub(shipped, "testdata/authentik/default")
	if err != nil {
		panic(err) // the path is a constant of this file
	}
	return sub
}

// Bootstrap returns authentik 2025.6's system blueprint
// blueprints/system/bootstrap.yaml, unchanged: the group "authentik
// Admins" (a superuser group) and the user akadmin in it, whose email and
// password come from AUTHENTIK_BOOTSTRAP_EMAIL (default root@example.com)
// and AUTHENTIK_BOOTSTRAP_PASSWORD (default none: no usable password), both
// created only when missing (state: created), and an API token only when
// AUTHENTIK_BOOTSTRAP_TOKEN is set. Applying it needs !Env allowed for
// those variables (Options.EnvPrefixes).
func Bootstrap() []byte {
	b, err := shipped.ReadFile("testdata/system/bootstrap.yaml")
	if err != nil {
		panic(err) // the path is a constant of this file
	}
	return b
}
