package controller_test

import (
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
)

// TestQueueNameWithoutKueue: this suite's cluster has no Kueue, so a queue name is just a label and
// does not take a Job out of the gate: it is held until its estimate is Approved, then released
// (issue 13: a Job with both labels escaped both gates when Kueue was not installed).
func TestQueueNameWithoutKueue(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "train", Namespace: ns, Labels: map[string]string{
			gate.EstimateLabel: "bot", "kueue.x-k8s.io/queue-name": "ml-training"}},
		Spec: batchv1.JobSpec{Suspend: ptr.To(true), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "train", Image: "busybox:1.36"}}}}},
	}
	g.Expect(env.Client.Create(ctx, j)).To(Succeed())
	state := func(g Gomega) (bool, string) {
		cur := &batchv1.Job{}
		g.Expect(env.Client.Get(ctx, key(j), cur)).To(Succeed())
		return ptr.Deref(cur.Spec.Suspend, false), cur.Annotations[gate.GateAnnotation]
	}
	g.Eventually(func(g Gomega) {
		suspended, st := state(g)
		g.Expect(suspended).To(BeTrue())
		g.Expect(st).To(Equal(gate.GateHeld))
	}).WithTimeout(timeout).Should(Succeed())

	obj := supportBot(ns, "bot")
	obj.Spec.Policy = ftv1.PolicyEnforce
	g.Expect(env.Client.Create(ctx, obj)).To(Succeed())
	g.Eventually(func(g Gomega) {
		suspended, st := state(g)
		g.Expect(suspended).To(BeFalse())
		g.Expect(st).To(Equal(gate.GateReleased))
	}).WithTimeout(timeout).Should(Succeed())
}
