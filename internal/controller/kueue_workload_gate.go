package controller

import (
	"context"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/workload"
)

// WorkloadOwnerIndex indexes Kueue Workloads by the kind and name of the gated workload (of a kind of
// workload.Kinds) that controls them, e.g. "JobSet.jobset.x-k8s.io/train", so a Job or an estimate
// reaches exactly its Workloads.
const WorkloadOwnerIndex = "ftcost.io/owner"

// WorkloadGateReconciler sets the state of ftcost's AdmissionChecks on Kueue Workloads from the
// FineTuneEstimate named by the ftcost.io/estimate label of the workload that owns them (any kind of
// workload.Kinds), or the Workload's own label: Ready, Retry with a delay, or Rejected, as gate.Decide says.
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
	name, kind, owner, err := r.estimateName(ctx, wl)
	if err != nil {
		return ctrl.Result{}, err
	}
	in, err := gateInput(ctx, r.Client, wl.Namespace, name)
	if err != nil {
		return ctrl.Result{}, err
	}
	var asked gate.Accelerators
	if owner != nil {
		// A workload of a gated kind is sized against the plan as the suspend gate sizes it.
		asked = askedOf(kind, owner)
		in.Asked = &asked
	}
	d := decided(gateKueue, gate.Decide(in))
	if d.Outcome == gate.Approved && owner == nil {
		held, err := unmeasuredUnderBudget(ctx, r.Client, wl.Namespace, "a Workload whose owner is not a gated kind")
		if err != nil {
			return ctrl.Result{}, err
		}
		if held != nil {
			d = *held
		}
	}
	if d.Outcome == gate.Approved && owner != nil && readyNow(wl, ours) {
		// Kueue starts the work once the check is Ready: record the release first, as the suspend
		// gate does, so the run is charged by UID and the plan frozen while it runs.
		held, err := commitRelease(ctx, r.Client, in, newRelease(kind, owner, in, asked, r.Clock.Now()), nil)
		if err != nil {
			return ctrl.Result{}, err
		}
		if held != nil {
			d = *held
		}
	}
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

// readyNow says whether one of ftcost's checks on wl is not Ready (nor Rejected) yet: an Approved
// decision turns it Ready.
func readyNow(wl *kueue.Workload, ours map[kueue.AdmissionCheckReference]bool) bool {
	for _, st := range wl.Status.AdmissionChecks {
		if ours[st.Name] && st.State != kueue.CheckStateReady && st.State != kueue.CheckStateRejected {
			return true
		}
	}
	return false
}

// estimateName is the ftcost.io/estimate label of the workload that controls the Workload, when it
// is of a kind of workload.Kinds (a Job, JobSet, TrainJob, PyTorchJob or RayJob), with that workload
// and its kind, and otherwise the Workload's own label (a plain Workload, another integration, or
// Kueue's labelKeysToCopy having copied it) and no owner.
func (r *WorkloadGateReconciler) estimateName(ctx context.Context, wl *kueue.Workload) (string, workload.Kind, *unstructured.Unstructured, error) {
	k, owner, ok := gatedOwner(wl)
	if !ok {
		return wl.Labels[gate.EstimateLabel], k, nil, nil
	}
	key := types.NamespacedName{Namespace: wl.Namespace, Name: owner}
	obj := k.New()
	var err error = apierrors.NewNotFound(schema.GroupResource{Group: k.GVK.Group, Resource: k.Resource}, owner)
	if c, running := r.Gates.Reader(k.GVK.GroupKind()); running {
		err = c.Get(ctx, key, obj)
	}
	if apierrors.IsNotFound(err) && r.APIReader != nil {
		// Not in the cache: unlabelled, gone, or not seen yet. Only the API server can tell.
		err = r.APIReader.Get(ctx, key, obj)
	}
	if err != nil {
		return "", k, nil, client.IgnoreNotFound(err)
	}
	if name := obj.GetLabels()[gate.EstimateLabel]; name != "" {
		return name, k, obj, nil
	}
	return wl.Labels[gate.EstimateLabel], k, obj, nil
}

// gatedOwner is the kind and name of the workload controlling o, when workload.Kinds covers its kind.
func gatedOwner(o client.Object) (workload.Kind, string, bool) {
	ref := workload.GatedParent(o)
	if ref == nil {
		return workload.Kind{}, "", false
	}
	k, ok := workload.KindOf(schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind).GroupKind())
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
	return r.workloadsOf(ctx, workload.Job.GVK.GroupKind(), o)
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
