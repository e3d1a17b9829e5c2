package gating

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
)

// patchJob sends a JSON merge patch to the Job as the client's user.
func patchJob(c client.Client, j *batchv1.Job, patch string) error {
	return c.Patch(ctx, &batchv1.Job{ObjectMeta: j.ObjectMeta}, client.RawPatch(types.MergePatchType, []byte(patch)))
}

// job creates a Job in ns with the given labels and spec.suspend.
func job(t *testing.T, ns string, labels map[string]string, suspend bool) *batchv1.Job {
	t.Helper()
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "train-", Namespace: ns, Labels: labels},
		Spec:       batchv1.JobSpec{Suspend: ptr.To(suspend), Template: podTemplate()},
	}
	NewWithT(t).Expect(k.Create(ctx, j)).To(Succeed())
	return j
}

func gated(name string) map[string]string { return map[string]string{gate.EstimateLabel: name} }

// jobState waits until the Job satisfies until and returns it.
func jobState(g Gomega, j *batchv1.Job, until func(*batchv1.Job) bool) *batchv1.Job {
	cur := &batchv1.Job{}
	g.Eventually(func(g Gomega) {
		g.Expect(k.Get(ctx, key(j), cur)).To(Succeed())
		g.Expect(until(cur)).To(BeTrue(), "suspend=%v annotations=%v", ptr.Deref(cur.Spec.Suspend, false), cur.Annotations)
	}).WithTimeout(timeout).Should(Succeed())
	return cur
}

func released(j *batchv1.Job) bool {
	return !ptr.Deref(j.Spec.Suspend, false) && j.Annotations[gate.GateAnnotation] == gate.GateReleased
}

func heldWith(substr string) func(*batchv1.Job) bool {
	return func(j *batchv1.Job) bool {
		return ptr.Deref(j.Spec.Suspend, false) && j.Annotations[gate.GateAnnotation] == gate.GateHeld &&
			strings.Contains(j.Annotations[gate.GateMessageAnnotation], substr)
	}
}

// reasons lists the reasons of the events regarding the Job.
func reasons(g Gomega, j *batchv1.Job) []string {
	list := &eventsv1.EventList{}
	g.Expect(k.List(ctx, list, client.InNamespace(j.Namespace))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "Job" && e.Regarding.Name == j.Name {
			out = append(out, e.Type+"/"+e.Reason)
		}
	}
	return out
}

func TestJobGateReleasesApprovedJob(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	estimated(t, supportBot(ns, "bot", ftv1.PolicyEnforce))
	j := job(t, ns, gated("bot"), true)
	got := jobState(g, j, released)
	g.Expect(got.Annotations[gate.GateMessageAnnotation]).To(ContainSubstring("is Approved"))
	g.Eventually(func(g Gomega) { g.Expect(reasons(g, j)).To(ContainElement("Normal/Released")) }).WithTimeout(timeout).Should(Succeed())
}

// A Job waits for an estimate that does not exist yet, is held while the estimate says no under
// Enforce, and is released when a spec change makes it Approved: the estimate watch reaches it.
func TestJobGateHoldsUntilApproved(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	j := job(t, ns, gated("later"), true)
	jobState(g, j, heldWith("does not exist"))
	g.Eventually(func(g Gomega) { g.Expect(reasons(g, j)).To(ContainElement("Normal/Held")) }).WithTimeout(timeout).Should(Succeed())

	obj := estimated(t, overBudget(ns, "later", ftv1.PolicyEnforce))
	jobState(g, j, heldWith("not Approved (OverBudget)"))
	g.Eventually(func(g Gomega) { g.Expect(reasons(g, j)).To(ContainElement("Warning/Rejected")) }).WithTimeout(timeout).Should(Succeed())

	g.Expect(k.Get(ctx, key(obj), obj)).To(Succeed())
	obj.Spec.Budget = &ftv1.Budget{MaxUpfrontCost: dec("5000")}
	g.Expect(k.Update(ctx, obj)).To(Succeed())
	jobState(g, j, released)
}

// A plain Job runs only once its estimate is Approved: under Advisory a "no" holds it with a Warning.
func TestJobGateAdvisoryHoldsWithWarning(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	estimated(t, overBudget(ns, "soft", ftv1.PolicyAdvisory))
	j := job(t, ns, gated("soft"), true)
	g.Eventually(func(g Gomega) { g.Expect(reasons(g, j)).To(ContainElement("Warning/NotApproved")) }).WithTimeout(timeout).Should(Succeed())
	jobState(g, j, heldWith("policy Advisory, but a plain Job runs only once its estimate is Approved"))
}

// The gate only ever clears spec.suspend: a running Job is never suspended, and Jobs that are not
// labelled, or that Kueue manages, are not touched.
func TestJobGateLeavesOtherJobsAlone(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	estimated(t, overBudget(ns, "no", ftv1.PolicyEnforce))
	// A labelled Job is stored suspended at creation, so a running one was labelled afterwards.
	running := job(t, ns, nil, false)
	g.Expect(patchJob(k, running, `{"metadata":{"labels":{"ftcost.io/estimate":"no"}}}`)).To(Succeed())
	unlabelled := job(t, ns, nil, true)
	kueued := job(t, ns, map[string]string{gate.EstimateLabel: "no", "kueue.x-k8s.io/queue-name": "q"}, true)
	g.Consistently(func(g Gomega) {
		for j, suspended := range map[*batchv1.Job]bool{running: false, unlabelled: true, kueued: true} {
			cur := &batchv1.Job{}
			g.Expect(k.Get(ctx, key(j), cur)).To(Succeed())
			g.Expect(ptr.Deref(cur.Spec.Suspend, false)).To(Equal(suspended), cur.Name)
			g.Expect(cur.Annotations).NotTo(HaveKey(gate.GateAnnotation), cur.Name)
		}
	}).WithTimeout(2 * time.Second).Should(Succeed())
}

// A Job gated on an estimate priced with a Stale catalog waits, and is released as soon as the
// catalog is fresh again (the catalog watch), not after the 5-minute recheck.
func TestJobGateWaitsForFreshPrices(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	pc := staleCatalog(g, "stale-job-"+ns)
	obj := supportBot(ns, "priced", ftv1.PolicyEnforce)
	obj.Spec.PriceCatalogRef = pc.Name
	estimated(t, obj)
	j := job(t, ns, gated("priced"), true)
	jobState(g, j, heldWith("whose prices it uses are stale: effectiveDate 2026-01-01 of provider runpod"))
	freshen(g, pc)
	jobState(g, j, released)
}
