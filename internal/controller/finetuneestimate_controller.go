// Package controller holds ftcost's reconcilers: glue between the API server and the cost engine.
package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/actuals"
	"github.com/ftcost/ftcost/internal/costpolicy"
	"github.com/ftcost/ftcost/internal/estimate"
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
}

// +kubebuilder:rbac:groups=ftcost.io,resources=finetuneestimates,verbs=get;list;watch
// +kubebuilder:rbac:groups=ftcost.io,resources=finetuneestimates/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=ftcost.io,resources=pricecatalogs,verbs=get;list;watch
// +kubebuilder:rbac:groups=ftcost.io,resources=costpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile computes the estimate and writes its status with one patch, or none when nothing changed.
func (r *FineTuneEstimateReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &ftv1.FineTuneEstimate{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	get := r.catalogGetter(ctx)
	status, lookupErr := estimate.ComputeWith(obj, get, r.profileGetter(ctx))
	if lookupErr != nil {
		// The catalog could not be read; say so and retry with backoff.
		status = estimate.Pending(obj, fmt.Sprintf("Reading the price catalog failed: %v", lookupErr))
	} else if checks, err := r.checks(ctx, obj, status, get); err != nil {
		// Never approve without the platform's limits: no verdict until they can be read.
		lookupErr = err
		status = estimate.Pending(obj, fmt.Sprintf("Reading the cost policies failed: %v", err))
	} else {
		estimate.ApplyChecks(obj, status, checks)
	}
	// status.actuals is the actuals reconciler's record; the estimate keeps it and judges its spend.
	status.Actuals = obj.Status.Actuals
	actuals.SetSpendCondition(obj, status)
	if equality.Semantic.DeepEqual(obj.Status, *status) {
		return ctrl.Result{}, lookupErr
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
	return ctrl.Result{}, lookupErr
}

func (r *FineTuneEstimateReconciler) profileGetter(ctx context.Context) estimate.ProfileGetter {
	return func(name string) (*ftv1.ThroughputProfile, bool, error) {
		p := &ftv1.ThroughputProfile{}
		if err := r.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, false, nil
			}
			return nil, false, err
		}
		return p, true, nil
	}
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

// catalogGetter reads PriceCatalogs from the cache without copying them: a catalog is large, every
// reconcile reads it up to three times, and the estimate only reads it (catalog.Engine converts each
// generation once). The returned catalog must not be modified.
func (r *FineTuneEstimateReconciler) catalogGetter(ctx context.Context) estimate.CatalogGetter {
	return func(name string) (*ftv1.PriceCatalog, bool, error) {
		list := &ftv1.PriceCatalogList{}
		if err := r.List(ctx, list, client.MatchingFields{CatalogNameIndex: name}, client.UnsafeDisableDeepCopy); err != nil {
			return nil, false, err
		}
		if len(list.Items) == 0 {
			return nil, false, nil
		}
		return &list.Items[0], true, nil
	}
}

// checks reads what the verdict weighs beside the figures: the Stale condition of the catalog that
// priced the estimate, and the CostPolicies that select its namespace with the rules it breaks.
func (r *FineTuneEstimateReconciler) checks(ctx context.Context, obj *ftv1.FineTuneEstimate, status *ftv1.FineTuneEstimateStatus, get estimate.CatalogGetter) (estimate.Checks, error) {
	var c estimate.Checks
	var priced *engine.Catalog
	if status.Pricing != nil && status.Pricing.Source == ftv1.PricingSourceCatalog {
		pc, found, err := get(status.Pricing.Catalog)
		if err != nil {
			return c, err
		}
		if found {
			c.CatalogStale = meta.FindStatusCondition(pc.Status.Conditions, ftv1.ConditionStale)
		}
	}
	if res, err := estimate.Resolve(&obj.Spec, get); err == nil {
		priced = res.Catalog
	}
	policies := &ftv1.CostPolicyList{}
	if err := r.List(ctx, policies); err != nil {
		return c, err
	}
	if len(policies.Items) == 0 {
		return c, nil
	}
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := r.Get(ctx, types.NamespacedName{Name: obj.Namespace}, ns); client.IgnoreNotFound(err) != nil {
		return c, err
	}
	applied, broken := costpolicy.Applicable(policies.Items, ns.Labels)
	c.Violations = broken
	for _, p := range applied {
		c.Policies = append(c.Policies, p.Name)
		c.Violations = append(c.Violations, costpolicy.Check(p, costpolicy.Estimate{
			Spec: &obj.Spec, UpfrontCost: status.UpfrontCost, Catalog: priced})...)
	}
	return c, nil
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
		For(&ftv1.FineTuneEstimate{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
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
