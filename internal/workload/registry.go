// Package workload is the one home of the workload kinds ftcost gates and measures (batch/v1 Job,
// JobSet, TrainJob, PyTorchJob, RayJob), in the shape of Kueue's jobframework: a Kind says once, for
// one kind, where its suspend switch is, how to tell it has started, which pods it runs (PodSets) and
// so how many accelerators it asks for, where those pods are found once it ran, how a finished run
// is read, and which spec fields scale it. Each kind is one file; Kinds lists them. The suspend gate
// (internal/gate, internal/controller), the actuals (internal/actuals) and the tests read Kinds.
//
// Every kind is read as unstructured, at one version, without trusting it: a malformed field makes a
// figure unknown (or a run not finished), never an error or a panic.
package workload

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Kinds are the workload kinds ftcost gates and measures. Adding one is a file beside job.go, a row
// here, its RBAC marker (internal/controller/workload_kinds.go) and its rows in the admission
// policies of config/vap (docs/operator.md, "Adding a workload kind").
var Kinds = []Kind{Job, JobSet, TrainJob, PyTorchJob, RayJob}

// Kind is everything ftcost knows about one workload kind.
type Kind struct {
	// GVK is the version read and written.
	GVK schema.GroupVersionKind
	// Resource is the plural resource name; Resource.Group is also the CRD's name suffix.
	Resource string
	// Upstream is the project whose controller writes the fields read here, at the version they were
	// read from, and its CRD files (which the tests install); zero for a built-in kind.
	Upstream Upstream

	// SuspendPath is the path of the boolean suspend switch.
	SuspendPath []string
	// StartedConditions are status.conditions types that, when True, mean the workload has run (or is
	// done): the gate leaves it alone even if it is suspended.
	StartedConditions []string
	// StartedField, when set, is a status field whose value means the workload has run, unless it is
	// one of NotStartedValues (any non-empty value counts when NotStartedValues is empty).
	StartedField     []string
	NotStartedValues []string

	// ScaleFields are the spec fields that set how many pods run at once, as dotted paths where
	// "[*]" is every item of a list and "*" every value of a map (e.g.
	// "spec.replicatedJobs[*].replicas"): raising one after the release raises the accelerators asked for.
	ScaleFields []string

	// PodSets are the pods the workload runs at once, from its spec; unknown says why they cannot be
	// told ("" when they can).
	PodSets func(u *unstructured.Unstructured) (sets []PodSet, unknown string)
	// Ended reads a finished run's outcome, start, end and SharedPods from the workload's status;
	// false while it runs or when its status says no end. Finished completes it.
	Ended func(u *unstructured.Unstructured) (Run, bool)
	// Pods says where a run's pods are.
	Pods func(u *unstructured.Unstructured) []PodSource
}

// Upstream is a workload project's Go module at the version whose fields are read, and the files of
// its CRDs in that module.
type Upstream struct {
	Module, Version string
	CRDs            []string
}

// KindOf is the kind of Kinds with a group and kind, and false when ftcost does not cover it.
func KindOf(gk schema.GroupKind) (Kind, bool) {
	for _, k := range Kinds {
		if k.GVK.GroupKind() == gk {
			return k, true
		}
	}
	return Kind{}, false
}

// Named is the kind of Kinds called kind ("Job", "JobSet", ...), and false when there is none.
func Named(kind string) (Kind, bool) {
	for _, k := range Kinds {
		if k.GVK.Kind == kind {
			return k, true
		}
	}
	return Kind{}, false
}

// BuiltIn says whether the API server serves the kind itself (no CRD to wait for).
func (k Kind) BuiltIn() bool { return k.Upstream.Module == "" }

// CRDName is the name of the CustomResourceDefinition that serves the kind ("" for a built-in kind).
func (k Kind) CRDName() string {
	if k.BuiltIn() {
		return ""
	}
	return k.Resource + "." + k.GVK.Group
}

// New is an empty object of the kind, to read into.
func (k Kind) New() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(k.GVK)
	return u
}

// NewList is an empty list of the kind, to list into.
func (k Kind) NewList() *unstructured.UnstructuredList {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(k.GVK.GroupVersion().WithKind(k.GVK.Kind + "List"))
	return l
}

// Suspended says whether the workload's suspend switch is on.
func (k Kind) Suspended(u *unstructured.Unstructured) bool {
	v, _, _ := unstructured.NestedBool(u.Object, k.SuspendPath...)
	return v
}

// SetSuspend sets the workload's suspend switch.
func (k Kind) SetSuspend(u *unstructured.Unstructured, suspend bool) error {
	return unstructured.SetNestedField(u.Object, suspend, k.SuspendPath...)
}

// Started says whether the workload has run, or finished, by the kind's rule.
func (k Kind) Started(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if typ, _ := m["type"].(string); m["status"] == "True" && slices.Contains(k.StartedConditions, typ) {
			return true
		}
	}
	if len(k.StartedField) == 0 {
		return false
	}
	v, found, _ := unstructured.NestedFieldNoCopy(u.Object, k.StartedField...)
	if !found || v == nil {
		return false
	}
	s, isString := v.(string)
	if len(k.NotStartedValues) == 0 {
		return !isString || s != ""
	}
	return !isString || !slices.Contains(k.NotStartedValues, s)
}

// Finished reads a finished run of the workload, with the GPUs its spec holds at once as the
// fallback for pods that are gone; false while it runs.
func (k Kind) Finished(u *unstructured.Unstructured) (Run, bool) {
	run, ok := k.Ended(u)
	if !ok {
		return Run{}, false
	}
	run.Kind, run.Name, run.UID = k.GVK.Kind, u.GetName(), u.GetUID()
	a := k.Accelerators(u)
	run.FallbackGPUs, run.FallbackUnknown = a.GPUs, a.Unknown
	return run, true
}

// GatedParent is the controller of a workload when it is another workload of a covered kind (a
// TrainJob's JobSet, a JobSet's or a RayJob's Jobs), and nil otherwise. When that parent carries the
// estimate label, it is the run: the child's pods are counted in the parent's, so the child is not a
// run of its own even when it inherited the label. A parent without the label is not measured, and
// its labelled children are (JobSet copies only its Job templates' labels onto its Jobs).
func GatedParent(o metav1.Object) *metav1.OwnerReference {
	c := metav1.GetControllerOf(o)
	if c == nil {
		return nil
	}
	gv, err := schema.ParseGroupVersion(c.APIVersion)
	if err != nil {
		return nil
	}
	if _, ok := KindOf(schema.GroupKind{Group: gv.Group, Kind: c.Kind}); !ok {
		return nil
	}
	return c
}
