package gating

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/cel-go/cel"
	celtypes "github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	. "github.com/onsi/gomega"
	lua "github.com/yuin/gopher-lua"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
	"github.com/ftcost/ftcost/internal/estimate"
	"github.com/ftcost/ftcost/internal/evaluation"
	"github.com/ftcost/ftcost/internal/gate"
)

func gitopsFile(t *testing.T, rel string) []byte {
	t.Helper()
	return configFile(t, filepath.Join("gitops", rel))
}

// argoHealth runs an Argo CD health script the way Argo CD does: gopher-lua with the base, table,
// string and math libraries, the object as the global `obj`, and the returned table read as
// {status, message}.
func argoHealth(script string, obj map[string]any) (status, message string, err error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		l.Push(l.NewFunction(lib.fn))
		l.Push(lua.LString(lib.name))
		l.Call(1, 0)
	}
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return "", "", err
	}
	hs, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", fmt.Errorf("the script returned %s, not a table", l.Get(-1).Type())
	}
	return lua.LVAsString(hs.RawGetString("status")), lua.LVAsString(hs.RawGetString("message")), nil
}

// toLua converts JSON-like Go values as Argo CD does: maps and slices become tables, numbers LNumber.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := l.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(l, e))
		}
		return t
	case []any:
		t := l.NewTable()
		for i, e := range v {
			t.RawSetInt(i+1, toLua(l, e))
		}
		return t
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case nil:
		return lua.LNil
	default:
		return lua.LString(fmt.Sprint(v))
	}
}

// healthCheckExprs is one entry of a Flux Kustomization's spec.healthCheckExprs.
type healthCheckExprs struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	InProgress string `json:"inProgress"`
	Failed     string `json:"failed"`
	Current    string `json:"current"`
}

// fluxKustomization is the part of a Flux Kustomization the recipe relies on.
type fluxKustomization struct {
	Metadata struct{ Name string }
	Spec     struct {
		Path             string
		Wait             bool
		DependsOn        []struct{ Name string } `json:"dependsOn"`
		HealthCheckExprs []healthCheckExprs      `json:"healthCheckExprs"`
	}
}

func fluxKustomizations(t *testing.T) map[string]fluxKustomization {
	t.Helper()
	out := map[string]fluxKustomization{}
	for _, doc := range splitYAML(gitopsFile(t, "flux/kustomizations.yaml")) {
		var k fluxKustomization
		if err := yaml.Unmarshal(doc, &k); err != nil {
			t.Fatal(err)
		}
		out[k.Metadata.Name] = k
	}
	return out
}

func splitYAML(b []byte) [][]byte {
	var docs [][]byte
	start := 0
	for i := 0; i+4 <= len(b); i++ {
		if string(b[i:i+4]) == "---\n" && (i == 0 || b[i-1] == '\n') {
			docs = append(docs, b[start:i])
			start = i + 4
		}
	}
	return append(docs, b[start:])
}

// fluxHealth evaluates healthCheckExprs the way Flux's kustomize-controller does (fluxcd/pkg
// runtime/cel StatusEvaluator, RFC-0009): a stale status.observedGeneration is InProgress; then
// inProgress, failed and current are tried in that order, over the object's top-level fields, with
// the same CEL environment; when none holds the status is InProgress.
func fluxHealth(e healthCheckExprs, obj map[string]any) (kstatus.Status, error) {
	u := &unstructured.Unstructured{Object: obj}
	if og, ok, _ := unstructured.NestedInt64(obj, "status", "observedGeneration"); ok && og != u.GetGeneration() {
		return kstatus.InProgressStatus, nil
	}
	env, err := cel.NewEnv(cel.HomogeneousAggregateLiterals(), cel.EagerlyValidateDeclarations(true),
		cel.DefaultUTCTimeZone(true), cel.CrossTypeNumericComparisons(true), cel.OptionalTypes(),
		ext.Strings(), ext.Sets(), ext.Encoders())
	if err != nil {
		return "", err
	}
	for _, c := range []struct {
		expr   string
		status kstatus.Status
	}{{e.InProgress, kstatus.InProgressStatus}, {e.Failed, kstatus.FailedStatus}, {e.Current, kstatus.CurrentStatus}} {
		if c.expr == "" {
			continue
		}
		ast, iss := env.Parse(c.expr)
		if iss != nil && iss.Err() != nil {
			return "", iss.Err()
		}
		prg, err := env.Program(ast)
		if err != nil {
			return "", err
		}
		v, _, err := prg.Eval(obj)
		if err != nil {
			return "", err
		}
		if b, ok := v.(celtypes.Bool); !ok {
			return "", fmt.Errorf("%q is not a boolean", c.expr)
		} else if b {
			return c.status, nil
		}
	}
	return kstatus.InProgressStatus, nil
}

