package api

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
)

// Authenticator devices under /authenticators/: see the package
// documentation, "Authenticator devices", for what is served and how it
// differs from authentik.

// pathAuthenticators is where the devices are served, under Prefix.
const pathAuthenticators = "authenticators/"

// deviceClassPaths are the device classes by their path segment.
var deviceClassPaths = map[string]directory.DeviceClass{
	"totp": directory.DeviceTOTP, "static": directory.DeviceStatic, "webauthn": directory.DeviceWebAuthn,
	"sms": directory.DeviceSMS, "email": directory.DeviceEmail, "duo": directory.DeviceDuo,
}

// deviceMeta is what authentik's Device shape says of a class: its model's
// verbose names and label (app_label.ObjectName).
var deviceMeta = map[directory.DeviceClass]struct{ verbose, plural, label string }{
	directory.DeviceTOTP:     {"TOTP Device", "TOTP Devices", "authentik_stages_authenticator_totp.TOTPDevice"},
	directory.DeviceStatic:   {"Static Device", "Static Devices", "authentik_stages_authenticator_static.StaticDevice"},
	directory.DeviceWebAuthn: {"WebAuthn Device", "WebAuthn Devices", "authentik_stages_authenticator_webauthn.WebAuthnDevice"},
	directory.DeviceSMS:      {"SMS Device", "SMS Devices", "authentik_stages_authenticator_sms.SMSDevice"},
	directory.DeviceEmail:    {"Email Device", "Email Devices", "authentik_stages_authenticator_email.EmailDevice"},
	directory.DeviceDuo:      {"Duo Device", "Duo Devices", "authentik_stages_authenticator_duo.DuoDevice"},
}

// msgNoWebAuthnType is authentik's extra_description of a WebAuthn device
// without a device type.
const msgNoWebAuthnType = "Extra description not available"

// msgSetUpThroughStage answers an admin create of a class that only its
// setup stage can make.
const msgSetUpThroughStage = "A device of this class is set up through its stage."

// serveAuthenticators answers a path under /authenticators/ (rest is the
// path after it).
func (h *handler) serveAuthenticators(w http.ResponseWriter, r *http.Request, rest string) {
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	admin := segs[0] == "admin"
	if admin {
		segs = segs[1:]
	}
	if !strings.HasSuffix(rest, "/") || len(segs) == 0 || len(segs) > 3 {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return
	}
	if segs[0] == "all" && len(segs) == 1 {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, r, "GET, HEAD, OPTIONS")
			return
		}
		h.serveAllDevices(w, r, admin)
		return
	}
	class, ok := deviceClassPaths[segs[0]]
	if !ok || (len(segs) == 3 && (admin || segs[2] != actionUsedBy)) {
		writeDetail(w, http.StatusNotFound, msgNotFound)
		return
	}
	var pk int64
	if len(segs) > 1 {
		n, err := strconv.ParseInt(segs[1], 10, 32)
		if err != nil || n < 1 {
			writeDetail(w, http.StatusNotFound, msgNotFound)
			return
		}
		pk = n
	}
	owner, ok := h.deviceOwner(w, r, admin)
	if !ok {
		return
	}
	switch {
	case len(segs) == 1:
		h.serveDeviceList(w, r, class, admin, owner)
	case len(segs) == 3:
		h.serveDeviceUsedBy(w, r, class, pk, owner)
	default:
		h.serveDevice(w, r, class, pk, admin, owner)
	}
}

// deviceOwner is the user whose devices a request reaches: 0 for an
// admin path (any user's), the requesting user's pk otherwise, asked of
// Options.RequestUser; a request it refuses, or any when it is nil, is
// answered 403.
func (h *handler) deviceOwner(w http.ResponseWriter, r *http.Request, admin bool) (int64, bool) {
	if admin {
		return 0, true
	}
	if h.requestUser == nil {
		writeDetail(w, http.StatusForbidden, msgNotAuthenticated)
		return 0, false
	}
	pk, err := h.requestUser(r)
	if err != nil {
		h.deny(w, err)
		return 0, false
	}
	return pk, true
}

// devicePerm is the permission codename of action on class's model.
func devicePerm(class directory.DeviceClass, action string) string {
	app, model, _ := strings.Cut(store.DeviceModels[class], ".")
	return app + "." + action + "_" + model
}

// deviceUser is a device's user as authentik's GroupMember shows it.
type deviceUser = directory.Member

