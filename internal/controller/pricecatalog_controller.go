package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/catalog"
)

// PriceCatalogReconciler validates PriceCatalogs, counts their entries and marks them Stale once their
// prices are older than spec.maxAge.
type PriceCatalogReconciler struct {
	client.Client
	// Clock tells when the prices turn stale: clock.RealClock{} in the manager.
	Clock clock.PassiveClock
}

// +kubebuilder:rbac:groups=ftcost.io,resources=pricecatalogs/status,verbs=get;patch;update

// Reconcile writes the catalog's status when it changed and requeues for when the prices turn stale.
func (r *PriceCatalogReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pc := &ftv1.PriceCatalog{}
	if err := r.Get(ctx, req.NamespacedName, pc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	status, recheck := catalog.Status(pc, r.Clock.Now())
	result := ctrl.Result{RequeueAfter: recheck}
	if equality.Semantic.DeepEqual(pc.Status, *status) {
		return result, nil
	}
	patch := client.MergeFrom(pc.DeepCopy())
	pc.Status = *status
	return result, r.Status().Patch(ctx, pc, patch)
}

// SetupWithManager registers the reconciler.
func (r *PriceCatalogReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&ftv1.PriceCatalog{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("pricecatalog").
		Complete(r)
}
