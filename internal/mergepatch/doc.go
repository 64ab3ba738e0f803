// Package mergepatch implements JSON Merge Patch as defined by RFC 7396.
//
// A merge patch describes changes to a JSON document using a document that
// mirrors its shape: members of a patch object replace the corresponding
// members of the target, nested objects are merged recursively, and a null
// member removes the corresponding member from the target. A patch that is
// not an object (an array, string, number, boolean or null) replaces the
// target entirely. Numbers are handled as [encoding/json.Number] so that
// their textual representation is preserved exactly.
package mergepatch