// deviceShape is a device as its class's serializer shows it.
func deviceShape(d directory.Device, u deviceUser) any {
	switch d.Class {
	case directory.DeviceStatic:
		return struct {
			Name     string     `json:"name"`
			TokenSet []struct{} `json:"token_set"`
			PK       int64      `json:"pk"`
			User     deviceUser `json:"user"`
		}{d.Name, []struct{}{}, d.PK, u}
	case directory.DeviceWebAuthn:
		aaguid := ""
		if d.WebAuthn.AAGUID != [16]byte{} {
			aaguid = d.WebAuthn.AAGUID.String()
		}
		return struct {
			PK         int64      `json:"pk"`
			Name       string     `json:"name"`
			CreatedOn  string     `json:"created_on"`
			DeviceType *struct{}  `json:"device_type"`
			AAGUID     string     `json:"aaguid"`
			User       deviceUser `json:"user"`
		}{d.PK, d.Name, validate.FormatDateTime(d.Created), nil, aaguid, u}
	case directory.DeviceSMS:
		return struct {
			Name  string     `json:"name"`
			PK    int64      `json:"pk"`
			Phone string     `json:"phone_number"`
			User  deviceUser `json:"user"`
		}{d.Name, d.PK, d.SMS.Phone, u}
	case directory.DeviceEmail:
		return struct {
			Name  string     `json:"name"`
			PK    int64      `json:"pk"`
			Email string     `json:"email"`
			User  deviceUser `json:"user"`
		}{d.Name, d.PK, d.Email.Email, u}
	}
	// totp, duo: the name, the pk and the user.
	return struct {
		Name string     `json:"name"`
		PK   int64      `json:"pk"`
		User deviceUser `json:"user"`
	}{d.Name, d.PK, u}
}

// deviceSummary is authentik's Device: any device, as the all/ lists show
// it.
type deviceSummary struct {
	VerboseName       string  `json:"verbose_name"`
	VerboseNamePlural string  `json:"verbose_name_plural"`
	MetaModelName     string  `json:"meta_model_name"`
	PK                string  `json:"pk"`
	Name              string  `json:"name"`
	Type              string  `json:"type"`
	Confirmed         bool    `json:"confirmed"`
	Created           string  `json:"created"`
	LastUpdated       string  `json:"last_updated"`
	LastUsed          *string `json:"last_used"`
	ExtraDescription  string  `json:"extra_description"`
}

func summarize(d directory.Device) deviceSummary {
	m := deviceMeta[d.Class]
	s := deviceSummary{
		VerboseName: m.verbose, VerboseNamePlural: m.plural, MetaModelName: store.DeviceModels[d.Class],
		PK: strconv.FormatInt(d.PK, 10), Name: d.Name, Type: m.label, Confirmed: d.Confirmed,
		Created: validate.FormatDateTime(d.Created), LastUpdated: validate.FormatDateTime(d.LastUpdated),
	}
	if d.LastUsed != nil {
		t := validate.FormatDateTime(*d.LastUsed)
		s.LastUsed = &t
	}
	if d.Class == directory.DeviceWebAuthn {
		s.ExtraDescription = msgNoWebAuthnType
	}
	return s
}

// memberCache reads devices' users as GroupMembers, each once (up to a
// bound).
type memberCache struct {
	tx   *store.Tx
	id   string
	seen map[int64]deviceUser
}

func (u *memberCache) of(r *http.Request, pk int64) (deviceUser, error) {
	if m, ok := u.seen[pk]; ok {
		return m, nil
	}
	usr, err := u.tx.Directory().User(r.Context(), pk)
	if err != nil {
		return deviceUser{}, err
	}
	m := directory.MemberOf(usr, u.id)
	if m.Attributes == nil {
		m.Attributes = map[string]any{}
	}
	if len(u.seen) < 4096 {
		u.seen[pk] = m
	}
	return m, nil
}

// members is a memberCache reading in tx.
func (h *handler) members(tx *store.Tx) *memberCache {
	return &memberCache{tx: tx, id: h.s.InstallID(), seen: map[int64]deviceUser{}}
}

