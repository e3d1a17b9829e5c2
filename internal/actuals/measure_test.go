package actuals

import (
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/workload"
)

// MeasureJob measures a finished Job as the actuals reconciler does (read as unstructured, by
// workload.Job); ok is false while the Job runs.
func MeasureJob(j *batchv1.Job, pods []corev1.Pod) (Measured, bool) {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(j)
	if err != nil {
		panic(err)
	}
	run, ok := workload.Job.Finished(&unstructured.Unstructured{Object: obj})
	if !ok {
		return Measured{}, false
	}
	return Measure(run, pods), true
}

// TestMeasureRuns: a run is measured from its pods, else from its spec; a shared cluster's pods
// count from the run's start; unknown GPUs are said.
func TestMeasureRuns(t *testing.T) {
	pod := func(gpus string, from, to int) corev1.Pod {
		return corev1.Pod{Spec: gpuSpec("nvidia.com/gpu", gpus), Status: corev1.PodStatus{StartTime: ptr.To(metav1.NewTime(t0.Add(time.Duration(from) * time.Minute))),
			ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				FinishedAt: metav1.NewTime(t0.Add(time.Duration(to) * time.Minute))}}}}}}
	}
	start := ptr.To(metav1.NewTime(t0.Add(10 * time.Minute)))
	run := workload.Run{Kind: "RayJob", Name: "train", UID: "u", Outcome: ftv1.RunSucceeded, Start: start, End: t0.Add(70 * time.Minute), FallbackGPUs: 3}
	shared := run
	shared.SharedPods = true
	for name, tc := range map[string]struct {
		run        workload.Run
		pods       []corev1.Pod
		seconds    int64
		source     ftv1.UsageSource
		unmeasured string
	}{
		// The cluster was up before the job: 4 GPUs x 80 min, plus 1 GPU x 60 min.
		"own pods":                    {run, []corev1.Pod{pod("4", 0, 80), pod("1", 10, 70)}, 4*70*60 + 60*60, ftv1.UsageSourcePods, ""},
		"shared pods: from the start": {shared, []corev1.Pod{pod("4", 0, 80), pod("1", 10, 70)}, 4*60*60 + 60*60, ftv1.UsageSourcePods, ""},
		"pods gone: fallback":         {run, nil, 3 * 60 * 60, ftv1.UsageSourceWorkload, ""},
		// KubeRay keeps the submitter's pod for its logs; the cluster's GPU pods went with the cluster.
		"only a pod without GPUs left: fallback": {run, []corev1.Pod{pod("0", 10, 70)}, 3 * 60 * 60, ftv1.UsageSourceWorkload, ""},
		"only a pod without GPUs left, GPUs unknown": {workload.Run{Start: start, End: run.End, FallbackUnknown: "the shared cluster's size is unknown"},
			[]corev1.Pod{pod("0", 10, 70)}, 0, ftv1.UsageSourceWorkload, "the shared cluster's size is unknown"},
		"pods without GPUs and none asked": {workload.Run{Start: start, End: run.End}, []corev1.Pod{pod("0", 10, 70)}, 0, ftv1.UsageSourcePods, ""},
		"pods gone, GPUs unknown":          {workload.Run{Start: start, End: run.End, FallbackUnknown: "spec.trainer does not state"}, nil, 0, ftv1.UsageSourceWorkload, "its pods are gone and spec.trainer does not state"},
		"pods gone, no start":              {workload.Run{End: run.End, FallbackGPUs: 3}, nil, 0, ftv1.UsageSourceWorkload, "no start time"},
	} {
		t.Run(name, func(t *testing.T) {
			m := Measure(tc.run, tc.pods)
			if m.GPUSeconds != tc.seconds || m.Run.Source != tc.source || !strings.Contains(m.Unmeasured, tc.unmeasured) || (tc.unmeasured == "") != (m.Unmeasured == "") {
				t.Errorf("got %d %s %q, want %d %s %q", m.GPUSeconds, m.Run.Source, m.Unmeasured, tc.seconds, tc.source, tc.unmeasured)
			}
		})
	}

	// An unmeasured run is priced at 0, with no error against the estimate.
	m := Measure(workload.Run{Kind: "TrainJob", End: t0, FallbackUnknown: "x"}, nil)
	_, hasRatio, err := Price(&m, &ftv1.FineTuneEstimateStatus{PricePerGPUHour: "2.49", GPUHours: "1"})
	if err != nil || hasRatio || m.Run.ErrorPercent != "" || m.Run.Cost != "0.00" || m.Run.GPUHours != "0" {
		t.Errorf("unmeasured priced: %v %v %+v", err, hasRatio, m.Run)
	}
}
