package controller_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
	"github.com/ftcost/ftcost/internal/controller"
	"github.com/ftcost/ftcost/internal/testenv"
)

func builtinCatalog(name string) *ftv1.PriceCatalog {
	pc := catalog.FromEngine(engine.BuiltinCatalog(), name)
	pc.ResourceVersion = ""
	return pc
}

func setRunpodPrice(pc *ftv1.PriceCatalog, price ftv1.Decimal) {
	for i := range pc.Spec.Providers {
		if pc.Spec.Providers[i].Name != "runpod" {
			continue
		}
		for j := range pc.Spec.Providers[i].GPUPrices {
			if pc.Spec.Providers[i].GPUPrices[j].GPUType == "H100" {
				pc.Spec.Providers[i].GPUPrices[j].PricePerGPUHour = price
			}
		}
	}
}

func TestPriceCatalogStatus(t *testing.T) {
	g := NewWithT(t)
	pc := builtinCatalog("status-check")
	pc.Spec.MaxAge = ptr.To[ftv1.Duration]("24h") // the built-in prices are months old
	g.Expect(env.Client.Create(ctx, pc)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(pc), pc)).To(Succeed())
		g.Expect(pc.Status.ObservedGeneration).To(Equal(pc.Generation))
		g.Expect(meta.IsStatusConditionTrue(pc.Status.Conditions, ftv1.ConditionReady)).To(BeTrue())
		g.Expect(meta.IsStatusConditionTrue(pc.Status.Conditions, ftv1.ConditionStale)).To(BeTrue())
	}).WithTimeout(timeout).Should(Succeed())
	g.Expect([]int32{pc.Status.Models, pc.Status.GPUs, pc.Status.Providers, pc.Status.APIModels}).To(Equal(
		[]int32{int32(len(pc.Spec.Models)), int32(len(pc.Spec.GPUs)), int32(len(pc.Spec.Providers)), int32(len(pc.Spec.APIModels))}))

	// Dropping maxAge removes Stale (present only while True); a dangling GPU price is InvalidEntries.
	pc.Spec.MaxAge = nil
	setRunpodPrice(pc, "2.59")
	pc.Spec.Providers[0].GPUPrices = append(pc.Spec.Providers[0].GPUPrices, ftv1.GPUPrice{GPUType: "B200", PricePerGPUHour: "6"})
	g.Expect(env.Client.Update(ctx, pc)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(pc), pc)).To(Succeed())
		g.Expect(pc.Status.ObservedGeneration).To(Equal(pc.Generation))
		g.Expect(meta.FindStatusCondition(pc.Status.Conditions, ftv1.ConditionStale)).To(BeNil())
		c := meta.FindStatusCondition(pc.Status.Conditions, ftv1.ConditionReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(ftv1.ReasonInvalidEntries))
		g.Expect(c.Message).To(ContainSubstring(fmt.Sprintf(`spec.providers[0].gpuPrices[%d].gpuType: Not found: "B200"`, len(pc.Spec.Providers[0].GPUPrices)-1)))
	}).WithTimeout(timeout).Should(Succeed())
}

