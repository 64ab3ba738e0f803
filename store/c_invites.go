package store

import (
	"fmt"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/internal/jsonvalue"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// invitesDecl declares invitations, whose creator is the write's actor:
// a reference to a user (created_by_user) beside a copy of it
// (created_by).
func invitesDecl(*stage.Registry, *policy.Registry) *collection {
	return &collection{
		path:   "stages/invitation/invitations",
		bucket: "invites", model: ModelInvite, alias: "invitation", verbose: "Invitation", codec: inviteCodec,
		view:      viewBy((*Tx).inviteView),
		typedView: (*Tx).inviteView,
		list:      listRecords((*Tx).listInvites),
		onCreate:  (*Tx).setCreator,
		strOf:     (*Tx).inviteString,
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

// setCreator is the invitations collection's onCreate: created_by_user
// is the write's actor, a user's pk that must name a user (an error
// wrapping ErrUnknownActor otherwise), and created_by a copy of that
// user as authentik's GroupMember shows it; without an actor,
// created_by_user is null and created_by a copy of stage.Anonymous. The
// copy's attributes are its own (not the user's, nor the variable's
// shared map), nested ones too.
func (tx *Tx) setCreator(obj any, o *WriteOptions) (any, error) {
	i := obj.(stage.Invite)
	m, ref := stage.Anonymous, (*int64)(nil)
	if o != nil && o.Actor != nil {
		n := *o.Actor
		c := tx.s.schema.users
		u, ok, err := tx.get(c, seqID(c.bucket, n))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: no user has pk %d (the new invitation's creator)", ErrUnknownActor, n)
		}
		m, ref = directory.MemberOf(u.(directory.User), tx.s.installID), &n
	}
	m.Attributes = jsonvalue.CloneMap(m.Attributes)
	if m.Attributes == nil {
		m.Attributes = map[string]any{}
	}
	i.CreatedBy, i.CreatedByUser = m, ref
	return i, nil
}

// liveCreator is the user that an invitation's created_by_user names, as
// it is now, as authentik's serializer reads it; ok is false when the
// reference is null (the anonymous creator, or a record written before
// the reference). A user missing is damage.
func (tx *Tx) liveCreator(i stage.Invite) (m stage.Member, ok bool, err error) {
	if i.CreatedByUser == nil {
		return m, false, nil
	}
	u, err := tx.boundUser(*i.CreatedByUser)
	if err != nil {
		return m, false, err
	}
	m = directory.MemberOf(u, tx.s.installID)
	m.Attributes = jsonvalue.CloneMap(m.Attributes)
	return m, true, nil
}

// inviteString is str() of an invitation, naming its creator as the user
// is now (the stored copy when there is no reference, or when reading
// the user fails).
func (tx *Tx) inviteString(obj any) string {
	i := obj.(stage.Invite)
	if m, ok, err := tx.liveCreator(i); ok && err == nil {
		i.CreatedBy = m
	}
	return i.String()
}

// inviteView adds flow_obj, and shows created_by as the user that
// created_by_user names is now (the stored copy when it is null).
func (tx *Tx) inviteView(i stage.Invite) (stage.InviteView, error) {
	v := stage.InviteView{Invite: i}
	m, ok, err := tx.liveCreator(i)
	if err != nil {
		return v, err
	}
	if ok {
		v.CreatedBy = m
	}
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
// ordering and pagination; created_by__username is the creating user's
// username as it is now (the stored copy's without a reference).
func (tx *Tx) listInvites(q Query) (Page[any], error) {
	slugs := map[uuid.UUID]string{}
	usernames := map[int64]string{}
	l := inviteListing.with(map[string]func(any) (any, error){
		"created_by__username": func(obj any) (any, error) {
			i := obj.(stage.Invite)
			if i.CreatedByUser == nil {
				return i.CreatedBy.Username, nil
			}
			if s, ok := usernames[*i.CreatedByUser]; ok {
				return s, nil
			}
			u, err := tx.boundUser(*i.CreatedByUser)
			if err != nil {
				return nil, err
			}
			if len(usernames) < 4096 {
				usernames[*i.CreatedByUser] = u.Username
			}
			return u.Username, nil
		},
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
