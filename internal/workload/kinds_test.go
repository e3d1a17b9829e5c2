package workload

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// workload parses a YAML workload the way the API server's JSON reaches the reconciler.
func workload(t *testing.T, kind, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	u.SetKind(kind)
	u.SetName("train")
	u.SetUID("uid-1")
	u.SetCreationTimestamp(metav1.NewTime(t0))
	return u
}

// at is t0 plus minutes, in the RFC 3339 form the API server writes.
func at(minutes int) string { return t0.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339) }

func gpuContainer(res, n string) string {
	return `{"name": "c", "resources": {"` + res + `": {"nvidia.com/gpu": "` + n + `"}}}`
}

// wantRun is what a kind reads from a workload: "" outcome means not finished.
type wantRun struct {
	outcome      ftv1.RunOutcome
	start, end   int // minutes after t0; start -1: none
	fallbackGPUs int64
	unknown      string // a substring of FallbackUnknown
	shared       bool
}

func checkRuns(t *testing.T, kindName string, cases map[string]struct {
	doc  string
	want wantRun
}) {
	t.Helper()
	k := kind(t, kindName)
	for name, tc := range cases {
		t.Run(kindName+"/"+name, func(t *testing.T) {
			run, ok := k.Finished(workload(t, kindName, tc.doc))
			if tc.want.outcome == "" {
				if ok {
					t.Fatalf("finished: %+v", run)
				}
				return
			}
			if !ok {
				t.Fatal("not finished")
			}
			var start *metav1.Time
			if tc.want.start >= 0 {
				start = ptr.To(metav1.NewTime(t0.Add(time.Duration(tc.want.start) * time.Minute)))
			}
			want := Run{Kind: kindName, Name: "train", UID: "uid-1", Outcome: tc.want.outcome, Start: start,
				End: t0.Add(time.Duration(tc.want.end) * time.Minute), FallbackGPUs: tc.want.fallbackGPUs, SharedPods: tc.want.shared}
			got := run
			got.FallbackUnknown = ""
			if !got.Start.Equal(want.Start) || !got.End.Equal(want.End) {
				t.Errorf("start %v end %v, want %v %v", got.Start, got.End, want.Start, want.End)
			}
			got.Start, got.End, want.Start, want.End = nil, time.Time{}, nil, time.Time{}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
			if tc.want.unknown == "" && run.FallbackUnknown != "" || !strings.Contains(run.FallbackUnknown, tc.want.unknown) {
				t.Errorf("FallbackUnknown %q, want %q", run.FallbackUnknown, tc.want.unknown)
			}
		})
	}
}

type runCases = map[string]struct {
	doc  string
	want wantRun
}

func TestJobSetRun(t *testing.T) {
	spec := `spec: {replicatedJobs: [
  {name: workers, replicas: 2, template: {spec: {parallelism: 2, template: {spec: {containers: [` + gpuContainer("limits", "4") + `]}}}}},
  {name: driver, template: {spec: {template: {spec: {containers: [` + gpuContainer("requests", "1") + `, {name: cpu}]}}}}}]}
`
	checkRuns(t, "JobSet", runCases{
		"running": {spec + `status: {conditions: [{type: StartupPolicyCompleted, status: "True", lastTransitionTime: "` + at(5) + `"}]}`, wantRun{}},
		"completed after its release": {spec + `status: {terminalState: Completed, conditions: [
  {type: Suspended, status: "False", reason: ResumeJobs, lastTransitionTime: "` + at(10) + `"},
  {type: Completed, status: "True", lastTransitionTime: "` + at(60) + `"}]}`,
			wantRun{outcome: ftv1.RunSucceeded, start: 10, end: 60, fallbackGPUs: 2*2*4 + 1}},
		"failed, never suspended: from its creation": {spec + `status: {conditions: [{type: Failed, status: "True", lastTransitionTime: "` + at(30) + `"}]}`,
			wantRun{outcome: ftv1.RunFailed, start: 0, end: 30, fallbackGPUs: 17}},
		"completed False": {spec + `status: {conditions: [{type: Completed, status: "False", lastTransitionTime: "` + at(30) + `"}]}`, wantRun{}},
		"no replicatedJobs": {`status: {conditions: [{type: Completed, status: "True", lastTransitionTime: "` + at(30) + `"}]}`,
			wantRun{outcome: ftv1.RunSucceeded, end: 30, unknown: "spec.replicatedJobs is not readable"}},
	})
}

