package gating

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/testenv"
)

// The tests of this file try each way around an approval that issue 22 found (forged gate state,
// relabelling, scaling up after release, toggling the plan, writing status) as a namespace edit
// user, against the admission policies config/default installs.

// nsEditor is the user bound to the namespace's edit role by namespaceEditor.
const nsEditor = "bob"

// namespaceEditor binds nsEditor in ns to what the built-in aggregated "edit" ClusterRole holds in a
// cluster: the bootstrap rules it aggregates (system:aggregate-to-edit), the project's
// finetuneestimate-editor-role as config/default installs it (aggregate-to-edit), and the workload
// projects' edit rules (workload-editor). envtest runs no aggregation controller, so the roles are
// bound one by one, in the namespace only. extra rules are granted besides, as a careless admin would.
func namespaceEditor(t *testing.T, ns string, extra ...rbacv1.PolicyRule) client.Client {
	t.Helper()
	g := NewWithT(t)
	objs, err := renderDir("default")
	g.Expect(err).NotTo(HaveOccurred())
	const ftEditor = "ftcost-finetuneestimate-editor-role"
	found := false
	for _, u := range objs {
		if u.GetKind() == "ClusterRole" && u.GetName() == ftEditor {
			g.Expect(u.GetLabels()).To(HaveKeyWithValue("rbac.authorization.k8s.io/aggregate-to-edit", "true"))
			g.Expect(client.IgnoreAlreadyExists(k.Create(ctx, u.DeepCopy()))).To(Succeed())
			found = true
		}
	}
	g.Expect(found).To(BeTrue(), "config/default renders no ClusterRole %s", ftEditor)
	roles := []string{"edit", "system:aggregate-to-edit", ftEditor, "workload-editor"}
	if len(extra) > 0 {
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "careless-grant"}, Rules: extra}
		g.Expect(k.Create(ctx, role)).To(Succeed())
	}
	for _, name := range roles {
		g.Expect(k.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "edit-"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: nsEditor}},
		})).To(Succeed())
	}
	if len(extra) > 0 {
		g.Expect(k.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "careless-grant"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "careless-grant"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: nsEditor}},
		})).To(Succeed())
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: nsEditor, Groups: []string{"system:authenticated"}}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	return c
}

// operatorClient acts as the operator's ServiceAccount (the user name the policies know).
func operatorClient(t *testing.T) client.Client {
	t.Helper()
	c, err := impersonating(gate.OperatorServiceAccount)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// forbidden expects err to be the admission policy's Forbidden with a message containing each of parts.
func forbidden(g Gomega, err error, parts ...string) {
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "want Forbidden, got %v", err)
	for _, p := range parts {
		g.Expect(err.Error()).To(ContainSubstring(p))
	}
}

func jsonPatchAs(c client.Client, u *unstructured.Unstructured, patch string) error {
	target := &unstructured.Unstructured{}
	target.SetGroupVersionKind(u.GroupVersionKind())
	target.SetNamespace(u.GetNamespace())
	target.SetName(u.GetName())
	return c.Patch(ctx, target, client.RawPatch(types.JSONPatchType, []byte(patch)))
}

// installRayJob installs RayJob's CRD if no test has yet (TestKindInstalledLater does it too), and
// waits until the clients know the kind.
func installRayJob(t *testing.T) {
	t.Helper()
	paths, err := testenv.WorkloadCRDs("RayJob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: paths, ErrorIfPathMissing: true}); err != nil {
		t.Fatal(err)
	}
}

