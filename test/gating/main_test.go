// Package gating tests the cost gates end to end on a real kube-apiserver: the Kueue AdmissionCheck
// (with Kueue's own CRDs from the module cache, Workloads created as Kueue would), the suspend gate
// of every workload kind (CRDs from each project's module) with the admission policies of
// config/vap as config/default installs them, and the GitOps health checks of config/gitops.
package gating

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/manager"
	"github.com/ftcost/ftcost/internal/testenv"
)

const timeout = 20 * time.Second

var (
	env *testenv.Env
	// k is an admin client that knows Kueue's types.
	k   client.Client
	ctx context.Context
)

func TestMain(m *testing.M) { testenv.Main(m, run) }

// kueueCRDs is Kueue's CRD folder in the module cache, for the version go.mod requires.
func kueueCRDs() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kueue").Output()
	if err != nil {
		return "", fmt.Errorf("locating sigs.k8s.io/kueue in the module cache: %w", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "config", "components", "crd", "bases"), nil
}

func run(suiteCtx context.Context, m *testing.M) (int, error) {
	ctx = suiteCtx
	crds, err := kueueCRDs()
	if err != nil {
		return 0, err
	}
	// RayJob's CRD is left out: TestKindInstalledLater installs it while the manager runs.
	workloadCRDs, err := testenv.WorkloadCRDs("JobSet", "TrainJob", "PyTorchJob")
	if err != nil {
		return 0, err
	}
	if env, err = testenv.StartWith(append([]string{crds}, workloadCRDs...)...); err != nil {
		return 0, err
	}
	defer func() { _ = env.Stop() }()
	if err := kueue.AddToScheme(env.Scheme); err != nil {
		return 0, err
	}
	if k, err = client.New(env.Config, client.Options{Scheme: env.Scheme}); err != nil {
		return 0, err
	}
	// The admission policies are installed as config/default renders them (config/vap with the
	// operator's ServiceAccount filled in), as docs/gitops.md says.
	if err := applyAdmissionPolicies(); err != nil {
		return 0, err
	}
	if err := waitUntilAdmitted(recipes...); err != nil {
		return 0, err
	}
	if err := grantEditRights(); err != nil {
		return 0, err
	}
	// The manager runs as the service account config/default deploys it as, with exactly its
	// ClusterRole, so the policy of config/vap lets it (and only it) clear spec.suspend.
	_, stop, err := env.RunOperator(ctx, manager.Options{
		MetricsAddr: "0", ProbeAddr: "0", QPS: 50, Burst: 100, Concurrency: 4,
		EnableJobGate: true, EnableKueueAdmissionCheck: true,
	})
	if err != nil {
		return 0, err
	}
	defer stop()
	return m.Run(), nil
}

// apply renders config/<dir> with kustomize and creates every resource (namespaced ones in ns).
func apply(t *testing.T, dir, ns string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := applyDir(dir, ns)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// renderDir renders config/<dir> with kustomize (in-process, the library kubectl uses).
func renderDir(dir string) ([]*unstructured.Unstructured, error) {
	kz := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := kz.Run(filesys.MakeFsOnDisk(), filepath.Join(testenv.RepoRoot(), "config", dir))
	if err != nil {
		return nil, fmt.Errorf("kustomize build config/%s: %w", dir, err)
	}
	var objs []*unstructured.Unstructured
	for _, r := range res.Resources() {
		m, err := r.Map()
		if err != nil {
			return nil, err
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	return objs, nil
}

func applyDir(dir, ns string) ([]*unstructured.Unstructured, error) {
	objs, err := renderDir(dir)
	if err != nil {
		return nil, err
	}
	for _, u := range objs {
		mapping, err := k.RESTMapper().RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", u.GetKind(), err)
		}
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			u.SetNamespace(ns)
		}
		// Cluster-scoped objects may exist from an earlier -count run.
		if err := client.IgnoreAlreadyExists(k.Create(ctx, u)); err != nil {
			return nil, fmt.Errorf("creating %s %s from config/%s: %w", u.GetKind(), u.GetName(), dir, err)
		}
	}
	return objs, nil
}

// waitUntilAdmitted waits until admission serves the kinds of the recipes in files (in the default
// namespace, dry run), so that no test's first write of a kind meets its CRD's warm-up.
func waitUntilAdmitted(files ...string) error {
	var objs []*unstructured.Unstructured
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "workloads", f))
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(b, &u.Object); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		u.SetNamespace(metav1.NamespaceDefault)
		objs = append(objs, u)
	}
	return testenv.WaitUntilAdmitted(ctx, k, objs...)
}