// serveAllDevices answers all/: the requesting user's devices, or, for
// an admin, those of ?user= (every user's without it), each class's
// view permission asked (a class denied is left out, as authentik's
// object permissions filter).
func (h *handler) serveAllDevices(w http.ResponseWriter, r *http.Request, admin bool) {
	owner, ok := h.deviceOwner(w, r, admin)
	if !ok {
		return
	}
	// everyone: an admin's all/ without ?user= lists every user's devices.
	everyone := admin && r.URL.Query().Get("user") == ""
	if admin && !everyone {
		if s := r.URL.Query().Get("user"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string][]string{"user": {"Enter a number."}})
				return
			}
			owner = n
		}
	}
	// The classes the caller may view: all of a user's own; for an
	// admin, each class's view permission (a request that is not
	// authenticated is 403).
	may := map[directory.DeviceClass]bool{}
	for _, class := range directory.DeviceClasses {
		denied := error(nil)
		if admin {
			denied = h.ask(r, devicePerm(class, "view"))
		}
		if errors.Is(denied, ErrNotAuthenticated) {
			h.deny(w, denied)
			return
		}
		may[class] = denied == nil
	}
	out := []deviceSummary{}
	err := h.s.View(r.Context(), func(tx *store.Tx) error {
		if !everyone {
			devs, err := tx.Directory().UserDevices(r.Context(), owner)
			for _, d := range devs {
				if may[d.Class] {
					out = append(out, summarize(d))
				}
			}
			return err
		}
		for _, class := range directory.DeviceClasses {
			if !may[class] {
				continue
			}
			for page := 1; ; page++ {
				p, err := tx.List(store.DeviceModels[class], store.Query{Page: page, PageSize: 1000})
				if err != nil {
					return err
				}
				for _, obj := range p.Results {
					d, err := store.DeviceOf(obj)
					if err != nil {
						return err
					}
					out = append(out, summarize(d))
				}
				if page >= p.Pagination.TotalPages {
					break
				}
			}
		}
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// serveDeviceList answers a class's collection: GET lists (an admin every
// user's devices, a user its own), POST (admin) creates.
func (h *handler) serveDeviceList(w http.ResponseWriter, r *http.Request, class directory.DeviceClass, admin bool, owner int64) {
	switch {
	case r.Method == http.MethodPost && admin:
		h.createDevice(w, r, class)
		return
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		allow := "GET, HEAD, OPTIONS"
		if admin {
			allow = "GET, POST, HEAD, OPTIONS"
		}
		methodNotAllowed(w, r, allow)
		return
	}
	if admin {
		// A denied list is an empty page, as for every collection.
		if denied := h.ask(r, devicePerm(class, "view")); errors.Is(denied, ErrNotAuthenticated) {
			h.deny(w, denied)
			return
		} else if denied != nil {
			writeJSON(w, http.StatusOK, listPage[struct{}]{Page: store.Page[struct{}]{
				Pagination: store.Pagination{Current: 1, TotalPages: 1}, Results: []struct{}{},
			}})
			return
		}
	}
	q, err := store.QueryFromValues(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if q.Filters == nil {
		q.Filters = map[string]string{}
	}
	delete(q.Filters, "user") // not one of authentik's filters here
	if !admin {
		q.Filters["user"] = strconv.FormatInt(owner, 10)
	}
	var page listPage[any]
	err = h.s.View(r.Context(), func(tx *store.Tx) error {
		p, err := tx.List(store.DeviceModels[class], q)
		if err != nil {
			return err
		}
		us := h.members(tx)
		page.Pagination, page.Results = p.Pagination, make([]any, 0, len(p.Results))
		for _, obj := range p.Results {
			d, err := store.DeviceOf(obj)
			if err != nil {
				return err
			}
			u, err := us.of(r, d.User)
			if err != nil {
				return err
			}
			page.Results = append(page.Results, deviceShape(d, u))
		}
		return nil
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// serveDevice answers one device: retrieve, update, patch (the name) and
// delete. A user's path reaches only the user's own devices (404 for
// others').
func (h *handler) serveDevice(w http.ResponseWriter, r *http.Request, class directory.DeviceClass, pk int64, admin bool, owner int64) {
	action := map[string]string{
		http.MethodGet: "view", http.MethodHead: "view", http.MethodPut: "change", http.MethodPatch: "change", http.MethodDelete: "delete",
	}[r.Method]
	if action == "" {
		methodNotAllowed(w, r, "GET, PUT, PATCH, DELETE, HEAD, OPTIONS")
		return
	}
	if admin {
		// A device the caller may not view does not exist for them (404,
		// whatever the method); a denied change or delete is 403.
		if denied := h.ask(r, devicePerm(class, "view")); errors.Is(denied, ErrNotAuthenticated) {
			h.deny(w, denied)
			return
		} else if denied != nil {
			writeDetail(w, http.StatusNotFound, msgNotFound)
			return
		}
		if action != "view" && !h.allowed(w, r, devicePerm(class, action)) {
			return
		}
	}
	dir := h.s.Directory()
	cur, err := dir.Device(r.Context(), class, pk)
	if err == nil && !admin && cur.User != owner {
		err = store.ErrNotFound
	}
	if err != nil {
		h.fail(w, r, deviceErr(err))
		return
	}
	switch action {
	case "delete":
		if err := dir.DeleteDevice(r.Context(), class, pk); err != nil {
			h.fail(w, r, deviceErr(err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	case "change":
		b, ok := h.body(w, r, r.Method == http.MethodPatch)
		if !ok {
			return
		}
		name, set, verr := deviceName(b, class, r.Method == http.MethodPatch)
		if verr != nil {
			h.fail(w, r, verr)
			return
		}
		if set {
			cur, err = dir.UpdateDevice(r.Context(), class, pk, func(d *directory.Device) error {
				if !admin && d.User != owner {
					return store.ErrNotFound
				}
				d.Name = name
				return nil
			})
			if err != nil {
				h.fail(w, r, deviceErr(err))
				return
			}
		}
	}
	h.writeDevice(w, r, http.StatusOK, cur)
}

// writeDevice answers with d in its class's shape.
func (h *handler) writeDevice(w http.ResponseWriter, r *http.Request, status int, d directory.Device) {
	var shape any
	err := h.s.View(r.Context(), func(tx *store.Tx) error {
		u, err := h.members(tx).of(r, d.User)
		shape = deviceShape(d, u)
		return err
	})
	if err != nil {
		h.fail(w, r, deviceErr(err))
		return
	}
	writeJSON(w, status, shape)
}

// deviceErr makes the directory's errors the store's, which fail answers.
func deviceErr(err error) error {
	if errors.Is(err, directory.ErrNotFound) && !errors.Is(err, store.ErrNotFound) {
		return errors.Join(store.ErrNotFound, err)
	}
	return err
}

// deviceWrite is the body a device's serializer writes: its name.
type deviceWrite struct {
	Name string `json:"name" af:"required"`
}

// deviceName reads the name of a write body (the one field a device's
// serializer writes; other keys are ignored): required unless partial,
// not blank, at most 64 characters (200 for WebAuthn). set is false when
// a patch has none.
func deviceName(body []byte, class directory.DeviceClass, partial bool) (name string, set bool, err error) {
	op := validate.Replace
	if partial {
		op = validate.Patch
	}
	v, err := validate.Apply(deviceWrite{}, body, op, func(k string) bool { return k != "name" })
	if err != nil {
		return "", false, err
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) == nil {
		_, set = m["name"]
	}
	max := 64
	if class == directory.DeviceWebAuthn {
		max = 200
	}
	if utf8.RuneCountInString(v.Name) > max {
		return "", false, fieldError("name", validate.MaxLength(max))
	}
	return v.Name, set, nil
}

// fieldError is a 400 body with one message on field.
func fieldError(field, msg string) error {
	e := &validate.Error{}
	e.Add(field, msg)
	return e
}

// createDevice answers an admin create: {"name", "user"}, a TOTP device
// (unconfirmed, a new random key) or a static device (no codes).
func (h *handler) createDevice(w http.ResponseWriter, r *http.Request, class directory.DeviceClass) {
	if !h.allowed(w, r, devicePerm(class, "add")) {
		return
	}
	b, ok := h.body(w, r, false)
	if !ok {
		return
	}
	name, _, verr := deviceName(b, class, false)
	errs := &validate.Error{}
	var ve *validate.Error
	switch {
	case errors.As(verr, &ve):
		errs = ve
	case verr != nil:
		h.fail(w, r, verr)
		return
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(b, &fields)
	raw, present := fields["user"]
	var user int64
	switch {
	case fields == nil: // not an object: deviceName said so
	case !present || string(raw) == "null":
		errs.Add("user", validate.MsgRequired)
	case json.Unmarshal(raw, &user) != nil:
		errs.Add("user", validate.MsgInteger)
	}
	if !errs.Empty() {
		h.fail(w, r, errs)
		return
	}
	d := directory.Device{Class: class, User: user, Name: name}
	switch class {
	case directory.DeviceTOTP:
		key := make([]byte, 20)
		_, _ = rand.Read(key)
		d.TOTP = &directory.TOTPDevice{Key: key, Digits: 6, Step: 30, Tolerance: 1, LastT: -1}
	case directory.DeviceStatic:
		d.Static = &directory.StaticDevice{TokenHashes: []string{}}
	default:
		h.fail(w, r, validate.NonFieldError(msgSetUpThroughStage))
		return
	}
	out, err := h.s.Directory().CreateDevice(r.Context(), d)
	if errors.Is(err, directory.ErrNotFound) {
		err = fieldError("user", validate.DoesNotExist(strconv.FormatInt(user, 10)))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeDevice(w, r, http.StatusCreated, out)
}

// serveDeviceUsedBy answers used_by of one of the user's devices: what
// refers to it (nothing refers to a device in authflow, so []).
func (h *handler) serveDeviceUsedBy(w http.ResponseWriter, r *http.Request, class directory.DeviceClass, pk, owner int64) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, usedByMethods)
		return
	}
	var list []store.UsedBy
	err := h.s.View(r.Context(), func(tx *store.Tx) error {
		d, err := tx.Directory().Device(r.Context(), class, pk)
		if err == nil && d.User != owner {
			err = store.ErrNotFound
		}
		if err != nil {
			return deviceErr(err)
		}
		id, err := tx.Lookup(store.DeviceModels[class], store.By("pk", strconv.FormatInt(pk, 10)))
		if err != nil {
			return err
		}
		list, err = tx.UsedBy(store.DeviceModels[class], id)
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	visible, _ := h.visible(r, list)
	writeJSON(w, http.StatusOK, visible)
}
