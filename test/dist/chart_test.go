package dist

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/ftcost/ftcost/internal/dist"
	"github.com/ftcost/ftcost/internal/manager"
	"github.com/ftcost/ftcost/internal/testenv"
)

var chartDir = filepath.Join(testenv.RepoRoot(), "dist", "chart")

// kubeVersion is the API server the suite runs (bin/controlplane), which Helm renders for.
var kubeVersion = chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}

// TestChartIsGenerated fails when dist/chart differs from what config/ generates.
func TestChartIsGenerated(t *testing.T) {
	want, err := dist.Chart(testenv.RepoRoot())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	err = filepath.WalkDir(chartDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(chartDir, path)
		got[filepath.ToSlash(rel)], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got))); diff != "" {
		t.Fatalf("dist/chart's files differ from what config/ generates; run 'make chart' (-generated +on disk):\n%s", diff)
	}
	for name := range want {
		if !bytes.Equal(want[name], got[name]) {
			t.Errorf("dist/chart/%s is out of date; run 'make chart':\n%s", name, cmp.Diff(string(want[name]), string(got[name])))
		}
	}
}

// render is `helm template` through the SDK: values merged over values.yaml and checked against
// values.schema.json, then every template rendered.
func render(t *testing.T, namespace string, vals map[string]any) (objs []*unstructured.Unstructured, notes string) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = kubeVersion
	top, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: "ftcost", Namespace: namespace, Revision: 1, IsInstall: true}, caps)
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	out, err := engine.Render(ch, top)
	if err != nil {
		t.Fatalf("rendering: %v", err)
	}
	for _, name := range slices.Sorted(maps.Keys(out)) {
		switch {
		case strings.HasSuffix(name, "NOTES.txt"):
			notes = out[name]
		case strings.HasSuffix(name, ".yaml"):
			objs = append(objs, decodeAll(t, []byte(out[name]))...)
		}
	}
	return objs, notes
}

// lintChart is `helm lint --strict`-like: any warning or error fails.
func lintChart(t *testing.T, namespace string, vals map[string]any) {
	t.Helper()
	l := lint.AllWithKubeVersion(chartDir, vals, namespace, &kubeVersion)
	for _, m := range l.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m)
		}
	}
}

// configDefault is config/default rendered by kustomize, by "Kind/name".
func configDefault(t *testing.T) map[string]*unstructured.Unstructured {
	t.Helper()
	b, err := dist.Installer(testenv.RepoRoot(), "")
	if err != nil {
		t.Fatal(err)
	}
	return byKindName(decodeAll(t, b))
}

