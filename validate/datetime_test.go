package validate_test

import (
	"testing"

	"github.com/authflow/authflow/validate"
)

// Date-times read as Django's parser reads them and show as DRF writes
// them, in UTC.
func TestDateTime(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"2025-06-01T12:30:00Z", "2025-06-01T12:30:00Z"},
		{"2025-06-01T12:30Z", "2025-06-01T12:30:00Z"},
		{"2025-06-01 12:30:05.5", "2025-06-01T12:30:05.500000Z"},
		{"2025-06-01T12:30:05,1234567+02:00", "2025-06-01T10:30:05.123456Z"},
		{"2025-06-01T00:30:00-0130", "2025-06-01T02:00:00Z"},
		{"2025-06-01T23:00:00+01", "2025-06-01T22:00:00Z"},
		{"2025-6-1T1:2:3", "2025-06-01T01:02:03Z"},
		{"2025-06-01", "2025-06-01T00:00:00Z"},
		{"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
	} {
		got, ok := validate.ParseDateTime(tt.in)
		if !ok || validate.FormatDateTime(got) != tt.want {
			t.Errorf("ParseDateTime(%q) = %s, %v; want %s", tt.in, validate.FormatDateTime(got), ok, tt.want)
		}
	}
	for _, bad := range []string{"", "tomorrow", "2025-02-30T00:00:00Z", "2025-13-01T00:00Z", "2025-06-01T24:00Z", "2025-06-01T12:60Z",
		"0000-01-01T00:00Z", "2025-06-01T12:00+25:00", "2025-06-01T12", "2025-06-01T12:00:00ZZ", "1717243200"} {
		if _, ok := validate.ParseDateTime(bad); ok {
			t.Errorf("ParseDateTime(%q) accepted", bad)
		}
	}
	if err := validate.Rules("nope", validate.DateTime); err == nil || err.Error() != validate.MsgDateTime {
		t.Errorf("DateTime rule: %v", err)
	}
	if err := validate.Rules("2025-06-01T12:00Z", validate.DateTime); err != nil {
		t.Errorf("DateTime rule on a good value: %v", err)
	}
}
