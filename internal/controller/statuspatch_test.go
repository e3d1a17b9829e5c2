package controller_test

import (
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/controller"
)

// A status patch written through the metadata client changes the status on the API server, gives
// the object the server's new resourceVersion, and is refused with a Conflict when the estimate
// changed after the copy it was made from: the optimistic lock the actuals reconciler relies on not
// to count a run twice.
func TestPatchStatusOptimisticLock(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	obj := supportBot(ns, "locked")
	g.Expect(env.Client.Create(ctx, obj)).To(Succeed())
	// Estimated and Ready: the manager leaves it alone now (status writes are not its triggers).
	obj = estimated(g, key(obj), ready)

	prev := obj.DeepCopy()
	obj.Status.Actuals = &ftv1.Actuals{Spend: "3.09"}
	g.Expect(controller.PatchStatus(ctx, env.Client, prev, obj)).To(Succeed())
	stored := &ftv1.FineTuneEstimate{}
	g.Expect(env.Client.Get(ctx, key(obj), stored)).To(Succeed())
	g.Expect(stored.Status.Actuals).NotTo(BeNil())
	g.Expect(stored.Status.Actuals.Spend).To(Equal("3.09"))
	g.Expect(stored.Status.UpfrontCost).To(Equal(prev.Status.UpfrontCost), "fields the patch does not change stay")
	g.Expect(obj.ResourceVersion).To(Equal(stored.ResourceVersion))
	g.Expect(obj.ResourceVersion).NotTo(Equal(prev.ResourceVersion))

	// A second writer still holding prev: refused, nothing written.
	stale := prev.DeepCopy()
	stale.Status.Actuals = &ftv1.Actuals{Spend: "6.18"}
	err := controller.PatchStatus(ctx, env.Client, prev, stale)
	g.Expect(apierrors.IsConflict(err)).To(BeTrue(), "want a Conflict, got %v", err)
	g.Expect(env.Client.Get(ctx, key(obj), stored)).To(Succeed())
	g.Expect(stored.Status.Actuals.Spend).To(Equal("3.09"))
}