// TestNoForgedGateState: the gate's annotations of a labelled workload are the operator's, at
// creation and after, and its estimate label is never empty and never changes once set, held or
// released (issue 22, "Forged gate state" and "Spend can be hidden or moved after release").
func TestNoForgedGateState(t *testing.T) {
	operator := operatorClient(t)
	for _, file := range recipes {
		t.Run(file, func(t *testing.T) {
			g := NewWithT(t)
			ns := namespace(t)
			bob := namespaceEditor(t, ns)
			base, kind := recipe(t, file, ns)
			estimated(t, supportBot(ns, "approved", ftv1.PolicyEnforce))

			withAnnotation := withEstimate(base, "absent")
			withAnnotation.SetAnnotations(map[string]string{gate.GateAnnotation: gate.GateReleased})
			forbidden(g, bob.Create(ctx, withAnnotation), "ftcost.io/gate", "written by the ftcost operator only")
			empty := withEstimate(base, "")
			forbidden(g, bob.Create(ctx, empty), "ftcost.io/estimate is empty", "name a FineTuneEstimate")
			// Annotated while unlabelled (not gated, so allowed), then labelled: refused like at creation.
			unlabelled := withEstimate(base, "x")
			unlabelled.SetLabels(nil)
			unlabelled.SetAnnotations(map[string]string{gate.GateAnnotation: gate.GateReleased})
			g.Expect(bob.Create(ctx, unlabelled)).To(Succeed())
			forbidden(g, patchAs(bob, unlabelled, `{"metadata":{"labels":{"ftcost.io/estimate":"absent"}}}`), "ftcost.io/gate")

			held := withEstimate(base, "absent")
			g.Expect(bob.Create(ctx, held)).To(Succeed())
			waitFor(g, held, kind, isHeldWith("does not exist"))
			running := withEstimate(base, "approved")
			g.Expect(bob.Create(ctx, running)).To(Succeed())
			waitFor(g, running, kind, isReleased)

			denied := map[string]struct {
				obj   *unstructured.Unstructured
				patch string
				says  string
			}{
				"marks a held one Released":             {held, `{"metadata":{"annotations":{"ftcost.io/gate":"Released"}}}`, "ftcost.io/gate"},
				"removes the gate message":              {held, `{"metadata":{"annotations":{"ftcost.io/gate-message":null}}}`, "ftcost.io/gate-message"},
				"removes the gate reason":               {held, `{"metadata":{"annotations":{"ftcost.io/gate-reason":null}}}`, "ftcost.io/gate-reason"},
				"claims a smaller budget hold":          {held, `{"metadata":{"annotations":{"ftcost.io/held-for-budget":"0.01"}}}`, "ftcost.io/held-for-budget"},
				"adds an annotation the operator would": {running, `{"metadata":{"annotations":{"ftcost.io/approved-gpus":"64"}}}`, "ftcost.io/approved-gpus"},
				"empties the label of a released one":   {running, `{"metadata":{"labels":{"ftcost.io/estimate":""}}}`, "ftcost.io/estimate"},
				"removes the label of a released one":   {running, `{"metadata":{"labels":{"ftcost.io/estimate":null}}}`, `cannot change or be removed once set (it names "approved"`},
				"relabels a released one":               {running, `{"metadata":{"labels":{"ftcost.io/estimate":"other"}}}`, "create a new workload"},
			}
			for name, tc := range denied {
				t.Run("denied: user "+name, func(t *testing.T) {
					forbidden(NewWithT(t), patchAs(bob, tc.obj, tc.patch), tc.says)
				})
			}
			allowed := map[string]struct {
				c     client.Client
				obj   *unstructured.Unstructured
				patch string
			}{
				"user annotates outside ftcost.io/":                  {bob, running, `{"metadata":{"annotations":{"team":"ml"}}}`},
				"operator records an annotation at release":          {operator, running, `{"metadata":{"annotations":{"ftcost.io/approved-gpus":"0"}}}`},
				"operator suspends an overrunning released workload": {operator, running, suspendPatch(kind, true)},
			}
			for name, tc := range allowed {
				t.Run("allowed: "+name, func(t *testing.T) {
					NewWithT(t).Expect(patchAs(tc.c, tc.obj, tc.patch)).To(Succeed())
				})
			}
			cur := current(g, held)
			g.Expect(cur.GetLabels()).To(HaveKeyWithValue(gate.EstimateLabel, "absent"))
			g.Expect(cur.GetAnnotations()).To(HaveKeyWithValue(gate.GateAnnotation, gate.GateHeld))
		})
	}
}

// scaleCase is one kind's released workload and the patches a user tries on it.
type scaleCase struct {
	file   string
	before func(u *unstructured.Unstructured) // sizes the recipe before creation
	raise  map[string]string                  // JSON patches that ask for more, by what the refusal names
	lower  string                             // a JSON patch that asks for less: allowed
}

func set(u *unstructured.Unstructured, v any, path ...string) {
	if err := unstructured.SetNestedField(u.Object, v, path...); err != nil {
		panic(err)
	}
}

// The workloads ask for no GPU when released, so they fit any plan the gate sizes them against.
var plainContainer = map[string]any{"name": "train", "image": "ghcr.io/example/train:v1"}

