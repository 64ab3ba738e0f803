// Package browsertest drives a real browser from Go tests: headless
// Chromium from Debian's package (/usr/bin/chromium), through the
// DevTools protocol with github.com/chromedp/chromedp. authflow's flow
// pages are checked with it (issue 22): a login typed into the page, a
// form sent with JavaScript disabled, the headers of every document the
// browser loaded, screenshots, and accessibility rules checked in the
// page.
//
// It is imported only by _test.go files.
//
// # One browser, many pages
//
// [Shared] starts one Chromium for the whole test binary, on first use,
// and [CloseShared] stops it; a package whose tests use it calls
// CloseShared from its TestMain after m.Run (Chromium dies with the test
// process anyway, but a clean stop removes its profile directory). Each
// [Browser.NewPage] opens a tab in a browser context of its own, that
// is a cookie jar of its own: two pages of one test are two browsers as
// far as the server can tell (the "second browser" that opens an email
// link), and pages of parallel tests do not see each other. A page is
// closed, and its browser context dropped, when its test ends.
//
// When /usr/bin/chromium is missing, Shared skips the test, unless the
// environment variable AUTHFLOW_BROWSER is set (.ci/run sets it, after
// installing Chromium), in which case the test fails.
//
// # Timeouts
//
// Nothing waits without a bound: each action runs under [ActionTimeout],
// a page lives at most [PageLifetime], and starting Chromium is bounded
// too. A page that never loads fails its test with the action that
// waited, not the whole test binary.
//
// # Failures
//
// Page methods fail the test (t.Fatalf) when the browser reports an
// error: a test reads as a script of what a person does. [Run] runs any
// chromedp action the methods do not cover, with the same rules.
//
// # Finding things
//
// [Page.Field] and [Page.Button] find a form control by its label and a
// button or link by its name, as a person (or a screen reader) does, so
// a test that fills a form also checks that its fields are labelled;
// [Page.Description] reads the text a field's aria-describedby names (its
// error). [Page.Documents] lists the HTTP responses of the documents a
// page loaded, headers included, for checks such as "every page has a
// Content-Security-Policy".
//
// # Passkeys
//
// [Page.AddAuthenticator] gives a page's tab a virtual authenticator
// (the DevTools WebAuthn domain) that answers navigator.credentials as
// a device with a passkey provider would, and [Page.WaitURL] waits for
// the page a script sends its form to.
//
// # Screenshots
//
// [Page.Screenshot] writes a PNG of the whole page into the test's
// artifact directory (testing.T.ArtifactDir). go test keeps them only
// with -artifacts:
//
//	mkdir -p /tmp/shots && go test -run Browser -artifacts -outputdir /tmp/shots ./cmd/authflow/
//
// and then they are under /tmp/shots/_artifacts/; without the flag they
// are removed with the test's temporary files. They are never committed.
//
// # Accessibility
//
// [Page.Check] runs the rules of [Rules] in the page, with no network:
// every form control has a label (a <label for>, a wrapping <label>,
// aria-label or aria-labelledby), buttons and links have a name, inputs
// for a username, an email, a password or a one-time code have the
// autocomplete attribute that says so, text contrast is at least 4.5:1
// (3:1 for large text, as WCAG 2 AA says) computed from the computed
// styles, ids that aria attributes refer to exist and are unique, a field
// marked aria-invalid says why through aria-describedby, the <html>
// element has a lang attribute, the document has a title, no text
// spills out of its box (a word too long for it, not wrapped), and the
// page does not scroll sideways at its width. It then tabs through the page
// with real key events (Input.dispatchKeyEvent) and checks that the focus
// visits every focusable control once, in document order. These rules
// are our own, written out in a11y.js, so that the check needs nothing
// but the browser; they catch what issue 22 asks for, not everything
// WCAG says. Beside them Check runs axe-core, the maintained checker,
// with its WCAG 2.0 to 2.2 A and AA rules and best practices, in the page
// (no network), when `npm ci` has installed it in the directory axe
// beside this file; its problems are named "axe:" and its rule id. With
// AUTHFLOW_BROWSER set, a missing axe-core fails the check.
package browsertest
