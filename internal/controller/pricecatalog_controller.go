package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/catalog"
)

// ReasonCatalogChanged, on a PriceCatalog: its spec has a new generation, and its estimates are
// recomputed with it (they record no UpfrontCostChanged Event each for it, unless the gate's answer
// moves too).
const ReasonCatalogChanged = "CatalogChanged"

// Event reasons of a catalog's loss and return, on the PriceCatalog: one Event each, however many
// estimates name it (they record no EstimateFailed Event each for it).
const (
	// ReasonCatalogDeleted (Warning): the catalog was deleted while estimates name it.
	ReasonCatalogDeleted = "CatalogDeleted"
	// ReasonCatalogAvailable (Normal): a catalog that estimates name exists again (or at last).
	ReasonCatalogAvailable = "CatalogAvailable"
)

// PriceCatalogReconciler validates PriceCatalogs, counts their entries and marks them Stale once their
// prices are older than spec.maxAge.
type PriceCatalogReconciler struct {
	client.Client
	// Clock tells when the prices turn stale: clock.RealClock{} in the manager.
	Clock    clock.PassiveClock
	Recorder recorder.EventRecorder
}

// +kubebuilder:rbac:groups=ftcost.io,resources=pricecatalogs/status,verbs=get;patch;update

// Reconcile writes the catalog's status when it changed and requeues for when the prices turn stale.
func (r *PriceCatalogReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pc := &ftv1.PriceCatalog{}
	if err := r.Get(ctx, req.NamespacedName, pc); err != nil {
		if apierrors.IsNotFound(err) {
			r.deleted(ctx, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	status, recheck := catalog.Status(pc, r.Clock.Now())
	result := ctrl.Result{RequeueAfter: recheck}
	if equality.Semantic.DeepEqual(pc.Status, *status) {
		return result, nil
	}
	prev := pc.DeepCopy()
	pc.Status = *status
	// The patch carries the resourceVersion read: a replica that lost its leadership while it was
	// paused, or any writer working from an old copy, is refused (409) rather than overwriting a
	// newer status; the reconcile is retried from the cache.
	if err := r.Status().Patch(ctx, pc, client.MergeFromWithOptions(prev, client.MergeFromWithOptimisticLock{})); err != nil {
		return result, err
	}
	if prev.Status.ObservedGeneration == 0 {
		// Its first status: estimates that named it while it did not exist are priced with it now.
		if n := r.estimatesNaming(ctx, pc.Name); n > 0 {
			r.Recorder.Eventf(pc, nil, corev1.EventTypeNormal, ReasonCatalogAvailable, "Price",
				"The catalog exists: the %d estimates that name it are priced with it", n)
		}
	}
	if g := prev.Status.ObservedGeneration; g != 0 && g != pc.Generation {
		// One Event for the change, not one on each estimate it reprices. Its note names no
		// generation: events.k8s.io merges repeats on one object into a series under the first note.
		r.Recorder.Eventf(pc, nil, corev1.EventTypeNormal, ReasonCatalogChanged, "Reprice",
			"The catalog changed: every estimate that uses it is recomputed with it; an estimate's status.pricing.catalogGeneration says which generation priced it")
	}
	return result, nil
}

// deleted records one Event for a catalog deleted while estimates name it (a reconcile of a catalog
// that is gone comes from its deletion, or a requeue after it: the recorder merges repeats).
func (r *PriceCatalogReconciler) deleted(ctx context.Context, name string) {
	n := r.estimatesNaming(ctx, name)
	if n == 0 {
		return
	}
	what := fmt.Sprintf("the %d estimates that name it are Ready=False %s until it is created again", n, ftv1.ReasonCatalogNotFound)
	if name == ftv1.DefaultCatalogName {
		what = fmt.Sprintf("the %d estimates that name it use the built-in prices until it is created again", n)
	}
	gone := &ftv1.PriceCatalog{ObjectMeta: metav1.ObjectMeta{Name: name}}
	r.Recorder.Eventf(gone, nil, corev1.EventTypeWarning, ReasonCatalogDeleted, "Delete", "The catalog was deleted: %s", what)
}

// estimatesNaming counts the estimates that resolve to the catalog name (the estimate reconciler's
// index); 0 when they cannot be listed.
func (r *PriceCatalogReconciler) estimatesNaming(ctx context.Context, name string) int {
	list := &ftv1.FineTuneEstimateList{}
	if err := r.List(ctx, list, client.MatchingFields{CatalogIndex: name}, client.UnsafeDisableDeepCopy); err != nil {
		log.FromContext(ctx).Error(err, "Counting the estimates of a catalog failed", "catalog", name)
		return 0
	}
	return len(list.Items)
}

// SetupWithManager registers the reconciler. Every change of a catalog is reconciled, its status
// included: a status someone else wrote (a deposed leader, a person with kubectl) is put back to
// what the spec and the clock say. Its own writes come back as one reconcile each that writes
// nothing; catalogs are few.
func (r *PriceCatalogReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&ftv1.PriceCatalog{}).
		Named("pricecatalog").
		Complete(r)
}