// reconciles is controller-runtime's own count of FineTuneEstimate reconciles.
func reconciles(g Gomega) float64 {
	families, err := metrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	total := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == "finetuneestimate" {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}

// 200 estimates over two catalogs: changing one catalog re-reconciles exactly its 100 estimates, each
// of which then records the catalog's new generation and an Event saying what moved.
func TestCatalogChangeFansOutToItsEstimatesOnly(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	a, b := builtinCatalog("fanout-a-"+ns), builtinCatalog("fanout-b-"+ns)
	g.Expect(env.Client.Create(ctx, a)).To(Succeed())
	g.Expect(env.Client.Create(ctx, b)).To(Succeed())
	// Priced before any estimate names them: no CatalogAvailable Event.
	for _, pc := range []*ftv1.PriceCatalog{a, b} {
		g.Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, key(pc), pc)).To(Succeed())
			g.Expect(pc.Status.ObservedGeneration).To(Equal(pc.Generation))
		}).WithTimeout(timeout).Should(Succeed())
	}
	const perCatalog = 100
	for i := range 2 * perCatalog {
		obj := supportBot(ns, fmt.Sprintf("e-%03d", i))
		obj.Spec.PriceCatalogRef = a.Name
		if i%2 == 1 {
			obj.Spec.PriceCatalogRef = b.Name
		}
		g.Expect(env.Client.Create(ctx, obj)).To(Succeed())
	}
	rvOfB := map[string]string{}
	g.Eventually(func(g Gomega) {
		list := &ftv1.FineTuneEstimateList{}
		g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		g.Expect(list.Items).To(HaveLen(2 * perCatalog))
		for _, e := range list.Items {
			g.Expect(meta.IsStatusConditionTrue(e.Status.Conditions, ftv1.ConditionReady)).To(BeTrue(), e.Name)
			if e.Spec.PriceCatalogRef == b.Name {
				rvOfB[e.Name] = e.ResourceVersion
			}
		}
	}).WithTimeout(timeout).Should(Succeed())
	// Let the queue drain, then count.
	settled := func() float64 {
		var last float64 = -1
		g.Eventually(func() bool {
			now := reconciles(g)
			stable := now == last
			last = now
			return stable
		}).WithTimeout(timeout).WithPolling(500 * time.Millisecond).Should(BeTrue())
		return last
	}
	before := settled()

	g.Expect(env.Client.Get(ctx, key(a), a)).To(Succeed())
	setRunpodPrice(a, "13.69") // 0.5 h x 13.69 = 6.85 instead of 1.25
	g.Expect(env.Client.Update(ctx, a)).To(Succeed())
	g.Expect(env.Client.Get(ctx, key(a), a)).To(Succeed())

	g.Eventually(func(g Gomega) {
		list := &ftv1.FineTuneEstimateList{}
		g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		for _, e := range list.Items {
			if e.Spec.PriceCatalogRef == a.Name {
				g.Expect(e.Status.Pricing.CatalogGeneration).To(Equal(a.Generation), e.Name)
				g.Expect(e.Status.UpfrontCost).To(Equal("1006.85"), e.Name)
			} else {
				g.Expect(e.ResourceVersion).To(Equal(rvOfB[e.Name]), "%s uses the other catalog and must not be written", e.Name)
			}
		}
	}).WithTimeout(timeout).Should(Succeed())
	after := settled()
	g.Expect(after-before).To(Equal(float64(perCatalog)), "reconciles caused by changing one catalog")

	// One Event on the catalog says it, not one on each of its 100 estimates.
	g.Eventually(func(g Gomega) {
		g.Expect(catalogEvents(g, a.Name)).To(ConsistOf(HaveField("Reason", controller.ReasonCatalogChanged)))
	}).WithTimeout(timeout).Should(Succeed())
	g.Expect(catalogEvents(g, b.Name)).To(BeEmpty(), "the other catalog did not change")
	for i := range 2 * perCatalog {
		g.Expect(eventNotes(g, ns, fmt.Sprintf("e-%03d", i))).NotTo(ContainElement(HavePrefix("Upfront cost")))
	}

	// A spec change on top of it is the estimate's own news again.
	e := &ftv1.FineTuneEstimate{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "e-000"}, e)).To(Succeed())
	e.Spec.OneTimeCosts.DataLabeling = dec("2000")
	g.Expect(env.Client.Update(ctx, e)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(eventNotes(g, ns, "e-000")).To(ContainElement("Upfront cost 1006.85 -> 2006.85 (+99.3%)"))
	}).WithTimeout(timeout).Should(Succeed())
}

