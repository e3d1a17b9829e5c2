package controller_test

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/manager"
	"github.com/ftcost/ftcost/internal/testenv"
)

// podRun is a pod of a run: its GPUs and how long it ran.
type podRun struct {
	gpus int64
	ran  time.Duration
}

// finishJob creates a labelled Job whose pods ran as given (envtest has no kubelet and no Job
// controller: the test writes their status), then completes or fails it after took.
func finishJob(g Gomega, ns, name, estimate string, pods []podRun, took time.Duration, failed bool) *batchv1.Job {
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	gpus := corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("2")}
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{gate.EstimateLabel: estimate}},
		Spec: batchv1.JobSpec{Parallelism: ptr.To[int32](1), BackoffLimit: ptr.To[int32](0), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "train", Image: "trainer:1",
				Resources: corev1.ResourceRequirements{Limits: gpus, Requests: gpus}}}}}},
	}
	g.Expect(env.Client.Create(ctx, j)).To(Succeed())
	for i, p := range pods {
		n := corev1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(p.gpus, resource.DecimalSI)}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", name, i), Namespace: ns, Labels: map[string]string{
				"batch.kubernetes.io/controller-uid": string(j.UID), "batch.kubernetes.io/job-name": name}},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, AutomountServiceAccountToken: ptr.To(false),
				Containers: []corev1.Container{{Name: "train", Image: "trainer:1", Resources: corev1.ResourceRequirements{Limits: n, Requests: n}}}},
		}
		g.Expect(env.Client.Create(ctx, pod)).To(Succeed())
		pod.Status = corev1.PodStatus{Phase: corev1.PodSucceeded, StartTime: &metav1.Time{Time: start},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "train", Image: "trainer:1", State: corev1.ContainerState{
				Terminated: &corev1.ContainerStateTerminated{StartedAt: metav1.NewTime(start), FinishedAt: metav1.NewTime(start.Add(p.ran))}}}}}
		g.Expect(env.Client.Status().Update(ctx, pod)).To(Succeed())
	}
	end := metav1.NewTime(start.Add(took))
	j.Status = batchv1.JobStatus{StartTime: &metav1.Time{Time: start}}
	if failed {
		j.Status.Failed = 1
		j.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", LastTransitionTime: end},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", LastTransitionTime: end}}
	} else {
		j.Status.Succeeded, j.Status.CompletionTime = 1, &end
		j.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: end},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: end}}
	}
	g.Expect(env.Client.Status().Update(ctx, j)).To(Succeed())
	return j
}

func runsRecorded(g Gomega, k types.NamespacedName, n int32) *ftv1.FineTuneEstimate {
	return estimated(g, k, func(o *ftv1.FineTuneEstimate) bool { return o.Status.Actuals != nil && o.Status.Actuals.Runs == n })
}