// TestChartMatchesConfig renders the chart with its defaults into ftcost-system and compares it with
// config/default: the same objects (less the Namespace, which helm --create-namespace makes), and
// identical CRDs, RBAC rules and subjects, and the Deployment's security contexts, probes and image.
func TestChartMatchesConfig(t *testing.T) {
	objs, _ := render(t, "ftcost-system", nil)
	chart := byKindName(objs)
	config := configDefault(t)

	var wantNames []string
	for name := range config {
		if !strings.HasPrefix(name, "Namespace/") {
			wantNames = append(wantNames, name)
		}
	}
	var gotNames []string
	for name := range chart {
		// Objects config/default leaves to config/vap, config/kueue and config/prometheus.
		if !hasPrefixAny(name, "ValidatingAdmissionPolicy/ftcost-job-suspend-gate", "ValidatingAdmissionPolicyBinding/ftcost-job-suspend-gate") {
			gotNames = append(gotNames, name)
		}
	}
	sort.Strings(wantNames)
	sort.Strings(gotNames)
	if diff := cmp.Diff(wantNames, gotNames); diff != "" {
		t.Errorf("objects of config/default (-) and of the chart with default values (+):\n%s", diff)
	}

	for name, c := range config {
		h, ok := chart[name]
		if !ok {
			continue
		}
		switch c.GetKind() {
		case "CustomResourceDefinition":
			var want, got apiextensionsv1.CustomResourceDefinition
			fromU(t, c, &want)
			fromU(t, h, &got)
			if diff := cmp.Diff(want.Spec, got.Spec); diff != "" {
				t.Errorf("%s spec (-config +chart):\n%s", name, diff)
			}
			if got.Annotations["helm.sh/resource-policy"] != "keep" {
				t.Errorf("%s: want helm.sh/resource-policy: keep by default, so helm uninstall keeps every estimate", name)
			}
		case "ClusterRole", "Role":
			want, got := c.Object["rules"], h.Object["rules"]
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s rules (-config +chart):\n%s", name, diff)
			}
		case "ClusterRoleBinding", "RoleBinding":
			for _, f := range []string{"roleRef", "subjects"} {
				if diff := cmp.Diff(c.Object[f], h.Object[f]); diff != "" {
					t.Errorf("%s %s (-config +chart):\n%s", name, f, diff)
				}
			}
		case "Deployment":
			var want, got appsv1.Deployment
			fromU(t, c, &want)
			fromU(t, h, &got)
			wp, gp := want.Spec.Template.Spec, got.Spec.Template.Spec
			if diff := cmp.Diff(wp.SecurityContext, gp.SecurityContext); diff != "" {
				t.Errorf("pod securityContext (-config +chart):\n%s", diff)
			}
			wc, gc := wp.Containers[0], gp.Containers[0]
			for what, pair := range map[string][2]any{
				"container securityContext": {wc.SecurityContext, gc.SecurityContext},
				"image":                     {wc.Image, gc.Image},
				"command":                   {wc.Command, gc.Command},
				"ports":                     {wc.Ports, gc.Ports},
				"livenessProbe":             {wc.LivenessProbe, gc.LivenessProbe},
				"readinessProbe":            {wc.ReadinessProbe, gc.ReadinessProbe},
				"resources":                 {wc.Resources, gc.Resources},
				"replicas":                  {want.Spec.Replicas, got.Spec.Replicas},
				"serviceAccountName":        {wp.ServiceAccountName, gp.ServiceAccountName},
				"selector":                  {want.Spec.Selector, got.Spec.Selector},
			} {
				if diff := cmp.Diff(pair[0], pair[1]); diff != "" {
					t.Errorf("Deployment %s (-config +chart):\n%s", what, diff)
				}
			}
			// config's arguments, plus the gates' switches at their defaults.
			// (the chart sets --create-default-catalog from priceCatalog.create)
			wantArgs := append(slices.DeleteFunc(slices.Clone(wc.Args), func(a string) bool { return a == "--create-default-catalog" }),
				"--enable-job-gate=true", "--create-default-catalog=true", "--enable-kueue-admission-check=false")
			if diff := cmp.Diff(wantArgs, gc.Args); diff != "" {
				t.Errorf("Deployment args (-config +chart):\n%s", diff)
			}
		default:
			if diff := cmp.Diff(c.Object["spec"], h.Object["spec"]); diff != "" {
				t.Errorf("%s spec (-config +chart):\n%s", name, diff)
			}
		}
	}
}

func fromU(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	b, err := u.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, into); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
}

// managerOf returns the manager Deployment and its objects by "Kind/name".
func managerOf(t *testing.T, objs []*unstructured.Unstructured) (appsv1.Deployment, map[string]*unstructured.Unstructured) {
	t.Helper()
	m := byKindName(objs)
	var d appsv1.Deployment
	u, ok := m["Deployment/ftcost-controller-manager"]
	if !ok {
		t.Fatalf("no Deployment ftcost-controller-manager in %v", kindNames(objs))
	}
	fromU(t, u, &d)
	return d, m
}

func present(t *testing.T, m map[string]*unstructured.Unstructured, want bool, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, ok := m[n]; ok != want {
			t.Errorf("%s rendered: %v, want %v", n, ok, want)
		}
	}
}

func hasArg(d appsv1.Deployment, arg string) bool {
	return slices.Contains(d.Spec.Template.Spec.Containers[0].Args, arg)
}

