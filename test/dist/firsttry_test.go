package dist

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/dist"
	"github.com/ftcost/ftcost/internal/manager"
	"github.com/ftcost/ftcost/internal/testenv"
	"github.com/ftcost/ftcost/internal/workload"
)

// The install paths of the README, each run once on an API server with nothing installed (no CRD,
// no namespace): a second apply must never be needed. Each starts its own control plane.

// TestFirstTryInstallYAML is `kubectl apply --server-side -f dist/install.yaml` on a fresh cluster.
func TestFirstTryInstallYAML(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "dist", "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := freshControlPlane(t)
	if errs := kubectlApplyServerSide(ctx, cfg, decodeAll(t, b)); len(errs) > 0 {
		t.Fatalf("the first apply of dist/install.yaml failed (a second would be needed):\n%v", errors.Join(errs...))
	}
	checkInstalled(t, cfg, testenv.OperatorNamespace, true)
}

// TestFirstTryKustomize is `kubectl apply --server-side -k config/default` on a fresh cluster
// (kubectl's kustomize is the library dist.Render runs).
func TestFirstTryKustomize(t *testing.T) {
	objs := kustomize(t, "default")
	cfg := freshControlPlane(t)
	if errs := kubectlApplyServerSide(ctx, cfg, objs); len(errs) > 0 {
		t.Fatalf("the first apply of config/default failed (a second would be needed):\n%v", errors.Join(errs...))
	}
	checkInstalled(t, cfg, testenv.OperatorNamespace, true)
}

// TestFirstTryHelm is `helm install ftcost dist/chart -n ftcost-system --create-namespace` through
// Helm's SDK (the install action the helm command runs, with its kubeVersion check against the API
// server's /version) on a fresh cluster; then what each value that turns the Job gate off leaves
// the manager allowed to do, and what `helm uninstall` keeps.
func TestFirstTryHelm(t *testing.T) {
	const ns = "ftcost-system"
	cfg := freshControlPlane(t)
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	// The control plane reports its release (hack/build-controlplane.sh stamps it), which helm checks
	// against the chart's kubeVersion.
	v, err := discovery.NewDiscoveryClientForConfigOrDie(cfg).ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v.GitVersion, "v1.") || v.Major != "1" {
		t.Fatalf("the control plane reports version %q (major %q): built before hack/build-controlplane.sh stamped it; run 'make controlplane'", v.GitVersion, v.Major)
	}
	hc := helmConfig(t, cfg, ns)
	install := action.NewInstall(hc)
	install.ReleaseName, install.Namespace, install.CreateNamespace = "ftcost", ns, true
	install.Timeout = 2 * time.Minute
	rel, err := install.RunWithContext(ctx, ch, nil)
	if err != nil {
		t.Fatalf("helm install failed on a fresh cluster: %v", err)
	}
	checkInstalled(t, cfg, ns, false)
	// --create-namespace sets no Pod Security labels; the NOTES say how to enforce them.
	if !strings.Contains(rel.Info.Notes, "kubectl label namespace ftcost-system pod-security.kubernetes.io/enforce=restricted") {
		t.Errorf("NOTES do not say how to enforce the restricted standard on the namespace --create-namespace made:\n%s", rel.Info.Notes)
	}

	// RBAC follows the features: no patch on any workload kind once the gate or its policies are off.
	c := adminClient(t, cfg)
	for _, tc := range []struct {
		values    map[string]any
		wantPatch bool
	}{
		{map[string]any{"jobGate": map[string]any{"enabled": false}}, false},
		{map[string]any{"admissionPolicies": map[string]any{"enabled": false}}, false},
		{nil, true},
	} {
		up := action.NewUpgrade(hc)
		up.Namespace, up.Timeout, up.ResetValues = ns, 2*time.Minute, true
		if _, err := up.RunWithContext(ctx, "ftcost", ch, tc.values); err != nil {
			t.Fatalf("helm upgrade %v: %v", tc.values, err)
		}
		for _, k := range workload.Kinds {
			if got := settles(t, c, ns, "patch", k.GVK.Group, k.Resource, tc.wantPatch); got != tc.wantPatch {
				t.Errorf("values %v: the manager may patch %s.%s: %v, want %v", tc.values, k.Resource, k.GVK.Group, got, tc.wantPatch)
			}
		}
	}

	// helm uninstall keeps the CRDs (crds.keep) and the catalog the manager created, prices and all.
	pc := &ftv1.PriceCatalog{}
	if err := c.Get(ctx, types.NamespacedName{Name: ftv1.DefaultCatalogName}, pc); err != nil {
		t.Fatal(err)
	}
	pc.Spec.GPUs[0].PeakBF16TFLOPs = "1234" // an edit a user (or an import) made
	if err := c.Update(ctx, pc); err != nil {
		t.Fatal(err)
	}
	// A restart of the manager leaves an existing catalog alone.
	if err := (&manager.DefaultCatalog{Client: c}).Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := action.NewUninstall(hc).Run("ftcost"); err != nil {
		t.Fatalf("helm uninstall: %v", err)
	}
	kept := &ftv1.PriceCatalog{}
	if err := c.Get(ctx, types.NamespacedName{Name: ftv1.DefaultCatalogName}, kept); err != nil {
		t.Fatalf("helm uninstall removed the PriceCatalog %q: %v", ftv1.DefaultCatalogName, err)
	}
	if kept.Spec.GPUs[0].PeakBF16TFLOPs != "1234" {
		t.Errorf("the catalog kept is not the one edited (a restart or the uninstall overwrote it)")
	}
}

