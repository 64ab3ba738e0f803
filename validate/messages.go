package validate

import (
	"fmt"
	"strconv"
)

// Messages that authentik (through Django REST framework 3.14) returns for
// field-level problems. They are exact, punctuation included.
const (
	MsgRequired        = "This field is required."
	MsgNull            = "This field may not be null."
	MsgBlank           = "This field may not be blank."
	MsgNotString       = "Not a valid string."
	MsgNullCharacters  = "Null characters are not allowed."
	MsgBoolean         = "Must be a valid boolean."
	MsgInteger         = "A valid integer is required."
	MsgIntegerTooLarge = "String value too large."
	MsgNumber          = "A valid number is required."
	MsgEmail           = "Enter a valid email address."
	MsgSlug            = `Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.`
	MsgPKBool          = "Incorrect type. Expected pk value, received bool."
	MsgEmptyList       = "This list may not be empty."
	// MsgUnknownField is authflow's own message for a key that the object
	// does not have. authentik ignores such keys silently; authflow rejects
	// them so that a misspelt field never goes unnoticed.
	MsgUnknownField = "Unknown field."
	// MsgNilPK is authflow's own message for a create given the nil UUID
	// as its pk.
	MsgNilPK = "The nil UUID is not a pk."
	// MsgNotObject is the non-field error for a body that is not a JSON
	// object; format it with [NotObject].
	msgNotObject = "Invalid data. Expected a dictionary, but got %s."
)

// NotAList is the message for a list field given something else; typ is
// Python's name of what was given ("str", "dict", ...).
func NotAList(typ string) string { return `Expected a list of items but got type "` + typ + `".` }

// InvalidChoice is the message for a value outside a choice field's set;
// input is rendered as Python's str() would render it.
func InvalidChoice(input string) string { return `"` + input + `" is not a valid choice.` }

// MaxLength is the message for a string longer than n characters.
func MaxLength(n int) string {
	return "Ensure this field has no more than " + strconv.Itoa(n) + " characters."
}

// MaxItems is the message for a list longer than n items.
func MaxItems(n int) string {
	return "Ensure this field has no more than " + strconv.Itoa(n) + " elements."
}

// MinValue is the message for a number below min.
func MinValue(min int64) string {
	return "Ensure this value is greater than or equal to " + strconv.FormatInt(min, 10) + "."
}

// MaxValue is the message for a number above max.
func MaxValue(max int64) string {
	return "Ensure this value is less than or equal to " + strconv.FormatInt(max, 10) + "."
}

// DoesNotExist is the message for a reference to an object that is not
// there. pk is the reference as given.
func DoesNotExist(pk string) string { return `Invalid pk "` + pk + `" - object does not exist.` }

// InvalidUUID is Django's message (curly quotes) for a reference that is not
// a UUID at all.
func InvalidUUID(v string) string { return "“" + v + "” is not a valid UUID." }

// Unique is the message for a clash on a unique field, for example
// Unique("Flow", "slug") is "Flow with this slug already exists.".
func Unique(model, field string) string {
	return model + " with this " + field + " already exists."
}

// PKHeld is the message for a create with a given pk that another object
// already holds; holder names what holds it ("flow", "stage", …).
func PKHeld(holder string) string { return "This pk is already held by a " + holder + "." }

// UniqueTogether is the non-field message for a clash on a set of fields
// that must be unique together.
func UniqueTogether(fields ...string) string {
	s := ""
	for i, f := range fields {
		if i > 0 {
			s += ", "
		}
		s += f
	}
	return "The fields " + s + " must make a unique set."
}

// NotObject is the non-field error for a body whose JSON type is not an
// object. kind is Python's name for what was sent: "list", "str", "int",
// "float", "bool" or "NoneType".
func NotObject(kind string) string { return fmt.Sprintf(msgNotObject, kind) }

// Messages of authentik's JSON and date-time fields.
const (
	// MsgJSONDict is authentik's JSONDictField message for a value that
	// is not a JSON object.
	MsgJSONDict = "Value must be a dictionary, and not have any duplicate keys."
	// MsgDateTime is DRF's DateTimeField message for text it cannot read.
	MsgDateTime = "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