func toMap(t *testing.T, obj *ftv1.FineTuneEstimate) map[string]any {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	m["apiVersion"], m["kind"] = ftv1.GroupVersion.String(), "FineTuneEstimate"
	if equality.Semantic.DeepEqual(obj.Status, ftv1.FineTuneEstimateStatus{}) {
		delete(m, "status") // a new object, as the API server serves it
	}
	// Through JSON, as Argo CD and Flux receive it from the API server.
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	return u.Object
}

// computed is obj with the status the operator would write, priced with the built-in catalog
// (catalog is the getter's answer for any name).
func computed(t *testing.T, obj *ftv1.FineTuneEstimate, catalogExists bool) *ftv1.FineTuneEstimate {
	t.Helper()
	obj.Generation = 1
	obj.Status = *evaluation.Evaluate(&evaluation.Inputs{Estimate: obj, Now: time.Now()}).Status
	return obj
}

// checked is obj evaluated with the checks beside its figures: prices older than the catalog's
// maxAge (stale), or a CostPolicy whose limit it breaks.
func checked(t *testing.T, obj *ftv1.FineTuneEstimate, stale bool, policies ...*ftv1.CostPolicy) *ftv1.FineTuneEstimate {
	t.Helper()
	obj.Generation = 1
	pc := catalog.FromEngine(engine.BuiltinCatalog(), ftv1.DefaultCatalogName)
	pc.Generation = 1
	if stale {
		pc.Spec.MaxAge = ptr.To(ftv1.Duration("720h"))
		for i := range pc.Spec.Providers {
			pc.Spec.Providers[i].EffectiveDate = "2020-01-01"
		}
	}
	obj.Status = *evaluation.Evaluate(&evaluation.Inputs{Estimate: obj, Catalog: pc, Policies: policies, Now: time.Now()}).Status
	return obj
}