var scaleCases = []scaleCase{
	{file: "job.yaml", // parallelism 1 (the default) -> 8, as in the issue
		raise: map[string]string{
			"spec.parallelism": `[{"op":"add","path":"/spec/parallelism","value":8}]`,
		},
		lower: `[{"op":"add","path":"/spec/parallelism","value":0}]`},
	{file: "jobset.yaml",
		raise: map[string]string{
			"spec.replicatedJobs[workers].replicas":                  `[{"op":"replace","path":"/spec/replicatedJobs/0/replicas","value":3}]`,
			"spec.replicatedJobs[workers].template.spec.parallelism": `[{"op":"replace","path":"/spec/replicatedJobs/0/template/spec/parallelism","value":4}]`,
			"spec.replicatedJobs[workers] (accelerators per pod)": `[{"op":"add","path":"/spec/replicatedJobs/0/template/spec/template/spec/containers/0/resources",` +
				`"value":{"limits":{"nvidia.com/gpu":"8"}}}]`,
			"spec.replicatedJobs[more] (added)": `[{"op":"add","path":"/spec/replicatedJobs/-","value":{"name":"more","replicas":1,` +
				`"template":{"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"train","image":"x"}]}}}}}}]`,
		},
		lower: `[{"op":"replace","path":"/spec/replicatedJobs/0/replicas","value":1}]`},
	{file: "trainjob.yaml",
		raise: map[string]string{
			"spec.trainer.numNodes": `[{"op":"replace","path":"/spec/trainer/numNodes","value":64}]`,
		},
		lower: `[{"op":"replace","path":"/spec/trainer/numNodes","value":1}]`},
	{file: "pytorchjob.yaml",
		before: func(u *unstructured.Unstructured) {
			set(u, int64(2), "spec", "pytorchReplicaSpecs", "Master", "replicas")
		},
		raise: map[string]string{
			"spec.pytorchReplicaSpecs.Master.replicas": `[{"op":"replace","path":"/spec/pytorchReplicaSpecs/Master/replicas","value":8}]`,
			"spec.pytorchReplicaSpecs.Master (accelerators per pod)": `[{"op":"add","path":"/spec/pytorchReplicaSpecs/Master/template/spec/containers/0/resources",` +
				`"value":{"limits":{"amd.com/gpu":"8"}}}]`,
			"spec.pytorchReplicaSpecs.Worker (added)": `[{"op":"add","path":"/spec/pytorchReplicaSpecs/Worker","value":{"replicas":4,` +
				`"template":{"spec":{"containers":[{"name":"pytorch","image":"x"}]}}}}]`,
		},
		lower: `[{"op":"replace","path":"/spec/pytorchReplicaSpecs/Master/replicas","value":1}]`},
	{file: "rayjob.yaml",
		before: func(u *unstructured.Unstructured) {
			set(u, []any{map[string]any{"groupName": "gpu", "replicas": int64(2), "minReplicas": int64(0), "maxReplicas": int64(2),
				"rayStartParams": map[string]any{}, "template": map[string]any{"spec": map[string]any{"containers": []any{plainContainer}}}}},
				"spec", "rayClusterSpec", "workerGroupSpecs")
		},
		raise: map[string]string{
			"spec.rayClusterSpec.workerGroupSpecs[gpu].replicas":    `[{"op":"replace","path":"/spec/rayClusterSpec/workerGroupSpecs/0/replicas","value":4}]`,
			"spec.rayClusterSpec.workerGroupSpecs[gpu].maxReplicas": `[{"op":"replace","path":"/spec/rayClusterSpec/workerGroupSpecs/0/maxReplicas","value":64}]`,
			"spec.rayClusterSpec.workerGroupSpecs[gpu] (accelerators per pod)": `[{"op":"add","path":"/spec/rayClusterSpec/workerGroupSpecs/0/template/spec/containers/0/resources",` +
				`"value":{"limits":{"nvidia.com/gpu":"1"},"requests":{"nvidia.com/gpu":"1"}}}]`,
		},
		lower: `[{"op":"replace","path":"/spec/rayClusterSpec/workerGroupSpecs/0/replicas","value":1}]`},
}