func TestTrainJobRun(t *testing.T) {
	done := `status: {conditions: [{type: Suspended, status: "False", reason: Resumed, lastTransitionTime: "` + at(2) + `"},
  {type: Complete, status: "True", lastTransitionTime: "` + at(90) + `"}]}`
	checkRuns(t, "TrainJob", runCases{
		"running":  {`spec: {trainer: {numNodes: 2}}`, wantRun{}},
		"complete": {`spec: {trainer: {numNodes: 4, resourcesPerNode: {limits: {nvidia.com/gpu: 8, cpu: 16}}}}` + "\n" + done, wantRun{outcome: ftv1.RunSucceeded, start: 2, end: 90, fallbackGPUs: 32}},
		"failed": {`spec: {trainer: {numNodes: 1, resourcesPerNode: {requests: {amd.com/gpu: "2"}}}}
status: {conditions: [{type: Failed, status: "True", lastTransitionTime: "` + at(9) + `"}]}`, wantRun{outcome: ftv1.RunFailed, start: 0, end: 9, fallbackGPUs: 2}},
		"GPUs left to the runtime": {`spec: {runtimeRef: {name: torch-distributed}}` + "\n" + done,
			wantRun{outcome: ftv1.RunSucceeded, start: 2, end: 90, unknown: "its runtime does"}},
		"only CPU per node": {`spec: {trainer: {numNodes: 2, resourcesPerNode: {limits: {cpu: 16}}}}` + "\n" + done,
			wantRun{outcome: ftv1.RunSucceeded, start: 2, end: 90, unknown: "names no GPUs"}},
	})
}

func TestPyTorchJobRun(t *testing.T) {
	spec := `spec: {pytorchReplicaSpecs: {
  Master: {replicas: 1, template: {spec: {containers: [` + gpuContainer("limits", "2") + `]}}},
  Worker: {replicas: 3, template: {spec: {containers: [` + gpuContainer("limits", "2") + `]}}}}}
`
	checkRuns(t, "PyTorchJob", runCases{
		"running": {spec + `status: {startTime: "` + at(1) + `", conditions: [{type: Created, status: "True", lastTransitionTime: "` + at(0) + `"},
  {type: Running, status: "True", lastTransitionTime: "` + at(1) + `"}]}`, wantRun{}},
		"succeeded at completionTime": {spec + `status: {startTime: "` + at(1) + `", completionTime: "` + at(45) + `", conditions: [
  {type: Running, status: "False", lastTransitionTime: "` + at(44) + `"}, {type: Succeeded, status: "True", lastTransitionTime: "` + at(46) + `"}]}`,
			wantRun{outcome: ftv1.RunSucceeded, start: 1, end: 45, fallbackGPUs: 8}},
		"failed, no completionTime": {spec + `status: {startTime: "` + at(1) + `", conditions: [{type: Failed, status: "True", lastTransitionTime: "` + at(20) + `"}]}`,
			wantRun{outcome: ftv1.RunFailed, start: 1, end: 20, fallbackGPUs: 8}},
		"failed before it started": {spec + `status: {conditions: [{type: Failed, status: "True", lastTransitionTime: "` + at(20) + `"}]}`,
			wantRun{outcome: ftv1.RunFailed, start: -1, end: 20, fallbackGPUs: 8}},
	})
}