// TestHealthChecks runs the Argo CD Lua (config/gitops/argocd/health.lua), Flux's healthCheckExprs
// (config/gitops/flux/kustomizations.yaml) and kstatus on the statuses an estimate goes through.
func TestHealthChecks(t *testing.T) {
	script := string(gitopsFile(t, "argocd/health.lua"))
	exprs := fluxKustomizations(t)["ml-estimates"].Spec.HealthCheckExprs
	if len(exprs) != 1 || exprs[0].Kind != "FineTuneEstimate" || exprs[0].APIVersion != ftv1.GroupVersion.String() {
		t.Fatalf("ml-estimates healthCheckExprs = %+v, want one for %s FineTuneEstimate", exprs, ftv1.GroupVersion)
	}

	newGeneration := computed(t, supportBot("ml", "x", ""), false)
	newGeneration.Generation = 2
	firstSight := supportBot("ml", "x", "")
	firstSight.Generation = 1
	firstSight.Status = *estimate.Pending(firstSight, "Reading the price catalog failed: timeout")
	retrying := computed(t, supportBot("ml", "x", ""), false)
	retrying.Status = *estimate.Pending(retrying, "Reading the price catalog failed: timeout")
	noCatalog := supportBot("ml", "x", ftv1.PolicyEnforce)
	noCatalog.Spec.PriceCatalogRef = "premium"
	platform := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "platform"},
		Spec: ftv1.CostPolicySpec{NamespaceSelector: &metav1.LabelSelector{}, MaxUpfrontCost: ptr.To(ftv1.Decimal("500"))}}
	apiCheaper := func(p ftv1.Policy) *ftv1.FineTuneEstimate {
		o := supportBot("ml", "x", p)
		o.Spec.Usage.RequestsPerMonth = 10
		return computed(t, o, false)
	}

	cases := map[string]struct {
		obj     *ftv1.FineTuneEstimate
		argo    string
		argoMsg string
		flux    kstatus.Status
		// kstatus is what plain kstatus says (what Flux uses without healthCheckExprs); "" when it
		// is not compared.
		kstatus kstatus.Status
	}{
		"no status yet":                      {obj: supportBot("ml", "x", ""), argo: "Progressing", argoMsg: "generation 0"},
		"a new generation not yet estimated": {obj: newGeneration, argo: "Progressing", argoMsg: "generation 2", flux: kstatus.InProgressStatus, kstatus: kstatus.InProgressStatus},
		"first sight, catalog unreadable":    {obj: firstSight, argo: "Progressing", argoMsg: "generation 1", flux: kstatus.InProgressStatus, kstatus: kstatus.InProgressStatus},
		"catalog unreadable, retrying":       {obj: retrying, argo: "Progressing", argoMsg: "Reconciling: Reconciling: Reading the price catalog failed", flux: kstatus.InProgressStatus, kstatus: kstatus.InProgressStatus},
		"cannot be estimated":                {obj: computed(t, noCatalog, false), argo: "Degraded", argoMsg: "CatalogNotFound", flux: kstatus.FailedStatus, kstatus: kstatus.FailedStatus},
		"approved":                           {obj: computed(t, supportBot("ml", "x", ftv1.PolicyEnforce), false), argo: "Healthy", argoMsg: "Approved: recommendation FineTune, upfront ", flux: kstatus.CurrentStatus, kstatus: kstatus.CurrentStatus},
		"use the API, Enforce":               {obj: apiCheaper(ftv1.PolicyEnforce), argo: "Degraded", argoMsg: "NotRecommended", flux: kstatus.FailedStatus, kstatus: kstatus.CurrentStatus},
		"over budget, Enforce":               {obj: computed(t, overBudget("ml", "x", ftv1.PolicyEnforce), false), argo: "Degraded", argoMsg: "OverBudget", flux: kstatus.FailedStatus},
		"use the API, Advisory":              {obj: apiCheaper(ftv1.PolicyAdvisory), argo: "Healthy", argoMsg: "policy Advisory", flux: kstatus.CurrentStatus, kstatus: kstatus.CurrentStatus},
		"use the API, no policy":             {obj: apiCheaper(""), argo: "Healthy", argoMsg: "policy Advisory", flux: kstatus.CurrentStatus},
		"stale prices, Enforce":              {obj: checked(t, supportBot("ml", "x", ftv1.PolicyEnforce), true), argo: "Degraded", argoMsg: "PricesStale", flux: kstatus.FailedStatus, kstatus: kstatus.CurrentStatus},
		"stale prices, Advisory":             {obj: checked(t, supportBot("ml", "x", ftv1.PolicyAdvisory), true), argo: "Healthy", argoMsg: "Approved", flux: kstatus.CurrentStatus},
		"cost policy says no, Enforce":       {obj: checked(t, supportBot("ml", "x", ftv1.PolicyEnforce), false, platform), argo: "Degraded", argoMsg: "PolicyViolated: CostPolicy platform maxUpfrontCost", flux: kstatus.FailedStatus},
		"cost policy says no, Advisory":      {obj: checked(t, supportBot("ml", "x", ftv1.PolicyAdvisory), false, platform), argo: "Degraded", argoMsg: "Not approved by a CostPolicy", flux: kstatus.FailedStatus, kstatus: kstatus.CurrentStatus},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			m := toMap(t, tc.obj)
			status, msg, err := argoHealth(script, m)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(status).To(Equal(tc.argo), msg)
			g.Expect(msg).To(ContainSubstring(tc.argoMsg))

			got, err := fluxHealth(exprs[0], m)
			if tc.flux == "" {
				// Flux cannot evaluate expressions over a missing status: an error, which it retries
				// until the operator's first status write (within a second of creation).
				g.Expect(err).To(MatchError(ContainSubstring("no such attribute")))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.flux))
			if tc.kstatus != "" {
				res, err := kstatus.Compute(&unstructured.Unstructured{Object: m})
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(res.Status).To(Equal(tc.kstatus), res.Message)
			}
		})
	}
}

// The argocd-cm snippet embeds exactly health.lua.
func TestArgoConfigMapEmbedsHealthLua(t *testing.T) {
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(gitopsFile(t, "argocd/argocd-cm.yaml"), &cm); err != nil {
		t.Fatal(err)
	}
	if got, want := cm.Data["resource.customizations.health.ftcost.io_FineTuneEstimate"], string(gitopsFile(t, "argocd/health.lua")); got != want {
		t.Errorf("argocd-cm.yaml and health.lua differ; paste health.lua under the key again")
	}
}

// argoApp is the part of an Argo CD Application the recipe relies on.
type argoApp struct {
	Spec struct {
		SyncPolicy struct {
			SyncOptions []string `json:"syncOptions"`
		} `json:"syncPolicy"`
		IgnoreDifferences []struct {
			Group        string   `json:"group"`
			Kind         string   `json:"kind"`
			JSONPointers []string `json:"jsonPointers"`
		} `json:"ignoreDifferences"`
	}
}