// TestNoScaleUpAfterRelease: once the gate released a labelled workload, a namespace edit user
// cannot raise its replicas, parallelism or GPUs per pod, nor add pods to it (issue 22, "Size is never
// compared": parallelism 1 -> 8 -> 64 after release); lowering is allowed, and so is resizing a
// workload still held (the gate sizes it when it releases it).
func TestNoScaleUpAfterRelease(t *testing.T) {
	installRayJob(t)
	for _, tc := range scaleCases {
		t.Run(tc.file, func(t *testing.T) {
			g := NewWithT(t)
			ns := namespace(t)
			bob := namespaceEditor(t, ns)
			base, kind := recipe(t, tc.file, ns)
			if tc.before != nil {
				tc.before(base)
			}
			estimated(t, supportBot(ns, "approved", ftv1.PolicyEnforce))
			held := withEstimate(base, "absent")
			g.Eventually(func() error { return bob.Create(ctx, held) }).WithTimeout(timeout).Should(Succeed())
			running := withEstimate(base, "approved")
			g.Expect(bob.Create(ctx, running)).To(Succeed())
			waitFor(g, running, kind, isReleased)
			before := current(g, running)

			for where, patch := range tc.raise {
				t.Run("denied: raise "+where, func(t *testing.T) {
					forbidden(NewWithT(t), jsonPatchAs(bob, running, patch), where+" went up", `FineTuneEstimate "approved"`, "lower them back")
				})
				t.Run("allowed while held: "+where, func(t *testing.T) {
					NewWithT(t).Expect(jsonPatchAs(bob, held, patch)).To(Succeed())
				})
			}
			g.Expect(current(g, running).Object["spec"]).To(Equal(before.Object["spec"]), "no raise got through")
			g.Expect(jsonPatchAs(bob, running, tc.lower)).To(Succeed(), "lowering is allowed")
		})
	}
}

