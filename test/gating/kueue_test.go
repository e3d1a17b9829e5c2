package gating

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/testenv"
)

// costCheck is the AdmissionCheck config/kueue installs; otherCheck belongs to another controller.
const (
	costCheck  = "ftcost-cost-gate"
	otherCheck = "other-check"
)

// TestKueueAdmissionCheck installs config/kueue (the recipe in docs/gitops.md) and walks a Workload per
// case through ftcost's check, creating Jobs and Workloads as Kueue's Job integration would.
func TestKueueAdmissionCheck(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	apply(t, "kueue", ns)
	g.Expect(client.IgnoreAlreadyExists(k.Create(ctx, &kueue.AdmissionCheck{ObjectMeta: metav1.ObjectMeta{Name: otherCheck},
		Spec: kueue.AdmissionCheckSpec{ControllerName: "example.com/other"}}))).To(Succeed())

	t.Run("AdmissionCheck is Active", func(t *testing.T) {
		g := NewWithT(t)
		g.Eventually(func(g Gomega) {
			ac := &kueue.AdmissionCheck{}
			g.Expect(k.Get(ctx, key(&kueue.AdmissionCheck{ObjectMeta: metav1.ObjectMeta{Name: costCheck}}), ac)).To(Succeed())
			c := meta.FindStatusCondition(ac.Status.Conditions, kueue.AdmissionCheckActive)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.ObservedGeneration).To(Equal(ac.Generation))
		}).WithTimeout(timeout).Should(Succeed())
		// Another controller's check is not ours to activate.
		g.Consistently(func(g Gomega) {
			ac := &kueue.AdmissionCheck{}
			g.Expect(k.Get(ctx, key(&kueue.AdmissionCheck{ObjectMeta: metav1.ObjectMeta{Name: otherCheck}}), ac)).To(Succeed())
			g.Expect(ac.Status.Conditions).To(BeEmpty())
		}).WithTimeout(time.Second).Should(Succeed())
	})

	estimated(t, supportBot(ns, "approved", ""))
	estimated(t, overBudget(ns, "enforced", ftv1.PolicyEnforce))
	estimated(t, overBudget(ns, "advisory", ftv1.PolicyAdvisory))

	cases := map[string]struct {
		label       string // the Job's ftcost.io/estimate; "" for none
		want        kueue.CheckState
		requeue     *int32
		msgContains string
	}{
		"approved is Ready":              {label: "approved", want: kueue.CheckStateReady, msgContains: "is Approved"},
		"no label passes":                {label: "", want: kueue.CheckStateReady, msgContains: "not gated on cost"},
		"missing estimate is Retry":      {label: "missing", want: kueue.CheckStateRetry, requeue: ptr.To[int32](15), msgContains: "does not exist"},
		"Enforce not approved Rejected":  {label: "enforced", want: kueue.CheckStateRejected, msgContains: "not Approved (OverBudget)"},
		"Advisory not approved is Ready": {label: "advisory", want: kueue.CheckStateReady, msgContains: "policy Advisory lets it run"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			wl := kueueJob(t, ns, tc.label)
			st := checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State != kueue.CheckStatePending })
			g.Expect(st.State).To(Equal(tc.want), st.Message)
			g.Expect(st.Message).To(ContainSubstring(tc.msgContains))
			g.Expect(st.RequeueAfterSeconds).To(Equal(tc.requeue))
			// The other controller's check is left as Kueue set it.
			g.Expect(checkState(g, wl, otherCheck, nil).State).To(Equal(kueue.CheckStatePending))
		})
	}

	t.Run("a Ready check records the release, sized, and freezes the plan", func(t *testing.T) {
		g := NewWithT(t)
		obj := supportBot(ns, "recorded", ftv1.PolicyEnforce)
		estimated(t, obj)
		wl := kueueJob(t, ns, "recorded")
		checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State == kueue.CheckStateReady })
		owner := metav1.GetControllerOf(wl)
		g.Eventually(func(g Gomega) {
			g.Expect(k.Get(ctx, key(obj), obj)).To(Succeed())
			g.Expect(obj.Status.Releases).To(HaveLen(1))
			g.Expect([]any{obj.Status.Releases[0].Kind, obj.Status.Releases[0].Name, obj.Status.Releases[0].UID, obj.Status.Releases[0].GPUs}).To(
				Equal([]any{"Job", owner.Name, string(owner.UID), int64(0)}))
		}).WithTimeout(timeout).Should(Succeed())
	})

	t.Run("Retry turns Ready once the estimate exists and is Approved", func(t *testing.T) {
		g := NewWithT(t)
		wl := kueueJob(t, ns, "later")
		checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State == kueue.CheckStateRetry })
		estimated(t, supportBot(ns, "later", ftv1.PolicyEnforce))
		checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State == kueue.CheckStateReady })
	})

	t.Run("a Stale catalog is Retry with a long delay", func(t *testing.T) {
		g := NewWithT(t)
		pc := staleCatalog(g, "stale-"+ns)
		obj := supportBot(ns, "stale", ftv1.PolicyEnforce)
		obj.Spec.PriceCatalogRef = pc.Name
		estimated(t, obj)
		wl := kueueJob(t, ns, "stale")
		st := checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State != kueue.CheckStatePending })
		g.Expect(st.State).To(Equal(kueue.CheckStateRetry))
		g.Expect(st.RequeueAfterSeconds).To(Equal(ptr.To(int32(gate.StaleRetryAfter / time.Second))))
		g.Expect(st.Message).To(ContainSubstring("whose prices it uses are stale"))

		// Fresh prices again: the catalog's Stale condition flips and the check turns Ready without
		// waiting out the delay.
		freshen(g, pc)
		checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State == kueue.CheckStateReady })
	})

	t.Run("a Workload without a Job owner may carry the label itself", func(t *testing.T) {
		g := NewWithT(t)
		wl := kueueWorkload(ns, "bare", nil)
		wl.Labels = map[string]string{gate.EstimateLabel: "enforced"}
		createWorkload(t, wl)
		st := checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State != kueue.CheckStatePending })
		g.Expect(st.State).To(Equal(kueue.CheckStateRejected))
	})

	t.Run("an admitted Workload is never evicted by a later No", func(t *testing.T) {
		g := NewWithT(t)
		obj := estimated(t, supportBot(ns, "flips", ftv1.PolicyEnforce))
		wl := kueueJob(t, ns, "flips")
		checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State == kueue.CheckStateReady })
		// Kueue admits it (all checks Ready, quota reserved).
		g.Expect(k.Get(ctx, key(wl), wl)).To(Succeed())
		meta.SetStatusCondition(&wl.Status.Conditions, metav1.Condition{Type: kueue.WorkloadAdmitted, Status: metav1.ConditionTrue, Reason: "Admitted", Message: "admitted"})
		g.Expect(k.Status().Update(ctx, wl)).To(Succeed())
		// Its plan is frozen while the Job runs (ftcost-plan-freeze), so the "no" comes from the
		// platform: a CostPolicy selecting the namespace now caps the upfront cost below it.
		g.Expect(k.Get(ctx, key(obj), obj)).To(Succeed())
		obj.Spec.Budget = &ftv1.Budget{MaxUpfrontCost: dec("1")}
		g.Expect(k.Update(ctx, obj)).NotTo(Succeed(), "the plan of a running workload's estimate is frozen")
		policy := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "flips-" + ns}, Spec: ftv1.CostPolicySpec{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: ns}},
			MaxUpfrontCost:    dec("1")}}
		g.Expect(k.Create(ctx, policy)).To(Succeed())
		t.Cleanup(func() { _ = k.Delete(ctx, policy) })
		g.Eventually(func(g Gomega) {
			g.Expect(k.Get(ctx, key(obj), obj)).To(Succeed())
			g.Expect(meta.FindStatusCondition(obj.Status.Conditions, ftv1.ConditionApproved).Reason).To(Equal(ftv1.ReasonPolicyViolated))
		}).WithTimeout(timeout).Should(Succeed())
		g.Consistently(func(g Gomega) {
			g.Expect(checkState(g, wl, costCheck, nil).State).To(Equal(kueue.CheckStateReady))
		}).WithTimeout(2 * time.Second).Should(Succeed())
	})
}

