package workload

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// Run is a finished workload of any kind, read from its status and spec: what actuals.Measure needs.
type Run struct {
	// Kind, Name and UID identify the workload; a run is counted once by its UID.
	Kind, Name string
	UID        types.UID
	Outcome    ftv1.RunOutcome
	// Start is when the workload started; nil when its status does not say.
	Start *metav1.Time
	// End is when it completed or failed.
	End time.Time
	// FallbackGPUs is the GPUs its spec holds at once while it runs (Kind.Accelerators), the fallback
	// when no pod is left to read; meaningful when FallbackUnknown is empty.
	FallbackGPUs int64
	// FallbackUnknown says why the spec does not tell the GPUs ("" when it does).
	FallbackUnknown string
	// SharedPods: its pods serve other work too (a RayJob on a RayCluster chosen by clusterSelector),
	// so each pod counts only from the run's start.
	SharedPods bool
}

// PodSet is Count pods of one template that a workload runs at once (Kueue's PodSet): a Job's
// parallelism, a JobSet's replicated Job, a PyTorchJob's replica type, a RayCluster's group.
type PodSet struct {
	// Name names the set within the workload ("" for a workload of one set).
	Name  string
	Count int64
	// Spec is the pod spec of the template as unstructured (nil when the spec has none).
	Spec map[string]any
}

// PodSource is where some of a run's pods are: the pods of the workload's namespace that carry
// Labels and, when ControlledBy is set, whose controller (ownerReference) has that UID, for pods
// labelled only by name. When Child is set, the pods belong to an object the workload created,
// found by name, which the controller reads first and asks Child.Pods for the source.
type PodSource struct {
	Labels       map[string]string
	ControlledBy types.UID
	Child        *Child
}

// Child is an object a workload creates to run its pods (a TrainJob's JobSet, a RayJob's RayCluster
// and submitter Job).
type Child struct {
	GVK  schema.GroupVersionKind
	Name string
	// Shared: the workload does not own the child (a RayCluster chosen by clusterSelector); its pods
	// are counted anyway, from the run's start (Run.SharedPods). Otherwise a child the workload does
	// not control is not its child, and its pods are not counted.
	Shared bool
	// Pods is the source of the child's pods once it is read.
	Pods func(child metav1.Object) PodSource
}

// Selects says whether the source can be listed: its labels are non-empty and valid (an empty
// selector would list the whole namespace).
func (s PodSource) Selects() bool {
	if len(s.Labels) == 0 {
		return false
	}
	for k, v := range s.Labels {
		if v == "" || len(validation.IsQualifiedName(k)) > 0 || len(validation.IsValidLabelValue(v)) > 0 {
			return false
		}
	}
	return true
}

// Keep is the listed pods that belong to the source: all of them, or those controlled by
// ControlledBy.
func (s PodSource) Keep(pods []corev1.Pod) []corev1.Pod {
	if s.ControlledBy == "" {
		return pods
	}
	var kept []corev1.Pod
	for _, p := range pods {
		if c := metav1.GetControllerOf(&p); c != nil && c.UID == s.ControlledBy {
			kept = append(kept, p)
		}
	}
	return kept
}

// labelledBy is a source of the pods carrying one label.
func labelledBy(key, value string) PodSource {
	return PodSource{Labels: map[string]string{key: value}}
}
