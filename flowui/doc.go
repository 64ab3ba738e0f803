// Package flowui is the flow interface: authentik's flows as
// server-rendered web pages (issue 22), over the executor's Go API. It
// serves authentik's /if/flow/{slug}/, one page per challenge, as plain
// HTML forms that work without JavaScript, so that a person can log in,
// enroll, recover a password or change settings with a browser, from the
// same binary; "authflow serve" mounts it beside the API.
//
// # Pages
//
// [New] makes a [UI], an http.Handler, over an executor.Executor. It
// serves:
//
//   - GET FlowPath + "{slug}/": the current challenge of the flow for the
//     visitor's session (executor.Executor.Get), with the page's query
//     string (next, itoken, flow_token) as the executor's query, as
//     authentik's interface passes it. POST to the same URL (the
//     page's forms name no action, so that they post to its URL): the form,
//     converted into the stage's JSON response, is submitted
//     (executor.Executor.Submit). A stage that passed is a redirect to
//     the same URL (302 after a GET, 303 after a POST); so is the end of
//     a flow (xak-flow-redirect, to its "to"). Any other challenge is a
//     page, 200, its errors included; an unknown flow 404; an unexpected
//     error the flow error page (500) with the request id of the
//     system_exception event that holds it.
//   - GET "/": a visitor who is not logged in is sent to the default
//     authentication flow (executor.Executor.DefaultFlow); a logged-in one
//     sees their username and links to the brand's user settings flow
//     (else default-user-settings-flow) and default-password-change, each
//     through StartPath, to log out (executor.InvalidationURL, the
//     default invalidation flow), and, when the brand names one, to its
//     unenrollment flow ("Delete account", as authentik's settings),
//     their authenticator devices (names and classes, no secret), and a
//     link to executor.ConfigurePath for each authenticator setup stage
//     with a configure flow (executor.Executor.Authenticators). When the
//     settings flow has just ended there, it says so once, in authentik's
//     user interface's words (MsgSettingsSaved, by a cookie of a minute,
//     NoticeCookie). The settings and password change pages, and a
//     logged-in visitor's authenticator setup pages, link back to it
//     ("Back to your account", Page.Back), so that leaving them unsaved
//     needs neither the browser's back button nor "Not you?", which logs
//     out.
//   - GET StartPath + "{slug}/": the flow started for the logged-in
//     visitor as authentik's user interface starts its settings flow
//     (executor.Executor.Execute, authentik's flows/instances/{slug}/execute/:
//     planned now, with the visitor as pending_user), then a redirect to
//     its page. The settings and password change flows need it: their
//     user_write stages write the pending user, and opened without one
//     they take the visitor's own username for a new user's ("Username
//     is already taken."), as in authentik. An anonymous visitor is sent
//     to "/", a link on another site gets a page to continue from. The
//     settings flow's own page is started so too when the visitor has no
//     execution of it (executor.Executor.Running): a bookmark, or its
//     form sent again after it saved (the browser's back button), saves;
//     a form refused (its CSRF token, its decoding) starts nothing.
//   - BackgroundPath (authentik's default flow background, an image made
//     by this package) and executor.DefaultAvatar.
//
// The host mounts the executor's own endpoints beside it (HTTPHandler,
// CancelHandler, DefaultFlowHandler, ConfigureHandler), with the same
// executor.HTTPOptions as Options.HTTP: the pages and the API then share
// one session per client (the executor's cookie and SessionStore, or the
// host's session, through executor.HTTPSessions), a new session id at
// login, and the logout.
//
// Every component the executor's built-in stages answer with
// (executor.Components) has a template and a form decoder, which New
// checks: identification (user field, the password field of a combined
// stage, the enrollment, recovery and passwordless links, "Remember me",
// which keeps the username in a cookie of the flow pages, RememberCookie),
// password (show password, recovery link), prompt (all 18 types, below),
// consent, access denied (with its message), flow error (with the
// request id), email sent (send again, after which the page says
// "Email Successfully sent." as authentik does, not the executor's
// error code "email-sent"), captcha, authenticator validation (the device choices listed, a "Send a code" button for
// each SMS and email device, which selects its challenge, after which
// the page says the code is on its way where the executor answers
// "Empty response"; the email address masked; a "Send a Duo push"
// button for a Duo device; a code field with autocomplete
// one-time-code; a button per configuration stage), SMS and email
// setup (the number, autocomplete tel, or the address, autocomplete
// email, then the code, autocomplete one-time-code), Duo setup (a link
// to the activation barcode, which Duo serves, and the activation code
// as text; no image of another origin), TOTP
// setup (the otpauth link as text and as a QR code drawn on the server
// by package internal/qr, a PNG data: image of a pixel a module, shown
// four pixels a module, pixelated, without script; the
// confirmation code), static setup (the codes, shown while the device
// is set up only; the page is no-store as every page), WebAuthn setup
// and the validation page's passkey form (one small script with the
// page's CSP nonce, the only script besides captcha's and "show
// password", runs navigator.credentials.create or .get with the
// options of the challenge, kept in a data attribute, and sends the
// credential's JSON back through the form; without JavaScript the page
// says that a passkey needs it; the code form is shown only for the
// code classes), dummy, and
// user_login (remember me: "Yes" or "No"). The remembered-MFA cookie of
// authenticator_validate (executor.CookieMFA) is read and set by
// executor.HTTPSessions, so the pages honour it as the API does.
//
// A prompt page sends each field by its type, which the page names in a
// hidden field: text types as typed; checkbox true or false; number,
// date (an HTML date) and date-time (an HTML datetime-local, which the
// stage reads in UTC) as text, left out when empty so that a default or
// "required" applies; dropdown and radio-button-group as the choice; a
// file as a data: URI of its bytes (the form is multipart/form-data,
// bounded by Options.MaxUpload, and the stage refuses a URI over
// executor.MaxFileLength); hidden, static, separator and the read-only
// types not at all (the stage sets them). After an error the page shows
// the values sent again, never a password or a file. An ak-locale field
// is a select of authentik 2025.6's UI languages, named as its select
// names them ("DE - German"), after a blank "Auto-detect" that the
// browser does not refuse; a user's locale that is none of them is kept
// as a choice of its own, so that saving other settings keeps it.
//
// # Look
//
// One look of its own: a card over the flow's background, in the
// flow_info layout (stacked, content_left, content_right, sidebar_left,
// sidebar_right; another value is stacked), the flow's title as the
// heading, light or dark as the browser prefers, readable from 320 CSS
// pixels wide. The style sheet is inlined in each page; a host themes it
// with CSS variables (--af-accent, --af-accent-text, --af-text,
// --af-muted, --af-card, --af-field, --af-border, --af-error,
// --af-radius, --af-font) or replaces any template file through
// Options.Templates, an fs.FS read by file name: page.html (defines
// "page", which calls "content"), style.css, parts.html (the shared
// pieces), landing.html, status.html (the UI's own error pages, and
// the pages that ask a visitor to continue: a host's must show
// Status.Continue's link and, when Status.Post, a form posting "hidden"
// to Action) and one
// "{component}.html" per component, each the "content" of its page. The
// templates render a [Page]. New parses them and renders each component's
// sample challenges, so that a broken template fails at New, not on a
// visitor (an error wrapping [ErrTemplate]).
//
// # Accessibility
//
// Every field has a label bound to it (for, or around a checkbox and
// radio button), the autocomplete attributes username, current-password
// (identification, password), new-password (password prompts), email and
// one-time-code; a field's errors are tied to it (aria-describedby,
// aria-invalid) and announced (role="alert"), as are the form's errors;
// the first field with an error, else the first field, has autofocus;
// the focus then follows the document's order (no positive tabindex);
// the page has a lang attribute (Options.Lang); the default colours meet
// WCAG 2's contrast minimums, light and dark (TestContrast). No page
// needs JavaScript but a captcha's.
//
// # Safety
//
// Every value is escaped as html/template escapes it, the
// configuration's included (flow titles, prompt labels, placeholders,
// choices): html/template decides each value's escaping, and a
// template runs compiled (see Performance) with html/template's own
// escapers. A prompt's
// sub_text and a static prompt's text, which authentik renders as HTML,
// are shown as text here (HTML in them shows as written; line breaks are
// kept), so that an administrator's markup can never run in a visitor's
// page.
//
// Every page has a Content-Security-Policy: default-src 'none', the
// inlined style allowed by a nonce, images from the UI's origin, data:,
// the flow background's origin and the pending user's avatar's (a
// host's executor.Options.Avatar), form-action 'self', frame-ancestors
// 'none', base-uri 'none'. Script runs only by the
// page's nonce: a password page that allows showing the password has a
// few lines that flip the field's type (without JavaScript the box is
// not shown), and a captcha page loads its provider's script
// ('strict-dynamic', with frames and requests to https: sources, which
// the providers' widgets use). Pages also send X-Content-Type-Options:
// nosniff, Referrer-Policy: same-origin, X-Frame-Options: DENY and
// Cache-Control: no-store.
//
// A POST must carry the form's CSRF token (CSRFField: an HMAC of the
// session id under Options.CSRFKey, a random key of the UI by default)
// and pass the executor's origin check (executor.HTTPOptions.CrossOrigin);
// either failing is a 403 page, before anything is submitted. A GET is
// a navigation, which another site may start (an application sending its
// user to log in, an email's link), as with authentik's interface; but a
// GET runs the stages before the next challenge (user_logout,
// user_delete, user_write, email), and another site's link carries the
// session cookie (SameSite=Lax). So a logged-in visitor's GET from
// another origin (the executor's origin check) runs nothing: a page
// says so, with a link to the same URL, which the visitor's own click
// follows; an anonymous visitor's is served at once. A GET of an
// emailed link's one-time key (flow_token, itoken, token) without the session
// cookie (with the executor's own cookie, not a host's Session) runs
// nothing either: a mail system's link scanner would use the key up in
// a session no one continues. A page asks to continue with a button (a
// POST, which scanners do not send), whose answer is a redirect to the
// link with the new cookie. A flow of the unenrollment designation
// (its user_delete deletes the visitor at its first GET) is not started
// by a logged-in visitor's GET at all, even from this origin: a login's
// relative next, which the browser follows from here, could name it.
// Its page asks first ("Continuing deletes your account. This cannot be
// undone."), and the POST of its button (the CSRF token) starts it.
// authentik runs it at the GET. next is followed only when relative
// (the executor refuses others). A body over
// Options.MaxBody (Options.MaxUpload with files), a form of more than
// Options.MaxFields values, or one for no known component is a 413 or
// 400 page saying so ([ErrForm]). A login gives the client a new session id, so
// the forms of pages shown before it (in other tabs) expire with it.
//
// # Performance
//
// Every page is one request, its HTML and CSS together 4 to 9 KB (the
// background image aside, a 2 KB JPEG; TestHeadersEverywhere and
// TestComponentPages bound every page at 30 KB). A page is rendered
// with placeholders for its nonce and CSRF token and written around
// them, so that a challenge's page shown again (the login page is the
// same for every visitor) is written from a bounded cache
// (Options.CachePages pages and MaxCacheBytes bytes, a page over a 64th
// of it never kept; keyed by the challenge's JSON and the page's path,
// and a challenge with text that is not UTF-8, which its JSON does not
// tell apart, never kept) without running its template. The UI's own
// forms name no action: they post to the page's URL, query included,
// so that a page is kept once whatever its query (an application's
// state, a login hint); a page that links to itself (access denied's
// "Try again") or a host's template is kept by its URL when it has no
// query, and rendered whole when it has one: anyone could otherwise add
// pages at will, a new query each, and drop the pages others share, so
// that whether a page is from the cache would tell whether someone saw
// it since. A page that shows a pending user (the password page, the
// access-denied and user-login pages) is kept for every visitor with holes where the user is shown
// (parts.html's "who" and "username"), each rendered by its template
// for the visitor at hand: what is kept is the same for every user, so
// neither its content nor its timing tells anyone's name (a page whose
// challenge shows the user's name elsewhere, a flow title's "%(user)s",
// is rendered whole). A prompt page answered (the values typed, the
// errors) or with initial values or a select's choices (which may be
// the visitor's: what they typed at an earlier stage, a logged-in
// user's name and email in the user settings), whose fields each show
// their value whole (not a radio button, a checkbox or a file, whose
// state is in their markup), is
// kept apart from the page shown without values, with holes for each
// field's value and attributes, its errors and the form's (parts.html's
// "errors" and "nonfield", rendered by their templates when there are
// errors), and each select's options (the prompt page's own "options",
// its choices, which an expression may make, and the one selected;
// those of an ak-locale field are rendered once per locale when the UI
// is made, so that filling them runs no template, but for a locale of
// no choice). A
// value is filled in escaped as html/template escapes a string in HTML
// text, a quoted attribute's value and RCDATA: the page is rendered for
// the cache with probe values that html/template escapes in those
// contexts alone in one way, and a page in which a probe is escaped
// otherwise (a URL's, a script's, an unquoted attribute's context) is
// not kept; internal/tmplexec's FuzzWriteHTML checks the escaping
// against html/template's,
// and FuzzPromptPageHoles and FuzzPromptPageOptions (a select's
// options) a page filled against the page rendered whole, byte for
// byte. Only the UI's own templates are kept so (a
// host's may show the pending user or a value anywhere), and a page
// that shows the user outside the holes is rendered whole (the
// rendering for the cache shows a marker in the user's place, and a
// page that holds it is not kept). An authenticator's page (static
// codes, a WebAuthn or Duo challenge), a consent page (its token, new at
// each showing), any other page answering a form or with initial values
// or choices (a radio group's), or one showing the username a browser
// remembers, is never kept. The TOTP setup page, with the UI's own
// templates, is kept with a hole for its secret, the otpauth link and
// its QR code (the totp template's "totp-link", rendered for each
// request and kept nowhere): neither the page kept nor its key (the
// challenge without its link) holds the device's key, and every setup
// shares the page. The other authenticator's
// page kept is the validation page (authenticator_validate, the code
// asked at each login of an MFA user, shown or answered: the code typed
// is not shown again) of a user whose devices are all answered with a
// code they hold (TOTP, static codes), with the UI's own templates: it
// is kept by the devices' classes alone, without their uids and last
// uses, with holes for the pending user, so that every user with the
// same classes shares it; one that offers a WebAuthn assertion, a code
// sent (SMS, email) or a Duo push is rendered whole.
//
// A logged-in visitor's pages (the user settings, the password change,
// a flow's pages after its login) are kept as anyone's, and shared with
// everyone's: what is kept holds no one's values, so that its timing
// tells a visitor no more than that someone saw the same page of the
// flow. A challenge that shows the visitor outside the holes is
// rendered whole and never kept: the pending user's or the logged-in
// visitor's username (a flow title's "%(user)s", a policy's message),
// or one of a prompt page's initial values or selects' choices of 4
// bytes or more (an expression's placeholder of the user's email; a
// shorter value, a locale, is in most challenges' JSON by chance). The UI cannot tell
// an expression's text from the configuration's: a page that shows
// something else derived from the user (an expression's placeholder of
// their group, a policy's message of their attributes) is kept as its
// challenge shows it, under a key that holds it, shared only by the
// visitors who see the same text, as is an anonymous visitor's page that
// an expression of what they typed fills (prompt_context).
//
// A page rendered by its template renders its "content" alone: with
// the UI's own page.html (and a style.css without actions), the page
// around it (head, style, layout) is rendered once per language,
// title, background and layout, with placeholders for the nonce and
// the content, and kept (at most 256; a host's page.html may read any
// of a Page, and its pages are rendered whole; a title that shows the
// pending user or the logged-in visitor, a flow title's "%(user)s", is
// rendered with its page and not kept, so that whether it is kept
// tells no one who else saw the flow). The templates read
// plain fields rather than call methods (Page.Fields, Page.Captcha),
// and the values the UI makes itself, from its own words only, are one
// action each rather than several (Page.Hidden, the CSRF token and the
// component; Prompt.Flags, a field's autocomplete, readonly or
// required).
//
// A template runs compiled (internal/tmplexec): its first rendering
// is html/template's, which escapes it; its escaped trees are then
// compiled into Go closures (each field read by its index, each
// escaper html/template's own code writing into the page's buffer,
// the UI's functions of a string called directly) and run again with
// the same data, and kept only if they wrote the same bytes. Every
// template of the UI's own is compiled (TestTemplatesCompiled), its
// call of style.css inside <style> (a template html/template derives
// for CSS) as style.css's text when it has no actions. A host's
// template runs compiled too when it uses only what the compiler
// knows (text/template's nodes, fields, maps, methods of no argument,
// the UI's functions and the builtins and, or, not, eq, ne, len and
// print, in HTML text, a quoted attribute, RCDATA, an attribute's
// name, a URL or a JavaScript string), else by html/template: never
// otherwise, only slower. A compiled template that fails (a nil
// pointer's field) renders again by html/template, whose error the
// page answers. The tests render every page with both and require the
// same bytes (TestMain). Every
// value from the configuration or the visitor is escaped so, but a
// prompt page's values filled into its holes,
// escaped as html/template escapes them there (above). A session's CSRF token is computed once and kept for
// its next pages (at most 4096 sessions).
//
// BenchmarkFlowPages runs the shipped default-authentication-flow (of
// a user without devices, and of one with a TOTP device and static
// codes), the two-stage enrollment example, and a logged-in user's
// default-user-settings-flow and default-password-change through their
// pages and, alternately in one loop, through the executor's Go API in
// a session of its own at the same point, and reports each request's
// cost beside the executor step behind it (the page's request includes
// its step). BenchmarkPage measures a page shown again beside the
// executor's Get and its JSON endpoint; its -uncached runs render every
// page by its template (Options.CachePages -1). BenchmarkRender renders
// each sample challenge's page alone, BenchmarkTemplates its "content"
// by html/template and compiled:
//
//	go test ./flowui -run '^$' -bench BenchmarkFlowPages -benchtime 2000x -count 5
//	go test ./flowui -run '^$' -bench BenchmarkPage -benchtime 10000x
//	go test ./flowui -run '^$' -bench BenchmarkRender -benchmem
//	go test ./flowui -run '^$' -bench BenchmarkTemplates
//
// Medians of five runs on a quiet two-core machine, each page's whole
// request ÷ its step (the rendering alone is this less one). A login's
// pages together cost 1.20 times its steps, an enrollment's 1.17, the
// user settings' 1.27 and a password change's 1.13. Each page of a
// login: the login page 1.70 (its step is the Get that starts the
// execution, in a new session; the page adds the session cookie, the
// CSRF token and the cache's key), the password page 2.13 (2.62 before
// it was kept with holes for the user, measured beside it; its step got
// cheaper since, with the password binding's expression policy), a
// wrong password's page 1.18, an identifier's or the right password's
// answer (a redirect) 1.34 and 1.05, the reloads to the flow's end
// 1.60. The login of a user with a TOTP device and static codes
// (mfa): the validation page 1.48 and a wrong code's page 1.26 times
// their steps, the right code's answer 1.06, the whole login 1.24;
// beside the build before, alternately (five runs each, on a machine
// busy with other work), 1.68 and 1.34 where they were 2.25 and 1.63
// while the page was rendered by its template.
// The same login as an application sends its users to it, with a
// query of its own each time (an OAuth state; login-app): the login
// page 1.74 and the password page 2.09, where they were 3.95 and 2.94
// while the forms named their URL, query included, and each such page
// was rendered by its template (the two builds alternately, five runs
// each). Each of the enrollment's: its first page 1.66, its second
// 1.60, the answers 1.45 and 1.45, the end 1.04, and the first page
// answered with passwords that differ 2.16 (3.29 before it was kept
// with holes for the values and errors). A logged-in user's (the flows
// started as authentik's interface starts them, Executor.Execute): the
// user settings page, with the user's values, 1.39, and its answer
// refused (an email that is no address) 1.42, where they were 2.34 and
// 1.69 while a logged-in visitor's pages were rendered by their
// template (the two builds alternately, five runs each); the answer
// saved 1.12 and the end 1.12. The password change page 1.60 (with its
// link back to the landing page), the passwords that differ 2.14 (the
// page renders in a few microseconds, against a step of some 27, and
// the rest is the POST's own work: the form, the session, the CSRF
// token), the password set 1.33 and the end 0.99. A page rendered by
// its template (the first showing of each page, and the pages never
// kept: an authenticator's but the code-only validation page, a
// consent's, a page whose title shows the user, an answered page with
// a choice, a checkbox or a file) costs 2.22 (the login page) and 1.97
// (the enrollment's first) times the Get behind it, where it cost 4.01
// and 5.02 while html/template ran it (BenchmarkPage -uncached, the two
// builds alternately, seven runs each, medians; the same runs: the
// login page kept 1.77, the enrollment's 1.52). Rendering alone
// (BenchmarkRender, medians of three): identification 9.1
// microseconds (31.8 by html/template), password 8.0 (26.7), the
// prompt sample's 18 fields 33 (207), authenticator validation 17.7
// (61), the dummy page 1.8 (5.7); a TOTP setup page's is its QR code's.
// A page's "content" alone (BenchmarkTemplates, html/template and
// compiled in one loop): identification 1.9 microseconds, 9 times less
// than by html/template; password 3.0 (5 times), the prompt sample 17
// (11 times), validation 12 (3.7 times: the rest is its JSON). So issue
// 22's bound (rendering a page at most twice its step) holds for each
// flow as a whole and for every page of the four flows if the rendering
// alone is what is bounded (the request less its step: at most 1.16
// times the step; the MFA login's validation and wrong code's pages
// 0.48 and 0.26; a page rendered by its template 1.22 and 0.97), and
// for all but the password page, the pages answered with passwords that
// differ (2.13, 2.16 and 2.14) and the login page rendered by its
// template (2.22) if the page's request, step included, is: the login
// page kept already costs 1.77 times its Get (the session, the CSRF
// token, the headers), and its template 1.9 microseconds more, against
// a Get of 5.5.
//
// BenchmarkFlowPages runs each of its flows again through a UI that
// keeps no page (NAME-uncached), and BenchmarkEveryPage walks every
// shipped flow as TestWalkEveryFlow does (initial setup, the settings,
// a password change, static codes and TOTP set up, a login with a
// code, enrollment, recovery with its consent) and shows each flow page
// it lands on again, kept and rendered by its template, beside the
// executor's step behind it:
//
//	go test ./flowui -run '^$' -bench 'BenchmarkFlowPages|BenchmarkEveryPage' -benchtime 1000x
//
// Medians of three runs on a quiet machine: every page of the five
// flows rendered by its template costs at most 2.63 to 2.89 times its
// step across rounds, request included (the MFA login's identification
// page; the login
// page 2.30, the enrollment's first 2.45, the password change's 2.48).
// Every page of the walk but the TOTP setup page costs at most 2.20
// times its step kept and 2.19 by its template (initial setup's page;
// the static codes' 2.13 and 1.85, a consent's 1.72 and 1.78; all the
// walk's pages together 1.64 and 1.80), so that its rendering alone
// (the request less its step) costs at most 1.2 times its step.
//
// BenchmarkTOTPSetupPage measures the TOTP setup page, kept with a hole
// for its link and QR code, which are drawn at every request (the kept
// page and its key hold no secret), beside the executor's Get behind
// it, shown again and at a first showing (the flow started anew before
// each, so that the Get makes the device's key):
//
//	go test ./flowui -run '^$' -bench BenchmarkTOTPSetupPage -benchtime 10000x -count 5
//
// It costs 2.79 times its step shown again and 2.76 at a first showing
// (medians of five runs on a quiet machine; at most 2.82), so that its
// rendering alone costs 1.8 times its step; in BenchmarkEveryPage's
// walk 2.71 kept and 2.97 in a UI that keeps no page. The QR image is
// the most of what is left: internal/qr's Encode some 4 to 5
// microseconds, with its mask chosen by the standard's penalty rules,
// the PNG and its base64 under one. (While github.com/skip2/go-qrcode
// drew the code as an SVG path, the page cost 60 times its step.)
package flowui
