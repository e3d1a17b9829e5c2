package controller_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
	"github.com/ftcost/ftcost/internal/controller"
	"github.com/ftcost/ftcost/internal/evaluation"
	ftmetrics "github.com/ftcost/ftcost/internal/metrics"
	"github.com/ftcost/ftcost/internal/testenv"
)

const timeout = 20 * time.Second

var (
	dec        = testenv.Dec
	supportBot = testenv.SupportBot
)

func namespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "fte-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// estimated waits until the controller has written status for the object's current generation.
func estimated(g Gomega, key types.NamespacedName, cond func(*ftv1.FineTuneEstimate) bool) *ftv1.FineTuneEstimate {
	obj := &ftv1.FineTuneEstimate{}
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key, obj)).To(Succeed())
		g.Expect(obj.Status.ObservedGeneration).To(Equal(obj.Generation))
		g.Expect(cond(obj)).To(BeTrue(), "status: %+v", obj.Status)
	}).WithTimeout(timeout).WithPolling(100 * time.Millisecond).Should(Succeed())
	return obj
}

func ready(obj *ftv1.FineTuneEstimate) bool {
	return meta.IsStatusConditionTrue(obj.Status.Conditions, ftv1.ConditionReady)
}

func readyReason(reason string) func(*ftv1.FineTuneEstimate) bool {
	return func(obj *ftv1.FineTuneEstimate) bool {
		c := meta.FindStatusCondition(obj.Status.Conditions, ftv1.ConditionReady)
		return c != nil && c.Reason == reason
	}
}

func key(o client.Object) types.NamespacedName { return client.ObjectKeyFromObject(o) }

func TestEstimateWorkedExample(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	obj := supportBot(ns, "support-bot")
	g.Expect(env.Client.Create(ctx, obj)).To(Succeed())
	got := estimated(g, key(obj), ready)

	g.Expect(got.Status.UpfrontCost).To(Equal("1001.25"))
	g.Expect(got.Status.TrainingCost).To(Equal("1.25"))
	g.Expect(got.Status.BreakEvenMonths).To(Equal("20.0"))
	g.Expect(got.Status.NetSavings).To(Equal("798.75"))
	g.Expect(got.Status.ROIPercent).To(Equal("79.8"))
	g.Expect(got.Status.Recommendation).To(Equal(ftv1.RecommendationFineTune))
	g.Expect(got.Status.Pricing.Source).To(Equal(ftv1.PricingSourceBuiltin))
	for _, typ := range []string{ftv1.ConditionReady, ftv1.ConditionFineTuneRecommended, ftv1.ConditionWithinBudget, ftv1.ConditionApproved} {
		c := meta.FindStatusCondition(got.Status.Conditions, typ)
		g.Expect(c).NotTo(BeNil(), typ)
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), typ)
		g.Expect(c.ObservedGeneration).To(Equal(got.Generation), typ)
	}
	g.Expect(meta.FindStatusCondition(got.Status.Conditions, ftv1.ConditionReconciling)).To(BeNil())
	g.Expect(meta.FindStatusCondition(got.Status.Conditions, ftv1.ConditionStalled)).To(BeNil())

	// The status equals what the shared function computes offline (the CLI prints the same).
	want := evaluation.Evaluate(&evaluation.Inputs{Estimate: got, Now: time.Now()}).Status
	g.Expect(cmp.Diff(*want, got.Status, cmpopts.IgnoreFields(metav1.Condition{}, "LastTransitionTime"))).To(BeEmpty())

	// kstatus, which Flux and the cli-utils appliers use, reports Current.
	u := toUnstructured(g, got)
	res, err := kstatus.Compute(u)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Status).To(Equal(kstatus.CurrentStatus), res.Message)
}