func TestRayJobRun(t *testing.T) {
	cluster := `spec: {rayClusterSpec: {headGroupSpec: {template: {spec: {containers: [{name: head}]}}},
  workerGroupSpecs: [{groupName: a, replicas: 2, numOfHosts: 2, template: {spec: {containers: [` + gpuContainer("limits", "1") + `]}}},
                     {groupName: b, minReplicas: 1, template: {spec: {containers: [` + gpuContainer("limits", "4") + `]}}}]}}
`
	status := func(deployment, job string) string {
		return `status: {jobDeploymentStatus: ` + deployment + `, jobStatus: "` + job + `", rayClusterName: train-x7k2p, startTime: "` + at(3) + `", endTime: "` + at(33) + `"}`
	}
	checkRuns(t, "RayJob", runCases{
		"running":               {cluster + `status: {jobDeploymentStatus: Running, jobStatus: RUNNING, startTime: "` + at(3) + `"}`, wantRun{}},
		"complete, succeeded":   {cluster + status("Complete", "SUCCEEDED"), wantRun{outcome: ftv1.RunSucceeded, start: 3, end: 33, fallbackGPUs: 2*2*1 + 1*1*4}},
		"complete, stopped":     {cluster + status("Complete", "STOPPED"), wantRun{outcome: ftv1.RunFailed, start: 3, end: 33, fallbackGPUs: 8}},
		"deployment failed":     {cluster + status("Failed", ""), wantRun{outcome: ftv1.RunFailed, start: 3, end: 33, fallbackGPUs: 8}},
		"retrying":              {cluster + status("Retrying", "FAILED"), wantRun{}},
		"complete, no end time": {cluster + `status: {jobDeploymentStatus: Complete, jobStatus: SUCCEEDED, startTime: "` + at(3) + `"}`, wantRun{}},
		"end time from the Ray job": {cluster + `status: {jobDeploymentStatus: Complete, jobStatus: SUCCEEDED, rayJobInfo: {endTime: "` + at(40) + `"}}`,
			wantRun{outcome: ftv1.RunSucceeded, start: -1, end: 40, fallbackGPUs: 8}},
		"shared cluster": {`spec: {clusterSelector: {ray.io/cluster: shared}}` + "\n" + status("Complete", "SUCCEEDED"),
			wantRun{outcome: ftv1.RunSucceeded, start: 3, end: 33, shared: true, unknown: "clusterSelector"}},
	})
}

