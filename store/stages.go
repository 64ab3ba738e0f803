package store

import (
	"context"
	"fmt"

	"github.com/authflow/authflow/flow"
	"github.com/authflow/authflow/stage"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

func (tx *Tx) loadStage(id uuid.UUID) (stage.Stage, bool, error) {
	raw := tx.bucket(bucketStages).Get(id[:])
	if raw == nil {
		return stage.Stage{}, false, nil
	}
	st, err := tx.s.reg.DecodeStored(raw)
	if err != nil {
		return stage.Stage{}, false, fmt.Errorf("store: %w", err)
	}
	return st, true, nil
}

func (tx *Tx) mustStage(id uuid.UUID) (stage.Stage, error) {
	st, ok, err := tx.loadStage(id)
	if err != nil {
		return stage.Stage{}, err
	}
	if !ok {
		return stage.Stage{}, fmt.Errorf("store: stage %s: %w", id, ErrNotFound)
	}
	return st, nil
}

// flowSet lists the flows that bind the stage, one entry per binding, in
// binding creation order.
func (tx *Tx) flowSet(id uuid.UUID) ([]flow.Set, error) {
	out := []flow.Set{}
	c := tx.bucket(bucketByStage).Cursor()
	for k, fid := c.Seek(id[:]); len(k) == 32 && string(k[:16]) == string(id[:]); k, fid = c.Next() {
		f, ok, err := tx.loadFlow(idFrom(fid))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, flow.Set{Flow: f})
		}
	}
	return out, nil
}

func (tx *Tx) stageView(st stage.Stage) (stage.View, error) {
	k, ok := tx.s.reg.Lookup(st.Model())
	if !ok {
		return stage.View{}, fmt.Errorf("store: stage %s: %w: %q", st.PK, stage.ErrUnknownKind, st.Model())
	}
	fs, err := tx.flowSet(st.PK)
	if err != nil {
		return stage.View{}, err
	}
	return stage.View{Stage: st, Kind: k, FlowSet: fs}, nil
}

// GetStage returns the stage with pk id, of any kind, or an error wrapping
// [ErrNotFound].
func (tx *Tx) GetStage(id uuid.UUID) (stage.View, error) {
	st, err := tx.mustStage(id)
	if err != nil {
		return stage.View{}, err
	}
	return tx.stageView(st)
}

// CreateStage stores a new stage built in Go. Start its Config from the
// kind's defaults (for example stage.DefaultUserWrite()). It is validated
// exactly as [Tx.CreateStageJSON] validates a body.
func (tx *Tx) CreateStage(st stage.Stage) (stage.View, error) {
	if st.Config == nil {
		return stage.View{}, validate.FieldError("meta_model_name", validate.MsgRequired)
	}
	k, ok := tx.s.reg.Lookup(st.Model())
	if !ok {
		return stage.View{}, fmt.Errorf("store: %w: %q", stage.ErrUnknownKind, st.Model())
	}
	cfg, err := k.Schema().AppendJSON([]byte(`{"name":`+quote(st.Name)+`,`), st.Config, true)
	if err != nil {
		return stage.View{}, err
	}
	if cfg[len(cfg)-1] == ',' {
		cfg = cfg[:len(cfg)-1]
	}
	return tx.CreateStageJSON(st.Model(), append(cfg, '}'))
}

// CreateStageJSON creates a stage of kind model from a POST body. A
// rejected body gives a [*validate.Error] and writes nothing; an unknown
// model gives an error wrapping [stage.ErrUnknownKind].
func (tx *Tx) CreateStageJSON(model stage.ModelName, body []byte) (stage.View, error) {
	if err := tx.writable(); err != nil {
		return stage.View{}, err
	}
	cur, err := tx.s.reg.New(model)
	if err != nil {
		return stage.View{}, fmt.Errorf("store: %w", err)
	}
	next, err := tx.s.reg.Decode(cur, body, validate.Create)
	return tx.saveStage(stage.Stage{}, next, err, true, body)
}

// ReplaceStage applies a PUT body to the stage with pk id. Required fields
// must be present, write-only ones (secrets) included; omitted optional
// fields keep their values.
func (tx *Tx) ReplaceStage(id uuid.UUID, body []byte) (stage.View, error) {
	return tx.writeStage(id, body, validate.Replace)
}

