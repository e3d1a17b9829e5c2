package controller_test

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/shopspring/decimal"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/controller"
	"github.com/ftcost/ftcost/internal/gate"
)

// runningPods creates n pods of j, of gpus GPUs each, running since start (envtest has no kubelet:
// the test writes their status).
func runningPods(g Gomega, j *batchv1.Job, n int, gpus int64, start time.Time) {
	res := corev1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(gpus, resource.DecimalSI)}
	for i := range n {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", j.Name, i), Namespace: j.Namespace, Labels: map[string]string{
				"batch.kubernetes.io/controller-uid": string(j.UID), "batch.kubernetes.io/job-name": j.Name}},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, AutomountServiceAccountToken: ptr.To(false),
				Containers: []corev1.Container{{Name: "train", Image: "trainer:1", Resources: corev1.ResourceRequirements{Limits: res, Requests: res}}}},
		}
		g.Expect(env.Client.Create(ctx, pod)).To(Succeed())
		pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &metav1.Time{Time: start},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "train", Image: "trainer:1", Ready: true, State: corev1.ContainerState{
				Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(start)}}}}}
		g.Expect(env.Client.Status().Update(ctx, pod)).To(Succeed())
	}
}

// labelNamespace labels ns so that a CostPolicy of this test alone selects it.
func labelNamespace(g Gomega, ns string) map[string]string {
	labels := map[string]string{"ftcost.io/test-overrun": ns}
	n := &corev1.Namespace{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Name: ns}, n)).To(Succeed())
	n.Labels["ftcost.io/test-overrun"] = ns
	g.Expect(env.Client.Update(ctx, n)).To(Succeed())
	return labels
}