// TestPodSources: where each kind's pods are; pods labelled by name only are kept when the
// workload (or its child) controls them.
func TestPodSources(t *testing.T) {
	jobSet := kind(t, "JobSet").Pods(workload(t, "JobSet", `{}`))
	if len(jobSet) != 1 || jobSet[0].Labels[JobSetUIDLabel] != "uid-1" || jobSet[0].ControlledBy != "" {
		t.Errorf("JobSet: %+v", jobSet)
	}
	pt := kind(t, "PyTorchJob").Pods(workload(t, "PyTorchJob", `{}`))
	if len(pt) != 1 || pt[0].Labels[PyTorchJobNameLabel] != "train" || pt[0].Labels[PyTorchOperatorLabel] != "pytorchjob-controller" || pt[0].ControlledBy != "uid-1" {
		t.Errorf("PyTorchJob: %+v", pt)
	}
	child := &metav1.ObjectMeta{Name: "train-x7k2p", UID: "child-uid"}
	tj := kind(t, "TrainJob").Pods(workload(t, "TrainJob", `{}`))
	if len(tj) != 1 || tj[0].Child == nil || tj[0].Child.GVK != JobSetGVK || tj[0].Child.Name != "train" || tj[0].Child.Shared ||
		tj[0].Child.Pods(child).Labels[JobSetUIDLabel] != "child-uid" {
		t.Errorf("TrainJob: %+v", tj)
	}
	ray := kind(t, "RayJob").Pods(workload(t, "RayJob", `status: {rayClusterName: train-x7k2p}`))
	if len(ray) != 2 || ray[0].Child.GVK != RayClusterGVK || ray[0].Child.Name != "train-x7k2p" || ray[0].Child.Shared ||
		ray[1].Child.GVK != Job.GVK || ray[1].Child.Name != "train" {
		t.Fatalf("RayJob: %+v", ray)
	}
	if src := ray[0].Child.Pods(child); src.Labels[RayClusterLabel] != "train-x7k2p" || src.ControlledBy != "child-uid" {
		t.Errorf("RayJob cluster pods: %+v", src)
	}
	if src := ray[1].Child.Pods(child); src.Labels[JobControllerUIDLabel] != "child-uid" || src.ControlledBy != "" {
		t.Errorf("RayJob submitter pods: %+v", src)
	}
	shared := kind(t, "RayJob").Pods(workload(t, "RayJob", `{spec: {clusterSelector: {a: b}}, status: {rayClusterName: shared}}`))
	if !shared[0].Child.Shared {
		t.Error("a cluster chosen by clusterSelector is shared")
	}
	if notYet := kind(t, "RayJob").Pods(workload(t, "RayJob", `{}`)); len(notYet) != 1 || notYet[0].Child.GVK != Job.GVK {
		t.Errorf("RayJob without a cluster: %+v", notYet)
	}

	owned := func(uid types.UID) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: string(uid), OwnerReferences: []metav1.OwnerReference{
			{UID: "other", Controller: ptr.To(false)}, {UID: uid, Controller: ptr.To(true)}}}}
	}
	pods := []corev1.Pod{owned("uid-1"), owned("uid-2"), {ObjectMeta: metav1.ObjectMeta{Name: "orphan"}}}
	if kept := pt[0].Keep(pods); len(kept) != 1 || kept[0].Name != "uid-1" {
		t.Errorf("kept %v", kept)
	}
	if kept := jobSet[0].Keep(pods); len(kept) != 3 {
		t.Errorf("a UID label needs no owner check: kept %d", len(kept))
	}
	for src, want := range map[*PodSource]bool{
		{Labels: map[string]string{"a": "b"}}: true,
		{}:                                    false,
		{Labels: map[string]string{"a": ""}}:  false,
		{Labels: map[string]string{"a": strings.Repeat("x", 64)}}: false,
		{Labels: map[string]string{"a b": "c"}}:                   false,
	} {
		if src.Selects() != want {
			t.Errorf("%v selects: %v", src.Labels, !want)
		}
	}
}

