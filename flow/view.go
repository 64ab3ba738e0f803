package flow

import (
	"encoding/json"

	"github.com/google/uuid"
)

// View is a flow as the API shows it: the stored fields with the computed
// read-only ones. Its JSON is authentik's FlowSerializer output, key order
// included.
type View struct {
	Flow
	// Stages holds the pk of the stage of every binding of the flow, in
	// binding order (a stage bound twice appears twice).
	Stages []uuid.UUID
	// Policies are the pks of the policies bound to the flow, in binding
	// order.
	Policies []uuid.UUID
	// CacheCount is the number of cached plans of the flow (one per
	// user; see plan.Cache.Count). The store leaves it 0: the API fills it
	// from the plan cache it plans through.
	CacheCount int
}

type viewJSON struct {
	PK                      uuid.UUID        `json:"pk"`
	PolicyBindingModelPtrID uuid.UUID        `json:"policybindingmodel_ptr_id"`
	Name                    string           `json:"name"`
	Slug                    string           `json:"slug"`
	Title                   string           `json:"title"`
	Designation             Designation      `json:"designation"`
	Background              string           `json:"background"`
	Stages                  []uuid.UUID      `json:"stages"`
	Policies                []uuid.UUID      `json:"policies"`
	CacheCount              int              `json:"cache_count"`
	PolicyEngineMode        PolicyEngineMode `json:"policy_engine_mode"`
	CompatibilityMode       bool             `json:"compatibility_mode"`
	ExportURL               string           `json:"export_url"`
	Layout                  Layout           `json:"layout"`
	DeniedAction            DeniedAction     `json:"denied_action"`
	Authentication          Authentication   `json:"authentication"`
}

// MarshalJSON renders the representation.
func (v View) MarshalJSON() ([]byte, error) {
	stages, policies := v.Stages, v.Policies
	if stages == nil {
		stages = []uuid.UUID{}
	}
	if policies == nil {
		policies = []uuid.UUID{}
	}
	f := v.Flow
	return json.Marshal(viewJSON{
		PK: f.PK, PolicyBindingModelPtrID: f.PolicyBindingModelPtrID,
		Name: f.Name, Slug: f.Slug, Title: f.Title, Designation: f.Designation,
		Background: f.BackgroundURL(), Stages: stages, Policies: policies,
		CacheCount: v.CacheCount, PolicyEngineMode: f.PolicyEngineMode,
		CompatibilityMode: f.CompatibilityMode, ExportURL: f.ExportURL(),
		Layout: f.Layout, DeniedAction: f.DeniedAction, Authentication: f.Authentication,
	})
}

// Set is a flow as it appears in a stage's flow_set: authentik's
// FlowSetSerializer, which lacks authentication, stages, policies and
// cache_count.
type Set struct{ Flow }

type setJSON struct {
	PK                      uuid.UUID        `json:"pk"`
	PolicyBindingModelPtrID uuid.UUID        `json:"policybindingmodel_ptr_id"`
	Name                    string           `json:"name"`
	Slug                    string           `json:"slug"`
	Title                   string           `json:"title"`
	Designation             Designation      `json:"designation"`
	Background              string           `json:"background"`
	PolicyEngineMode        PolicyEngineMode `json:"policy_engine_mode"`
	CompatibilityMode       bool             `json:"compatibility_mode"`
	ExportURL               string           `json:"export_url"`
	Layout                  Layout           `json:"layout"`
	DeniedAction            DeniedAction     `json:"denied_action"`
}

// MarshalJSON renders the nested representation.
func (s Set) MarshalJSON() ([]byte, error) {
	f := s.Flow
	return json.Marshal(setJSON{
		PK: f.PK, PolicyBindingModelPtrID: f.PolicyBindingModelPtrID,
		Name: f.Name, Slug: f.Slug, Title: f.Title, Designation: f.Designation,
		Background: f.BackgroundURL(), PolicyEngineMode: f.PolicyEngineMode,
		CompatibilityMode: f.CompatibilityMode, ExportURL: f.ExportURL(),
		Layout: f.Layout, DeniedAction: f.DeniedAction,
	})
}
