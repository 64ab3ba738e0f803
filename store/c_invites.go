package store

import (
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// invitesDecl declares invitations, whose creator is the write's actor.
func invitesDecl(*stage.Registry, *policy.Registry) *collection {
	return &collection{
		path:   "stages/invitation/invitations",
		bucket: "invites", model: ModelInvite, alias: "invitation", verbose: "Invitation", codec: inviteCodec,
		view:      viewBy((*Tx).inviteView),
		typedView: (*Tx).inviteView,
		list:      listRecords((*Tx).listInvites),
		onCreate:  (*Tx).setCreator,
	}
}

// ModelInvite is the model of invitations (authentik's Invitation
// object, not the invitation stage kind).
const ModelInvite = string(stage.ModelInvite)

var inviteCodec = plain[stage.Invite]{
	defaults: stage.DefaultInvite,
	apply:    stage.DecodeInvite,
	getIDs:   func(i stage.Invite) (uuid.UUID, uuid.UUID) { return i.PK, uuid.Nil },
	setIDs:   func(i *stage.Invite, pk, _ uuid.UUID) { i.PK = pk },
	strOf:    stage.Invite.String,
}.withSchema()

// setCreator is the invitations collection's onCreate: created_by is a
// copy of the write's actor, or of stage.Anonymous, with attributes of its
// own (not the caller's, nor the variable's shared map), nested ones too.
func (tx *Tx) setCreator(obj any, o *WriteOptions) any {
	i := obj.(stage.Invite)
	m := stage.Anonymous
	if o != nil && o.Actor != nil {
		m = *o.Actor
	}
	m.Attributes, _ = cloneJSON(m.Attributes).(map[string]any)
	if m.Attributes == nil {
		m.Attributes = map[string]any{}
	}
	i.CreatedBy = m
	return i
}

// cloneJSON is a deep copy of a value as JSON decodes it: its maps and
// slices are new, so the copy shares nothing a caller can change.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneJSON(e)
		}
		return out
	case []any:
		if x == nil {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneJSON(e)
		}
		return out
	}
	return v
}

// inviteView adds flow_obj.
func (tx *Tx) inviteView(i stage.Invite) (stage.InviteView, error) {
	v := stage.InviteView{Invite: i}
	if i.Flow != nil {
		f, err := viewed(tx.flowView)(tx.must(tx.s.schema.flows, *i.Flow))
		if err != nil {
			return v, err
		}
		v.FlowObj = &f
	}
	return v, nil
}

// inviteListing: filters and search on name, created_by__username,
// expires and flow__slug; default ordering -expires (null first, as in
// PostgreSQL).
var inviteListing = listing[stage.Invite]{
	cols: []column{
		{name: "name", filter: true, search: true, order: true},
		{name: "created_by__username", filter: true, search: true, get: func(obj any) (any, error) { return obj.(stage.Invite).CreatedBy.Username, nil }},
		{name: "expires", kind: colTime, filter: true, order: true, get: func(obj any) (any, error) {
			e := obj.(stage.Invite).Expires
			if e == nil {
				return nil, nil
			}
			t, _ := validate.ParseDateTime(*e)
			return t.UnixMicro(), nil
		}},
		{name: "flow__slug", filter: true, search: true},
		{name: "single_use", kind: colBool, order: true},
	},
	defaultOrder: "-expires",
}

// ListInvites lists invitations with authentik's filters, search,
// ordering and pagination.
func (tx *Tx) listInvites(q Query) (Page[any], error) {
	slugs := map[uuid.UUID]string{}
	l := inviteListing.with(map[string]func(any) (any, error){
		"flow__slug": func(obj any) (any, error) {
			id := obj.(stage.Invite).Flow
			if id == nil {
				return nil, nil
			}
			if s, ok := slugs[*id]; ok {
				return s, nil
			}
			f, err := as[flow.Flow](tx.must(tx.s.schema.flows, *id))
			if err != nil {
				return nil, err
			}
			if len(slugs) < 4096 {
				slugs[*id] = f.Slug
			}
			return f.Slug, nil
		},
	})
	c := tx.s.schema.invites
	return listOf(tx, c, l, nil, nil, q,
		func(_ map[string]any, _ func([]byte) bool, yield func(obj any) error) error {
			// No byte prefilter: flow__slug is not in the stored record.
			return tx.scanIndexed(c, c.bucket, nil, 0, nil, yield)
		})
}