// PatchStage applies an RFC 7396 merge patch to the stage with pk id.
func (tx *Tx) PatchStage(id uuid.UUID, patch []byte) (stage.View, error) {
	return tx.writeStage(id, patch, validate.Patch)
}

func (tx *Tx) writeStage(id uuid.UUID, body []byte, op validate.Op) (stage.View, error) {
	if err := tx.writable(); err != nil {
		return stage.View{}, err
	}
	cur, err := tx.mustStage(id)
	if err != nil {
		return stage.View{}, err
	}
	next, err := tx.s.reg.Decode(cur, body, op)
	return tx.saveStage(cur, next, err, false, body)
}

func (tx *Tx) saveStage(cur, next stage.Stage, decodeErr error, create bool, body []byte) (stage.View, error) {
	errs, err := asValidation(decodeErr)
	if err != nil {
		return stage.View{}, err
	}
	if !errs.Has("name") && (create || next.Name != cur.Name) {
		if v := tx.bucket(bucketStageNames).Get(nameKey(next.Name)); v != nil {
			errs.Add("name", validate.Unique("stage", "name"))
			errs.Err = ErrConflict
		}
	}
	k, _ := tx.s.reg.Lookup(next.Model())
	refs := k.Schema().Refs(next.Config)
	for _, r := range refs {
		if r.Target != "flow" || r.Null || errs.Has(r.Field) {
			continue
		}
		if _, ok, err := tx.loadFlow(r.ID); err != nil {
			return stage.View{}, err
		} else if !ok {
			errs.Add(r.Field, validate.DoesNotExist(refText(body, r.Field, r.ID)))
		}
	}
	if errs.HasFieldErrors() {
		errs.NonField = nil // cross-field rules run only on valid fields
		return stage.View{}, errs
	}
	if oe := validate.CheckObject(next.Config); oe != nil {
		return stage.View{}, oe
	}
	if !errs.Empty() {
		return stage.View{}, errs
	}
	if create {
		if next.PK, err = tx.id(bucketStages); err != nil {
			return stage.View{}, err
		}
		if err := tx.bucket(bucketStageModels).Put(modelKey(string(next.Model()), next.PK), nil); err != nil {
			return stage.View{}, err
		}
	} else {
		if next.Name != cur.Name {
			if err := tx.bucket(bucketStageNames).Delete(nameKey(cur.Name)); err != nil {
				return stage.View{}, err
			}
		}
		if err := tx.dropFlowRefs(cur); err != nil {
			return stage.View{}, err
		}
	}
	if err := tx.putStage(next); err != nil {
		return stage.View{}, err
	}
	return tx.stageView(next)
}

// putStage writes the record, its name index and its flow-reference index.
func (tx *Tx) putStage(st stage.Stage) error {
	raw, err := tx.s.reg.Encode(st)
	if err != nil {
		return fmt.Errorf("store: encoding stage %s: %w", st.PK, err)
	}
	if err := tx.bucket(bucketStages).Put(st.PK[:], raw); err != nil {
		return fmt.Errorf("store: writing stage %s: %w", st.PK, err)
	}
	if err := tx.bucket(bucketStageNames).Put(nameKey(st.Name), st.PK[:]); err != nil {
		return fmt.Errorf("store: indexing stage %s: %w", st.PK, err)
	}
	k, _ := tx.s.reg.Lookup(st.Model())
	for _, r := range k.Schema().Refs(st.Config) {
		if r.Target == "flow" && r.ID != uuid.Nil {
			if err := tx.bucket(bucketStageRefs).Put(pairKey(r.ID, st.PK), nil); err != nil {
				return fmt.Errorf("store: indexing stage %s: %w", st.PK, err)
			}
		}
	}
	return nil
}

// dropFlowRefs removes the stage's entries from the flow-reference index.
func (tx *Tx) dropFlowRefs(st stage.Stage) error {
	k, _ := tx.s.reg.Lookup(st.Model())
	for _, r := range k.Schema().Refs(st.Config) {
		if r.Target == "flow" && r.ID != uuid.Nil {
			if err := tx.bucket(bucketStageRefs).Delete(pairKey(r.ID, st.PK)); err != nil {
				return err
			}
		}
	}
	return nil
}

