package controller

import (
	"context"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
)

// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;patch

// JobGateReconciler releases Jobs that were created with spec.suspend: true and the label
// ftcost.io/estimate once their estimate lets them through (gate.Decide), and otherwise says why they
// are held, with an annotation and an Event. It only ever clears spec.suspend.
type JobGateReconciler struct {
	client.Client
	Recorder recorder.EventRecorder
}

// Reconcile applies gate.ForJob to one Job.
func (r *JobGateReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	job := &batchv1.Job{}
	if err := r.Get(ctx, req.NamespacedName, job); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	name := job.Labels[gate.EstimateLabel]
	if name == "" {
		return ctrl.Result{}, nil
	}
	facts := gate.Job{
		Suspended:    ptr.Deref(job.Spec.Suspend, false),
		Finished:     jobFinished(job),
		KueueManaged: job.Labels[kueueQueueLabel] != "",
		Gate:         job.Annotations[gate.GateAnnotation],
		GateMessage:  job.Annotations[gate.GateMessageAnnotation],
	}
	if !facts.Gated() {
		return ctrl.Result{}, nil
	}
	in, err := gateInput(ctx, r.Client, job.Namespace, name)
	if err != nil {
		return ctrl.Result{}, err
	}
	a := gate.ForJob(facts, decided(gateJob, gate.Decide(in)))
	if a.Patch {
		patch := client.MergeFromWithOptions(job.DeepCopy(), client.MergeFromWithOptimisticLock{})
		if job.Annotations == nil {
			job.Annotations = map[string]string{}
		}
		job.Annotations[gate.GateAnnotation], job.Annotations[gate.GateMessageAnnotation] = a.Gate, a.Message
		if a.Unsuspend {
			job.Spec.Suspend = ptr.To(false)
		}
		if err := r.Patch(ctx, job, patch); err != nil {
			return ctrl.Result{}, err
		}
		log.FromContext(ctx).Info("Gated Job", "gate", a.Gate, "estimate", name, "message", a.Message)
	}
	if a.Event != nil {
		var related client.Object
		if in.Estimate != nil {
			related = in.Estimate
		}
		r.Recorder.Eventf(job, related, a.Event.Type, a.Event.Reason, "Gate", "%s", a.Event.Note)
	}
	return ctrl.Result{RequeueAfter: a.RequeueAfter}, nil
}

func jobFinished(job *batchv1.Job) bool {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// SetupWithManager registers the reconciler for labelled Jobs and maps each FineTuneEstimate to the
// Jobs labelled with its name (a label selector on the cache), so an estimate that becomes Approved
// later releases its Jobs; a PriceCatalog whose Stale condition flips reaches them through its
// estimates (PricedCatalogIndex, registered by SetupGateIndexes).
func (r *JobGateReconciler) SetupWithManager(mgr ctrl.Manager) error {
	labelled := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetLabels()[gate.EstimateLabel] != "" })
	return ctrl.NewControllerManagedBy(mgr).
		For(&batchv1.Job{}, builder.WithPredicates(labelled)).
		Watches(&ftv1.FineTuneEstimate{}, handler.EnqueueRequestsFromMapFunc(r.jobsOfEstimate)).
		Watches(&ftv1.PriceCatalog{}, handler.EnqueueRequestsFromMapFunc(viaEstimatesOfCatalog(r.Client, r.jobsOfEstimate)),
			builder.WithPredicates(staleChanged)).
		Named("job-cost-gate").
		Complete(r)
}

func (r *JobGateReconciler) jobsOfEstimate(ctx context.Context, o client.Object) []reconcile.Request {
	jobs := &batchv1.JobList{}
	if err := r.List(ctx, jobs, client.InNamespace(o.GetNamespace()), client.MatchingLabels{gate.EstimateLabel: o.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "Listing the Jobs of an estimate failed", "estimate", o.GetName())
		return nil
	}
	return requestsFor(jobs.Items)
}
