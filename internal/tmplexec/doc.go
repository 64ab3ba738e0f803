// Package tmplexec runs html/template templates compiled: the same
// bytes as html/template's Execute, several times faster, with
// html/template still the one that decides how each value is escaped.
//
// html/template escapes a template the first time it runs: it appends
// to each action's pipeline the escapers of the action's context
// (_html_template_htmlescaper, _html_template_attrescaper, ...) and
// text/template then runs the escaped tree by reflection, looking each
// field up by name and calling each escaper through reflect.Value.Call.
// A [Set]'s first rendering of a template is html/template's, which
// escapes it; the escaped trees (the template's and those it calls) are
// then compiled into Go closures: a field read by its index, kept per
// type; a function of the set's called directly when it takes and
// returns a string or returns a bool, else by reflection; each escaper
// html/template's own code, written into the output buffer. The program
// is run again with the same data and kept only if it wrote the same
// bytes; else the template runs by html/template from then on.
//
// What is compiled: text, comments, actions, if, with, range (over
// slices, arrays, maps of string or integer keys, integers; break and
// continue), template calls, variables ($, declarations, assignments),
// fields, map keys, methods of no argument, chains ((pipe).X), the
// constants, the set's functions, and the builtins and, or, not, eq, ne,
// len and print, with text/template's rules (truth, nil, the pipeline's
// value given last, an interface's value taken out). The escapers:
// HTML text's, a quoted attribute's, RCDATA's, an attribute name's, a
// URL's (filter, normalizer, query escaper) and a JavaScript string's,
// for strings and for every typed content (template.HTML, HTMLAttr,
// URL, CSS, JS, JSStr, Srcset), pointers, Stringers, errors and other
// values (as html/template's stringify); two rare cases, HTML content in
// an attribute (html/template strips its tags) and a name that is not
// template.HTMLAttr, are rendered by a template of one action.
//
// What is not (the template then runs by html/template, never
// otherwise): any other builtin (printf, index, slice, call, html, ...),
// a method given arguments, a range over a channel or a function, any
// other escaper (a JavaScript or CSS value's, an unquoted attribute's,
// a comment's, a srcset's), and a template html/template derived for
// another context (one called inside <style> or <script>, which only
// text/template's set holds) unless its template is text alone: then
// its text, which html/template may have changed (it drops a CSS
// comment), so that the renderings that write it are checked against
// html/template until one is the same. A set whose missingkey option is
// not the default (as a clone of it renders a missing key) is not
// compiled, nor one executed before [New], whose option it cannot tell.
//
// A compiled template that fails where text/template would (a nil
// pointer's field, a function's error, a value it cannot compare) or
// that meets what it does not know at run time (a nil receiver, a map
// of other keys) stops, and the template renders again by html/template
// into the same buffer, from where it started: its output or its error
// is Execute's. So that html/template's escaping never runs while a
// template is compiled, a Set's templates run only through it.
//
// Tests set [Verify] to have html/template render every page beside
// the compiled template and report any difference.
package tmplexec