// FuzzWorkloads: no workload, however malformed, makes a kind panic, and what it reads is sane.
func FuzzWorkloads(f *testing.F) {
	for _, s := range []string{
		`{"status": {"conditions": [{"type": "Completed", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}`,
		`{"spec": {"replicatedJobs": [{"replicas": -3, "template": {"spec": {"parallelism": 1.5, "template": {"spec": {"containers": [{"resources": {"limits": {"nvidia.com/gpu": "1e30"}}}]}}}}}]}}`,
		`{"spec": {"pytorchReplicaSpecs": {"Worker": null, "Master": {"replicas": "2"}}}, "status": {"conditions": [{"type": "Failed", "status": "True", "lastTransitionTime": 7}]}}`,
		`{"spec": {"trainer": {"numNodes": 2, "resourcesPerNode": {"limits": {"nvidia.com/gpu": {"x": 1}}}}}, "status": {"conditions": [null, "x", {"type": "Complete", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}`,
		`{"spec": {"rayClusterSpec": {"workerGroupSpecs": [{"replicas": 2, "template": []}], "headGroupSpec": 3}}, "status": {"jobDeploymentStatus": "Complete", "endTime": "2026-01-01T00:00:00Z", "rayClusterName": 5}}`,
		`{"status": "done", "spec": []}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		obj := map[string]any{}
		if err := json.Unmarshal([]byte(doc), &obj); err != nil {
			return
		}
		for _, k := range Kinds {
			u := (&unstructured.Unstructured{Object: obj}).DeepCopy()
			for _, src := range k.Pods(u) {
				if src.Child != nil {
					src = src.Child.Pods(&metav1.ObjectMeta{Name: "c", UID: "c"})
				}
				_ = src.Selects()
			}
			run, ok := k.Finished(u)
			if !ok {
				continue
			}
			if run.Outcome != ftv1.RunSucceeded && run.Outcome != ftv1.RunFailed {
				t.Errorf("%s: outcome %q", k.GVK.Kind, run.Outcome)
			}
			if run.FallbackGPUs < 0 {
				t.Errorf("%s: %d GPUs", k.GVK.Kind, run.FallbackGPUs)
			}
			if a := k.Accelerators(u); a.GPUs < 0 || a.Unknown != "" && a.GPUs != 0 {
				t.Errorf("%s: accelerators %+v", k.GVK.Kind, a)
			}
		}
	})
}

// TestGatedParent: a workload run by a gated kind names its parent.
func TestGatedParent(t *testing.T) {
	owned := func(apiVersion, kind string, controller bool) *metav1.ObjectMeta {
		return &metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: "p", UID: "p", Controller: ptr.To(controller)}}}
	}
	for o, want := range map[*metav1.ObjectMeta]bool{
		owned("trainer.kubeflow.org/v1alpha1", "TrainJob", true): true, // a TrainJob's JobSet
		owned("ray.io/v1", "RayJob", true):                       true, // a RayJob's submitter Job
		owned("jobset.x-k8s.io/v1alpha2", "JobSet", true):        true, // a JobSet's Jobs
		owned("batch/v1", "CronJob", true):                       false,
		owned("ray.io/v1", "RayJob", false):                      false, // not its controller
		owned("not/a/version", "RayJob", true):                   false,
		{}:                                                       false,
	} {
		if got := GatedParent(o) != nil; got != want {
			t.Errorf("%v: %v", o.OwnerReferences, got)
		}
	}
}

func TestJobRun(t *testing.T) {
	tmpl := `spec: {parallelism: 3, template: {spec: {containers: [` + gpuContainer("limits", "2") + `]}}}
`
	checkRuns(t, "Job", runCases{
		"running": {tmpl + `status: {startTime: "` + at(1) + `", active: 3}`, wantRun{}},
		"complete at completionTime": {tmpl + `status: {startTime: "` + at(1) + `", completionTime: "` + at(61) + `", conditions: [
  {type: SuccessCriteriaMet, status: "True", lastTransitionTime: "` + at(60) + `"}, {type: Complete, status: "True", lastTransitionTime: "` + at(62) + `"}]}`,
			wantRun{outcome: ftv1.RunSucceeded, start: 1, end: 61, fallbackGPUs: 6}},
		"complete, no completionTime": {tmpl + `status: {startTime: "` + at(1) + `", conditions: [{type: Complete, status: "True", lastTransitionTime: "` + at(62) + `"}]}`,
			wantRun{outcome: ftv1.RunSucceeded, start: 1, end: 62, fallbackGPUs: 6}},
		"failed at the condition": {tmpl + `status: {startTime: "` + at(1) + `", completionTime: "` + at(61) + `", conditions: [{type: Failed, status: "True", lastTransitionTime: "` + at(30) + `"}]}`,
			wantRun{outcome: ftv1.RunFailed, start: 1, end: 30, fallbackGPUs: 6}},
		"failed False": {tmpl + `status: {conditions: [{type: Failed, status: "False", lastTransitionTime: "` + at(30) + `"}]}`, wantRun{}},
		"failed before it started": {tmpl + `status: {conditions: [{type: Failed, status: "True", lastTransitionTime: "` + at(30) + `"}]}`,
			wantRun{outcome: ftv1.RunFailed, start: -1, end: 30, fallbackGPUs: 6}},
	})
}
