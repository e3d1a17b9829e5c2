// Package controller holds ftcost's reconcilers: glue between the API server and the cost engine.
package controller

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/costpolicy"
	"github.com/ftcost/ftcost/internal/estimate"
	"github.com/ftcost/ftcost/internal/evaluation"
)

// CatalogIndex indexes FineTuneEstimates by the PriceCatalog name they resolve to ("default" when
// spec.priceCatalogRef is empty), so a catalog change reaches exactly its estimates.
const CatalogIndex = "spec.priceCatalogRef.resolved"

// CatalogNameIndex indexes PriceCatalogs by name, so the reconciler can read one from the cache
// without a copy (a List with client.UnsafeDisableDeepCopy; a Get always copies).
const CatalogNameIndex = "metadata.name"

// CalibratedIndex indexes Calibrated FineTuneEstimates by "model/method", so a ThroughputProfile's
// change reaches the estimates that may read it without listing every estimate.
const CalibratedIndex = "spec.calibrated.modelMethod"

func calibratedKey(model string, method ftv1.Method) string { return model + "/" + string(method) }

// FineTuneEstimateReconciler computes each estimate's status with the cost engine. Its figures are
// exported from the cache when scraped (metrics.EstimateSeries), not by the reconciler.
type FineTuneEstimateReconciler struct {
	client.Client
	Recorder recorder.EventRecorder
	// Now is the clock prices are judged by; nil is time.Now.
	Now func() time.Time
}

// +kubebuilder:rbac:groups=ftcost.io,resources=finetuneestimates,verbs=get;list;watch
// +kubebuilder:rbac:groups=ftcost.io,resources=finetuneestimates/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=ftcost.io,resources=pricecatalogs,verbs=get;list;watch
// +kubebuilder:rbac:groups=ftcost.io,resources=costpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile gathers the estimate's inputs, evaluates it and writes its status with one patch, or
// none when nothing changed.
func (r *FineTuneEstimateReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &ftv1.FineTuneEstimate{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	var status *ftv1.FineTuneEstimateStatus
	var result ctrl.Result
	in, lookupErr := evaluation.Gather(ctx, clusterSource{r.Client}, obj, r.now())
	if lookupErr != nil {
		// Never a verdict without every input (a catalog, the platform's limits): retry with backoff.
		status = estimate.Pending(obj, fmt.Sprintf("Reading the estimate's inputs failed: %v", lookupErr))
	} else {
		ev := evaluation.Evaluate(in)
		status, result.RequeueAfter = ev.Status, ev.RecheckAfter
	}
	if equality.Semantic.DeepEqual(obj.Status, *status) {
		return result, lookupErr
	}
	prev := obj.DeepCopy()
	obj.Status = *status
	// Optimistic: the actuals reconciler writes this status too.
	if err := patchStatus(ctx, r, prev, obj); err != nil {
		return ctrl.Result{}, err
	}
	// Only what was written is news: a failed patch is retried, and must not repeat its Events.
	r.recordChanges(prev, status)
	log.FromContext(ctx).V(1).Info("Estimated", "recommendation", status.Recommendation, "upfront", status.UpfrontCost)
	return result, lookupErr
}

func (r *FineTuneEstimateReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// clusterSource is what Gather reads, from the manager's cache.
type clusterSource struct{ client.Reader }

// PriceCatalog reads a catalog from the cache without copying it: a catalog is large, and the
// evaluation only reads it (catalog.Engine converts each generation once).
func (c clusterSource) PriceCatalog(ctx context.Context, name string) (*ftv1.PriceCatalog, bool, error) {
	list := &ftv1.PriceCatalogList{}
	if err := c.List(ctx, list, client.MatchingFields{CatalogNameIndex: name}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, false, err
	}
	if len(list.Items) == 0 {
		return nil, false, nil
	}
	return &list.Items[0], true, nil
}

func (c clusterSource) ThroughputProfile(ctx context.Context, name string) (*ftv1.ThroughputProfile, bool, error) {
	p := &ftv1.ThroughputProfile{}
	if err := c.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return p, true, nil
}

func (c clusterSource) CostPolicies(ctx context.Context) ([]ftv1.CostPolicy, error) {
	list := &ftv1.CostPolicyList{}
	if err := c.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	return list.Items, nil
}

func (c clusterSource) NamespaceLabels(ctx context.Context, name string) (map[string]string, error) {
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := c.Get(ctx, types.NamespacedName{Name: name}, ns); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	return ns.Labels, nil
}

// estimatesOfProfile maps a ThroughputProfile to the Calibrated estimates of its model and method
// (their GPU type may be the provider's default, so the reconcile decides whether it is theirs).
func (r *FineTuneEstimateReconciler) estimatesOfProfile(ctx context.Context, o client.Object) []reconcile.Request {
	p := o.(*ftv1.ThroughputProfile)
	list := &ftv1.FineTuneEstimateList{}
	if err := r.List(ctx, list, client.MatchingFields{CalibratedIndex: calibratedKey(p.Spec.Model, p.Spec.Method)}, client.UnsafeDisableDeepCopy); err != nil {
		log.FromContext(ctx).Error(err, "Listing estimates of a throughput profile failed", "throughputProfile", p.Name)
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

// recordChanges emits Events for what a person should notice: a verdict that flips, an upfront cost
// that moves, an estimate that cannot be computed.
func (r *FineTuneEstimateReconciler) recordChanges(obj *ftv1.FineTuneEstimate, next *ftv1.FineTuneEstimateStatus) {
	for _, e := range estimate.Changes(&obj.Status, next) {
		r.Recorder.Eventf(obj, nil, e.Type, e.Reason, "Estimate", "%s", e.Message)
	}
}

// SetupWithManager registers the reconciler, the catalog index, and the watches on PriceCatalogs,
// CostPolicies and the labels of Namespaces.
func (r *FineTuneEstimateReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, concurrency int) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &ftv1.FineTuneEstimate{}, CatalogIndex, func(o client.Object) []string {
		return []string{estimate.CatalogRef(&o.(*ftv1.FineTuneEstimate).Spec)}
	}); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &ftv1.PriceCatalog{}, CatalogNameIndex, func(o client.Object) []string {
		return []string{o.GetName()}
	}); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &ftv1.FineTuneEstimate{}, CalibratedIndex, func(o client.Object) []string {
		s := &o.(*ftv1.FineTuneEstimate).Spec
		if s.Training.Estimator != ftv1.EstimatorCalibrated {
			return nil
		}
		return []string{calibratedKey(s.Model, s.Method)}
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		// A recorded run can take the spend past the budget, which withdraws the approval.
		For(&ftv1.FineTuneEstimate{}, builder.WithPredicates(predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, runRecorded))).
		// A catalog that turns Stale, or fresh again, changes the verdict under Enforce.
		Watches(&ftv1.PriceCatalog{}, handler.EnqueueRequestsFromMapFunc(r.estimatesOfCatalog),
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, staleChanged))).
		Watches(&ftv1.CostPolicy{}, handler.EnqueueRequestsFromMapFunc(r.estimatesOfPolicy),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// A profile's status is its measurement: every change of it matters.
		Watches(&ftv1.ThroughputProfile{}, handler.EnqueueRequestsFromMapFunc(r.estimatesOfProfile)).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.estimatesInNamespace),
			builder.OnlyMetadata, builder.WithPredicates(predicate.LabelChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Named("finetuneestimate").
		Complete(r)
}