// clearFlowRefs handles the deletion of flow fid for stage sid: nullable
// references to it become null (SET_NULL); a stage with a non-nullable
// reference to it is deleted (CASCADE).
func (tx *Tx) clearFlowRefs(sid, fid uuid.UUID) error {
	st, err := tx.mustStage(sid)
	if err != nil {
		return err
	}
	k, _ := tx.s.reg.Lookup(st.Model())
	patch := map[string]any{}
	for _, r := range k.Schema().Refs(st.Config) {
		if r.Target != "flow" || r.ID != fid {
			continue
		}
		if !r.Nullable {
			return tx.DeleteStage(sid)
		}
		patch[r.Field] = nil
	}
	body, err := jsonMarshal(patch)
	if err != nil {
		return err
	}
	next, err := tx.s.reg.Decode(st, body, validate.Patch)
	if err != nil {
		return fmt.Errorf("store: clearing references of stage %s to flow %s: %w", sid, fid, err)
	}
	if err := tx.dropFlowRefs(st); err != nil {
		return err
	}
	return tx.putStage(next)
}

// DeleteStage deletes the stage with pk id, and its bindings in the same
// transaction.
func (tx *Tx) DeleteStage(id uuid.UUID) error {
	if err := tx.writable(); err != nil {
		return err
	}
	st, err := tx.mustStage(id)
	if err != nil {
		return err
	}
	var bindings []uuid.UUID
	c := tx.bucket(bucketByStage).Cursor()
	for k, _ := c.Seek(id[:]); len(k) == 32 && string(k[:16]) == string(id[:]); k, _ = c.Next() {
		bindings = append(bindings, idFrom(k[16:]))
	}
	for _, b := range bindings {
		if err := tx.deleteBinding(b); err != nil {
			return err
		}
	}
	if err := tx.dropFlowRefs(st); err != nil {
		return err
	}
	if err := tx.bucket(bucketStageModels).Delete(modelKey(string(st.Model()), id)); err != nil {
		return err
	}
	if err := tx.bucket(bucketStageNames).Delete(nameKey(st.Name)); err != nil {
		return err
	}
	return tx.bucket(bucketStages).Delete(id[:])
}

// GetStage returns a stage; see [Tx.GetStage].
func (s *Store) GetStage(ctx context.Context, id uuid.UUID) (stage.View, error) {
	return view(s, ctx, func(tx *Tx) (stage.View, error) { return tx.GetStage(id) })
}

// CreateStage creates a stage built in Go; see [Tx.CreateStage].
func (s *Store) CreateStage(ctx context.Context, st stage.Stage) (stage.View, error) {
	return update(s, ctx, func(tx *Tx) (stage.View, error) { return tx.CreateStage(st) })
}

// CreateStageJSON creates a stage from a POST body; see [Tx.CreateStageJSON].
func (s *Store) CreateStageJSON(ctx context.Context, model stage.ModelName, body []byte) (stage.View, error) {
	return update(s, ctx, func(tx *Tx) (stage.View, error) { return tx.CreateStageJSON(model, body) })
}

// ReplaceStage applies a PUT body; see [Tx.ReplaceStage].
func (s *Store) ReplaceStage(ctx context.Context, id uuid.UUID, body []byte) (stage.View, error) {
	return update(s, ctx, func(tx *Tx) (stage.View, error) { return tx.ReplaceStage(id, body) })
}

// PatchStage applies a merge patch; see [Tx.PatchStage].
func (s *Store) PatchStage(ctx context.Context, id uuid.UUID, patch []byte) (stage.View, error) {
	return update(s, ctx, func(tx *Tx) (stage.View, error) { return tx.PatchStage(id, patch) })
}

// DeleteStage deletes a stage and its bindings; see [Tx.DeleteStage].
func (s *Store) DeleteStage(ctx context.Context, id uuid.UUID) error {
	return s.Update(ctx, func(tx *Tx) error { return tx.DeleteStage(id) })
}
