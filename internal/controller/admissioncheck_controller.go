package controller

import (
	"context"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
)

// WorkloadOwnerIndex indexes Kueue Workloads by the kind and name of the gated workload (a row of
// gate.Kinds) that controls them, e.g. "JobSet.jobset.x-k8s.io/train", so a Job or an estimate
// reaches exactly its Workloads.
const WorkloadOwnerIndex = "ftcost.io/owner"

// ReasonActive is the reason of the Active condition ftcost keeps on its AdmissionChecks.
const ReasonActive = "Active"

// +kubebuilder:rbac:groups=kueue.x-k8s.io,resources=admissionchecks;workloads,verbs=get;list;watch
// +kubebuilder:rbac:groups=kueue.x-k8s.io,resources=admissionchecks/status;workloads/status,verbs=get;patch;update

// AdmissionCheckReconciler keeps Active=True on the Kueue AdmissionChecks whose controllerName is
// gate.ControllerName, so Kueue uses them.
type AdmissionCheckReconciler struct {
	client.Client
}

// Reconcile sets Active=True when it is not already.
func (r *AdmissionCheckReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ac := &kueue.AdmissionCheck{}
	if err := r.Get(ctx, req.NamespacedName, ac); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if ac.Spec.ControllerName != gate.ControllerName {
		return ctrl.Result{}, nil
	}
	next := ac.DeepCopy()
	meta.SetStatusCondition(&next.Status.Conditions, metav1.Condition{
		Type: kueue.AdmissionCheckActive, Status: metav1.ConditionTrue, Reason: ReasonActive,
		Message: "ftcost gates Workloads on their FineTuneEstimate", ObservedGeneration: ac.Generation,
	})
	if equality.Semantic.DeepEqual(ac.Status, next.Status) {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, r.Status().Patch(ctx, next, client.MergeFromWithOptions(ac, client.MergeFromWithOptimisticLock{}))
}

// SetupWithManager registers the reconciler for ftcost's AdmissionChecks only.
func (r *AdmissionCheckReconciler) SetupWithManager(mgr ctrl.Manager) error {
	ours := predicate.NewPredicateFuncs(func(o client.Object) bool {
		ac, ok := o.(*kueue.AdmissionCheck)
		return ok && ac.Spec.ControllerName == gate.ControllerName
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&kueue.AdmissionCheck{}, builder.WithPredicates(ours)).
		Named("admissioncheck").
		Complete(r)
}

// WorkloadGateReconciler sets the state of ftcost's AdmissionChecks on Kueue Workloads from the
// FineTuneEstimate named by the ftcost.io/estimate label of the workload that owns them (any kind of
// gate.Kinds), or the Workload's own label: Ready, Retry with a delay, or Rejected, as gate.Decide says.
type WorkloadGateReconciler struct {
	client.Client
	// APIReader reads from the API server, bypassing the cache: the caches hold only labelled
	// workloads, and one the informer has not seen yet must not pass as unlabelled.
	APIReader client.Reader
	// Gates holds the caches of labelled workloads per kind (nil: read owners from the API server).
	Gates *SuspendGates
	// Clock stamps check state transitions: clock.RealClock{} in the manager.
	Clock clock.PassiveClock
}

// Reconcile writes the check states with one optimistic-locked status patch, or none when unchanged.
func (r *WorkloadGateReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	wl := &kueue.Workload{}
	if err := r.Get(ctx, req.NamespacedName, wl); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if meta.IsStatusConditionTrue(wl.Status.Conditions, kueue.WorkloadFinished) {
		return ctrl.Result{}, nil
	}
	ours, err := r.ourChecks(ctx, wl)
	if err != nil || len(ours) == 0 {
		return ctrl.Result{}, err
	}
	name, err := r.estimateName(ctx, wl)
	if err != nil {
		return ctrl.Result{}, err
	}
	in, err := gateInput(ctx, r.Client, wl.Namespace, name)
	if err != nil {
		return ctrl.Result{}, err
	}
	d := decided(gateKueue, gate.Decide(in))
	admitted := meta.IsStatusConditionTrue(wl.Status.Conditions, kueue.WorkloadAdmitted)
	patch := client.MergeFromWithOptions(wl.DeepCopy(), client.MergeFromWithOptimisticLock{})
	changed := false
	for i, st := range wl.Status.AdmissionChecks {
		if !ours[st.Name] {
			continue
		}
		if next, ok := gate.CheckState(st, admitted, d, r.Clock.Now()); ok {
			wl.Status.AdmissionChecks[i], changed = next, true
		}
	}
	result := ctrl.Result{RequeueAfter: d.RetryAfter}
	if !changed {
		return result, nil
	}
	if err := r.Status().Patch(ctx, wl, patch); err != nil {
		return ctrl.Result{}, err // a conflict retries on fresh data
	}
	log.FromContext(ctx).V(1).Info("Set admission check", "outcome", d.Outcome, "reason", d.Reason, "estimate", name)
	return result, nil
}

// ourChecks names the Workload's admission checks that are served by ftcost.
func (r *WorkloadGateReconciler) ourChecks(ctx context.Context, wl *kueue.Workload) (map[kueue.AdmissionCheckReference]bool, error) {
	ours := map[kueue.AdmissionCheckReference]bool{}
	for _, st := range wl.Status.AdmissionChecks {
		ac := &kueue.AdmissionCheck{}
		if err := r.Get(ctx, types.NamespacedName{Name: string(st.Name)}, ac); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, err
		}
		if ac.Spec.ControllerName == gate.ControllerName {
			ours[st.Name] = true
		}
	}
	return ours, nil
}

// estimateName is the ftcost.io/estimate label of the workload that controls the Workload, when it
// is of a kind the suspend gate covers (a Job, JobSet, TrainJob, PyTorchJob or RayJob), and
// otherwise the Workload's own label (a plain Workload, another integration, or Kueue's
// labelKeysToCopy having copied it).
func (r *WorkloadGateReconciler) estimateName(ctx context.Context, wl *kueue.Workload) (string, error) {
	k, owner, ok := gatedOwner(wl)
	if !ok {
		return wl.Labels[gate.EstimateLabel], nil
	}
	key := types.NamespacedName{Namespace: wl.Namespace, Name: owner}
	obj := newObject(k)
	var err error = apierrors.NewNotFound(schema.GroupResource{Group: k.GVK.Group, Resource: k.Resource}, owner)
	if c, running := r.Gates.Reader(k.GVK.GroupKind()); running {
		err = c.Get(ctx, key, obj)
	}
	if apierrors.IsNotFound(err) && r.APIReader != nil {
		// Not in the cache: unlabelled, gone, or not seen yet. Only the API server can tell.
		err = r.APIReader.Get(ctx, key, obj)
	}
	if err != nil {
		return "", client.IgnoreNotFound(err)
	}
	if name := obj.GetLabels()[gate.EstimateLabel]; name != "" {
		return name, nil
	}
	return wl.Labels[gate.EstimateLabel], nil
}

// gatedOwner is the kind and name of the workload controlling o, when gate.Kinds covers its kind.
func gatedOwner(o client.Object) (gate.Kind, string, bool) {
	ref := metav1.GetControllerOf(o)
	if ref == nil {
		return gate.Kind{}, "", false
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return gate.Kind{}, "", false
	}
	k, ok := gate.KindOf(schema.GroupKind{Group: gv.Group, Kind: ref.Kind})
	return k, ref.Name, ok
}

// ownerKey is the WorkloadOwnerIndex value of a workload of kind gk named name.
func ownerKey(gk schema.GroupKind, name string) string { return gk.String() + "/" + name }

// SetupWithManager registers the reconciler, the owner index, and the Job, estimate and catalog
// watches (the catalog one needs SetupGateIndexes).
func (r *WorkloadGateReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &kueue.Workload{}, WorkloadOwnerIndex, func(o client.Object) []string {
		if k, owner, ok := gatedOwner(o); ok {
			return []string{ownerKey(k.GVK.GroupKind(), owner)}
		}
		return nil
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&kueue.Workload{}).
		Watches(&batchv1.Job{}, handler.EnqueueRequestsFromMapFunc(r.workloadsOfJob)).
		Watches(&ftv1.FineTuneEstimate{}, handler.EnqueueRequestsFromMapFunc(r.workloadsOfEstimate)).
		Watches(&ftv1.PriceCatalog{}, handler.EnqueueRequestsFromMapFunc(viaEstimatesOfCatalog(r.Client, r.workloadsOfEstimate)),
			builder.WithPredicates(staleChanged)).
		Named("workload-cost-gate").
		Complete(r)
}

func (r *WorkloadGateReconciler) workloadsOfJob(ctx context.Context, o client.Object) []reconcile.Request {
	return r.workloadsOf(ctx, schema.GroupKind{Group: "batch", Kind: "Job"}, o)
}

// workloadsOf lists the Workloads controlled by the gated workload o of kind gk.
func (r *WorkloadGateReconciler) workloadsOf(ctx context.Context, gk schema.GroupKind, o client.Object) []reconcile.Request {
	list := &kueue.WorkloadList{}
	if err := r.List(ctx, list, client.InNamespace(o.GetNamespace()), client.MatchingFields{WorkloadOwnerIndex: ownerKey(gk, o.GetName())}); err != nil {
		log.FromContext(ctx).Error(err, "Listing the Workloads of a workload failed", "kind", gk.String(), "name", o.GetName())
		return nil
	}
	return requestsFor(list.Items)
}

// workloadsOfEstimate maps an estimate to the Workloads of the gated workloads (of every kind the
// suspend gates cache) labelled with its name, and to Workloads labelled with it directly: label
// selectors and the owner index, never a full list.
func (r *WorkloadGateReconciler) workloadsOfEstimate(ctx context.Context, o client.Object) []reconcile.Request {
	sel := client.MatchingLabels{gate.EstimateLabel: o.GetName()}
	var reqs []reconcile.Request
	for _, u := range r.Gates.labelledOf(ctx, o) {
		reqs = append(reqs, r.workloadsOf(ctx, u.GroupVersionKind().GroupKind(), u)...)
	}
	direct := &kueue.WorkloadList{}
	if err := r.List(ctx, direct, client.InNamespace(o.GetNamespace()), sel); err != nil {
		log.FromContext(ctx).Error(err, "Listing the Workloads of an estimate failed", "estimate", o.GetName())
		return reqs
	}
	return append(reqs, requestsFor(direct.Items)...)
}
