package controller_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/controller"
	"github.com/ftcost/ftcost/internal/scheme"
)

// The reconciler asks to look again exactly when the oldest price outlives maxAge, marks the catalog
// Stale once the clock passes that, and writes nothing when nothing changed.
func TestPriceCatalogRequeuesWhenPricesTurnStale(t *testing.T) {
	g := NewWithT(t)
	pc := builtinCatalog("clocked")
	pc.Spec.MaxAge = ptr.To[ftv1.Duration]("720h")
	for i := range pc.Spec.Providers {
		pc.Spec.Providers[i].Provenance.EffectiveDate = "2026-01-01"
	}
	for i := range pc.Spec.APIModels {
		pc.Spec.APIModels[i].Provenance.EffectiveDate = "2026-01-01"
	}
	c := fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(pc).WithStatusSubresource(pc).Build()
	clock := clocktesting.NewFakePassiveClock(time.Date(2026, 1, 11, 0, 0, 0, 0, time.UTC))
	r := &controller.PriceCatalogReconciler{Client: c, Clock: clock, Recorder: discardRecorder{}}
	req := ctrl.Request{NamespacedName: key(pc)}

	res, err := r.Reconcile(ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.RequeueAfter).To(Equal(20 * 24 * time.Hour))
	g.Expect(c.Get(ctx, key(pc), pc)).To(Succeed())
	g.Expect(meta.IsStatusConditionTrue(pc.Status.Conditions, ftv1.ConditionReady)).To(BeTrue())
	g.Expect(meta.FindStatusCondition(pc.Status.Conditions, ftv1.ConditionStale)).To(BeNil())

	written := pc.ResourceVersion
	res, err = r.Reconcile(ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.RequeueAfter).To(Equal(20 * 24 * time.Hour))
	g.Expect(c.Get(ctx, key(pc), pc)).To(Succeed())
	g.Expect(pc.ResourceVersion).To(Equal(written), "an unchanged status must not be written again")

	clock.SetTime(time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC))
	res, err = r.Reconcile(ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.RequeueAfter).To(BeZero())
	g.Expect(c.Get(ctx, key(pc), pc)).To(Succeed())
	stale := meta.FindStatusCondition(pc.Status.Conditions, ftv1.ConditionStale)
	g.Expect(stale).NotTo(BeNil())
	g.Expect(stale.Status).To(Equal(metav1.ConditionTrue))
	g.Expect(stale.Reason).To(Equal(ftv1.ReasonPricesOutdated))
}
