package actuals

import (
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func gpuSpec(res corev1.ResourceName, n string) corev1.PodSpec {
	l := corev1.ResourceList{res: resource.MustParse(n)}
	return corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Limits: l}}}}
}

func TestMeasureJob(t *testing.T) {
	done := func(j *batchv1.Job) *batchv1.Job {
		j.Status.StartTime = &metav1.Time{Time: t0}
		j.Status.CompletionTime = &metav1.Time{Time: t0.Add(time.Hour)}
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
		return j
	}
	pod := func(spec corev1.PodSpec, ran time.Duration, finished bool) corev1.Pod {
		p := corev1.Pod{Spec: spec, Status: corev1.PodStatus{StartTime: &metav1.Time{Time: t0}}}
		if finished {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: metav1.NewTime(t0.Add(ran))}}}}
		}
		return p
	}
	for name, tc := range map[string]struct {
		job     *batchv1.Job
		pods    []corev1.Pod
		seconds int64
		source  ftv1.UsageSource
		ok      bool
	}{
		"running":                     {&batchv1.Job{}, nil, 0, "", false},
		"amd and nvidia pods":         {done(&batchv1.Job{}), []corev1.Pod{pod(gpuSpec("amd.com/gpu", "2"), 30*time.Minute, true), pod(gpuSpec("nvidia.com/gpu", "1"), 10*time.Minute, true)}, 4200, ftv1.UsageSourcePods, true},
		"pod never finished: job end": {done(&batchv1.Job{}), []corev1.Pod{pod(gpuSpec("nvidia.com/gpu", "1"), 0, false)}, 3600, ftv1.UsageSourcePods, true},
		"pods gone: parallelism x template": {done(&batchv1.Job{Spec: batchv1.JobSpec{Parallelism: ptr.To[int32](3),
			Template: corev1.PodTemplateSpec{Spec: gpuSpec("nvidia.com/gpu", "2")}}}), nil, 3 * 2 * 3600, ftv1.UsageSourceWorkload, true},
		"cpu only": {done(&batchv1.Job{}), []corev1.Pod{pod(gpuSpec("cpu", "4"), time.Hour, true)}, 0, ftv1.UsageSourcePods, true},
	} {
		t.Run(name, func(t *testing.T) {
			m, ok := MeasureJob(tc.job, tc.pods)
			if ok != tc.ok || m.GPUSeconds != tc.seconds || m.Run.Source != tc.source {
				t.Errorf("got %v %d %s, want %v %d %s", ok, m.GPUSeconds, m.Run.Source, tc.ok, tc.seconds, tc.source)
			}
		})
	}
}

// TestAddIsBounded: totals cover every run; the full entries and the UIDs stay bounded.
func TestAddIsBounded(t *testing.T) {
	var a *ftv1.Actuals
	for i := range 120 {
		var err error
		a, err = Add(a, ftv1.ActualRun{UID: fmt.Sprint(i), GPUHours: "0.5", Cost: "1.25"}, "0.5")
		if err != nil {
			t.Fatal(err)
		}
	}
	if a.Runs != 120 || a.GPUHours != "60" || a.Spend != "150.00" || a.ActualToEstimatedRatio != "120" {
		t.Errorf("totals %d %s %s %s", a.Runs, a.GPUHours, a.Spend, a.ActualToEstimatedRatio)
	}
	if len(a.LastRuns) != ftv1.MaxActualRuns || a.LastRuns[9].UID != "119" || len(a.CountedRunUIDs) != ftv1.MaxCountedRunUIDs {
		t.Errorf("bounds: %d runs, last %s, %d UIDs", len(a.LastRuns), a.LastRuns[9].UID, len(a.CountedRunUIDs))
	}
	if !Counted(a, "119") || !Counted(a, "20") || Counted(a, "19") {
		t.Error("counted UIDs are the last 100")
	}
}

// Training tokens are exact at the schema's largest values: 1e9 examples x 1e7 tokens x 1000 epochs
// is 1e19, past int64.
func TestTokensDoNotOverflow(t *testing.T) {
	spec := &ftv1.FineTuneEstimateSpec{Model: "llama-7b", Method: ftv1.MethodLoRA, Training: ftv1.Training{Provider: "runpod"},
		Dataset: ftv1.Dataset{Examples: 1_000_000_000, TokensPerExample: ptr.To[int64](10_000_000), Epochs: ptr.To[int32](1000)}}
	if got := Tokens(spec); got.String() != "10000000000000000000" {
		t.Errorf("Tokens = %s, want 1e19", got)
	}
	spec.Dataset.TokensPerExample = nil
	if got := Tokens(spec); !got.IsZero() {
		t.Errorf("Tokens without tokensPerExample = %s, want 0", got)
	}
}