// runRecorded passes estimate updates whose status.actuals counted another run.
var runRecorded = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		runs := func(o client.Object) int32 {
			if a := o.(*ftv1.FineTuneEstimate).Status.Actuals; a != nil {
				return a.Runs
			}
			return 0
		}
		return runs(e.ObjectOld) != runs(e.ObjectNew)
	},
}

// estimatesOfCatalog maps a PriceCatalog to the estimates that price with it, through the index.
func (r *FineTuneEstimateReconciler) estimatesOfCatalog(ctx context.Context, o client.Object) []reconcile.Request {
	list := &ftv1.FineTuneEstimateList{}
	// Names only: no copy of each of the catalog's estimates.
	if err := r.List(ctx, list, client.MatchingFields{CatalogIndex: o.GetName()}, client.UnsafeDisableDeepCopy); err != nil {
		log.FromContext(ctx).Error(err, "Listing estimates of a catalog failed", "catalog", o.GetName())
		return nil
	}
	return requestsFor(list.Items)
}

// estimatesOfPolicy maps a CostPolicy to the estimates of the namespaces it selects; an update maps
// both the old and the new object, so the namespaces it stops selecting are re-checked too.
func (r *FineTuneEstimateReconciler) estimatesOfPolicy(ctx context.Context, o client.Object) []reconcile.Request {
	sel, err := costpolicy.Selector(o.(*ftv1.CostPolicy))
	if err != nil {
		sel = labels.Everything() // a broken selector fails closed: it applies everywhere
	}
	namespaces := &metav1.PartialObjectMetadataList{}
	namespaces.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("NamespaceList"))
	if err := r.List(ctx, namespaces, client.MatchingLabelsSelector{Selector: sel}); err != nil {
		log.FromContext(ctx).Error(err, "Listing the namespaces of a cost policy failed", "costPolicy", o.GetName())
		return nil
	}
	var reqs []reconcile.Request
	for i := range namespaces.Items {
		reqs = append(reqs, r.estimatesInNamespace(ctx, &namespaces.Items[i])...)
	}
	return reqs
}

// estimatesInNamespace maps a Namespace whose labels changed to its estimates.
func (r *FineTuneEstimateReconciler) estimatesInNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	list := &ftv1.FineTuneEstimateList{}
	if err := r.List(ctx, list, client.InNamespace(o.GetName()), client.UnsafeDisableDeepCopy); err != nil {
		log.FromContext(ctx).Error(err, "Listing the estimates of a namespace failed", "namespace", o.GetName())
		return nil
	}
	return requestsFor(list.Items)
}

// requestsFor turns listed objects into reconcile requests for them.
func requestsFor[T any, P interface {
	*T
	client.Object
}](items []T) []reconcile.Request {
	reqs := make([]reconcile.Request, 0, len(items))
	for i := range items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(P(&items[i]))})
	}
	return reqs
}
