package validate_test

import (
	"testing"

	"github.com/authflow/authflow/validate"
)

func TestTimedelta(t *testing.T) {
	good := map[string]float64{
		"seconds=0": 0, "hours=3;minutes=1": 3*3600 + 60, "HOURS=1": 3600, "weeks=4": 4 * 7 * 86400,
		"minutes=30": 1800, "days=30": 30 * 86400, "hours=-1;minutes=-2;seconds=-3": -3723,
		"seconds= 1.5 ": 1.5, "seconds=1e3": 1000, "seconds=1_000": 1000, "seconds=+2": 2,
		"milliseconds=5": 0.005, "bogus=1;seconds=2": 2, "seconds=1;seconds=7": 7, "seconds=.5": 0.5,
		// Keys in any case as Python's str.lower() reads them: the long
		// s, which Unicode folds to s, lowers to itself.
		"SECONDS=2;Minutes=1": 62, "ſeconds=1;minutes=1": 60,
	}
	for s, want := range good {
		got, ok := validate.ParseTimedelta(s)
		if !ok || got != want {
			t.Errorf("ParseTimedelta(%q) = %v, %v; want %v", s, got, ok, want)
		}
		if err := validate.Text(s, validate.Timedelta); err != nil {
			t.Errorf("Timedelta(%q) = %v", s, err)
		}
	}
	for _, s := range []string{
		"", "0", "seconds", "seconds=", "seconds=x", "seconds=1=2", "hours=1,minutes=2", "bogus=1",
		"hours=1;", "seconds=0x10", "seconds=1__0", "seconds=_1", "seconds=1_", "seconds=inf",
		"seconds=nan", "weeks=1e12", "days=-1000000000", " seconds=1", "ſeconds=1",
	} {
		if _, ok := validate.ParseTimedelta(s); ok {
			t.Errorf("ParseTimedelta(%q) succeeded", s)
		}
		err := validate.Text(s, validate.Timedelta)
		if want := s + " is not in the correct format of 'hours=3;minutes=1'."; err == nil || err.Error() != want {
			t.Errorf("Timedelta(%q) = %v, want %q", s, err, want)
		}
	}
}

// Any text is accepted or refused with the message, never a panic, and a
// duration that is accepted is finite and within Python's range.
func FuzzTimedelta(f *testing.F) {
	for _, s := range []string{"seconds=0", "hours=3;minutes=1", "weeks=1e12", "seconds=1_0", "=", ";;", "days=-inf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		secs, ok := validate.ParseTimedelta(s)
		err := validate.Text(s, validate.Timedelta)
		if ok != (err == nil) {
			t.Fatalf("%q: ParseTimedelta ok=%v, Timedelta %v", s, ok, err)
		}
		if ok && (secs != secs || secs > 999999999*86400+86399 || secs < -(999999999*86400+86399)) {
			t.Fatalf("%q: %v seconds", s, secs)
		}
	})
}

// A timedelta of known keys is read without an allocation.
func TestParseTimedeltaAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { validate.ParseTimedelta("Hours=3;minutes=1") }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
