package gate

import (
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Kind is a workload kind with a suspend switch that the suspend gate holds and releases: where its
// switch is, and how to tell that it has already run. The gate reads every kind as unstructured, so
// supporting another one is a row in Kinds (plus its RBAC marker and the admission policies in
// config/vap), not another controller.
type Kind struct {
	// GVK is the version the gate reads and writes.
	GVK schema.GroupVersionKind
	// Resource is the plural resource name; Resource.Group is also the CRD's name suffix.
	Resource string
	// SuspendPath is the path of the boolean suspend field.
	SuspendPath []string
	// StartedConditions are status.conditions types that, when True, mean the workload has run (or is
	// done): the gate leaves it alone even if it is suspended.
	StartedConditions []string
	// StartedField, when set, is a status field whose value means the workload has run, unless it is
	// one of NotStartedValues (any value counts when NotStartedValues is empty).
	StartedField     []string
	NotStartedValues []string
}

// Kinds are the workloads the suspend gate covers.
var Kinds = []Kind{
	{
		GVK: schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}, Resource: "jobs",
		SuspendPath:       []string{"spec", "suspend"},
		StartedConditions: []string{"Complete", "Failed"},
		// Set while it runs; the Job controller clears it when the Job is suspended.
		StartedField: []string{"status", "startTime"},
	},
	{
		GVK: schema.GroupVersionKind{Group: "jobset.x-k8s.io", Version: "v1alpha2", Kind: "JobSet"}, Resource: "jobsets",
		SuspendPath:       []string{"spec", "suspend"},
		StartedConditions: []string{"Completed", "Failed"},
		StartedField:      []string{"status", "terminalState"},
	},
	{
		GVK: schema.GroupVersionKind{Group: "trainer.kubeflow.org", Version: "v1alpha1", Kind: "TrainJob"}, Resource: "trainjobs",
		SuspendPath:       []string{"spec", "suspend"},
		StartedConditions: []string{"Complete", "Failed"},
	},
	{
		GVK: schema.GroupVersionKind{Group: "kubeflow.org", Version: "v1", Kind: "PyTorchJob"}, Resource: "pytorchjobs",
		SuspendPath:       []string{"spec", "runPolicy", "suspend"},
		StartedConditions: []string{"Running", "Restarting", "Succeeded", "Failed"},
	},
	{
		GVK: schema.GroupVersionKind{Group: "ray.io", Version: "v1", Kind: "RayJob"}, Resource: "rayjobs",
		SuspendPath: []string{"spec", "suspend"},
		// KubeRay moves a RayJob from "" (New) to Suspended while it is held; any other deployment
		// status (Initializing, Running, Complete, Failed, ...) means it has been let go before.
		StartedField:     []string{"status", "jobDeploymentStatus"},
		NotStartedValues: []string{"", "New", "Suspended"},
	},
}

// KindOf is the row of Kinds for a group and kind, and false when the gate does not cover it.
func KindOf(gk schema.GroupKind) (Kind, bool) {
	for _, k := range Kinds {
		if k.GVK.GroupKind() == gk {
			return k, true
		}
	}
	return Kind{}, false
}

// CRDName is the name of the CustomResourceDefinition that serves the kind ("" for built-in kinds).
func (k Kind) CRDName() string {
	if k.GVK.Group == "batch" {
		return ""
	}
	return k.Resource + "." + k.GVK.Group
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

// FactsOf reads what the gate needs from a workload of the kind; kueueManaged says whether Kueue
// owns its suspend switch.
func (k Kind) FactsOf(u *unstructured.Unstructured, kueueManaged bool) Job {
	return Job{
		Suspended:    k.Suspended(u),
		Started:      k.Started(u),
		KueueManaged: kueueManaged,
		Gate:         u.GetAnnotations()[GateAnnotation],
		GateMessage:  u.GetAnnotations()[GateMessageAnnotation],
	}
}