func TestSpecChangeFlipsRecommendationWithEvents(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	obj := supportBot(ns, "flip")
	g.Expect(env.Client.Create(ctx, obj)).To(Succeed())
	estimated(g, key(obj), ready)

	// Ten requests a month never repay 1001.25: the API wins.
	g.Expect(env.Client.Get(ctx, key(obj), obj)).To(Succeed())
	obj.Spec.Usage.RequestsPerMonth = 10
	obj.Spec.OneTimeCosts.DataLabeling = dec("2000")
	g.Expect(env.Client.Update(ctx, obj)).To(Succeed())
	got := estimated(g, key(obj), func(o *ftv1.FineTuneEstimate) bool { return o.Status.Recommendation == ftv1.RecommendationAPI })
	g.Expect(got.Status.UpfrontCost).To(Equal("2001.25"))
	c := meta.FindStatusCondition(got.Status.Conditions, ftv1.ConditionFineTuneRecommended)
	g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(c.Reason).To(Equal(ftv1.ReasonAPICheaper))
	a := meta.FindStatusCondition(got.Status.Conditions, ftv1.ConditionApproved)
	g.Expect(a.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(a.Reason).To(Equal(ftv1.ReasonNotRecommended))

	g.Eventually(func(g Gomega) {
		notes := eventNotes(g, ns, "flip")
		g.Expect(notes).To(ContainElement("Recommendation FineTune -> API"))
		g.Expect(notes).To(ContainElement("Upfront cost 1001.25 -> 2001.25 (+99.9%)"))
	}).WithTimeout(timeout).Should(Succeed())
}

func eventNotes(g Gomega, ns, name string) []string {
	list := &eventsv1.EventList{}
	g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	var notes []string
	for _, e := range list.Items {
		if e.Regarding.Name == name {
			notes = append(notes, e.Note)
		}
	}
	return notes
}

func TestBudgetExceededBlocksApproval(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	obj := supportBot(ns, "tight-budget")
	obj.Spec.Budget = &ftv1.Budget{MaxUpfrontCost: dec("500")}
	g.Expect(env.Client.Create(ctx, obj)).To(Succeed())
	got := estimated(g, key(obj), ready)
	b := meta.FindStatusCondition(got.Status.Conditions, ftv1.ConditionWithinBudget)
	g.Expect(b.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(b.Reason).To(Equal(ftv1.ReasonBudgetExceeded))
	a := meta.FindStatusCondition(got.Status.Conditions, ftv1.ConditionApproved)
	g.Expect(a.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(a.Reason).To(Equal(ftv1.ReasonOverBudget))
}

// An estimate naming what the catalog lacks is Ready=False with the contract's reason and the
// missing name, kstatus Failed, and recovers by itself once the catalog gains the entry.
func TestMissingCatalogEntriesRecover(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	catName := "recover-" + ns
	cases := map[string]struct {
		mutate  func(*ftv1.FineTuneEstimate)
		reason  string
		mention string
		fix     func(*ftv1.PriceCatalog)
	}{
		"unknown-model": {
			mutate: func(o *ftv1.FineTuneEstimate) { o.Spec.Model = "mistral-7b" }, reason: ftv1.ReasonModelNotFound, mention: `"mistral-7b"`,
			fix: func(pc *ftv1.PriceCatalog) {
				pc.Spec.Models = append(pc.Spec.Models, ftv1.CatalogModel{Name: "mistral-7b", Parameters: 7_300_000_000, ScaleFactor: "1"})
			},
		},
		"unknown-provider": {
			mutate: func(o *ftv1.FineTuneEstimate) { o.Spec.Training.Provider = "vast-ai" }, reason: ftv1.ReasonProviderNotFound, mention: `"vast-ai"`,
			fix: func(pc *ftv1.PriceCatalog) {
				pc.Spec.Providers = append(pc.Spec.Providers, ftv1.CatalogProvider{Name: "vast-ai", Kind: ftv1.ProviderKindGPUHourly,
					GPUPrices: []ftv1.GPUPrice{{GPUType: "H100", PricePerGPUHour: "1.99"}}})
			},
		},
		"unknown-api-model": {
			mutate: func(o *ftv1.FineTuneEstimate) { o.Spec.API.Model = "gpt-5-mini" }, reason: ftv1.ReasonAPIPriceNotFound, mention: `"gpt-5-mini"`,
			fix: func(pc *ftv1.PriceCatalog) {
				pc.Spec.APIModels = append(pc.Spec.APIModels, ftv1.CatalogAPIModel{Name: "gpt-5-mini", InputPricePerMillionTokens: "0.25", OutputPricePerMillionTokens: "2"})
			},
		},
	}
	for name, tc := range cases {
		obj := supportBot(ns, name)
		obj.Spec.PriceCatalogRef = catName
		tc.mutate(obj)
		g.Expect(env.Client.Create(ctx, obj)).To(Succeed())
	}
	// The named catalog does not exist yet: CatalogNotFound, never a silent fallback.
	for name := range cases {
		k := types.NamespacedName{Namespace: ns, Name: name}
		got := estimated(g, k, readyReason(ftv1.ReasonCatalogNotFound))
		g.Expect(got.Status.Recommendation).To(Equal(ftv1.RecommendationUndetermined))
	}
	pc := catalog.FromEngine(engine.BuiltinCatalog(), catName)
	g.Expect(env.Client.Create(ctx, pc)).To(Succeed())
	for name, tc := range cases {
		k := types.NamespacedName{Namespace: ns, Name: name}
		got := estimated(g, k, readyReason(tc.reason))
		c := meta.FindStatusCondition(got.Status.Conditions, ftv1.ConditionReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse), name)
		g.Expect(c.Message).To(ContainSubstring(tc.mention), name)
		g.Expect(got.Status.UpfrontCost).To(BeEmpty(), name)
		res, err := kstatus.Compute(toUnstructured(g, got))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(res.Status).To(Equal(kstatus.FailedStatus), name)
	}
	// The catalog's own reconciler writes its status meanwhile: retry on conflict.
	g.Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := env.Client.Get(ctx, key(pc), pc); err != nil {
			return err
		}
		for _, tc := range cases {
			tc.fix(pc)
		}
		return env.Client.Update(ctx, pc)
	})).To(Succeed())
	for name := range cases {
		k := types.NamespacedName{Namespace: ns, Name: name}
		got := estimated(g, k, ready)
		g.Expect(got.Status.Pricing.Catalog).To(Equal(catName), name)
		g.Expect(got.Status.Pricing.CatalogGeneration).To(Equal(pc.Generation), name)
		g.Expect(meta.FindStatusCondition(got.Status.Conditions, ftv1.ConditionStalled)).To(BeNil(), name)
	}
}

