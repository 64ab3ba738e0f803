// Package testutil holds the helpers that authflow's black-box tests
// share: golden files rewritten with a single -update flag, assertions on
// [validate.Error] values, the key order of a JSON object, the check
// that fuzz targets make on a rejected input, and [RunCases], which runs
// cases that may crash the process (damaged files) in child processes,
// keys for sealed stores ([NewKey], [Keyring]), and [Race], which
// allocation tests skip under.
//
// It is imported only by _test.go files. It imports packages validate and
// seal, two leaves, and the standard library, nothing else from authflow,
// so that validate's own tests may use it without turning the import
// direction around.
//
// # The -update flag
//
// Importing testutil registers the -update flag in the test binary; a test
// package must not declare its own. Run
//
//	go test ./flow/ -update
//
// to rewrite that package's golden files from the current output, then
// review the diff under testdata/.
package testutil