// catalogEvents are the Events about a PriceCatalog (cluster-scoped: they live in "default").
func catalogEvents(g Gomega, name string) []eventsv1.Event {
	list := &eventsv1.EventList{}
	g.Expect(env.Client.List(ctx, list, client.InNamespace(metav1.NamespaceDefault))).To(Succeed())
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == "PriceCatalog" && e.Regarding.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// Deleting the default catalog moves its estimates to the built-in prices, visibly.
func TestDeletingDefaultCatalogFallsBackToBuiltin(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	def := builtinCatalog(ftv1.DefaultCatalogName)
	setRunpodPrice(def, "3.49")
	g.Expect(env.Client.Create(ctx, def)).To(Succeed())
	obj := supportBot(ns, "uses-default")
	g.Expect(env.Client.Create(ctx, obj)).To(Succeed())
	got := estimated(g, key(obj), func(o *ftv1.FineTuneEstimate) bool {
		return ready(o) && o.Status.Pricing.Source == ftv1.PricingSourceCatalog
	})
	g.Expect(got.Status.TrainingCost).To(Equal("1.75"))

	g.Expect(env.Client.Delete(ctx, def)).To(Succeed())
	got = estimated(g, types.NamespacedName{Namespace: ns, Name: "uses-default"}, func(o *ftv1.FineTuneEstimate) bool {
		return o.Status.Pricing.Source == ftv1.PricingSourceBuiltin
	})
	g.Expect(got.Status.TrainingCost).To(Equal("1.25"))
	g.Expect(meta.FindStatusCondition(got.Status.Conditions, ftv1.ConditionReady).Message).To(ContainSubstring("built-in catalog"))
	g.Eventually(func(g Gomega) {
		g.Expect(eventNotes(g, ns, "uses-default")).To(ContainElement(`Prices now come from the built-in catalog: PriceCatalog "default" no longer exists`))
	}).WithTimeout(timeout).Should(Succeed())
}

// Deleting a named catalog makes its estimates CatalogNotFound (never a silent fallback) until it
// returns; the loss and the return are one Event each, on the catalog, not one per estimate.
func TestDeletingNamedCatalogUntilItReturns(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	pc := builtinCatalog("q3-" + ns)
	g.Expect(env.Client.Create(ctx, pc)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(pc), pc)).To(Succeed())
		g.Expect(pc.Status.ObservedGeneration).To(Equal(pc.Generation))
	}).WithTimeout(timeout).Should(Succeed())
	const n = 20
	objs := make([]*ftv1.FineTuneEstimate, n)
	for i := range objs {
		objs[i] = supportBot(ns, fmt.Sprintf("uses-q3-%02d", i))
		objs[i].Spec.PriceCatalogRef = pc.Name
		g.Expect(env.Client.Create(ctx, objs[i])).To(Succeed())
	}
	for _, o := range objs {
		estimated(g, key(o), ready)
	}
	g.Expect(catalogEvents(g, pc.Name)).To(BeEmpty(), "no estimate named it before it existed")

	g.Expect(env.Client.Delete(ctx, pc)).To(Succeed())
	for _, o := range objs {
		got := estimated(g, key(o), readyReason(ftv1.ReasonCatalogNotFound))
		g.Expect(got.Status.Recommendation).To(Equal(ftv1.RecommendationUndetermined))
		g.Expect(meta.FindStatusCondition(got.Status.Conditions, ftv1.ConditionApproved).Status).To(Equal(metav1.ConditionFalse))
	}
	g.Eventually(func(g Gomega) {
		events := catalogEvents(g, pc.Name)
		g.Expect(events).To(ConsistOf(And(HaveField("Reason", controller.ReasonCatalogDeleted), HaveField("Type", "Warning"))))
		g.Expect(events[0].Note).To(Equal(fmt.Sprintf("The catalog was deleted: the %d estimates that name it are Ready=False CatalogNotFound until it is created again", n)))
	}).WithTimeout(timeout).Should(Succeed())

	g.Expect(env.Client.Create(ctx, builtinCatalog(pc.Name))).To(Succeed())
	for _, o := range objs {
		got := estimated(g, key(o), ready)
		g.Expect(got.Status.Pricing.Catalog).To(Equal(pc.Name))
		g.Expect(got.Status.UpfrontCost).To(Equal("1001.25"))
	}
	g.Eventually(func(g Gomega) {
		g.Expect(catalogEvents(g, pc.Name)).To(ConsistOf(HaveField("Reason", controller.ReasonCatalogDeleted),
			And(HaveField("Reason", controller.ReasonCatalogAvailable), HaveField("Note", fmt.Sprintf("The catalog exists: the %d estimates that name it are priced with it", n)))))
	}).WithTimeout(timeout).Should(Succeed())
	// Not one Warning on any estimate: the catalog said it.
	for _, o := range objs {
		for _, note := range eventNotes(g, ns, o.Name) {
			g.Expect(note).NotTo(ContainSubstring(ftv1.ReasonCatalogNotFound), o.Name)
		}
	}
}