// Reconciling an unchanged estimate writes nothing; one change is one status patch.
func TestNoStatusWriteWhenNothingChanged(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	obj := supportBot(ns, "quiet")
	g.Expect(env.Client.Create(ctx, obj)).To(Succeed())
	estimated(g, key(obj), ready)

	var patches atomic.Int32
	base, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	counting := interceptor.NewClient(base, interceptor.Funcs{
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, o client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			patches.Add(1)
			return c.SubResource(sub).Patch(ctx, o, p, opts...)
		},
	})
	r := &controller.FineTuneEstimateReconciler{Client: counting, Recorder: discardRecorder{}}
	req := ctrl.Request{NamespacedName: key(obj)}
	for range 3 {
		_, err := r.Reconcile(ctx, req)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(patches.Load()).To(BeZero())

	// A spec change is written once by the direct reconcile; reconciling again writes nothing.
	g.Expect(env.Client.Get(ctx, key(obj), obj)).To(Succeed())
	before := obj.ResourceVersion
	obj.Spec.HorizonMonths = ptr.To[int32](24)
	g.Expect(env.Client.Update(ctx, obj)).To(Succeed())
	got := estimated(g, key(obj), func(o *ftv1.FineTuneEstimate) bool { return o.Status.HorizonMonths == 24 })
	g.Expect(got.ResourceVersion).NotTo(Equal(before))
	patches.Store(0)
	_, err = r.Reconcile(ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(patches.Load()).To(BeZero())
}

func TestMetricsFollowEstimates(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	obj := supportBot(ns, "metered")
	g.Expect(env.Client.Create(ctx, obj)).To(Succeed())
	estimated(g, key(obj), ready)
	g.Eventually(func(g Gomega) {
		g.Expect(gauge(g, "ftcost_estimate_upfront_cost_usd", ns, "metered")).To(Equal(ptr.To(1001.25)))
		g.Expect(gauge(g, "ftcost_estimate_break_even_months", ns, "metered")).To(Equal(ptr.To(20.0)))
		g.Expect(gauge(g, "ftcost_estimate_approved", ns, "metered")).To(Equal(ptr.To(1.0)))
	}).WithTimeout(timeout).Should(Succeed())

	g.Expect(env.Client.Delete(ctx, obj)).To(Succeed())
	g.Eventually(func(g Gomega) {
		for _, name := range []string{"ftcost_estimate_upfront_cost_usd", "ftcost_estimate_break_even_months", "ftcost_estimate_approved"} {
			g.Expect(gauge(g, name, ns, "metered")).To(BeNil(), name)
		}
	}).WithTimeout(timeout).Should(Succeed())
}

// gauge reads one series from the suite's registry and the estimate series (as the manager writes
// them, from the estimates the API server holds); nil when absent.
func gauge(g Gomega, metric, ns, name string) *float64 {
	families, err := prometheus.Gatherers{registry, &ftmetrics.EstimateSeries{Reader: env.Client}}.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != metric {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["namespace"] == ns && labels["name"] == name {
				v := m.GetGauge().GetValue()
				return &v
			}
		}
	}
	return nil
}