var (
	vapObjects = []string{"ValidatingAdmissionPolicy/ftcost-suspend-guard", "ValidatingAdmissionPolicyBinding/ftcost-suspend-guard",
		"MutatingAdmissionPolicy/ftcost-hold-at-creation", "MutatingAdmissionPolicyBinding/ftcost-hold-at-creation",
		"ValidatingAdmissionPolicy/ftcost-operator-writes", "ValidatingAdmissionPolicyBinding/ftcost-operator-writes",
		"ValidatingAdmissionPolicy/ftcost-gate-state", "ValidatingAdmissionPolicyBinding/ftcost-gate-state",
		"ValidatingAdmissionPolicy/ftcost-scale-guard", "ValidatingAdmissionPolicyBinding/ftcost-scale-guard",
		"ValidatingAdmissionPolicy/ftcost-plan-freeze", "ValidatingAdmissionPolicyBinding/ftcost-plan-freeze",
		"ValidatingAdmissionPolicy/ftcost-estimate-keep", "ValidatingAdmissionPolicyBinding/ftcost-estimate-keep",
		"ValidatingAdmissionPolicy/ftcost-status-writes", "ValidatingAdmissionPolicyBinding/ftcost-status-writes",
		"ValidatingAdmissionPolicy/ftcost-estimate-required", "ValidatingAdmissionPolicyBinding/ftcost-estimate-required",
		"MutatingAdmissionPolicy/ftcost-pod-gate", "MutatingAdmissionPolicyBinding/ftcost-pod-gate",
		"ValidatingAdmissionPolicy/ftcost-pod-gate-guard", "ValidatingAdmissionPolicyBinding/ftcost-pod-gate-guard"}
	crdObjects  = []string{"CustomResourceDefinition/finetuneestimates.ftcost.io", "CustomResourceDefinition/pricecatalogs.ftcost.io"}
	monitor     = "ServiceMonitor/ftcost-controller-manager-metrics-monitor"
	service     = "Service/ftcost-controller-manager-metrics-service"
	check       = "AdmissionCheck/ftcost-cost-gate"
	jobGateRBAC = []string{"ClusterRole/ftcost-job-gate-role", "ClusterRoleBinding/ftcost-job-gate-rolebinding"}
	dashboardCM = "ConfigMap/ftcost-grafana-dashboard"
)

type valueCase struct {
	namespace string
	values    string // YAML, merged over values.yaml
	check     func(t *testing.T, d appsv1.Deployment, m map[string]*unstructured.Unstructured, notes string)
}

