package workload

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// JobSetUIDLabel: JobSet v0.11 labels its Jobs and their pods with the JobSet's UID.
const JobSetUIDLabel = "jobset.sigs.k8s.io/jobset-uid"

// JobSetGVK is also the kind of the object a TrainJob runs its pods through.
var JobSetGVK = schema.GroupVersionKind{Group: "jobset.x-k8s.io", Version: "v1alpha2", Kind: "JobSet"}

// JobSet is jobset.x-k8s.io/v1alpha2 JobSet (JobSet v0.11).
var JobSet = Kind{
	GVK:               JobSetGVK,
	Resource:          "jobsets",
	Upstream:          Upstream{"sigs.k8s.io/jobset", "v0.11.0", []string{"config/components/crd/bases/jobset.x-k8s.io_jobsets.yaml"}},
	SuspendPath:       []string{"spec", "suspend"},
	StartedConditions: []string{"Completed", "Failed"},
	StartedField:      []string{"status", "terminalState"},
	ScaleFields:       []string{"spec.replicatedJobs[*].replicas", "spec.replicatedJobs[*].template.spec.parallelism"},
	PodSets:           jobSetPodSets,
	Ended:             jobSetEnded,
	Pods: func(u *unstructured.Unstructured) []PodSource {
		return []PodSource{labelledBy(JobSetUIDLabel, string(u.GetUID()))}
	},
}

// jobSetPodSets: per spec.replicatedJobs, replicas x template.spec.parallelism pods of its Job's
// pod template.
func jobSetPodSets(u *unstructured.Unstructured) ([]PodSet, string) {
	jobs, ok := sliceAt(u.Object, "spec", "replicatedJobs")
	if !ok {
		return nil, "spec.replicatedJobs is not readable"
	}
	sets := make([]PodSet, 0, len(jobs))
	for _, j := range jobs {
		m, _ := j.(map[string]any)
		name, _ := m["name"].(string)
		spec, _ := mapAt(m, "template", "spec", "template", "spec")
		sets = append(sets, PodSet{Name: name, Count: count(intAt(m, 1, "replicas"), intAt(m, 1, "template", "spec", "parallelism")), Spec: spec})
	}
	return sets, ""
}

// jobSetEnded: finished when a Completed or Failed condition is True, at its lastTransitionTime.
// JobSet has no start time in its status: the start is when its Suspended condition last turned
// False (the gate's release), else its creation.
func jobSetEnded(u *unstructured.Unstructured) (Run, bool) {
	typ, end, ok := trueCondition(u, "Completed", "Failed")
	if !ok {
		return Run{}, false
	}
	return Run{Outcome: outcomeOf(typ == "Completed"), Start: resumedOrCreated(u), End: end}, true
}
