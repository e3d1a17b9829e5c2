package controller_test

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/controller"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/testenv"
)

// suspendedJob creates a labelled Job stored suspended (as config/vap's policy stores one), of
// parallelism pods of gpus GPUs each, pinned to the GPU product of nodeSelector when it is set.
func suspendedJob(g Gomega, t *testing.T, ns, name, estimate string, parallelism int32, gpus int64, product string) *batchv1.Job {
	t.Helper()
	n := corev1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(gpus, resource.DecimalSI)}
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{gate.EstimateLabel: estimate}},
		Spec: batchv1.JobSpec{Suspend: ptr.To(true), Parallelism: ptr.To(parallelism), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "train", Image: "trainer:1",
				Resources: corev1.ResourceRequirements{Limits: n, Requests: n}}}}}},
	}
	if product != "" {
		j.Spec.Template.Spec.NodeSelector = map[string]string{"nvidia.com/gpu.product": product}
	}
	create(g, t, env.Client, j)
	return j
}

// gated waits until the gate has said something of j and returns j as it is then.
func gated(g Gomega, j *batchv1.Job, done func(*batchv1.Job) bool) *batchv1.Job {
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(j), j)).To(Succeed())
		g.Expect(done(j)).To(BeTrue(), "suspend=%v annotations=%v", ptr.Deref(j.Spec.Suspend, false), j.Annotations)
	}).WithTimeout(timeout).Should(Succeed())
	return j
}

func heldSaying(msg string) func(*batchv1.Job) bool {
	return func(j *batchv1.Job) bool {
		return ptr.Deref(j.Spec.Suspend, false) && j.Annotations[gate.GateAnnotation] == gate.GateHeld &&
			strings.Contains(j.Annotations[gate.GateMessageAnnotation], msg)
	}
}

func releasedJob(j *batchv1.Job) bool {
	return !ptr.Deref(j.Spec.Suspend, true) && j.Annotations[gate.GateAnnotation] == gate.GateReleased
}