// TestActualsAndCalibration: four gated Jobs finish, three from their pods' status and a failed one
// whose pods are gone; each is counted once, to the cent, with Events and metrics; a restarted
// manager counts nothing twice; and a Calibrated estimate of the same model, method and GPU moves
// from the FLOPs model to the measured throughput once three runs are in.
func TestActualsAndCalibration(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	pc := testenv.SmallCatalog("actuals")
	create(g, t, env.Client, pc)
	obj := supportBot(ns, "tuned")
	obj.Spec.PriceCatalogRef = pc.Name
	obj.Spec.Dataset.TokensPerExample = ptr.To[int64](500) // 5,000,000 training tokens
	obj.Spec.Training.Estimator = ftv1.EstimatorFLOPs
	obj.Spec.Budget = &ftv1.Budget{MaxUpfrontCost: dec("5")}
	create(g, t, env.Client, obj)
	calibrated := supportBot(ns, "calibrated")
	calibrated.Spec.PriceCatalogRef = pc.Name
	calibrated.Spec.Dataset.TokensPerExample = ptr.To[int64](500)
	calibrated.Spec.Training.Estimator = ftv1.EstimatorCalibrated
	create(g, t, env.Client, calibrated)
	got := estimated(g, key(calibrated), ready)
	g.Expect(got.Status.Estimator).To(Equal(ftv1.EstimatorFLOPs), "no run measured yet")
	g.Expect(got.Status.Calibration.Message).To(ContainSubstring("no throughput has been measured"))
	est := estimated(g, key(obj), ready)
	g.Expect(est.Status.PricePerGPUHour).To(Equal("2.49"))
	g.Expect(est.Status.GPUType).To(Equal("H100"))

	// 2 GPUs x 37 min 12 s = 1.24 GPU-hours = 3.0876 USD at 2.49.
	finishJob(g, ns, "run-a", obj.Name, []podRun{{2, 37*time.Minute + 12*time.Second}}, 38*time.Minute, false)
	est = runsRecorded(g, key(obj), 1)
	a := est.Status.Actuals
	g.Expect(a.GPUHours).To(Equal("1.24"))
	g.Expect(a.Spend).To(Equal("3.09"))
	run := a.LastRuns[0]
	g.Expect(run.Kind).To(Equal("Job"))
	g.Expect([]any{run.Name, run.Outcome, run.Source, run.Cost, run.ThroughputProfile}).To(Equal(
		[]any{"run-a", ftv1.RunSucceeded, ftv1.UsageSourcePods, "3.09", "llama-13b.lora.h100"}))
	g.Expect(meta.IsStatusConditionTrue(est.Status.Conditions, ftv1.ConditionActualSpendWithinBudget)).To(BeTrue())

	// 2 GPUs x 36 min = 1.2 GPU-hours, 2.99; two pods of 1 GPU, 40 and 38 min = 1.3, 3.24.
	finishJob(g, ns, "run-b", obj.Name, []podRun{{2, 36 * time.Minute}}, 37*time.Minute, false)
	runsRecorded(g, key(obj), 2)
	finishJob(g, ns, "run-c", obj.Name, []podRun{{1, 40 * time.Minute}, {1, 38 * time.Minute}}, 41*time.Minute, false)
	runsRecorded(g, key(obj), 3)
	// Failed, its pods gone: 10 min x parallelism 1 x 2 GPUs of the template = 0.333333, 0.83.
	finishJob(g, ns, "run-d", obj.Name, nil, 10*time.Minute, true)
	est = runsRecorded(g, key(obj), 4)
	a = est.Status.Actuals
	g.Expect([]string{a.GPUHours, a.Spend}).To(Equal([]string{"4.073333", "10.15"}))
	d := a.LastRuns[3]
	g.Expect([]any{d.Outcome, d.Source, d.GPUHours, d.Cost, d.ThroughputProfile}).To(Equal(
		[]any{ftv1.RunFailed, ftv1.UsageSourceWorkload, "0.333333", "0.83", ""}))
	spend := meta.FindStatusCondition(est.Status.Conditions, ftv1.ConditionActualSpendWithinBudget)
	g.Expect(spend.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(spend.Reason).To(Equal(ftv1.ReasonSpendOverBudget))
	// The spend past the budget withdraws the approval: no more work is released on the estimate.
	over := estimated(g, key(obj), approvedReason(ftv1.ReasonSpendOverBudget))
	g.Expect(approved(over).Message).To(ContainSubstring("Actual spend 10.15 USD over 4 runs is above spec.budget.maxUpfrontCost 5.00"))
	// FLOPs estimated 0.182564 GPU-hours a run: every run is outside its band, and 4.073333 is 22.3 runs' worth.
	g.Expect([]string{est.Status.GPUHours, a.LastRuns[0].ErrorPercent, a.ActualToEstimatedRatio}).To(Equal([]string{"0.182564", "+579", "22.3118"}))

	// One Event per run, with the estimate's figure; a Warning for each outside the band.
	g.Eventually(func(g Gomega) {
		notes := eventNotes(g, ns, obj.Name)
		g.Expect(notes).To(ContainElement(fmt.Sprintf("Job run-a Succeeded: actual 1.24 GPU-hours vs %s estimated, %s%%, cost 3.09 USD; spent 3.09 over 1 runs",
			est.Status.GPUHours, a.LastRuns[0].ErrorPercent)))
		g.Expect(notes).To(ContainElement(ContainSubstring("Job run-d Failed: actual 0.333333 GPU-hours")))
		g.Expect(notes).To(ContainElement(ContainSubstring("outside the estimate's band")))
	}).WithTimeout(timeout).Should(Succeed())

	// Metrics: the spend, and one error ratio per run.
	g.Expect(gauge(g, "ftcost_estimate_actual_spend_usd", ns, obj.Name)).To(HaveValue(BeNumerically("==", 10.15)))
	g.Expect(histogramCount(g, "ftcost_estimate_error_ratio")).To(BeNumerically("==", 4))

	// The profile holds the three successful runs: 5,000,000 tokens over 4464, 4320 and 4680
	// GPU-seconds, 1120.0717, 1157.4074 and 1068.3761 tokens per GPU-second.
	prof := &ftv1.ThroughputProfile{}
	g.Expect(env.Client.Get(ctx, types.NamespacedName{Name: "llama-13b.lora.h100"}, prof)).To(Succeed())
	g.Expect([]any{prof.Status.Samples, prof.Status.TokensPerGPUSecond, prof.Status.SpreadPercent}).To(Equal([]any{int64(3), "1115.2851", "4"}))

	// The Calibrated estimate now divides its tokens by the measured throughput, with its spread.
	got = estimated(g, key(calibrated), func(o *ftv1.FineTuneEstimate) bool { return o.Status.Estimator == ftv1.EstimatorCalibrated })
	g.Expect(got.Status.Calibration.ThroughputProfile).To(Equal("llama-13b.lora.h100"))
	g.Expect(got.Status.Calibration.Samples).To(BeEquivalentTo(3))
	// The median of the namespace's three runs: 5,000,000 / 1120.0717 / 3600 = 1.24 GPU-hours, +/-4%.
	g.Expect([]string{got.Status.GPUHours, got.Status.GPUHoursLow, got.Status.GPUHoursHigh}).To(Equal([]string{"1.24", "1.1904", "1.2896"}))

	// A restart: a second manager lists the four finished Jobs again and counts none of them.
	mgr, err := manager.New(ctx, operatorConfig, manager.Options{MetricsAddr: "0", ProbeAddr: "0", QPS: 50, Burst: 100,
		Concurrency: 1, Registry: prometheus.NewRegistry(), SkipNameValidation: true})
	g.Expect(err).NotTo(HaveOccurred())
	stop, err := testenv.RunManager(ctx, mgr)
	g.Expect(err).NotTo(HaveOccurred())
	defer stop()
	g.Consistently(func(g Gomega) {
		cur := &ftv1.FineTuneEstimate{}
		g.Expect(env.Client.Get(ctx, key(obj), cur)).To(Succeed())
		g.Expect(cur.Status.Actuals.Runs).To(BeEquivalentTo(4))
		g.Expect(cur.Status.Actuals.Spend).To(Equal("10.15"))
		g.Expect(env.Client.Get(ctx, key(prof), prof)).To(Succeed())
		g.Expect(prof.Status.Samples).To(BeEquivalentTo(3))
	}).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())

	// Poisoning: a run in another namespace that claims 100 times the examples it trained on joins
	// the cluster's profile, and moves nothing here: this namespace calibrates on its own runs.
	sandbox := namespace(t)
	claim := supportBot(sandbox, "claims")
	claim.Spec.PriceCatalogRef = pc.Name
	claim.Spec.Dataset.Examples, claim.Spec.Dataset.TokensPerExample = 1_000_000, ptr.To[int64](500)
	create(g, t, env.Client, claim)
	estimated(g, key(claim), ready)
	finishJob(g, sandbox, "claimed", claim.Name, []podRun{{2, 36 * time.Minute}}, 37*time.Minute, false)
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(prof), prof)).To(Succeed())
		g.Expect(prof.Status.Samples).To(BeEquivalentTo(4))
		g.Expect(prof.Status.RecentRuns[3].Namespace).To(Equal(sandbox))
	}).WithTimeout(timeout).Should(Succeed())
	g.Consistently(func(g Gomega) {
		cur := &ftv1.FineTuneEstimate{}
		g.Expect(env.Client.Get(ctx, key(calibrated), cur)).To(Succeed())
		g.Expect(cur.Status.GPUHours).To(Equal("1.24"))
		g.Expect(cur.Status.Calibration.Samples).To(BeEquivalentTo(3))
	}).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
}

// histogramCount is the sample count of a histogram in the suite's registry, all labels summed.
func histogramCount(g Gomega, metric string) uint64 {
	families, err := registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	var n uint64
	for _, f := range families {
		if f.GetName() == metric {
			for _, m := range f.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}