// Recipe 1 (docs/gitops.md): Argo CD applies config/gitops/argocd/app wave by wave. The estimate
// (wave -1) turns Healthy by health.lua, then the Job (wave 0) is applied and the Job gate releases it;
// the Application ignores the resulting /spec/suspend drift.
func TestRecipeArgoCDSyncWaves(t *testing.T) {
	g := NewWithT(t)
	var app argoApp
	g.Expect(yaml.Unmarshal(gitopsFile(t, "argocd/application.yaml"), &app)).To(Succeed())
	g.Expect(app.Spec.SyncPolicy.SyncOptions).To(ContainElement("RespectIgnoreDifferences=true"))
	found := false
	for _, d := range app.Spec.IgnoreDifferences {
		found = found || (d.Group == "batch" && d.Kind == "Job" && len(d.JSONPointers) == 1 && d.JSONPointers[0] == "/spec/suspend")
	}
	g.Expect(found).To(BeTrue(), "ignoreDifferences lacks batch/Job /spec/suspend: %+v", app.Spec.IgnoreDifferences)

	ns := namespace(t)
	script := string(gitopsFile(t, "argocd/health.lua"))
	waves := map[string][]*unstructured.Unstructured{}
	for _, u := range render(t, "gitops/argocd/app") {
		w := u.GetAnnotations()["argocd.argoproj.io/sync-wave"]
		waves[w] = append(waves[w], u)
	}
	g.Expect(waves).To(HaveLen(2))
	g.Expect(waves["-1"]).To(HaveLen(1))
	g.Expect(waves["-1"][0].GetKind()).To(Equal("FineTuneEstimate"))
	g.Expect(waves["0"]).To(HaveLen(1))
	g.Expect(waves["0"][0].GetLabels()).To(HaveKeyWithValue(gate.EstimateLabel, waves["-1"][0].GetName()))

	// Wave -1, then wait for Healthy as Argo CD would.
	create(t, ns, waves["-1"]...)
	g.Eventually(func(g Gomega) {
		u := waves["-1"][0].DeepCopy()
		g.Expect(k.Get(ctx, key(u), u)).To(Succeed())
		status, msg, err := argoHealth(script, u.Object)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(status).To(Equal("Healthy"), msg)
	}).WithTimeout(timeout).Should(Succeed())
	// Wave 0: the Job, created suspended, is released by the gate.
	create(t, ns, waves["0"]...)
	jobState(g, &batchv1.Job{ObjectMeta: metaOf(waves["0"][0])}, released)
}

// Recipe 2 (docs/gitops.md): Flux applies ml-estimates, waits until its health checks pass, then
// applies ml-training (dependsOn); the Job gate releases the Job.
func TestRecipeFluxDependsOn(t *testing.T) {
	g := NewWithT(t)
	ks := fluxKustomizations(t)
	est, train := ks["ml-estimates"], ks["ml-training"]
	g.Expect(est.Spec.Wait).To(BeTrue(), "ml-estimates must wait for health checks")
	g.Expect(train.Spec.DependsOn).To(HaveLen(1))
	g.Expect(train.Spec.DependsOn[0].Name).To(Equal("ml-estimates"))

	ns := namespace(t)
	estimates := render(t, filepath.Join("gitops", "flux", filepath.Base(est.Spec.Path)))
	create(t, ns, estimates...)
	g.Eventually(func(g Gomega) {
		for _, u := range estimates {
			cur := u.DeepCopy()
			g.Expect(k.Get(ctx, key(cur), cur)).To(Succeed())
			got, err := fluxHealth(est.Spec.HealthCheckExprs[0], cur.Object)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(kstatus.CurrentStatus))
		}
	}).WithTimeout(timeout).Should(Succeed())

	jobs := render(t, filepath.Join("gitops", "flux", filepath.Base(train.Spec.Path)))
	g.Expect(jobs).To(HaveLen(1))
	g.Expect(jobs[0].GetAnnotations()).To(HaveKeyWithValue("kustomize.toolkit.fluxcd.io/ssa", "IfNotPresent"))
	create(t, ns, jobs...)
	jobState(g, &batchv1.Job{ObjectMeta: metaOf(jobs[0])}, released)

	// Under Enforce, an estimate that says "use the API" fails the health check: ml-training waits.
	no := apiCheaperLive(t, ns)
	got, err := fluxHealth(est.Spec.HealthCheckExprs[0], no)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal(kstatus.FailedStatus))
	status, _, err := argoHealth(string(gitopsFile(t, "argocd/health.lua")), no)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(status).To(Equal("Degraded"))
}

// apiCheaperLive creates an Enforce estimate the API beats and returns it as the API server serves it.
func apiCheaperLive(t *testing.T, ns string) map[string]any {
	t.Helper()
	o := supportBot(ns, "api-wins", ftv1.PolicyEnforce)
	o.Spec.Usage.RequestsPerMonth = 10
	got := estimated(t, o)
	return toMap(t, got)
}

func render(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := renderDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func metaOf(u *unstructured.Unstructured) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: u.GetNamespace(), Name: u.GetName()}
}

func create(t *testing.T, ns string, objs ...*unstructured.Unstructured) {
	t.Helper()
	for _, u := range objs {
		u.SetNamespace(ns)
		if err := k.Create(ctx, u); err != nil {
			t.Fatalf("creating %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}
