package controller

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// The next accrual waits an interval after the last one (never less), and no longer: an accruedAt in the future
// (which this reconciler never writes) does not hold it back.
func TestSpendWait(t *testing.T) {
	now := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
	at := func(d time.Duration) ftv1.Release {
		return ftv1.Release{AccruedAt: &metav1.Time{Time: now.Add(d)}}
	}
	r := &SpendReconciler{}
	for _, tc := range []struct {
		name     string
		releases []ftv1.Release
		want     time.Duration
	}{
		{"never accrued", []ftv1.Release{{}}, 0},
		// accruedAt is truncated to the second: the write came up to a second after it.
		{"20 s ago", []ftv1.Release{{}, at(-20 * time.Second)}, 41 * time.Second},
		{"the latest of two", []ftv1.Release{at(-50 * time.Second), at(-10 * time.Second)}, 51 * time.Second},
		{"an interval and a second ago", []ftv1.Release{at(-time.Minute - time.Second)}, 0},
		{"in the future", []ftv1.Release{at(24 * time.Hour)}, 0},
	} {
		est := &ftv1.FineTuneEstimate{Status: ftv1.FineTuneEstimateStatus{Releases: tc.releases}}
		if got := max(r.wait(est, now), 0); got != tc.want {
			t.Errorf("%s: wait = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A running workload's GPU time so far: running pods count to now, finished ones to their
// containers' finish, pods not started yet not at all.
func TestAccruedSeconds(t *testing.T) {
	now := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
	pod := func(gpus int64, start time.Time, finished *time.Time) corev1.Pod {
		n := corev1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(gpus, resource.DecimalSI)}
		p := corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Limits: n}}}}}
		if !start.IsZero() {
			p.Status.StartTime = &metav1.Time{Time: start}
		}
		if finished != nil {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", State: corev1.ContainerState{
				Terminated: &corev1.ContainerStateTerminated{FinishedAt: metav1.NewTime(*finished)}}}}
		}
		return p
	}
	done := now.Add(-time.Hour)
	rel := &ftv1.Release{Kind: "Job", Name: "j", UID: "u", ReleasedAt: metav1.NewTime(now.Add(-100 * time.Hour))}
	pods := []corev1.Pod{
		pod(8, now.Add(-80*time.Hour), nil),  // 8 x 80 h, running
		pod(2, now.Add(-3*time.Hour), &done), // 2 x 2 h, finished
		pod(4, time.Time{}, nil),             // not started
		pod(0, now.Add(-80*time.Hour), nil),  // no GPU
	}
	if got, want := accruedSeconds(rel, pods, now), int64(8*80*3600+2*2*3600); got != want {
		t.Errorf("accruedSeconds = %d, want %d", got, want)
	}
	if got := accruedSeconds(rel, nil, now); got != 0 {
		t.Errorf("accruedSeconds without pods = %d, want 0", got)
	}
}
