package controller

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/evaluation"
	"github.com/ftcost/ftcost/internal/gate"
)

// PricedCatalogIndex indexes FineTuneEstimates by the PriceCatalog that priced them
// (status.pricing.catalog, when the source is a catalog), so a catalog that turns Stale, or fresh
// again, reaches exactly the work gated on its estimates.
const PricedCatalogIndex = "status.pricing.catalog"

// SetupGateIndexes registers the index the gates share; call it once before setting them up.
func SetupGateIndexes(ctx context.Context, mgr ctrl.Manager) error {
	return mgr.GetFieldIndexer().IndexField(ctx, &ftv1.FineTuneEstimate{}, PricedCatalogIndex, func(o client.Object) []string {
		if name := gate.CatalogToCheck(o.(*ftv1.FineTuneEstimate)); name != "" {
			return []string{name}
		}
		return nil
	})
}

// staleChanged passes PriceCatalog updates that flip its Stale condition.
var staleChanged = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		was, is := e.ObjectOld.(*ftv1.PriceCatalog), e.ObjectNew.(*ftv1.PriceCatalog)
		return meta.IsStatusConditionTrue(was.Status.Conditions, ftv1.ConditionStale) !=
			meta.IsStatusConditionTrue(is.Status.Conditions, ftv1.ConditionStale)
	},
}

// viaEstimatesOfCatalog maps a PriceCatalog to the estimates it priced, then each estimate with
// perEstimate.
func viaEstimatesOfCatalog(c client.Reader, perEstimate func(context.Context, client.Object) []reconcile.Request) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		list := &ftv1.FineTuneEstimateList{}
		if err := c.List(ctx, list, client.MatchingFields{PricedCatalogIndex: o.GetName()}); err != nil {
			log.FromContext(ctx).Error(err, "Listing the estimates of a catalog failed", "catalog", o.GetName())
			return nil
		}
		var reqs []reconcile.Request
		for i := range list.Items {
			reqs = append(reqs, perEstimate(ctx, &list.Items[i])...)
		}
		return reqs
	}
}

// kueueQueueLabel marks a Job that Kueue manages; Kueue, not the Job gate, owns its spec.suspend.
const kueueQueueLabel = "kueue.x-k8s.io/queue-name"

// gateInput reads what gate.Decide needs for work in namespace ns labelled with estimate name: the
// estimate as stored (nil when missing), and the same estimate evaluated afresh from its inputs, so
// the gate acts on the verdict the inputs give, never on a status someone else may have written,
// and on the age of the prices the estimate itself uses.
func gateInput(ctx context.Context, c client.Reader, ns, name string) (gate.Input, error) {
	in := gate.Input{Namespace: ns, EstimateName: name}
	if name == "" {
		return in, nil
	}
	obj := &ftv1.FineTuneEstimate{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, obj); err != nil {
		return in, client.IgnoreNotFound(err)
	}
	in.Estimate = obj
	inputs, err := evaluation.Gather(ctx, clusterSource{c}, obj, time.Now())
	if err != nil {
		return in, err
	}
	ev := evaluation.Evaluate(inputs)
	in.Fresh = ev.Status
	if spendCap, ok := engine.SpendCap(ev.Result); ok {
		in.SpendCap = spendCap.String()
	}
	if len(ev.Stale.Stale) > 0 {
		in.StalePrices = ev.Stale.Message()
	}
	return in, nil
}