// TestPlanFrozenWhileReleased replays issue 22's toggling trick: a CostPolicy caps the upfront cost
// at 1000; the user lowers oneTimeCosts.dataLabeling 1000 -> 1, the estimate is Approved and the gate
// releases the Job; putting 1000 back is refused while status.releases lists the Job, with a message
// naming it, and allowed again once the list is empty.
func TestPlanFrozenWhileReleased(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	bob := namespaceEditor(t, ns)
	operator := operatorClient(t)
	policy := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "cap-" + ns}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}},
		MaxUpfrontCost:    dec("1000")}}
	g.Expect(k.Create(ctx, policy)).To(Succeed())
	t.Cleanup(func() { _ = k.Delete(ctx, policy) })

	est := supportBot(ns, "support-bot", ftv1.PolicyEnforce)
	g.Expect(bob.Create(ctx, est)).To(Succeed())
	approved := func(want metav1.ConditionStatus) *ftv1.FineTuneEstimate {
		got := &ftv1.FineTuneEstimate{}
		g.Eventually(func(g Gomega) {
			g.Expect(k.Get(ctx, key(est), got)).To(Succeed())
			g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
			g.Expect(meta.IsStatusConditionPresentAndEqual(got.Status.Conditions, ftv1.ConditionApproved, want)).To(BeTrue(),
				"%v", got.Status.Conditions)
		}).WithTimeout(timeout).Should(Succeed())
		return got
	}
	approved(metav1.ConditionFalse) // upfront 1001.25 > 1000
	lower := `{"spec":{"oneTimeCosts":{"dataLabeling":"1"}}}`
	raise := `{"spec":{"oneTimeCosts":{"dataLabeling":"1000"}}}`
	g.Expect(bob.Patch(ctx, &ftv1.FineTuneEstimate{ObjectMeta: est.ObjectMeta}, client.RawPatch(types.MergePatchType, []byte(lower)))).To(Succeed())
	approved(metav1.ConditionTrue)

	u, kind := recipe(t, "job.yaml", ns)
	g.Expect(bob.Create(ctx, u)).To(Succeed())
	run := waitFor(g, u, kind, isReleased)

	// The release as the operator records it (the test writes it as the operator's ServiceAccount,
	// unless the operator has already).
	got := &ftv1.FineTuneEstimate{}
	g.Eventually(func() error {
		if err := k.Get(ctx, key(est), got); err != nil {
			return err
		}
		if len(got.Status.Releases) > 0 {
			return nil
		}
		got.Status.Releases = []ftv1.Release{{Kind: "Job", Name: run.GetName(), UID: string(run.GetUID()),
			Generation: got.Generation, GPUs: 0, ReleasedAt: metav1.Now()}}
		return operator.Status().Update(ctx, got)
	}).WithTimeout(timeout).Should(Succeed())

	err := bob.Patch(ctx, &ftv1.FineTuneEstimate{ObjectMeta: est.ObjectMeta}, client.RawPatch(types.MergePatchType, []byte(raise)))
	forbidden(g, err, "ftcost-plan-freeze", `the plan of FineTuneEstimate "support-bot" is frozen while Job/`+run.GetName(), "until they finish")
	g.Expect(k.Get(ctx, key(est), got)).To(Succeed())
	g.Expect(string(*got.Spec.OneTimeCosts.DataLabeling)).To(Equal("1"))
	// Nor can the estimate be deleted: its releases are how the run is measured and charged.
	forbidden(g, bob.Delete(ctx, &ftv1.FineTuneEstimate{ObjectMeta: est.ObjectMeta}), "ftcost-estimate-keep",
		`FineTuneEstimate "support-bot" cannot be deleted while Job/`+run.GetName(), "delete them first")
	// Metadata is not the plan.
	g.Expect(bob.Patch(ctx, &ftv1.FineTuneEstimate{ObjectMeta: est.ObjectMeta},
		client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"team":"ml"}}}`)))).To(Succeed())

	// Once the run is over (the Job gone, the operator empties the list), the plan may change again.
	g.Expect(k.Delete(ctx, u, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
	g.Eventually(func() error {
		if err := k.Get(ctx, key(est), got); err != nil {
			return err
		}
		got.Status.Releases = nil
		return operator.Status().Update(ctx, got)
	}).WithTimeout(timeout).Should(Succeed())
	g.Eventually(func() error {
		return bob.Patch(ctx, &ftv1.FineTuneEstimate{ObjectMeta: est.ObjectMeta}, client.RawPatch(types.MergePatchType, []byte(raise)))
	}).WithTimeout(timeout).Should(Succeed())
	g.Expect(bob.Delete(ctx, &ftv1.FineTuneEstimate{ObjectMeta: est.ObjectMeta})).To(Succeed(), "with nothing running, the estimate goes")
}

// TestStatusIsTheOperators: a namespace edit user whom an admin also granted status writes (as a
// careless admin would) cannot patch Approved=True into an estimate's status, nor write a catalog's or
// a throughput profile's status; nor can a cluster admin; the operator can (issue 22, "Status trusted
// as is").
func TestStatusIsTheOperators(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	bob := namespaceEditor(t, ns, rbacv1.PolicyRule{APIGroups: []string{ftv1.GroupVersion.Group},
		Resources: []string{"finetuneestimates/status"}, Verbs: []string{"get", "update", "patch"}})
	est := estimated(t, overBudget(ns, "over", ftv1.PolicyEnforce))
	g.Expect(meta.IsStatusConditionFalse(est.Status.Conditions, ftv1.ConditionApproved)).To(BeTrue())

	approve := func(c client.Client) error {
		cur := &ftv1.FineTuneEstimate{}
		if err := k.Get(ctx, key(est), cur); err != nil {
			return err
		}
		prev := cur.DeepCopy()
		meta.SetStatusCondition(&cur.Status.Conditions, metav1.Condition{Type: ftv1.ConditionApproved, Status: metav1.ConditionTrue,
			Reason: "Forged", Message: "approved by hand", ObservedGeneration: cur.Generation})
		return c.Status().Patch(ctx, cur, client.MergeFrom(prev))
	}
	forbidden(g, approve(bob), "the status of finetuneestimates is written by the ftcost operator ("+gate.OperatorServiceAccount+") only")
	forbidden(g, approve(k), "written by the ftcost operator")
	got := &ftv1.FineTuneEstimate{}
	g.Expect(k.Get(ctx, key(est), got)).To(Succeed())
	g.Expect(meta.IsStatusConditionFalse(got.Status.Conditions, ftv1.ConditionApproved)).To(BeTrue())

	// Without the careless grant RBAC refuses first; with it, admission does. The same for the
	// cluster-scoped kinds, tried as cluster admin.
	pc := testenv.SmallCatalog(fmt.Sprintf("status-%d", time.Now().UnixNano()))
	g.Expect(k.Create(ctx, pc)).To(Succeed())
	t.Cleanup(func() { _ = k.Delete(ctx, pc) })
	err := k.Status().Patch(ctx, pc, client.RawPatch(types.MergePatchType, []byte(`{"status":{"observedGeneration":99}}`)))
	forbidden(g, err, "the status of pricecatalogs")

	// The operator writes it (it does on every reconcile; here a no-op patch of its own).
	op := operatorClient(t)
	g.Expect(op.Status().Patch(ctx, got, client.RawPatch(types.MergePatchType, []byte(`{"status":{}}`)))).To(Succeed())
}