// kueueJob creates a suspended Job with a queue name (and the estimate label, unless empty), then its
// Workload as Kueue's Job integration does: owned by the Job, with the ClusterQueue's checks Pending.
func kueueJob(t *testing.T, ns, estimateName string) *kueue.Workload {
	t.Helper()
	g := NewWithT(t)
	labels := map[string]string{"kueue.x-k8s.io/queue-name": "ml-training"}
	if estimateName != "" {
		labels[gate.EstimateLabel] = estimateName
	}
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "train-", Namespace: ns, Labels: labels},
		Spec:       batchv1.JobSpec{Suspend: ptr.To(true), Template: podTemplate()},
	}
	g.Expect(k.Create(ctx, job)).To(Succeed())
	wl := kueueWorkload(ns, "job-"+job.Name, job)
	createWorkload(t, wl)
	return wl
}

func podTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		Containers:    []corev1.Container{{Name: "train", Image: "busybox:1.36"}},
	}}
}

func kueueWorkload(ns, name string, owner *batchv1.Job) *kueue.Workload {
	wl := &kueue.Workload{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: kueue.WorkloadSpec{
			QueueName: "ml-training",
			PodSets:   []kueue.PodSet{{Name: kueue.DefaultPodSetName, Count: 1, Template: podTemplate()}},
		},
	}
	if owner != nil {
		wl.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: owner.Name, UID: owner.UID,
			Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
	}
	return wl
}

