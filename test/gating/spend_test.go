package gating

import (
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
)

// TestOverrunSuspendsUnderThePolicies (issue 23, "Spend is recorded, never bounded"): with the
// default install's admission policies and the manager as its ServiceAccount, a Job a namespace
// edit user submits is released on a 1.62 USD spend cap; its 8 pods of 1 GPU have run 80 hours
// (1593.60 USD), and under a CostPolicy overrun Suspend the operator suspends it, which the
// policies allow, saying why on the Job. The user cannot resume it, and the estimate says OverCap.
func TestOverrunSuspendsUnderThePolicies(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	bob := namespaceEditor(t, ns)
	n := &corev1.Namespace{}
	g.Expect(k.Get(ctx, client.ObjectKey{Name: ns}, n)).To(Succeed())
	n.Labels["ftcost.io/test-overrun"] = ns
	g.Expect(k.Update(ctx, n)).To(Succeed())
	policy := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "stop-" + ns}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"ftcost.io/test-overrun": ns}},
		Overrun:           ftv1.OverrunSuspend}}
	g.Expect(k.Create(ctx, policy)).To(Succeed())
	t.Cleanup(func() { _ = k.Delete(ctx, policy) })

	// Written without a suspend switch, stored suspended and held until its estimate exists.
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "long", Namespace: ns, Labels: gated("capped")},
		Spec: batchv1.JobSpec{Template: podTemplate()}}
	g.Expect(bob.Create(ctx, j)).To(Succeed())
	jobState(g, j, heldWith("does not exist"))
	// Its pods, as the Job controller and kubelet would leave them after 80 hours.
	start := metav1.NewTime(time.Now().Add(-80 * time.Hour).Truncate(time.Second))
	gpu := corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}
	for i := range 8 {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("long-%d", i), Namespace: ns, Labels: map[string]string{
				"batch.kubernetes.io/controller-uid": string(j.UID), "batch.kubernetes.io/job-name": j.Name}},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, AutomountServiceAccountToken: ptr.To(false),
				Containers: []corev1.Container{{Name: "train", Image: "busybox:1.36", Resources: corev1.ResourceRequirements{Limits: gpu, Requests: gpu}}}},
		}
		g.Expect(k.Create(ctx, pod)).To(Succeed())
		pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &start, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "train", Image: "busybox:1.36", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: start}}}}}
		g.Expect(k.Status().Update(ctx, pod)).To(Succeed())
	}

	estimated(t, supportBot(ns, "capped", ftv1.PolicyEnforce))
	cur := jobState(g, j, func(j *batchv1.Job) bool {
		return ptr.Deref(j.Spec.Suspend, false) && j.Annotations[gate.GateAnnotation] == gate.GateReleased &&
			strings.HasPrefix(j.Annotations[gate.GateMessageAnnotation], "Suspended by ftcost")
	})
	g.Expect(cur.Annotations[gate.GateMessageAnnotation]).To(ContainSubstring(
		"past the limit 1.62 USD (spend cap 1.62) of FineTuneEstimate " + ns + "/capped; CostPolicy " + policy.Name + " says overrun Suspend"))
	g.Eventually(func(g Gomega) { g.Expect(reasons(g, cur)).To(ContainElement("Warning/OverrunSuspended")) }).WithTimeout(timeout).Should(Succeed())

	// The user may not resume it: only the operator clears a labelled workload's suspend switch.
	forbidden(g, patchJob(bob, cur, `{"spec":{"suspend":false}}`), "suspend")

	est := &ftv1.FineTuneEstimate{}
	g.Expect(k.Get(ctx, client.ObjectKey{Namespace: ns, Name: "capped"}, est)).To(Succeed())
	c := meta.FindStatusCondition(est.Status.Conditions, ftv1.ConditionSpendWithinCap)
	g.Expect(c).NotTo(BeNil())
	g.Expect([]string{string(c.Status), c.Reason}).To(Equal([]string{"False", ftv1.ReasonOverCap}))
	g.Expect(string(est.Status.Releases[0].AccruedCost)).To(HavePrefix("1593."))
}

// runningPodsOf creates 8 pods of 1 GPU of the Job with uid, running for 80 hours.
func runningPodsOf(g Gomega, ns, name string, uid types.UID) {
	start := metav1.NewTime(time.Now().Add(-80 * time.Hour).Truncate(time.Second))
	gpu := corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}
	for i := range 8 {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", name, i), Namespace: ns, Labels: map[string]string{
				"batch.kubernetes.io/controller-uid": string(uid), "batch.kubernetes.io/job-name": name}},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, AutomountServiceAccountToken: ptr.To(false),
				Containers: []corev1.Container{{Name: "train", Image: "busybox:1.36", Resources: corev1.ResourceRequirements{Limits: gpu, Requests: gpu}}}},
		}
		g.Expect(k.Create(ctx, pod)).To(Succeed())
		pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &start, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "train", Image: "busybox:1.36", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: start}}}}}
		g.Expect(k.Status().Update(ctx, pod)).To(Succeed())
	}
}

// A Job Kueue manages (a queue name, Kueue installed), released by the Kueue check, is measured like
// any other, but an overrun Suspend is not applied to it: Kueue owns its suspend switch and would
// clear it again. The Warning Event says so; the estimate says OverCap.
func TestOverrunOfKueueWorkIsAWarning(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	apply(t, "kueue", ns)
	policy := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "stop-" + ns}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: ns}},
		Overrun:           ftv1.OverrunSuspend}}
	g.Expect(k.Create(ctx, policy)).To(Succeed())
	t.Cleanup(func() { _ = k.Delete(ctx, policy) })
	// The Job and its pods first, the estimate last: its release, and so its first measure, come
	// after the pods started (pods are not watched: a pod started later is seen an interval later).
	wl := kueueJob(t, ns, "queued")
	owner := metav1.GetControllerOf(wl)
	runningPodsOf(g, ns, owner.Name, owner.UID)
	checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State == kueue.CheckStateRetry })
	obj := estimated(t, supportBot(ns, "queued", ftv1.PolicyEnforce))
	checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State == kueue.CheckStateReady })

	g.Eventually(func(g Gomega) {
		g.Expect(k.Get(ctx, key(obj), obj)).To(Succeed())
		g.Expect(obj.Status.Releases).To(HaveLen(1))
		g.Expect(obj.Status.Releases[0].OverCapAt).NotTo(BeNil())
		g.Expect(meta.FindStatusCondition(obj.Status.Conditions, ftv1.ConditionSpendWithinCap).Reason).To(Equal(ftv1.ReasonOverCap))
	}).WithTimeout(timeout).Should(Succeed())
	g.Eventually(func(g Gomega) {
		list := &eventsv1.EventList{}
		g.Expect(k.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		var notes []string
		for _, e := range list.Items {
			if e.Reason == "SpendOverCap" {
				notes = append(notes, e.Note)
			}
		}
		g.Expect(notes).To(ContainElement(ContainSubstring("overrun Suspend, not applied: Kueue owns the suspend switch")))
	}).WithTimeout(timeout).Should(Succeed())
	g.Consistently(func(g Gomega) {
		j := &batchv1.Job{}
		g.Expect(k.Get(ctx, client.ObjectKey{Namespace: ns, Name: owner.Name}, j)).To(Succeed())
		g.Expect(j.Annotations[gate.GateMessageAnnotation]).NotTo(ContainSubstring("Suspended by ftcost"))
	}).WithTimeout(2 * time.Second).Should(Succeed())
}
