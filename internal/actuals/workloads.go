package actuals

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
)

// Labels and names the workload projects put on the pods they create, from their sources (the
// versions of internal/testenv.WorkloadModules).
const (
	// JobControllerUIDLabel: the Job controller's label on the pods of a Job.
	JobControllerUIDLabel = "batch.kubernetes.io/controller-uid"
	// JobSetUIDLabel: JobSet v0.11 labels its Jobs and their pods with the JobSet's UID.
	JobSetUIDLabel = "jobset.sigs.k8s.io/jobset-uid"
	// PyTorchJobNameLabel and PyTorchOperatorLabel: the training-operator v1.8 labels a PyTorchJob's
	// pods with the job's name (no UID) and the controller's name; the pods' controller is the job.
	PyTorchJobNameLabel  = "training.kubeflow.org/job-name"
	PyTorchOperatorLabel = "training.kubeflow.org/operator-name"
	PyTorchOperatorName  = "pytorchjob-controller"
	// RayClusterLabel: KubeRay v1.5 labels a RayCluster's pods with the cluster's name (no UID); the
	// pods' controller is the RayCluster.
	RayClusterLabel = "ray.io/cluster"
)

// Kind is a workload kind the actuals reconciler measures, read as unstructured: when a run
// finished, how, what its spec holds, and where its pods are. Job is measured typed (JobRun).
type Kind struct {
	GVK schema.GroupVersionKind
	// Resource is the plural resource name; Resource.Group is also the CRD's name suffix.
	Resource string
	// Finished reads a finished run; false while the workload runs or when its status says no end.
	Finished func(u *unstructured.Unstructured) (Run, bool)
	// Pods says where the workload's pods are.
	Pods func(u *unstructured.Unstructured) []PodSource
}

// CRDName is the name of the CustomResourceDefinition that serves the kind.
func (k Kind) CRDName() string { return k.Resource + "." + k.GVK.Group }

// The kinds of the objects a workload runs its pods through: a TrainJob's JobSet, a RayJob's
// RayCluster and submitter Job.
var (
	JobSetGVK     = schema.GroupVersionKind{Group: "jobset.x-k8s.io", Version: "v1alpha2", Kind: "JobSet"}
	RayClusterGVK = schema.GroupVersionKind{Group: "ray.io", Version: "v1", Kind: "RayCluster"}
	JobGVK        = schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}
)

