package workload

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// PyTorchJobNameLabel and PyTorchOperatorLabel: the training-operator v1.8 labels a PyTorchJob's
// pods with the job's name (no UID) and the controller's name; the pods' controller is the job.
const (
	PyTorchJobNameLabel  = "training.kubeflow.org/job-name"
	PyTorchOperatorLabel = "training.kubeflow.org/operator-name"
	PyTorchOperatorName  = "pytorchjob-controller"
)

// PyTorchJob is kubeflow.org/v1 PyTorchJob (Kubeflow training-operator v1.8).
var PyTorchJob = Kind{
	GVK:               schema.GroupVersionKind{Group: "kubeflow.org", Version: "v1", Kind: "PyTorchJob"},
	Resource:          "pytorchjobs",
	Upstream:          Upstream{"github.com/kubeflow/training-operator", "v1.8.1", []string{"manifests/base/crds/kubeflow.org_pytorchjobs.yaml"}},
	SuspendPath:       []string{"spec", "runPolicy", "suspend"},
	StartedConditions: []string{"Running", "Restarting", "Succeeded", "Failed"},
	// An elastic PyTorchJob's workers may be scaled up to spec.elasticPolicy.maxReplicas.
	ScaleFields: []string{"spec.pytorchReplicaSpecs.*.replicas", "spec.elasticPolicy.maxReplicas"},
	PodSets:     pyTorchJobPodSets,
	Ended:       pyTorchJobEnded,
	Pods:        pyTorchJobPods,
}

// pyTorchJobPodSets: per spec.pytorchReplicaSpecs (Master, Worker), replicas (1 when unset) pods of
// its template.
func pyTorchJobPodSets(u *unstructured.Unstructured) ([]PodSet, string) {
	replicaSpecs, ok := mapAt(u.Object, "spec", "pytorchReplicaSpecs")
	if !ok {
		return nil, "spec.pytorchReplicaSpecs is not readable"
	}
	sets := make([]PodSet, 0, len(replicaSpecs))
	for _, name := range sortedKeys(replicaSpecs) {
		m, _ := replicaSpecs[name].(map[string]any)
		spec, _ := mapAt(m, "template", "spec")
		sets = append(sets, PodSet{Name: name, Count: intAt(m, 1, "replicas"), Spec: spec})
	}
	return sets, ""
}

// pyTorchJobEnded: finished when a Succeeded or Failed condition is True, at status.completionTime,
// else the condition's lastTransitionTime; started at status.startTime.
func pyTorchJobEnded(u *unstructured.Unstructured) (Run, bool) {
	typ, end, ok := trueCondition(u, "Succeeded", "Failed")
	if !ok {
		return Run{}, false
	}
	if t := timeAt(u.Object, "status", "completionTime"); t != nil {
		end = t.Time
	}
	return Run{Outcome: outcomeOf(typ == "Succeeded"), Start: timeAt(u.Object, "status", "startTime"), End: end}, true
}

// pyTorchJobPods: the pods labelled with the job's name and operator, and controlled by the job
// (the label holds no UID: a job recreated under the same name does not take its predecessor's).
func pyTorchJobPods(u *unstructured.Unstructured) []PodSource {
	return []PodSource{{Labels: map[string]string{PyTorchJobNameLabel: u.GetName(), PyTorchOperatorLabel: PyTorchOperatorName},
		ControlledBy: u.GetUID()}}
}