// TestNoJobGateOverlayGrantsNoPatch: config/no-job-gate's RBAC, created as the operator gets it,
// lets the operator's ServiceAccount read every workload kind but patch none (asked of the API
// server with SubjectAccessReviews), and its manager runs with the gate off.
func TestNoJobGateOverlayGrantsNoPatch(t *testing.T) {
	var created []client.Object
	t.Cleanup(func() {
		for _, o := range created {
			_ = env.Client.Delete(ctx, o)
		}
	})
	// The suite's API server is shared: a namespace of its own for the ServiceAccount.
	const ns = "no-job-gate"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	sawFlag := false
	for _, u := range kustomize(t, "no-job-gate") {
		obj := u.Object
		switch u.GetKind() {
		case "Deployment":
			args, _, _ := unstructured.NestedSlice(obj, "spec", "template", "spec", "containers")
			sawFlag = strings.Contains(fmt.Sprint(args), "--enable-job-gate=false")
			continue
		case "ValidatingAdmissionPolicy", "MutatingAdmissionPolicy":
			t.Errorf("config/no-job-gate installs %s %s", u.GetKind(), u.GetName())
			continue
		case "ServiceAccount", "ClusterRole", "ClusterRoleBinding":
		default:
			continue
		}
		// Renamed into this test's namespace and out of the way of other tests' objects.
		if u.GetNamespace() != "" {
			u.SetNamespace(ns)
		}
		if u.GetKind() != "ServiceAccount" {
			u.SetName("no-job-gate-" + u.GetName())
		}
		if u.GetKind() == "ClusterRoleBinding" {
			ref, _, _ := unstructured.NestedString(obj, "roleRef", "name")
			_ = unstructured.SetNestedField(obj, "no-job-gate-"+ref, "roleRef", "name")
			subjects, _, _ := unstructured.NestedSlice(obj, "subjects")
			for _, s := range subjects {
				s.(map[string]any)["namespace"] = ns
			}
			_ = unstructured.SetNestedSlice(obj, subjects, "subjects")
		}
		if err := env.Client.Create(ctx, u); err != nil {
			t.Fatalf("creating %s %s: %v", u.GetKind(), u.GetName(), err)
		}
		created = append(created, u)
	}
	if !sawFlag {
		t.Errorf("config/no-job-gate's manager lacks --enable-job-gate=false")
	}
	for _, k := range workload.Kinds {
		if settles(t, env.Client, ns, "patch", k.GVK.Group, k.Resource, false) {
			t.Errorf("config/no-job-gate lets the manager patch %s.%s", k.Resource, k.GVK.Group)
		}
		if !settles(t, env.Client, ns, "list", k.GVK.Group, k.Resource, true) {
			t.Errorf("config/no-job-gate does not let the manager list %s.%s (actual costs read them)", k.Resource, k.GVK.Group)
		}
	}
}

// kustomize renders config/<dir> as kubectl apply -k does, into objects as read from YAML.
func kustomize(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	m, err := dist.Render(testenv.RepoRoot(), dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return decodeAll(t, b)
}

// freshControlPlane starts etcd and kube-apiserver from bin/controlplane with nothing installed,
// stopped when the test ends.
func freshControlPlane(t *testing.T) *rest.Config {
	t.Helper()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(testenv.RepoRoot(), "bin", "controlplane")
	}
	e := &envtest.Environment{BinaryAssetsDirectory: assets, ControlPlaneStartTimeout: 3 * time.Minute, ControlPlaneStopTimeout: time.Minute}
	cfg, err := e.Start()
	if err != nil {
		t.Fatalf("starting a fresh control plane: %v", err)
	}
	t.Cleanup(func() { _ = e.Stop() })
	return cfg
}