// counterValue is a counter of the suite's registry with the label action=value.
func counterValue(g Gomega, metric, action string) float64 {
	families, err := registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != metric {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "action" && l.GetValue() == action {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// warnings are the notes of the Warning Events of reason in ns.
func warnings(g Gomega, ns, reason string) []string {
	list := &eventsv1.EventList{}
	g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	var notes []string
	for _, e := range list.Items {
		if e.Reason == reason && e.Type == corev1.EventTypeWarning {
			notes = append(notes, e.Note)
		}
	}
	return notes
}

// A released Job whose 8 pods of 1 GPU have run 80 hours, against a 1.62 USD spend cap: its accrued
// GPU-hours and cost appear in its status.releases entry, exact to the second of accruedAt; the
// estimate says SpendWithinCap=False (OverCap) with a Warning Event naming the Job and the figures,
// the metric counts it, and the spend, past the 1500 USD budget, makes the estimate no longer
// Approved. Under a CostPolicy overrun Suspend the operator suspends the Job and says why on it;
// under Warn the Job runs on.
func TestLiveSpendOverCap(t *testing.T) {
	for _, action := range []ftv1.OverrunAction{ftv1.OverrunWarn, ftv1.OverrunSuspend} {
		t.Run(string(action), func(t *testing.T) {
			g := NewWithT(t)
			ns := namespace(t)
			policy := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "overrun-" + ns}, Spec: ftv1.CostPolicySpec{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: labelNamespace(g, ns)}, Overrun: action}}
			create(g, t, env.Client, policy)
			obj := supportBot(ns, "capped")
			obj.Spec.Budget = &ftv1.Budget{MaxUpfrontCost: dec("1500")}
			create(g, t, env.Client, obj)
			estimated(g, key(obj), func(o *ftv1.FineTuneEstimate) bool {
				return approvedReason(ftv1.ReasonApproved)(o) && len(o.Status.CostPolicies) == 1
			})
			before := counterValue(g, "ftcost_spend_over_cap_total", string(action))

			j := gated(g, suspendedJob(g, t, ns, "long", obj.Name, 1, 1, ""), releasedJob)
			start := time.Now().Add(-80 * time.Hour).Truncate(time.Second)
			runningPods(g, j, 8, 1, start)

			est := estimated(g, key(obj), func(o *ftv1.FineTuneEstimate) bool {
				return len(o.Status.Releases) == 1 && o.Status.Releases[0].OverCapAt != nil
			})
			rel := est.Status.Releases[0]
			seconds := 8 * int64(rel.AccruedAt.Sub(start)/time.Second)
			g.Expect(seconds).To(BeNumerically(">=", 8*80*3600))
			g.Expect(rel.AccruedGPUHours).To(Equal(ftv1.Decimal(engine.GPUHoursOf(seconds).String())))
			g.Expect(rel.AccruedCost).To(Equal(ftv1.Decimal(engine.ActualCost(seconds, decimal.RequireFromString("2.49")).String())))
			g.Expect(string(rel.AccruedCost)).To(HavePrefix("1593."), "8 GPUs x 80 h at 2.49")
			g.Expect([]ftv1.Decimal{rel.SpendCap, rel.OverrunLimit}).To(Equal([]ftv1.Decimal{"1.62", "1.62"}))

			capCond := meta.FindStatusCondition(est.Status.Conditions, ftv1.ConditionSpendWithinCap)
			g.Expect(capCond).NotTo(BeNil())
			g.Expect([]any{capCond.Status, capCond.Reason, capCond.ObservedGeneration}).To(Equal([]any{metav1.ConditionFalse, ftv1.ReasonOverCap, est.Generation}))
			g.Expect(capCond.Message).To(ContainSubstring("Job long accrued " + string(rel.AccruedCost) + " USD, past its limit 1.62"))
			// The accrued spend counts against the budget: no more work is released on it.
			g.Expect(approved(est).Reason).To(Equal(ftv1.ReasonSpendOverBudget))
			g.Expect(approved(est).Message).To(ContainSubstring("accrued by 1 running workloads) is above spec.budget.maxUpfrontCost 1500.00"))
			next := suspendedJob(g, t, ns, "next", obj.Name, 1, 1, "")
			gated(g, next, heldSaying("SpendOverBudget"))

			g.Eventually(func(g Gomega) {
				g.Expect(warnings(g, ns, controller.ReasonSpendOverCap)).To(ContainElement(And(
					ContainSubstring("Job long accrued "), ContainSubstring("past its limit 1.62 USD (spend cap 1.62): overrun "+string(action)))))
			}).WithTimeout(timeout).Should(Succeed())
			g.Expect(counterValue(g, "ftcost_spend_over_cap_total", string(action))).To(Equal(before + 1))

			if action == ftv1.OverrunWarn {
				g.Consistently(func(g Gomega) {
					g.Expect(env.Client.Get(ctx, key(j), j)).To(Succeed())
					g.Expect(ptr.Deref(j.Spec.Suspend, false)).To(BeFalse(), "Warn leaves the Job running")
				}).WithTimeout(2 * spendInterval).Should(Succeed())
				return
			}
			j = gated(g, j, func(j *batchv1.Job) bool { return ptr.Deref(j.Spec.Suspend, false) })
			g.Expect(j.Annotations).To(HaveKeyWithValue(gate.GateAnnotation, gate.GateReleased), "the gate leaves a Job it released alone")
			g.Expect(j.Annotations[gate.GateMessageAnnotation]).To(And(ContainSubstring("Suspended by ftcost: accrued "),
				ContainSubstring("past the limit 1.62 USD (spend cap 1.62) of FineTuneEstimate "+ns+"/capped; CostPolicy "+policy.Name+" says overrun Suspend")))
			g.Eventually(func(g Gomega) {
				g.Expect(warnings(g, ns, controller.ReasonOverrunSuspended)).To(HaveLen(1))
			}).WithTimeout(timeout).Should(Succeed())
			// Suspended, it stays so: the gate does not release it again.
			g.Consistently(func(g Gomega) {
				g.Expect(env.Client.Get(ctx, key(j), j)).To(Succeed())
				g.Expect(ptr.Deref(j.Spec.Suspend, false)).To(BeTrue())
			}).WithTimeout(2 * spendInterval).Should(Succeed())
		})
	}
}