// Kinds are the workload kinds measured besides batch/v1 Jobs: the other rows of gate.Kinds, at the
// same versions.
var Kinds = []Kind{
	{GVK: JobSetGVK, Resource: "jobsets",
		Finished: jobSetRun, Pods: jobSetPods},
	{GVK: schema.GroupVersionKind{Group: "trainer.kubeflow.org", Version: "v1alpha1", Kind: "TrainJob"}, Resource: "trainjobs",
		Finished: trainJobRun, Pods: trainJobPods},
	{GVK: schema.GroupVersionKind{Group: "kubeflow.org", Version: "v1", Kind: "PyTorchJob"}, Resource: "pytorchjobs",
		Finished: pyTorchJobRun, Pods: pyTorchJobPods},
	{GVK: schema.GroupVersionKind{Group: "ray.io", Version: "v1", Kind: "RayJob"}, Resource: "rayjobs",
		Finished: rayJobRun, Pods: rayJobPods},
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

// newRun is the run of a finished workload with its identity.
func newRun(kind string, u *unstructured.Unstructured, outcome ftv1.RunOutcome, end time.Time) Run {
	return Run{Kind: kind, Name: u.GetName(), UID: u.GetUID(), Outcome: outcome, End: end}
}

// --- JobSet (jobset.x-k8s.io/v1alpha2) ---

// jobSetRun: finished when a Completed or Failed condition is True, at its lastTransitionTime.
// JobSet has no start time in its status: the start is when its Suspended condition last turned
// False (the gate's release), else its creation.
func jobSetRun(u *unstructured.Unstructured) (Run, bool) {
	typ, end, ok := trueCondition(u, "Completed", "Failed")
	if !ok {
		return Run{}, false
	}
	run := newRun("JobSet", u, outcomeOf(typ == "Completed"), end)
	run.Start = resumedOrCreated(u)
	run.FallbackGPUs, run.FallbackUnknown = jobSetGPUs(u.Object, "spec")
	return run, true
}

// jobSetGPUs is the GPUs of a JobSet spec at path: the sum over replicatedJobs of replicas x
// parallelism x the GPUs of the pod template.
func jobSetGPUs(obj map[string]any, path ...string) (int64, string) {
	jobs, ok := sliceAt(obj, append(path, "replicatedJobs")...)
	if !ok {
		return 0, fmt.Sprintf("%s.replicatedJobs is not readable", dotted(path))
	}
	var gpus int64
	for _, j := range jobs {
		m, _ := j.(map[string]any)
		replicas := intAt(m, 1, "replicas")
		parallelism := intAt(m, 1, "template", "spec", "parallelism")
		podSpec, _ := mapAt(m, "template", "spec", "template", "spec")
		gpus = count(gpus + count(replicas, parallelism, specGPUs(podSpec)))
	}
	return gpus, ""
}

func jobSetPods(u *unstructured.Unstructured) []PodSource {
	return []PodSource{{Labels: map[string]string{JobSetUIDLabel: string(u.GetUID())}}}
}

// --- TrainJob (trainer.kubeflow.org/v1alpha1) ---

// trainJobRun: finished when a Complete or Failed condition is True (copied from its JobSet's),
// at its lastTransitionTime; started when its Suspended condition last turned False, else created.
func trainJobRun(u *unstructured.Unstructured) (Run, bool) {
	typ, end, ok := trueCondition(u, "Complete", "Failed")
	if !ok {
		return Run{}, false
	}
	run := newRun("TrainJob", u, outcomeOf(typ == "Complete"), end)
	run.Start = resumedOrCreated(u)
	run.FallbackGPUs, run.FallbackUnknown = trainJobGPUs(u.Object)
	return run, true
}

// trainJobGPUs is spec.trainer.numNodes x the GPUs of spec.trainer.resourcesPerNode; either may be
// left to the TrainingRuntime, which is not read: then the GPUs are unknown.
func trainJobGPUs(obj map[string]any) (int64, string) {
	nodes, okNodes := intField(obj, "spec", "trainer", "numNodes")
	res, okRes := mapAt(obj, "spec", "trainer", "resourcesPerNode")
	if !okNodes || !okRes {
		return 0, "spec.trainer does not state numNodes and resourcesPerNode (its runtime does, which is not read)"
	}
	gpus := resourcesGPUs(res)
	if gpus == 0 {
		// CPU and memory only: the GPUs come from the runtime's template, which is not read.
		return 0, "spec.trainer.resourcesPerNode names no GPUs (its runtime does, which is not read)"
	}
	return count(nodes, gpus), ""
}

// trainJobPods: a TrainJob runs as the JobSet of the same name, which it controls; the JobSet's
// pods carry the JobSet's UID.
func trainJobPods(u *unstructured.Unstructured) []PodSource {
	return []PodSource{{Child: &Child{GVK: JobSetGVK, Name: u.GetName(), Pods: func(js metav1.Object) PodSource {
		return PodSource{Labels: map[string]string{JobSetUIDLabel: string(js.GetUID())}}
	}}}}
}

// --- PyTorchJob (kubeflow.org/v1) ---

// pyTorchJobRun: finished when a Succeeded or Failed condition is True, at status.completionTime,
// else the condition's lastTransitionTime; started at status.startTime.
func pyTorchJobRun(u *unstructured.Unstructured) (Run, bool) {
	typ, end, ok := trueCondition(u, "Succeeded", "Failed")
	if !ok {
		return Run{}, false
	}
	if t := timeAt(u.Object, "status", "completionTime"); t != nil {
		end = t.Time
	}
	run := newRun("PyTorchJob", u, outcomeOf(typ == "Succeeded"), end)
	run.Start = timeAt(u.Object, "status", "startTime")
	replicaSpecs, ok := mapAt(u.Object, "spec", "pytorchReplicaSpecs")
	if !ok {
		run.FallbackUnknown = "spec.pytorchReplicaSpecs is not readable"
		return run, true
	}
	for _, rs := range replicaSpecs {
		m, _ := rs.(map[string]any)
		podSpec, _ := mapAt(m, "template", "spec")
		run.FallbackGPUs = count(run.FallbackGPUs + count(intAt(m, 1, "replicas"), specGPUs(podSpec)))
	}
	return run, true
}

// pyTorchJobPods: the pods labelled with the job's name and operator, and controlled by the job
// (the label holds no UID: a job recreated under the same name does not take its predecessor's).
func pyTorchJobPods(u *unstructured.Unstructured) []PodSource {
	return []PodSource{{Labels: map[string]string{PyTorchJobNameLabel: u.GetName(), PyTorchOperatorLabel: PyTorchOperatorName},
		ControlledBy: u.GetUID()}}
}

// --- RayJob (ray.io/v1) ---

// rayJobRun: finished when status.jobDeploymentStatus is Complete (Succeeded when
// status.jobStatus is SUCCEEDED, else Failed: STOPPED or FAILED) or Failed, at status.endTime (else
// the Ray job's own status.rayJobInfo.endTime); started at status.startTime.
func rayJobRun(u *unstructured.Unstructured) (Run, bool) {
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
	run := newRun("RayJob", u, outcomeOf(deployment == "Complete" && jobStatus == "SUCCEEDED"), end.Time)
	run.Start = timeAt(u.Object, "status", "startTime")
	run.SharedPods = rayJobSharesCluster(u)
	if run.SharedPods {
		run.FallbackUnknown = "it ran on a RayCluster chosen by spec.clusterSelector, whose GPUs are not its own"
		return run, true
	}
	run.FallbackGPUs, run.FallbackUnknown = rayClusterGPUs(u.Object, "spec", "rayClusterSpec")
	return run, true
}

func rayJobSharesCluster(u *unstructured.Unstructured) bool {
	sel, _ := mapAt(u.Object, "spec", "clusterSelector")
	return len(sel) > 0
}

// rayClusterGPUs is the GPUs of a RayCluster spec at path: the head's, plus, for each worker group,
// replicas (else minReplicas) x numOfHosts x the GPUs of its template.
func rayClusterGPUs(obj map[string]any, path ...string) (int64, string) {
	spec, ok := mapAt(obj, path...)
	if !ok {
		return 0, fmt.Sprintf("%s is not readable", dotted(path))
	}
	head, _ := mapAt(spec, "headGroupSpec", "template", "spec")
	gpus := specGPUs(head)
	groups, _ := sliceAt(spec, "workerGroupSpecs")
	for _, g := range groups {
		m, _ := g.(map[string]any)
		replicas, ok := intField(m, "replicas")
		if !ok {
			replicas = intAt(m, 0, "minReplicas")
		}
		podSpec, _ := mapAt(m, "template", "spec")
		gpus = count(gpus + count(replicas, intAt(m, 1, "numOfHosts"), specGPUs(podSpec)))
	}
	return gpus, ""
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
	sources = append(sources, PodSource{Child: &Child{GVK: JobGVK, Name: u.GetName(),
		Pods: func(j metav1.Object) PodSource {
			return PodSource{Labels: map[string]string{JobControllerUIDLabel: string(j.GetUID())}}
		}}})
	return sources
}

// --- reading unstructured objects without trusting them ---

func outcomeOf(succeeded bool) ftv1.RunOutcome {
	if succeeded {
		return ftv1.RunSucceeded
	}
	return ftv1.RunFailed
}

// trueCondition is the first status.conditions entry of one of types whose status is "True", with
// its lastTransitionTime; false when there is none or it has no readable time.
func trueCondition(u *unstructured.Unstructured, types ...string) (string, time.Time, bool) {
	conds, _ := sliceAt(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		typ, _ := m["type"].(string)
		if m["status"] != "True" || !slices.Contains(types, typ) {
			continue
		}
		if t := timeAt(m, "lastTransitionTime"); t != nil {
			return typ, t.Time, true
		}
	}
	return "", time.Time{}, false
}

// resumedOrCreated is when the workload's Suspended condition last turned False (it was released),
// else its creation.
func resumedOrCreated(u *unstructured.Unstructured) *metav1.Time {
	conds, _ := sliceAt(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Suspended" && m["status"] == "False" {
			if t := timeAt(m, "lastTransitionTime"); t != nil {
				return t
			}
		}
	}
	if c := u.GetCreationTimestamp(); !c.IsZero() {
		return &c
	}
	return nil
}

