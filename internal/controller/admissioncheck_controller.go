package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"

	"github.com/ftcost/ftcost/internal/gate"
)

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
