package gating

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/testenv"
	"github.com/ftcost/ftcost/internal/workload"
)

// recipes are the per-kind recipes of docs/gitops.md, in config/workloads; RayJob's CRD is installed
// by TestKindInstalledLater.
var recipes = []string{"job.yaml", "jobset.yaml", "trainjob.yaml", "pytorchjob.yaml"}

// recipe reads config/workloads/<file> into ns, with its kind's row of workload.Kinds.
func recipe(t *testing.T, file, ns string) (*unstructured.Unstructured, workload.Kind) {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(configFile(t, "workloads/"+file), &u.Object); err != nil {
		t.Fatal(err)
	}
	k, ok := workload.KindOf(u.GroupVersionKind().GroupKind())
	if !ok || u.GroupVersionKind() != k.GVK {
		t.Fatalf("%s: %s is not a version workload.Kinds covers", file, u.GroupVersionKind())
	}
	if k.Suspended(u) {
		t.Fatalf("%s sets the suspend switch itself; the recipe relies on the MutatingAdmissionPolicy", file)
	}
	u.SetNamespace(ns)
	return u, k
}

// withEstimate relabels u to name another estimate; generateName keeps several copies apart.
func withEstimate(u *unstructured.Unstructured, name string) *unstructured.Unstructured {
	u = u.DeepCopy()
	labels := u.GetLabels()
	labels[gate.EstimateLabel] = name
	u.SetLabels(labels)
	u.SetName("")
	u.SetGenerateName("train-")
	return u
}

// current reads u from the API server.
func current(g Gomega, u *unstructured.Unstructured) *unstructured.Unstructured {
	cur := &unstructured.Unstructured{}
	cur.SetGroupVersionKind(u.GroupVersionKind())
	g.Expect(k.Get(ctx, key(u), cur)).To(Succeed())
	return cur
}

// waitFor waits until the workload satisfies until and returns it.
func waitFor(g Gomega, u *unstructured.Unstructured, kind workload.Kind, until func(suspended bool, gateState, message string) bool) *unstructured.Unstructured {
	var cur *unstructured.Unstructured
	g.Eventually(func(g Gomega) {
		cur = current(g, u)
		ann := cur.GetAnnotations()
		g.Expect(until(kind.Suspended(cur), ann[gate.GateAnnotation], ann[gate.GateMessageAnnotation])).To(BeTrue(),
			"suspended=%v annotations=%v", kind.Suspended(cur), ann)
	}).WithTimeout(timeout).WithPolling(100 * time.Millisecond).Should(Succeed())
	return cur
}

func isReleased(suspended bool, state, _ string) bool {
	return !suspended && state == gate.GateReleased
}

func isHeldWith(substr string) func(bool, string, string) bool {
	return func(suspended bool, state, msg string) bool {
		return suspended && state == gate.GateHeld && strings.Contains(msg, substr)
	}
}

// suspendPatch is a JSON merge patch setting the kind's suspend switch to v (nil: remove it).
func suspendPatch(kind workload.Kind, v any) string {
	m := v
	for i := len(kind.SuspendPath) - 1; i >= 0; i-- {
		m = map[string]any{kind.SuspendPath[i]: m}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func patchAs(c client.Client, u *unstructured.Unstructured, patch string) error {
	target := &unstructured.Unstructured{}
	target.SetGroupVersionKind(u.GroupVersionKind())
	target.SetNamespace(u.GetNamespace())
	target.SetName(u.GetName())
	return c.Patch(ctx, target, client.RawPatch(types.MergePatchType, []byte(patch)))
}

// runRecipe is the recipe of docs/gitops.md for one kind: a user with edit rights creates the
// workload as written (no suspend), it is stored suspended and held, the user cannot release it,
// and it is released once its estimate exists and is Approved.
func runRecipe(t *testing.T, file string) {
	g := NewWithT(t)
	ns := namespace(t)
	u, kind := recipe(t, file, ns)
	alice := asEditor(t)
	// A client learns a new kind from discovery; right after its CRD is installed that may take a moment.
	g.Eventually(func() error { return alice.Create(ctx, u) }).WithTimeout(timeout).WithPolling(200 * time.Millisecond).Should(Succeed())
	g.Expect(kind.Suspended(current(g, u))).To(BeTrue(), "stored suspended by the MutatingAdmissionPolicy")
	waitFor(g, u, kind, isHeldWith("does not exist"))
	err := patchAs(alice, u, suspendPatch(kind, false))
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "the user unsuspends it: %v", err)

	estimated(t, supportBot(ns, u.GetLabels()[gate.EstimateLabel], ftv1.PolicyEnforce))
	got := waitFor(g, u, kind, isReleased)
	g.Expect(got.GetAnnotations()[gate.GateMessageAnnotation]).To(ContainSubstring("is Approved"))
}

// TestWorkloadRecipes runs the recipe of every kind whose CRD is installed from the start.
func TestWorkloadRecipes(t *testing.T) {
	for _, file := range recipes {
		t.Run(file, func(t *testing.T) { runRecipe(t, file) })
	}
}

// TestKindInstalledLater installs RayJob's CRD while the manager runs: the gate notices the CRD and
// starts RayJob's gate, and the admission policies, which name rayjobs already, hold it from creation.
func TestKindInstalledLater(t *testing.T) {
	paths, err := testenv.WorkloadCRDs("RayJob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: paths, ErrorIfPathMissing: true}); err != nil {
		t.Fatal(err)
	}
	if err := waitUntilAdmitted("rayjob.yaml"); err != nil {
		t.Fatal(err)
	}
	runRecipe(t, "rayjob.yaml")
}

// TestEstimateInOwnNamespaceOnly: the label names an estimate in the workload's namespace; an
// Approved estimate of the same name elsewhere never releases it.
func TestEstimateInOwnNamespaceOnly(t *testing.T) {
	g := NewWithT(t)
	elsewhere, ns := namespace(t), namespace(t)
	u, kind := recipe(t, "jobset.yaml", ns)
	estimated(t, supportBot(elsewhere, u.GetLabels()[gate.EstimateLabel], ftv1.PolicyEnforce))
	g.Expect(asEditor(t).Create(ctx, u)).To(Succeed())
	waitFor(g, u, kind, isHeldWith(ns+"/support-bot does not exist"))
	g.Consistently(func(g Gomega) {
		g.Expect(kind.Suspended(current(g, u))).To(BeTrue())
	}).WithTimeout(time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
}