// kubectlApplyServerSide does what `kubectl apply --server-side` does with a stream of objects:
// it maps every object's kind with the API server's discovery first (kubectl builds its list of
// objects before applying any; a kind no CRD serves yet fails there), then applies each in the
// stream's order with field manager kubectl, carrying on past failures. It returns every error.
func kubectlApplyServerSide(ctx context.Context, cfg *rest.Config, objs []*unstructured.Unstructured) []error {
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(cfg)))
	dyn := dynamic.NewForConfigOrDie(cfg)
	var errs []error
	type mapped struct {
		u  *unstructured.Unstructured
		ri dynamic.ResourceInterface
	}
	var list []mapped
	for _, u := range objs {
		gvk := u.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", gvk.Kind, u.GetName(), err))
			continue
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == "namespace" {
			ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
		}
		list = append(list, mapped{u, ri})
	}
	for _, m := range list {
		data, err := m.u.MarshalJSON()
		if err == nil {
			_, err = m.ri.Patch(ctx, m.u.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: "kubectl"})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", m.u.GetKind(), m.u.GetName(), err))
		}
	}
	return errs
}

// checkInstalled: every CRD established, the manager's Deployment in place, the namespace enforcing
// the restricted Pod Security Standard (when the install path makes it), the job gate's patch
// granted; then the manager's first start (as its ServiceAccount, with the installed RBAC only)
// creates the PriceCatalog "default".
func checkInstalled(t *testing.T, cfg *rest.Config, ns string, labelsNamespace bool) {
	t.Helper()
	g := NewWithT(t)
	c := adminClient(t, cfg)
	crds := &apiextensionsv1.CustomResourceDefinitionList{}
	g.Expect(c.List(ctx, crds)).To(Succeed())
	g.Expect(crds.Items).To(HaveLen(4))
	g.Eventually(func(g Gomega) {
		g.Expect(c.List(ctx, crds)).To(Succeed())
		for _, crd := range crds.Items {
			established := slices.ContainsFunc(crd.Status.Conditions, func(c apiextensionsv1.CustomResourceDefinitionCondition) bool {
				return c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue
			})
			g.Expect(established).To(BeTrue(), "CRD %s established", crd.Name)
		}
	}).WithTimeout(time.Minute).Should(Succeed())
	d := &unstructured.Unstructured{}
	d.SetAPIVersion("apps/v1")
	d.SetKind("Deployment")
	g.Expect(c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "ftcost-controller-manager"}, d)).To(Succeed())
	if labelsNamespace {
		n := &corev1.Namespace{}
		g.Expect(c.Get(ctx, types.NamespacedName{Name: ns}, n)).To(Succeed())
		g.Expect(n.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
	}
	for _, k := range workload.Kinds {
		g.Expect(settles(t, c, ns, "patch", k.GVK.Group, k.Resource, true)).To(BeTrue(), "the default install lets the gate patch %s", k.Resource)
	}
	g.Expect(c.Get(ctx, types.NamespacedName{Name: ftv1.DefaultCatalogName}, &ftv1.PriceCatalog{})).NotTo(Succeed(), "no install path applies the catalog itself")

	op := rest.CopyConfig(cfg)
	op.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":ftcost-controller-manager",
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}
	opc, err := client.New(op, client.Options{Scheme: testenv.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	dc := &manager.DefaultCatalog{Client: opc, Backoff: wait.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Steps: 5}}
	g.Expect(dc.Start(ctx)).To(Succeed())
	pc := &ftv1.PriceCatalog{}
	g.Expect(c.Get(ctx, types.NamespacedName{Name: ftv1.DefaultCatalogName}, pc)).To(Succeed(), "the manager's first start creates the default catalog")
	g.Expect(pc.Spec.GPUs).NotTo(BeEmpty())
}

func adminClient(t *testing.T, cfg *rest.Config) client.Client {
	t.Helper()
	s := testenv.Scheme()
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// can asks the API server whether the manager's ServiceAccount in ns may verb the resource.
func can(t *testing.T, c client.Client, ns, verb, group, resource string) bool {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               "system:serviceaccount:" + ns + ":ftcost-controller-manager",
		Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: verb, Group: group, Resource: resource},
	}}
	if err := c.Create(ctx, sar); err != nil {
		t.Fatal(err)
	}
	return sar.Status.Allowed
}

// settles is can once the API server's authorizer agrees with want, or after 30 s: its RBAC
// informer sees a created or deleted binding a moment after the write (longer on a busy machine).
func settles(t *testing.T, c client.Client, ns, verb, group, resource string, want bool) bool {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := can(t, c, ns, verb, group, resource)
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// helmConfig is Helm's action configuration for the API server, as the helm command builds it from
// a kubeconfig (the admin's client certificate).
func helmConfig(t *testing.T, cfg *rest.Config, ns string) *action.Configuration {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	kc.CurrentContext = "envtest"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Namespace = &path, &ns
	hc := new(action.Configuration)
	if err := hc.Init(flags, ns, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	return hc
}
