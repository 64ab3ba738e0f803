package store

import (
	"context"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

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

type creatorKey struct{}

// WithCreator returns a context that makes m the creator (created_by) of
// the invitations that a write in it creates. authflow holds no users: the
// host says who acts, for example from the request's authentication.
// Without it an invitation's creator is [stage.Anonymous].
func WithCreator(ctx context.Context, m stage.Member) context.Context {
	return context.WithValue(ctx, creatorKey{}, m)
}

// creator is the creator that ctx names, or stage.Anonymous.
func creator(ctx context.Context) stage.Member {
	if ctx != nil {
		if m, ok := ctx.Value(creatorKey{}).(stage.Member); ok {
			if m.Attributes == nil {
				m.Attributes = map[string]any{}
			}
			return m
		}
	}
	m := stage.Anonymous
	m.Attributes = map[string]any{} // not the shared map of the variable
	return m
}

// setCreator is the invitations collection's onCreate: created_by comes
// from the transaction's context.
func (tx *Tx) setCreator(obj any) any {
	i := obj.(stage.Invite)
	i.CreatedBy = creator(tx.ctx)
	return i
}

// inviteView adds flow_obj.
func (tx *Tx) inviteView(i stage.Invite) (stage.InviteView, error) {
	v := stage.InviteView{Invite: i}
	if i.Flow != nil {
		f, err := tx.GetFlow(*i.Flow)
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

// GetInvite returns the invitation with pk id.
func (tx *Tx) GetInvite(id uuid.UUID) (stage.InviteView, error) {
	return viewed(tx.inviteView)(tx.must(tx.s.schema.invites, id))
}

// CreateInvite stores a new invitation built in Go; start from
// [stage.DefaultInvite]. Its creator comes from the context (see
// [WithCreator]), not from i.CreatedBy.
func (tx *Tx) CreateInvite(i stage.Invite) (stage.InviteView, error) {
	body, err := writable(i)
	if err != nil {
		return stage.InviteView{}, err
	}
	return viewed(tx.inviteView)(tx.write(tx.s.schema.invites, nil, "", body, validate.Create, uuid.Nil))
}

// ListInvites lists invitations with authentik's filters, search,
// ordering and pagination.
func (tx *Tx) ListInvites(q Query) (Page[stage.InviteView], error) {
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
	return listOf(tx, c, l, nil, nil, q, tx.inviteView,
		func(_ map[string]any, _ func([]byte) bool, yield func(obj any) error) error {
			// No byte prefilter: flow__slug is not in the stored record.
			return tx.scanIndexed(c, c.bucket, nil, 0, nil, yield)
		})
}

// GetInvite returns an invitation; see [Tx.GetInvite].
func (s *Store) GetInvite(ctx context.Context, id uuid.UUID) (stage.InviteView, error) {
	return view(s, ctx, func(tx *Tx) (stage.InviteView, error) { return tx.GetInvite(id) })
}

// CreateInvite stores a new invitation; see [Tx.CreateInvite].
func (s *Store) CreateInvite(ctx context.Context, i stage.Invite) (stage.InviteView, error) {
	return update(s, ctx, func(tx *Tx) (stage.InviteView, error) { return tx.CreateInvite(i) })
}