// The write rate is bounded: an estimate whose released Job has no pod running is not written at
// all over three spend intervals; once a pod runs, it is written about once an interval (its
// accrued GPU-hours change every second), never more, and stays within its cap.
func TestLiveSpendWriteRate(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	obj := supportBot(ns, "idle")
	create(g, t, env.Client, obj)
	estimated(g, key(obj), approvedReason(ftv1.ReasonApproved))
	j := gated(g, suspendedJob(g, t, ns, "waiting", obj.Name, 1, 1, ""), releasedJob)
	est := estimated(g, key(obj), func(o *ftv1.FineTuneEstimate) bool { return len(o.Status.Releases) == 1 })

	versions := func(window time.Duration) map[string]bool {
		seen := map[string]bool{}
		for end := time.Now().Add(window); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			cur := &ftv1.FineTuneEstimate{}
			g.Expect(env.Client.Get(ctx, key(obj), cur)).To(Succeed())
			seen[cur.ResourceVersion] = true
		}
		return seen
	}
	idle := versions(3 * spendInterval)
	g.Expect(idle).To(Equal(map[string]bool{est.ResourceVersion: true}), "an idle estimate is not written")

	runningPods(g, j, 1, 1, time.Now().Add(-10*time.Minute))
	estimated(g, key(obj), func(o *ftv1.FineTuneEstimate) bool { return o.Status.Releases[0].AccruedAt != nil })
	busy := versions(5 * spendInterval)
	t.Logf("resourceVersions seen: %d over 3 idle intervals, %d over 5 running ones", len(idle), len(busy))
	// One write an interval: at most 5 (plus one for a window that straddles), at least 3.
	g.Expect(len(busy)).To(And(BeNumerically(">=", 3), BeNumerically("<=", 6)), "resourceVersions seen: %v", busy)
	// 1 GPU x 10 minutes at 2.49 is about 0.42 USD, within the 1.62 cap.
	g.Expect(env.Client.Get(ctx, key(obj), est)).To(Succeed())
	g.Expect(meta.IsStatusConditionTrue(est.Status.Conditions, ftv1.ConditionSpendWithinCap)).To(BeTrue(), "%v", est.Status.Conditions)
	g.Expect(warnings(g, ns, controller.ReasonSpendOverCap)).To(BeEmpty())
}

// The API server decides what an overrun may say: Warn or Suspend, a non-negative percentage, and a
// policy may set nothing but its overrun.
func TestCostPolicyOverrunValidation(t *testing.T) {
	everywhere := &metav1.LabelSelector{MatchLabels: map[string]string{"ftcost.io/test-overrun": "none"}}
	for _, tc := range []struct {
		name string
		spec ftv1.CostPolicySpec
		// refused names what the error must say; "" when the policy is accepted.
		refused []string
	}{
		{name: "suspend alone", spec: ftv1.CostPolicySpec{NamespaceSelector: everywhere, Overrun: ftv1.OverrunSuspend}},
		{name: "percent alone", spec: ftv1.CostPolicySpec{NamespaceSelector: everywhere, OverrunPercent: dec("12.5")}},
		{name: "another action", spec: ftv1.CostPolicySpec{NamespaceSelector: everywhere, Overrun: "Stop"},
			refused: []string{"spec.overrun", `"Warn", "Suspend"`}},
		{name: "a negative percent", spec: ftv1.CostPolicySpec{NamespaceSelector: everywhere, OverrunPercent: dec("-5")},
			refused: []string{"spec.overrunPercent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			p := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{GenerateName: "overrun-"}, Spec: tc.spec}
			err := env.Client.Create(ctx, p)
			if len(tc.refused) == 0 {
				g.Expect(err).NotTo(HaveOccurred())
				_ = env.Client.Delete(ctx, p)
				return
			}
			g.Expect(err).To(HaveOccurred())
			for _, s := range tc.refused {
				g.Expect(err.Error()).To(ContainSubstring(s))
			}
		})
	}
}
