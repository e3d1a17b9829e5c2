package workload

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TrainJob is trainer.kubeflow.org/v1alpha1 TrainJob (Kubeflow Trainer v2.0). It runs as the JobSet
// of the same name, which it controls.
var TrainJob = Kind{
	GVK:               schema.GroupVersionKind{Group: "trainer.kubeflow.org", Version: "v1alpha1", Kind: "TrainJob"},
	Resource:          "trainjobs",
	Upstream:          Upstream{"github.com/kubeflow/trainer/v2", "v2.0.0", []string{"manifests/base/crds/trainer.kubeflow.org_trainjobs.yaml"}},
	SuspendPath:       []string{"spec", "suspend"},
	StartedConditions: []string{"Complete", "Failed"},
	ScaleFields:       []string{"spec.trainer.numNodes"},
	PodSets:           trainJobPodSets,
	Ended:             trainJobEnded,
	Pods:              trainJobPods,
}

// trainJobPodSets: spec.trainer.numNodes nodes of spec.trainer.resourcesPerNode. Either may be left
// to the TrainingRuntime, which is not read: then they are unknown, and so are they when the
// resources per node name no accelerator (CPU and memory only: the runtime's template has them).
func trainJobPodSets(u *unstructured.Unstructured) ([]PodSet, string) {
	nodes, okNodes := intField(u.Object, "spec", "trainer", "numNodes")
	res, okRes := mapAt(u.Object, "spec", "trainer", "resourcesPerNode")
	if !okNodes || !okRes {
		return nil, "spec.trainer does not state numNodes and resourcesPerNode (its runtime does, which is not read)"
	}
	if resourcesOf(res, GPUResources) == 0 && resourcesOf(res, OtherAccelerators) == 0 {
		return nil, "spec.trainer.resourcesPerNode names no GPUs (its runtime does, which is not read)"
	}
	return []PodSet{{Name: "node", Count: nodes, Spec: map[string]any{"containers": []any{map[string]any{"resources": res}}}}}, ""
}

// trainJobEnded: finished when a Complete or Failed condition is True (copied from its JobSet's),
// at its lastTransitionTime; started when its Suspended condition last turned False, else created.
func trainJobEnded(u *unstructured.Unstructured) (Run, bool) {
	typ, end, ok := trueCondition(u, "Complete", "Failed")
	if !ok {
		return Run{}, false
	}
	return Run{Outcome: outcomeOf(typ == "Complete"), Start: resumedOrCreated(u), End: end}, true
}

// trainJobPods: the pods of the JobSet of the same name, which carry that JobSet's UID.
func trainJobPods(u *unstructured.Unstructured) []PodSource {
	return []PodSource{{Child: &Child{GVK: JobSetGVK, Name: u.GetName(), Pods: func(js metav1.Object) PodSource {
		return labelledBy(JobSetUIDLabel, string(js.GetUID()))
	}}}}
}
