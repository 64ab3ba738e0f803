// Package validate turns write requests into typed values with authentik's
// validation behaviour, and reports failures in authentik's 400 shape.
//
// It is the leaf of authflow's packages: flow, stage and binding declare
// their fields once, as struct tags (see [SchemaOf] for the "af" tag), and
// this package decodes JSON bodies onto them with Django REST framework's
// coercions and exact messages:
//
//   - [Apply] performs a create (POST), replace (PUT) or merge patch;
//   - [Check] and [CheckObject] run field rules and cross-field rules;
//   - [Error] is the resulting error value, which marshals to
//     {"field": ["message"], "non_field_errors": ["message"]}.
//
// Field rules are written with github.com/invopop/validation; the rules in
// this package ([Choice], [MaxLen], [Slug], [NotBlank], [All]) fail with
// authentik's messages, and [From] converts invopop's errors.
//
// # Differences from authentik
//
// A key the object does not have is rejected with [MsgUnknownField]
// (authentik ignores it). Read-only keys of an object's representation are
// still ignored, so a GET, edit, PUT round trip works.
package validate
