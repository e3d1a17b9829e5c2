package workload

import (
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// JobControllerUIDLabel is the Job controller's label on the pods of a Job: the Job's UID.
const JobControllerUIDLabel = "batch.kubernetes.io/controller-uid"

// Job is batch/v1 Job, served by the API server itself.
var Job = Kind{
	GVK:               schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"},
	Resource:          "jobs",
	SuspendPath:       []string{"spec", "suspend"},
	StartedConditions: []string{"Complete", "Failed"},
	// Set while it runs; the Job controller clears it when the Job is suspended.
	StartedField: []string{"status", "startTime"},
	// spec.completions may change only with parallelism (elastic Indexed Jobs keep them equal).
	ScaleFields: []string{"spec.parallelism"},
	PodSets:     jobPodSets,
	Ended:       jobEnded,
	Pods: func(u *unstructured.Unstructured) []PodSource {
		return []PodSource{labelledBy(JobControllerUIDLabel, string(u.GetUID()))}
	},
}

// jobPodSets: spec.parallelism (1 when unset) pods of spec.template.
func jobPodSets(u *unstructured.Unstructured) ([]PodSet, string) {
	spec, _ := mapAt(u.Object, "spec", "template", "spec")
	return []PodSet{{Count: intAt(u.Object, 1, "spec", "parallelism"), Spec: spec}}, ""
}

// jobEnded: finished when a Complete or Failed condition is True; Complete ends at
// status.completionTime, else at the condition's lastTransitionTime, Failed at the condition's.
// Started at status.startTime.
func jobEnded(u *unstructured.Unstructured) (Run, bool) {
	conds, _ := sliceAt(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["status"] != "True" || (m["type"] != "Complete" && m["type"] != "Failed") {
			continue
		}
		var end time.Time
		if t := timeAt(m, "lastTransitionTime"); t != nil {
			end = t.Time
		}
		complete := m["type"] == "Complete"
		if t := timeAt(u.Object, "status", "completionTime"); complete && t != nil {
			end = t.Time
		}
		return Run{Outcome: outcomeOf(complete), Start: timeAt(u.Object, "status", "startTime"), End: end}, true
	}
	return Run{}, false
}
