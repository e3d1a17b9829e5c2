package gating

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
)

// The tests of this file try, as a namespace edit user against the default install, to run work
// past a CostPolicy budget (issue 26) by a path other than the suspend gate's release.

// teamBudget creates a CostPolicy with a budget of amount USD a month for ns, removed when the test ends.
func teamBudget(t *testing.T, ns, amount string) *ftv1.CostPolicy {
	t.Helper()
	p := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "budget-" + ns}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}},
		Budget:            &ftv1.TeamBudget{Amount: ftv1.Decimal(amount)}}}
	NewWithT(t).Expect(k.Create(ctx, p)).To(Succeed())
	t.Cleanup(func() { _ = k.Delete(ctx, p) })
	return p
}

// queuedJob is a Job of one GPU labelled for estimate and Kueue's queue ml-training.
func queuedJob(ns, name, estimate string) *batchv1.Job {
	tpl := corev1.PodTemplateSpec{Spec: gpuPodSpec(1)}
	tpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
		Labels: map[string]string{gate.EstimateLabel: estimate, "kueue.x-k8s.io/queue-name": "ml-training"}},
		Spec: batchv1.JobSpec{Template: tpl}}
}

// A budget of 2.00 USD, 1.62 of it committed to a first Job, holds whatever else the editor creates
// through the gates: every kind's recipe (stored suspended however it was written), and a Job Kueue
// would admit, whose check is Retry with the budget's message.
func TestBudgetHoldsEveryGatedPath(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	bob := namespaceEditor(t, ns)
	p := teamBudget(t, ns, "2.00")
	estimated(t, supportBot(ns, "bot", ftv1.PolicyEnforce))
	first, kind := recipe(t, "job.yaml", ns)
	first = withEstimate(first, "bot")
	g.Expect(bob.Create(ctx, first)).To(Succeed())
	waitFor(g, first, kind, isReleased)
	over := "CostPolicy " + p.Name + ": namespace " + ns + "'s budget for "
	for _, file := range recipes {
		t.Run(file, func(t *testing.T) {
			base, kind := recipe(t, file, ns)
			u := withEstimate(base, "bot")
			NewWithT(t).Expect(bob.Create(ctx, u)).To(Succeed())
			cur := waitFor(NewWithT(t), u, kind, isHeldWith(over))
			NewWithT(t).Expect(cur.GetAnnotations()).To(HaveKeyWithValue("ftcost.io/gate-reason", ftv1.ReasonBudgetExhausted))
		})
	}
	t.Run("Kueue", func(t *testing.T) {
		g := NewWithT(t)
		apply(t, "kueue", ns)
		j := queuedJob(ns, "queued", "bot")
		g.Expect(bob.Create(ctx, j)).To(Succeed())
		wl := kueueWorkload(ns, "job-queued", j)
		createWorkload(t, wl)
		st := checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State != kueue.CheckStatePending })
		g.Expect(st.State).To(Equal(kueue.CheckStateRetry), st.Message)
		g.Expect(st.Message).To(And(ContainSubstring(over), ContainSubstring("committed 1.62 + spent 0.00 leaves 0.38, and Job queued would commit 1.62")))
	})
	g.Expect(k.Get(ctx, key(p), p)).To(Succeed())
	g.Expect(p.Status.Budget.Charges).To(HaveLen(1))
	g.Expect(p.Status.Budget.Charges[0].UID).To(Equal(string(first.GetUID())))
}

// The pod gate's Pods (a labelled bare Pod, a Deployment's, StatefulSet's, LeaderWorkerSet's) commit
// nothing and no run of theirs is measured: in a namespace under a budget the pod gate keeps them
// gated (BudgetUnmeasured), so a team cannot run GPU Pods past its budget.
func TestBudgetHoldsPodsOfThePodGate(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	bob := namespaceEditor(t, ns)
	teamBudget(t, ns, "1.00")
	estimated(t, supportBot(ns, "bot", ftv1.PolicyEnforce))
	pod := gpuPod(ns, "bare", "bot", 1)
	g.Expect(bob.Create(ctx, pod)).To(Succeed())
	g.Expect(hasPodGate(pod)).To(BeTrue())
	g.Consistently(func(g Gomega) {
		cur := &corev1.Pod{}
		g.Expect(k.Get(ctx, key(pod), cur)).To(Succeed())
		g.Expect(hasPodGate(cur)).To(BeTrue(), "a GPU Pod past the budget was let through")
	}).WithTimeout(5 * time.Second).Should(Succeed())
}

// A Kueue Workload whose owner ftcost does not trace (an MPIJob, its estimate label copied by
// Kueue's labelKeysToCopy) cannot be committed or measured: under a budget the check stays Retry
// (BudgetUnmeasured) rather than Ready.
func TestBudgetHoldsKueueWorkloadsOfAnyOwner(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	teamBudget(t, ns, "1.00")
	apply(t, "kueue", ns)
	estimated(t, supportBot(ns, "bot", ftv1.PolicyEnforce))
	wl := kueueWorkload(ns, "mpijob-train", nil)
	wl.Labels = map[string]string{gate.EstimateLabel: "bot"}
	wl.OwnerReferences = []metav1.OwnerReference{{APIVersion: "kubeflow.org/v2beta1", Kind: "MPIJob", Name: "train", UID: "mpi-uid",
		Controller: ptr.To(true)}}
	createWorkload(t, wl)
	st := checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State != kueue.CheckStatePending })
	g.Expect(st.State).To(Equal(kueue.CheckStateRetry), "an MPIJob past the budget was admitted: %s", st.Message)
	g.Expect(st.Message).To(ContainSubstring("cannot be charged to it"))
}

// The edit role cannot delete a FineTuneEstimate while a workload it released runs
// (ftcost-estimate-keep): the spend reconciler measures a run through its estimate's releases, so a
// deleted estimate would leave the run's overrun neither counted against the budget nor suspended
// under overrun: Suspend.
func TestEstimateOfARunningWorkloadStays(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	bob := namespaceEditor(t, ns)
	est := supportBot(ns, "bot", ftv1.PolicyEnforce)
	g.Expect(bob.Create(ctx, est)).To(Succeed())
	base, kind := recipe(t, "job.yaml", ns)
	u := withEstimate(base, "bot")
	g.Expect(bob.Create(ctx, u)).To(Succeed())
	waitFor(g, u, kind, isReleased)
	g.Eventually(func(g Gomega) {
		cur := &ftv1.FineTuneEstimate{}
		g.Expect(k.Get(ctx, key(est), cur)).To(Succeed())
		g.Expect(cur.Status.Releases).To(HaveLen(1))
	}).WithTimeout(timeout).Should(Succeed())
	forbidden(g, bob.Delete(ctx, est), "ftcost-estimate-keep", `FineTuneEstimate "bot" cannot be deleted while Job/`)
}