func dotted(path []string) string { return strings.Join(path, ".") }

// timeAt is the RFC 3339 time at path; nil when missing, not a string, or not a time.
func timeAt(obj map[string]any, path ...string) *metav1.Time {
	s, ok := fieldAt(obj, path...).(string)
	if !ok {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	return &metav1.Time{Time: t}
}

// fieldAt is the value at path, nil when any step is missing or not an object.
func fieldAt(obj map[string]any, path ...string) any {
	var v any = obj
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func mapAt(obj map[string]any, path ...string) (map[string]any, bool) {
	m, ok := fieldAt(obj, path...).(map[string]any)
	return m, ok
}

func sliceAt(obj map[string]any, path ...string) ([]any, bool) {
	s, ok := fieldAt(obj, path...).([]any)
	return s, ok
}

// intField is the whole number at path (JSON decodes numbers as int64 or float64); false when
// missing or not a whole number.
func intField(obj map[string]any, path ...string) (int64, bool) {
	switch n := fieldAt(obj, path...).(type) {
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case int:
		return int64(n), true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	}
	return 0, false
}

// intAt is intField with a default for a missing field, never negative.
func intAt(obj map[string]any, def int64, path ...string) int64 {
	n, ok := intField(obj, path...)
	if !ok {
		return def
	}
	return max(n, 0)
}

// maxCount bounds every count read from an unstructured spec (replicas, GPUs), so that no malformed
// spec overflows a product or a sum: a million GPUs is more than any cluster holds.
const maxCount = 1 << 20

// count is the product of factors, each and the result clamped to 0..maxCount.
func count(factors ...int64) int64 {
	n := int64(1)
	for _, f := range factors {
		n *= min(max(f, 0), maxCount)
		n = min(n, maxCount)
	}
	return n
}

// specGPUs is PodGPUs of an unstructured pod spec: its containers' GPU limits, else requests.
func specGPUs(spec map[string]any) int64 {
	containers, _ := sliceAt(spec, "containers")
	var n int64
	for _, c := range containers {
		m, _ := c.(map[string]any)
		res, _ := mapAt(m, "resources")
		n = count(n + resourcesGPUs(res))
	}
	return n
}

// resourcesGPUs is the GPUs of an unstructured ResourceRequirements: its limits, else requests, of
// each GPU resource; unreadable quantities count as none.
func resourcesGPUs(res map[string]any) int64 {
	var n int64
	for _, r := range GPUResources {
		q, ok := quantityAt(res, "limits", string(r))
		if !ok {
			q, ok = quantityAt(res, "requests", string(r))
		}
		if ok {
			n = count(n + count(q))
		}
	}
	return n
}

func quantityAt(obj map[string]any, path ...string) (int64, bool) {
	switch v := fieldAt(obj, path...).(type) {
	case string:
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return 0, false
		}
		return q.Value(), true
	case nil:
		return 0, false
	default:
		return intField(map[string]any{"v": v}, "v")
	}
}

// GatedParent is the controller of a workload when it is another workload of a gated kind (a
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
	if _, gated := gate.KindOf(schema.GroupKind{Group: gv.Group, Kind: c.Kind}); !gated {
		return nil
	}
	return c
}
