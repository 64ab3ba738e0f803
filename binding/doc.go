// Package binding holds authentik's FlowStageBinding: the ordered link
// between a flow and a stage. A flow runs its stages in binding order, ties
// broken by pk. Two different stages may share an order in one flow, and a
// stage may be bound twice at different orders; (target, stage, order) is
// unique, which the store enforces.
//
// [Binding] is the stored value and [View] its representation, with
// stage_obj. The package does no I/O.
package binding