// createWorkload creates wl and lists the ClusterQueue's checks as Pending, as Kueue does once it
// reserves quota.
func createWorkload(t *testing.T, wl *kueue.Workload) {
	t.Helper()
	g := NewWithT(t)
	g.Expect(k.Create(ctx, wl)).To(Succeed())
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	wl.Status.AdmissionChecks = []kueue.AdmissionCheckState{
		{Name: costCheck, State: kueue.CheckStatePending, LastTransitionTime: now},
		{Name: otherCheck, State: kueue.CheckStatePending, LastTransitionTime: now},
	}
	g.Expect(k.Status().Update(ctx, wl)).To(Succeed())
}

// checkState waits until the named check on wl satisfies until (any state when nil) and returns it.
func checkState(g Gomega, wl *kueue.Workload, name string, until func(kueue.AdmissionCheckState) bool) kueue.AdmissionCheckState {
	var got kueue.AdmissionCheckState
	g.Eventually(func(g Gomega) {
		cur := &kueue.Workload{}
		g.Expect(k.Get(ctx, key(wl), cur)).To(Succeed())
		found := false
		for _, s := range cur.Status.AdmissionChecks {
			if string(s.Name) == name {
				got, found = s, true
			}
		}
		g.Expect(found).To(BeTrue(), "no check %q", name)
		if until != nil {
			g.Expect(until(got)).To(BeTrue(), "check %q: %+v", name, got)
		}
	}).WithTimeout(timeout).Should(Succeed())
	return got
}

// Recipe 3 (docs/gitops.md): config/kueue's LocalQueue and sample Job, gated by the sample's estimate.
func TestRecipeKueue(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	var lq kueue.LocalQueue
	g.Expect(yaml.UnmarshalStrict(configFile(t, "kueue/localqueue.yaml"), &lq)).To(Succeed())
	var j batchv1.Job
	g.Expect(yaml.UnmarshalStrict(configFile(t, "kueue/job.yaml"), &j)).To(Succeed())
	g.Expect(j.Labels).To(HaveKeyWithValue("kueue.x-k8s.io/queue-name", lq.Name))
	g.Expect(ptr.Deref(j.Spec.Suspend, false)).To(BeTrue())
	lq.Namespace, j.Namespace = ns, ns
	g.Expect(k.Create(ctx, &lq)).To(Succeed())
	g.Expect(k.Create(ctx, &j)).To(Succeed())
	wl := kueueWorkload(ns, "job-"+j.Name, &j)
	createWorkload(t, wl)
	// No estimate yet: Retry. The estimate arrives, Approved: Ready.
	checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State == kueue.CheckStateRetry })
	estimated(t, supportBot(ns, j.Labels[gate.EstimateLabel], ftv1.PolicyEnforce))
	checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State == kueue.CheckStateReady })
	// The Job gate leaves a Kueue-managed Job to Kueue.
	cur := &batchv1.Job{}
	g.Expect(k.Get(ctx, key(&j), cur)).To(Succeed())
	g.Expect(ptr.Deref(cur.Spec.Suspend, false)).To(BeTrue())
}

func configFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// staleCatalog creates a PriceCatalog with the built-in prices and a maxAge they exceed (the Fine-Tuning Economics article's
// prices are years old), and waits until it is Stale.
func staleCatalog(g Gomega, name string) *ftv1.PriceCatalog {
	pc := catalog.FromEngine(engine.BuiltinCatalog(), name)
	pc.Spec.MaxAge = ptr.To[ftv1.Duration]("1h")
	g.Expect(k.Create(ctx, pc)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k.Get(ctx, key(pc), pc)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(pc.Status.Conditions, ftv1.ConditionStale)).To(BeTrue())
	}).WithTimeout(timeout).Should(Succeed())
	return pc
}

// freshen lifts the catalog's maxAge and waits until it is no longer Stale.
func freshen(g Gomega, pc *ftv1.PriceCatalog) {
	g.Expect(k.Get(ctx, key(pc), pc)).To(Succeed())
	pc.Spec.MaxAge = nil
	g.Expect(k.Update(ctx, pc)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k.Get(ctx, key(pc), pc)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(pc.Status.Conditions, ftv1.ConditionStale)).To(BeFalse())
	}).WithTimeout(timeout).Should(Succeed())
}

// TestKueueTracesEveryKind: a Workload owned by any kind of workload.Kinds is decided by its owner's
// label; one owned by a kind ftcost does not know is decided by the Workload's own label (as Kueue's
// labelKeysToCopy copies it, docs/gitops.md); and the label only ever names an estimate in the
// Workload's own namespace.
func TestKueueTracesEveryKind(t *testing.T) {
	ns, elsewhere := namespace(t), namespace(t)
	apply(t, "kueue", ns)
	estimated(t, supportBot(ns, "approved", ""))
	estimated(t, overBudget(ns, "enforced", ftv1.PolicyEnforce))
	estimated(t, supportBot(elsewhere, "only-elsewhere", ftv1.PolicyEnforce))

	// owned creates a Workload controlled by owner, as Kueue's integration for its kind does.
	owned := func(t *testing.T, apiVersion, kind, name string, uid types.UID, labels map[string]string) *kueue.Workload {
		wl := kueueWorkload(ns, "wl-"+strings.ToLower(kind)+"-"+name, nil)
		wl.Labels = labels
		wl.OwnerReferences = []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: ptr.To(true)}}
		createWorkload(t, wl)
		return wl
	}
	for _, file := range recipes {
		for label, want := range map[string]kueue.CheckState{
			"approved": kueue.CheckStateReady, "enforced": kueue.CheckStateRejected, "only-elsewhere": kueue.CheckStateRetry,
		} {
			t.Run(file+" labelled "+label, func(t *testing.T) {
				g := NewWithT(t)
				base, _ := recipe(t, file, ns)
				u := withEstimate(base, label)
				u.SetLabels(map[string]string{gate.EstimateLabel: label, "kueue.x-k8s.io/queue-name": "ml-training"})
				g.Expect(k.Create(ctx, u)).To(Succeed())
				wl := owned(t, u.GetAPIVersion(), u.GetKind(), u.GetName(), u.GetUID(), nil)
				st := checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State != kueue.CheckStatePending })
				g.Expect(st.State).To(Equal(want), st.Message)
			})
		}
	}
	t.Run("labelKeysToCopy: an unknown owner kind, the label copied to the Workload", func(t *testing.T) {
		g := NewWithT(t)
		wl := owned(t, "kubeflow.org/v2beta1", "MPIJob", "train", "mpi-uid", map[string]string{gate.EstimateLabel: "enforced"})
		st := checkState(g, wl, costCheck, func(s kueue.AdmissionCheckState) bool { return s.State != kueue.CheckStatePending })
		g.Expect(st.State).To(Equal(kueue.CheckStateRejected), st.Message)
	})
}