// An estimate Approved for 1 H100 releases only what fits that plan: a Job asking for 64 GPUs, or
// pinned to another GPU, is held with both figures named; one that fits is released, and the
// release is recorded on the estimate (generation, GPUs, spend cap) and on the Job.
func TestGateSizesAgainstThePlan(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	obj := supportBot(ns, "one-gpu")
	create(g, t, env.Client, obj)
	est := estimated(g, key(obj), approvedReason(ftv1.ReasonApproved))
	g.Expect([]any{est.Status.GPUCount, est.Status.GPUType}).To(Equal([]any{int32(1), "H100"}))

	big := suspendedJob(g, t, ns, "sixty-four", obj.Name, 8, 8, "")
	gated(g, big, heldSaying("the workload asks for 64 GPUs; FineTuneEstimate "+ns+"/one-gpu is Approved for 1 H100 GPUs"))
	other := suspendedJob(g, t, ns, "on-an-a100", obj.Name, 1, 1, "NVIDIA-A100-SXM4-80GB")
	gated(g, other, heldSaying(`the workload pins GPU type "NVIDIA-A100-SXM4-80GB"; FineTuneEstimate `+ns+"/one-gpu is Approved for H100"))

	fits := suspendedJob(g, t, ns, "fits", obj.Name, 1, 1, "NVIDIA-H100-80GB-HBM3")
	fits = gated(g, fits, releasedJob)
	est = estimated(g, key(obj), func(o *ftv1.FineTuneEstimate) bool { return len(o.Status.Releases) == 1 })
	rel := est.Status.Releases[0]
	g.Expect([]any{rel.Kind, rel.Name, rel.UID, rel.Generation, rel.GPUs, rel.GPUType, rel.PricePerGPUHour, rel.SpendCap}).To(Equal(
		// 0.65 GPU-hours (the band's top) x 2.49 = 1.6185: 1.62 USD.
		[]any{"Job", "fits", string(fits.UID), est.Generation, int64(1), "NVIDIA-H100-80GB-HBM3", ftv1.Decimal("2.49"), ftv1.Decimal("1.62")}))
	g.Expect(fits.Annotations).To(HaveKeyWithValue(controller.ApprovedEstimateUIDAnnotation, string(est.UID)))
	g.Expect(fits.Annotations).To(HaveKeyWithValue(controller.ApprovedGPUsAnnotation, "1"))
	g.Expect(fits.Annotations).To(HaveKeyWithValue(controller.SpendCapAnnotation, "1.62"))

	// Deleted before it finished, it no longer freezes the plan.
	g.Expect(env.Client.Delete(ctx, fits, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
	estimated(g, key(obj), func(o *ftv1.FineTuneEstimate) bool { return len(o.Status.Releases) == 0 })
}

// A released run is charged to the estimate that released it, by the workload's UID: relabelling
// it to another estimate afterwards moves nothing (the admission policies refuse the relabel too;
// this suite runs without them).
func TestReleasedRunIsChargedByUID(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	a, b := supportBot(ns, "approver"), supportBot(ns, "bystander")
	create(g, t, env.Client, a)
	create(g, t, env.Client, b)
	estimated(g, key(a), approvedReason(ftv1.ReasonApproved))
	estimated(g, key(b), approvedReason(ftv1.ReasonApproved))
	j := gated(g, suspendedJob(g, t, ns, "moved", a.Name, 1, 1, ""), releasedJob)
	estimated(g, key(a), func(o *ftv1.FineTuneEstimate) bool { return len(o.Status.Releases) == 1 })

	g.Eventually(func() error {
		if err := env.Client.Get(ctx, key(j), j); err != nil {
			return err
		}
		j.Labels[gate.EstimateLabel] = b.Name
		return env.Client.Update(ctx, j)
	}).WithTimeout(timeout).Should(Succeed())
	j.Status = testenv.SucceededJob(time.Now().Add(-90*time.Minute).Truncate(time.Second), time.Hour)
	g.Expect(env.Client.Status().Update(ctx, j)).To(Succeed())

	// Its pods are gone: 1 GPU (parallelism 1 x 1) for an hour, 2.49 USD, on the approver's bill.
	got := runsRecorded(g, key(a), 1)
	g.Expect([]string{got.Status.Actuals.GPUHours, got.Status.Actuals.Spend}).To(Equal([]string{"1", "2.49"}))
	g.Expect(got.Status.Releases).To(BeEmpty(), "a recorded run leaves the releases")
	g.Consistently(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(b), b)).To(Succeed())
		g.Expect(b.Status.Actuals).To(BeNil())
	}).WithTimeout(2 * time.Second).Should(Succeed())
}

// A status written by someone else is not a verdict: an estimate over its budget, patched to
// Approved=True (by anyone with status write), releases nothing; the Job's message says why.
func TestForgedApprovalReleasesNothing(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	obj := supportBot(ns, "over-budget")
	obj.Spec.Policy = ftv1.PolicyEnforce
	obj.Spec.Budget = &ftv1.Budget{MaxUpfrontCost: dec("100")}
	create(g, t, env.Client, obj)
	est := estimated(g, key(obj), approvedReason(ftv1.ReasonOverBudget))
	j := suspendedJob(g, t, ns, "waits", obj.Name, 1, 1, "")
	gated(g, j, heldSaying("is not Approved (OverBudget)"))

	forged := est.DeepCopy()
	meta.SetStatusCondition(&forged.Status.Conditions, metav1.Condition{Type: ftv1.ConditionApproved, Status: metav1.ConditionTrue,
		Reason: ftv1.ReasonApproved, Message: "trust me", ObservedGeneration: est.Generation})
	g.Expect(env.Client.Status().Patch(ctx, forged, client.MergeFrom(est))).To(Succeed())
	gated(g, j, heldSaying("says Approved=True (Approved), but its inputs give False (OverBudget)"))
	g.Consistently(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(j), j)).To(Succeed())
		g.Expect(ptr.Deref(j.Spec.Suspend, false)).To(BeTrue())
	}).WithTimeout(3 * time.Second).Should(Succeed())
	g.Expect(apierrors.IsNotFound(env.Client.Get(ctx, key(obj), obj))).To(BeFalse())
	g.Expect(obj.Status.Releases).To(BeEmpty())
}