// valueCases toggle every value of values.yaml (TestEveryValueIsToggled holds this list to that).
var valueCases = map[string]valueCase{
	"defaults": {values: ``, check: func(t *testing.T, d appsv1.Deployment, m map[string]*unstructured.Unstructured, _ string) {
		present(t, m, true, append(append(append([]string{service}, vapObjects...), crdObjects...), jobGateRBAC...)...)
		present(t, m, false, monitor, check, dashboardCM, "PriceCatalog/default") // the manager creates the catalog
		if !hasArg(d, "--create-default-catalog=true") || !hasArg(d, "--enable-job-gate=true") {
			t.Errorf("args %q: want --create-default-catalog=true and --enable-job-gate=true", d.Spec.Template.Spec.Containers[0].Args)
		}
		if img := d.Spec.Template.Spec.Containers[0].Image; !strings.HasSuffix(img, ":v0.1.0") {
			t.Errorf("image %q: want the chart's appVersion as the tag", img)
		}
	}},
	"leader election off, three replicas": {values: "replicas: 3\nleaderElection: {enabled: false}", check: func(t *testing.T, d appsv1.Deployment, _ map[string]*unstructured.Unstructured, _ string) {
		if *d.Spec.Replicas != 3 || hasArg(d, "--leader-elect") {
			t.Errorf("replicas %d, args %q: want 3 and no --leader-elect", *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Args)
		}
	}},
	"no CRDs": {values: "crds: {install: false}", check: func(t *testing.T, _ appsv1.Deployment, m map[string]*unstructured.Unstructured, _ string) {
		present(t, m, false, crdObjects...)
	}},
	"CRDs not kept": {values: "crds: {keep: false}", check: func(t *testing.T, _ appsv1.Deployment, m map[string]*unstructured.Unstructured, _ string) {
		for _, n := range crdObjects {
			if _, ok := m[n].GetAnnotations()["helm.sh/resource-policy"]; ok {
				t.Errorf("%s keeps helm.sh/resource-policy with crds.keep=false", n)
			}
		}
	}},
	"no catalog": {values: "priceCatalog: {create: false}", check: func(t *testing.T, d appsv1.Deployment, _ map[string]*unstructured.Unstructured, _ string) {
		if !hasArg(d, "--create-default-catalog=false") {
			t.Errorf("args %q lack --create-default-catalog=false", d.Spec.Template.Spec.Containers[0].Args)
		}
	}},
	"no Job gate": {values: "jobGate: {enabled: false}", check: func(t *testing.T, d appsv1.Deployment, m map[string]*unstructured.Unstructured, _ string) {
		present(t, m, false, vapObjects...) // nobody would release the Jobs it holds
		present(t, m, false, jobGateRBAC...)
		if !hasArg(d, "--enable-job-gate=false") {
			t.Errorf("args %q lack --enable-job-gate=false", d.Spec.Template.Spec.Containers[0].Args)
		}
	}},
	"no admission policies": {values: "admissionPolicies: {enabled: false}", check: func(t *testing.T, d appsv1.Deployment, m map[string]*unstructured.Unstructured, notes string) {
		// Without the policies confining its patch on workloads, the gate is off and the patch not granted.
		present(t, m, false, vapObjects...)
		present(t, m, false, jobGateRBAC...)
		if !hasArg(d, "--enable-job-gate=false") || !strings.Contains(notes, "The Job gate is off") || strings.Contains(notes, "Gate a training Job") {
			t.Errorf("args %q / notes: want the Job gate off, and said so, without the policies", d.Spec.Template.Spec.Containers[0].Args)
		}
	}},
	"Kueue check": {values: "kueue: {admissionCheck: {enabled: true}}", check: func(t *testing.T, d appsv1.Deployment, m map[string]*unstructured.Unstructured, notes string) {
		present(t, m, true, check)
		if !hasArg(d, "--enable-kueue-admission-check=true") || !strings.Contains(notes, "ftcost-cost-gate") {
			t.Errorf("args %q / notes: want --enable-kueue-admission-check=true and the check named", d.Spec.Template.Spec.Containers[0].Args)
		}
		if got, _, _ := unstructured.NestedString(m[check].Object, "spec", "controllerName"); got != "ftcost.io/cost-gate" {
			t.Errorf("AdmissionCheck controllerName %q", got)
		}
	}},
	"Kueue check, AdmissionCheck made elsewhere": {values: "kueue: {admissionCheck: {enabled: true, create: false}}", check: func(t *testing.T, d appsv1.Deployment, m map[string]*unstructured.Unstructured, _ string) {
		present(t, m, false, check)
		if !hasArg(d, "--enable-kueue-admission-check=true") {
			t.Errorf("the manager must still serve the check")
		}
	}},
	"metrics off": {values: "metrics: {enabled: false, serviceMonitor: {enabled: true}}", check: func(t *testing.T, d appsv1.Deployment, m map[string]*unstructured.Unstructured, _ string) {
		present(t, m, false, service, monitor)
		if !hasArg(d, "--metrics-bind-address=0") {
			t.Errorf("args %q lack --metrics-bind-address=0", d.Spec.Template.Spec.Containers[0].Args)
		}
	}},
	"ServiceMonitor": {values: "metrics: {serviceMonitor: {enabled: true, interval: 15s, labels: {release: kube-prometheus-stack}, prometheusServiceAccount: {name: kps-prometheus, namespace: observability}}}", check: func(t *testing.T, _ appsv1.Deployment, m map[string]*unstructured.Unstructured, _ string) {
		present(t, m, true, monitor, service)
		sm := m[monitor]
		if sm.GetLabels()["release"] != "kube-prometheus-stack" {
			t.Errorf("ServiceMonitor labels %v lack release", sm.GetLabels())
		}
		eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
		if len(eps) != 1 || eps[0].(map[string]any)["interval"] != "15s" || eps[0].(map[string]any)["port"] != "https" {
			t.Errorf("endpoints %v: want port https every 15s", eps)
		}
		present(t, m, true, "ClusterRoleBinding/ftcost-prometheus-metrics-reader")
		// The monitor selects the metrics Service.
		sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
		for k, v := range sel {
			if m[service].GetLabels()[k] != v {
				t.Errorf("ServiceMonitor selects %s=%s, which the Service lacks", k, v)
			}
		}
	}},
	"Grafana dashboard": {values: "grafana: {dashboard: {enabled: true, namespace: ml-platform, labels: {grafana_dashboard: \"ftcost\", team: ml}}}", check: func(t *testing.T, _ appsv1.Deployment, m map[string]*unstructured.Unstructured, _ string) {
		present(t, m, true, dashboardCM)
		cm := m[dashboardCM]
		want, _ := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "grafana", "ftcost-dashboard.json"))
		got, _, _ := unstructured.NestedString(cm.Object, "data", "ftcost-dashboard.json")
		if got != strings.TrimSuffix(string(want), "\n") || cm.GetNamespace() != "ml-platform" || cm.GetLabels()["team"] != "ml" || cm.GetLabels()["grafana_dashboard"] != "ftcost" {
			t.Errorf("dashboard ConfigMap in %q with labels %v: want config/grafana's dashboard in ml-platform", cm.GetNamespace(), cm.GetLabels())
		}
	}},
	"image, placement, resources, extra args": {values: `
image: {repository: registry.example.com/ml/ftcost-manager, tag: v0.2.0-rc.1, pullPolicy: Always}
imagePullSecrets: [{name: regcred}]
nodeSelector: {kubernetes.io/os: linux}
tolerations: [{key: dedicated, operator: Equal, value: platform, effect: NoSchedule}]
affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/arch, operator: In, values: [amd64]}]}]}}}
resources: {requests: {cpu: 50m, memory: 192Mi}, limits: {cpu: "1", memory: 384Mi}}
extraArgs: [--max-concurrent-reconciles=8, --zap-log-level=debug]
`, check: func(t *testing.T, d appsv1.Deployment, _ map[string]*unstructured.Unstructured, _ string) {
		p := d.Spec.Template.Spec
		c := p.Containers[0]
		if c.Image != "registry.example.com/ml/ftcost-manager:v0.2.0-rc.1" || c.ImagePullPolicy != "Always" {
			t.Errorf("image %q pull %q", c.Image, c.ImagePullPolicy)
		}
		if len(p.ImagePullSecrets) != 1 || p.NodeSelector["kubernetes.io/os"] != "linux" || len(p.Tolerations) != 1 || p.Affinity == nil || p.Affinity.NodeAffinity == nil {
			t.Errorf("pod placement not applied: %+v", p)
		}
		if c.Resources.Limits.Memory().String() != "384Mi" || c.Resources.Requests.Cpu().String() != "50m" ||
			c.Resources.Requests.Memory().String() != "192Mi" {
			t.Errorf("resources %+v", c.Resources)
		}
		// The manager's soft memory limit follows the memory request, whatever it is set to.
		if i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == manager.MemoryRequestEnv }); i < 0 ||
			c.Env[i].ValueFrom == nil || c.Env[i].ValueFrom.ResourceFieldRef == nil || c.Env[i].ValueFrom.ResourceFieldRef.Resource != "requests.memory" {
			t.Errorf("env %+v: want %s from requests.memory", c.Env, manager.MemoryRequestEnv)
		}
		if got := c.Args[len(c.Args)-2:]; !slices.Equal(got, []string{"--max-concurrent-reconciles=8", "--zap-log-level=debug"}) {
			t.Errorf("extra args: last args are %q", got)
		}
	}},
	"another namespace": {namespace: "ml-platform", check: func(t *testing.T, d appsv1.Deployment, m map[string]*unstructured.Unstructured, notes string) {
		if d.Namespace != "ml-platform" {
			t.Errorf("Deployment in %q", d.Namespace)
		}
		var b rbacv1.ClusterRoleBinding
		fromU(t, m["ClusterRoleBinding/ftcost-manager-rolebinding"], &b)
		if b.Subjects[0].Namespace != "ml-platform" {
			t.Errorf("manager binding subjects %+v: want the release's namespace", b.Subjects)
		}
		vars, _, _ := unstructured.NestedSlice(m[vapObjects[0]].Object, "spec", "variables")
		if !strings.Contains(fmt.Sprint(vars), "'ml-platform'") {
			t.Errorf("the admission policy must exempt the operator's service account in the release's namespace: %v", vars)
		}
		if !strings.Contains(notes, "ml-platform") {
			t.Errorf("NOTES do not mention the namespace")
		}
	}},
	"everything on": {values: `
kueue: {admissionCheck: {enabled: true, create: true}}
metrics: {enabled: true, serviceMonitor: {enabled: true}}
grafana: {dashboard: {enabled: true}}
`, check: func(t *testing.T, _ appsv1.Deployment, m map[string]*unstructured.Unstructured, _ string) {
		present(t, m, true, append(append([]string{service, monitor, check, dashboardCM}, vapObjects...), crdObjects...)...)
	}},
	"everything off": {values: `
crds: {install: false}
priceCatalog: {create: false}
jobGate: {enabled: false}
admissionPolicies: {enabled: false}
metrics: {enabled: false}
leaderElection: {enabled: false}
`, check: func(t *testing.T, _ appsv1.Deployment, m map[string]*unstructured.Unstructured, _ string) {
		present(t, m, false, append(append(append([]string{service, monitor, check, dashboardCM}, vapObjects...), crdObjects...), jobGateRBAC...)...)
		present(t, m, true, "ServiceAccount/ftcost-controller-manager", "ClusterRole/ftcost-manager-role")
	}},
}