// `kubectl wait --for=condition=Approved` is the GitOps gate: it must return for an approved estimate.
func TestKubectlWaitApproved(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not on PATH")
	}
	g := NewWithT(t)
	ns := namespace(t)
	obj := supportBot(ns, "gate")
	g.Expect(env.Client.Create(ctx, obj)).To(Succeed())

	user, err := env.Env.AddUser(envtest.User{Name: "gitops", Groups: []string{"system:masters"}}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	kc, err := user.KubeConfig()
	g.Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(t.TempDir(), "kubeconfig")
	g.Expect(os.WriteFile(path, kc, 0o600)).To(Succeed())

	out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", path, "-n", ns, "wait",
		"--for=condition=Approved", "fte/gate", "--timeout=30s").CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	g.Expect(string(out)).To(ContainSubstring("condition met"))
}

func toUnstructured(g Gomega, obj *ftv1.FineTuneEstimate) *unstructured.Unstructured {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	g.Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(testenv.FineTuneEstimateGVK)
	return u
}

type discardRecorder struct{}

func (discardRecorder) Eventf(runtime.Object, runtime.Object, string, string, string, string, ...any) {
}
func (discardRecorder) AnnotatedEventf(runtime.Object, runtime.Object, map[string]string, string, string, string, string, ...any) {
}

var _ recorder.EventRecorder = discardRecorder{}

// The suite's manager runs with exactly config/rbac/role.yaml; the API server enforces it: the
// operator may write an estimate's status but not its spec, and may not read what it does not need.
func TestOperatorRoleIsLeastPrivilege(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	obj := supportBot(ns, "rbac")
	g.Expect(env.Client.Create(ctx, obj)).To(Succeed())
	estimated(g, key(obj), ready)

	operator, err := client.New(operatorConfig, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())

	g.Expect(operator.Get(ctx, key(obj), obj)).To(Succeed())
	obj.Spec.Usage.RequestsPerMonth = 1
	g.Expect(apierrors.IsForbidden(operator.Update(ctx, obj))).To(BeTrue(), "the operator must not write specs")
	g.Expect(apierrors.IsForbidden(operator.List(ctx, &corev1.SecretList{}, client.InNamespace(ns)))).To(BeTrue(), "the operator must not read secrets")
	g.Expect(apierrors.IsForbidden(operator.Delete(ctx, obj))).To(BeTrue(), "the operator must not delete estimates")
	g.Expect(operator.Status().Update(ctx, obj.DeepCopy())).To(Or(Succeed(), WithTransform(apierrors.IsConflict, BeTrue())))
}
