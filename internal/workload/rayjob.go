package workload

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// RayClusterLabel: KubeRay v1.5 labels a RayCluster's pods with the cluster's name (no UID); the
// pods' controller is the RayCluster.
const RayClusterLabel = "ray.io/cluster"

// RayClusterGVK is the kind of the cluster a RayJob runs on.
var RayClusterGVK = schema.GroupVersionKind{Group: "ray.io", Version: "v1", Kind: "RayCluster"}

// RayJob is ray.io/v1 RayJob (KubeRay v1.5). It runs on a RayCluster it creates (or one chosen by
// spec.clusterSelector), and submits from a Job of its own name (K8sJobMode).
var RayJob = Kind{
	GVK:         schema.GroupVersionKind{Group: "ray.io", Version: "v1", Kind: "RayJob"},
	Resource:    "rayjobs",
	Upstream:    Upstream{"github.com/ray-project/kuberay/ray-operator", "v1.5.0", []string{"config/crd/bases/ray.io_rayjobs.yaml"}},
	SuspendPath: []string{"spec", "suspend"},
	// KubeRay moves a RayJob from "" (New) to Suspended while it is held; any other deployment
	// status (Initializing, Running, Complete, Failed, ...) means it has been let go before.
	StartedField:     []string{"status", "jobDeploymentStatus"},
	NotStartedValues: []string{"", "New", "Suspended"},
	ScaleFields: []string{"spec.rayClusterSpec.workerGroupSpecs[*].replicas", "spec.rayClusterSpec.workerGroupSpecs[*].minReplicas",
		"spec.rayClusterSpec.workerGroupSpecs[*].maxReplicas", "spec.rayClusterSpec.workerGroupSpecs[*].numOfHosts"},
	PodSets: rayJobPodSets,
	Ended:   rayJobEnded,
	Pods:    rayJobPods,
}

// rayJobPodSets: from spec.rayClusterSpec, the head, plus, per workerGroupSpecs, replicas (else
// minReplicas) x numOfHosts pods of its template. Unknown for a RayJob that runs on a cluster
// chosen by spec.clusterSelector.
func rayJobPodSets(u *unstructured.Unstructured) ([]PodSet, string) {
	if rayJobSharesCluster(u) {
		return nil, "it runs on a RayCluster chosen by spec.clusterSelector, whose GPUs are not its own"
	}
	spec, ok := mapAt(u.Object, "spec", "rayClusterSpec")
	if !ok {
		return nil, "spec.rayClusterSpec is not readable"
	}
	head, _ := mapAt(spec, "headGroupSpec", "template", "spec")
	sets := []PodSet{{Name: "head", Count: 1, Spec: head}}
	groups, _ := sliceAt(spec, "workerGroupSpecs")
	for _, g := range groups {
		m, _ := g.(map[string]any)
		replicas, ok := intField(m, "replicas")
		if !ok {
			replicas = intAt(m, 0, "minReplicas")
		}
		name, _ := m["groupName"].(string)
		podSpec, _ := mapAt(m, "template", "spec")
		sets = append(sets, PodSet{Name: name, Count: count(replicas, intAt(m, 1, "numOfHosts")), Spec: podSpec})
	}
	return sets, ""
}

// rayJobEnded: finished when status.jobDeploymentStatus is Complete (Succeeded when
// status.jobStatus is SUCCEEDED, else Failed: STOPPED or FAILED) or Failed, at status.endTime (else
// the Ray job's own status.rayJobInfo.endTime); started at status.startTime.
func rayJobEnded(u *unstructured.Unstructured) (Run, bool) {
	deployment, _, _ := unstructured.NestedString(u.Object, "status", "jobDeploymentStatus")
	if deployment != "Complete" && deployment != "Failed" {
		return Run{}, false
	}
	end := timeAt(u.Object, "status", "endTime")
	if end == nil {
		if end = timeAt(u.Object, "status", "rayJobInfo", "endTime"); end == nil {
			return Run{}, false
		}
	}
	jobStatus, _, _ := unstructured.NestedString(u.Object, "status", "jobStatus")
	return Run{Outcome: outcomeOf(deployment == "Complete" && jobStatus == "SUCCEEDED"), Start: timeAt(u.Object, "status", "startTime"),
		End: end.Time, SharedPods: rayJobSharesCluster(u)}, true
}

func rayJobSharesCluster(u *unstructured.Unstructured) bool {
	sel, _ := mapAt(u.Object, "spec", "clusterSelector")
	return len(sel) > 0
}

// rayJobPods: the pods of its RayCluster (status.rayClusterName), controlled by the cluster, and
// the pods of its submitter Job (K8sJobMode: a Job of the RayJob's name). Both must be controlled
// by the RayJob, except a cluster chosen by clusterSelector (shared).
func rayJobPods(u *unstructured.Unstructured) []PodSource {
	var sources []PodSource
	if cluster, _, _ := unstructured.NestedString(u.Object, "status", "rayClusterName"); cluster != "" {
		sources = append(sources, PodSource{Child: &Child{GVK: RayClusterGVK, Name: cluster, Shared: rayJobSharesCluster(u),
			Pods: func(c metav1.Object) PodSource {
				return PodSource{Labels: map[string]string{RayClusterLabel: c.GetName()}, ControlledBy: c.GetUID()}
			}}})
	}
	sources = append(sources, PodSource{Child: &Child{GVK: Job.GVK, Name: u.GetName(),
		Pods: func(j metav1.Object) PodSource { return labelledBy(JobControllerUIDLabel, string(j.GetUID())) }}})
	return sources
}