// A deposed leader (paused past its Lease, then resumed believing it leads) writes the catalog's
// status from the copy it read, with its own clock. Its write carries that copy's resourceVersion,
// so the API server refuses it once the new leader has written; and a wrong status that does land
// (written without the lock, as kubectl or the old code did) is put back by the running leader.
func TestDeposedLeaderCannotLeaveAWrongCatalogStatus(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	pc := testenv.SmallCatalog("deposed-" + ns)
	pc.Spec.MaxAge = ptr.To[ftv1.Duration]("24h") // its prices date from 2026-01-01
	g.Expect(env.Client.Create(ctx, pc)).To(Succeed())
	t.Cleanup(func() { _ = env.Client.Delete(ctx, pc) })
	staleAt := func(g Gomega, generation int64) *ftv1.PriceCatalog {
		got := &ftv1.PriceCatalog{}
		g.Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, key(pc), got)).To(Succeed())
			g.Expect(got.Status.ObservedGeneration).To(Equal(generation))
			g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, ftv1.ConditionStale)).To(BeTrue())
		}).WithTimeout(timeout).Should(Succeed())
		return got
	}
	read := staleAt(g, 1) // what the leader read before it was paused

	// Meanwhile the new leader priced a change.
	g.Eventually(func() error {
		cur := &ftv1.PriceCatalog{}
		if err := env.Client.Get(ctx, key(pc), cur); err != nil {
			return err
		}
		cur.Spec.Providers[0].GPUPrices[0].PricePerGPUHour = "2.59"
		return env.Client.Update(ctx, cur)
	}).WithTimeout(timeout).Should(Succeed())
	written := staleAt(g, 2)

	// The old leader resumes: its cache still holds what it read, its clock says January.
	operator, err := client.NewWithWatch(operatorConfig, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	deposed := &controller.PriceCatalogReconciler{Client: interceptor.NewClient(operator, interceptor.Funcs{
		Get: func(_ context.Context, _ client.WithWatch, _ client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
			read.DeepCopyInto(obj.(*ftv1.PriceCatalog))
			return nil
		}}), Clock: clocktesting.NewFakePassiveClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)), Recorder: discardRecorder{}}
	_, err = deposed.Reconcile(ctx, ctrl.Request{NamespacedName: key(pc)})
	g.Expect(apierrors.IsConflict(err)).To(BeTrue(), "the deposed leader's write: %v", err)
	now := &ftv1.PriceCatalog{}
	g.Expect(env.Client.Get(ctx, key(pc), now)).To(Succeed())
	g.Expect(now.ResourceVersion).To(Equal(written.ResourceVersion), "nothing was written")

	// A wrong status written without the lock (Stale gone) is repaired, though the spec did not change.
	wrong := now.DeepCopy()
	meta.RemoveStatusCondition(&wrong.Status.Conditions, ftv1.ConditionStale)
	wrong.Status.Models = 99
	g.Expect(operator.Status().Patch(ctx, wrong, client.MergeFrom(now))).To(Succeed())
	repaired := staleAt(g, 2)
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(pc), repaired)).To(Succeed())
		g.Expect(repaired.Status.Models).To(Equal(int32(len(pc.Spec.Models))))
		g.Expect(meta.IsStatusConditionTrue(repaired.Status.Conditions, ftv1.ConditionStale)).To(BeTrue())
	}).WithTimeout(timeout).Should(Succeed())
}
