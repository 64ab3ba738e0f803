package executor

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/authflow/authflow/internal/testutil"
)

// appenderChallenges are the challenges writeChallenge writes without
// encoding/json, one of each.
func appenderChallenges() []Challenge {
	return []Challenge{
		&IdentificationChallenge{}, &PasswordChallenge{}, &UserLoginChallenge{}, &Redirect{},
		&CaptchaChallenge{}, &AccessDenied{}, &FlowError{}, &DummyChallenge{},
	}
}

// filler sets every field of a value from a few strings and the bits of
// a number: strings (empty among them, for omitempty), bools, nil or
// empty or filled slices and maps, nil or filled pointers.
type filler struct {
	strs []string
	bits uint64
	n    int
}

func (f *filler) bit() bool {
	f.n++
	return f.bits>>(f.n%64)&1 == 1
}

func (f *filler) str() string {
	f.n++
	return f.strs[f.n%len(f.strs)]
}

func (f *filler) fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(f.str())
	case reflect.Bool:
		v.SetBool(f.bit())
	case reflect.Struct:
		for i := range v.NumField() {
			f.fill(v.Field(i))
		}
	case reflect.Pointer:
		if f.bit() {
			v.Set(reflect.New(v.Type().Elem()))
			f.fill(v.Elem())
		} else {
			v.SetZero()
		}
	case reflect.Slice:
		switch {
		case v.Type().Elem() == reflect.TypeFor[byte](): // json.RawMessage
			v.SetBytes([]byte(`{"a":1}`))
		case f.bit():
			v.SetZero()
		case f.bit():
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
			f.fill(v.Index(0))
			f.fill(v.Index(1))
		}
	case reflect.Map:
		switch {
		case f.bit():
			v.SetZero()
		case f.bit():
			v.Set(reflect.MakeMap(v.Type()))
		default:
			v.Set(reflect.MakeMap(v.Type()))
			for range 3 {
				k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
				f.fill(k)
				f.fill(e)
				v.SetMapIndex(k, e)
			}
		}
	default:
		panic("filler: a field of kind " + v.Kind().String())
	}
}

// checkAppendJSON fills each of appenderChallenges from strs and bits
// and compares writeChallenge's body with encoding/json's.
func checkAppendJSON(t *testing.T, strs []string, bits uint64) {
	t.Helper()
	for _, c := range appenderChallenges() {
		f := &filler{strs: strs, bits: bits}
		f.fill(reflect.ValueOf(c).Elem())
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(c); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		writeChallenge(rec, c)
		if got, want := rec.Body.Bytes(), bytes.TrimSuffix(want.Bytes(), []byte("\n")); !bytes.Equal(got, want) {
			t.Errorf("%T:\n got %s\nwant %s", c, got, want)
		}
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%T: %d %v", c, rec.Code, rec.Header())
		}
	}
}

// The challenges writeChallenge writes itself are written byte for byte
// as encoding/json writes them, every field set or not, with the strings
// encoding/json escapes (quotes, controls, HTML characters it leaves,
// invalid UTF-8, U+2028); each writes itself (appendJSON true) unless it
// holds a login source.
func TestAppendJSON(t *testing.T) {
	strs := []string{"", "Welcome to authentik!", `a "quoted" \ path`, "<b>&</b>", "tab\there\nnew\x01\x7f", "é\u2028\xff", "/static/dist/assets/images/flow_background.jpg"}
	for bits := range uint64(256) {
		checkAppendJSON(t, strs, bits*0x9e3779b97f4a7c15)
	}
	for _, c := range appenderChallenges() {
		f := &filler{strs: strs, bits: 0x5555}
		f.fill(reflect.ValueOf(c).Elem())
		if ic, ok := c.(*IdentificationChallenge); ok {
			ic.Sources = nil
		}
		if _, ok := appendChallenge(nil, c); !ok {
			t.Errorf("%T does not write itself", c)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("x", "<y>", uint64(0))
	f.Add("\u2029", "\"\\", uint64(1<<63|12345))
	f.Fuzz(func(t *testing.T, a, b string, bits uint64) {
		checkAppendJSON(t, []string{a, b, ""}, bits)
	})
}

// A host's challenge that embeds one of the challenges writeChallenge
// writes itself is written whole, by encoding/json.
func TestAppendJSONEmbedded(t *testing.T) {
	type hostChallenge struct {
		PasswordChallenge
		Extra string `json:"extra"`
	}
	c := &hostChallenge{PasswordChallenge: PasswordChallenge{Envelope: Envelope{Component: ComponentPassword}}, Extra: "x"}
	rec := httptest.NewRecorder()
	writeChallenge(rec, c)
	if want := `{"component":"ak-stage-password","pending_user":"","pending_user_avatar":"","allow_show_password":false,"extra":"x"}`; rec.Body.String() != want {
		t.Errorf("%s, want %s", rec.Body, want)
	}
}

// Writing a challenge that writes itself allocates only its headers'
// values (jsonresp).
func TestWriteChallengeAllocs(t *testing.T) {
	if testutil.Race {
		t.Skip("allocation counts differ under the race detector")
	}
	c := &PasswordChallenge{Envelope: Envelope{Component: ComponentPassword, FlowInfo: &FlowInfo{Title: "Welcome to authentik!", CancelURL: CancelURL, Layout: "stacked"}},
		UserInfo: UserInfo{PendingUser: "user500", PendingUserAvatar: DefaultAvatar}}
	w := &layerWriter{h: http.Header{}}
	if n := testing.AllocsPerRun(100, func() { w.reset(); writeChallenge(w, c) }); n > 2 {
		t.Errorf("%v allocations, want at most 2", n)
	}
}