// TestChartValues lints and renders the chart for each case, checks what the case toggles, strictly
// decodes every object and applies them to the API server in dry-run.
func TestChartValues(t *testing.T) {
	for name, tc := range valueCases {
		t.Run(name, func(t *testing.T) {
			ns := tc.namespace
			if ns == "" {
				ns = "ftcost-system"
			}
			vals := map[string]any{}
			if err := yaml.Unmarshal([]byte(tc.values), &vals); err != nil {
				t.Fatal(err)
			}
			lintChart(t, ns, vals)
			objs, notes := render(t, ns, vals)
			for _, u := range objs {
				decodeStrict(t, u)
				if u.GetLabels()["app.kubernetes.io/managed-by"] != "Helm" {
					t.Errorf("%s %s lacks the chart's labels", u.GetKind(), u.GetName())
				}
			}
			d, m := managerOf(t, objs)
			tc.check(t, d, m, notes)
			dryRunApply(t, objs)
		})
	}
}

// TestChartRejectsBadValues: values.schema.json stops a typo or a wrong type before anything renders.
func TestChartRejectsBadValues(t *testing.T) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range map[string]string{
		"misspelled toggle":  "jobgate: {enabled: false}",
		"string for a bool":  "kueue: {admissionCheck: {enabled: \"yes\"}}",
		"negative replicas":  "replicas: -1",
		"arg without dashes": "extraArgs: [leader-elect]",
	} {
		t.Run(name, func(t *testing.T) {
			vals := map[string]any{}
			if err := yaml.Unmarshal([]byte(values), &vals); err != nil {
				t.Fatal(err)
			}
			if _, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: "ftcost", Namespace: "ftcost-system"}, chartutil.DefaultCapabilities); err == nil {
				t.Errorf("values %q accepted", values)
			}
		})
	}
}

// TestEveryValueIsToggled holds valueCases to covering each leaf of values.yaml with a value other
// than its default.
func TestEveryValueIsToggled(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]any{}
	if err := yaml.Unmarshal(b, &defaults); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, tc := range valueCases {
		vals := map[string]any{}
		if err := yaml.Unmarshal([]byte(tc.values), &vals); err != nil {
			t.Fatal(err)
		}
		for path, v := range leaves("", vals) {
			if !cmp.Equal(v, leaves("", defaults)[path]) {
				set[path] = true
			}
		}
	}
	for path := range leaves("", defaults) {
		covered := set[path]
		for p := range set { // a map or list value set below its default's path
			covered = covered || strings.HasPrefix(p, path+".")
		}
		if !covered {
			t.Errorf("no case of valueCases sets %s to anything but its default", path)
		}
	}
}

// leaves flattens a values tree to dotted paths; empty maps and lists are leaves.
func leaves(prefix string, v any) map[string]any {
	out := map[string]any{}
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		out[prefix] = v
		return out
	}
	for k, e := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		maps.Copy(out, leaves(p, e))
	}
	return out
}