// applyAdmissionPolicies creates the admissionregistration.k8s.io objects of config/default.
func applyAdmissionPolicies() error {
	objs, err := renderDir("default")
	if err != nil {
		return err
	}
	for _, u := range objs {
		if u.GroupVersionKind().Group != "admissionregistration.k8s.io" {
			continue
		}
		if err := client.IgnoreAlreadyExists(k.Create(ctx, u)); err != nil {
			return fmt.Errorf("creating %s %s from config/default: %w", u.GetKind(), u.GetName(), err)
		}
	}
	return nil
}

// editor is a user with edit rights on every workload kind (what the built-in "edit" ClusterRole
// grants once each project's aggregate-to-edit role is aggregated into it) and nothing else.
const editor = "alice"

func grantEditRights() error {
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "workload-editor"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"batch", "jobset.x-k8s.io", "trainer.kubeflow.org", "kubeflow.org", "ray.io"},
			Resources: []string{"jobs", "jobsets", "trainjobs", "pytorchjobs", "rayjobs"},
			Verbs:     []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
	}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "workload-editor"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: editor}}}
	for _, o := range []client.Object{role, binding} {
		if err := client.IgnoreAlreadyExists(k.Create(ctx, o)); err != nil {
			return err
		}
	}
	return nil
}

// asEditor is a client acting as editor, with the editor's RBAC only.
func asEditor(t *testing.T) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: editor, Groups: []string{"system:authenticated"}}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// impersonating is an admin client acting as user (RBAC passes through system:masters; admission
// policies still see the user name).
func impersonating(user string) (client.Client, error) {
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:masters", "system:authenticated"}}
	return client.New(cfg, client.Options{Scheme: env.Scheme})
}

func namespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "gate-"}}
	if err := k.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

var dec = testenv.Dec

// supportBot is the Fine-Tuning Economics article's worked example 1 (Approved, upfront 1001.25) under policy.
func supportBot(ns, name string, policy ftv1.Policy) *ftv1.FineTuneEstimate {
	o := testenv.SupportBot(ns, name)
	o.Spec.Policy = policy
	return o
}

// overBudget is supportBot with a budget below its upfront cost: not Approved (OverBudget).
func overBudget(ns, name string, policy ftv1.Policy) *ftv1.FineTuneEstimate {
	o := supportBot(ns, name, policy)
	o.Spec.Budget = &ftv1.Budget{MaxUpfrontCost: dec("500")}
	return o
}

// estimated creates obj and waits until it has a verdict for its generation.
func estimated(t *testing.T, obj *ftv1.FineTuneEstimate) *ftv1.FineTuneEstimate {
	t.Helper()
	g := NewWithT(t)
	g.Expect(k.Create(ctx, obj)).To(Succeed())
	got := &ftv1.FineTuneEstimate{}
	g.Eventually(func(g Gomega) {
		g.Expect(k.Get(ctx, client.ObjectKeyFromObject(obj), got)).To(Succeed())
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		g.Expect(meta.FindStatusCondition(got.Status.Conditions, ftv1.ConditionApproved)).NotTo(BeNil())
	}).WithTimeout(timeout).Should(Succeed())
	return got
}

func key(o client.Object) types.NamespacedName { return client.ObjectKeyFromObject(o) }
