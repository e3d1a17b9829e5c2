package controller

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/actuals"
	"github.com/ftcost/ftcost/internal/estimate"
	"github.com/ftcost/ftcost/internal/gate"
)

// Event reasons of recorded runs.
const (
	// ReasonActualRecorded: a gated run finished and was counted in status.actuals.
	ReasonActualRecorded = "ActualRecorded"
	// ReasonActualOutsideBand: a counted run used GPU-hours outside the estimate's band.
	ReasonActualOutsideBand = "ActualOutsideBand"
)

// jobControllerUID is the label the Job controller puts on the pods of a Job.
const jobControllerUID = "batch.kubernetes.io/controller-uid"

// waitForEstimate is how long a finished run waits for its estimate to be priced before a retry.
const waitForEstimate = 30 * time.Second

// ActualsReconciler records each finished batch/v1 Job labelled ftcost.io/estimate in its
// estimate's status.actuals, once, keyed by the Job's UID, and adds the throughput of successful
// runs to the ThroughputProfile of their model, method and GPU type.
type ActualsReconciler struct {
	client.Client
	// APIReader lists a finished Job's pods straight from the API server: once per run, so pods
	// need no cache (and no watch on every pod of the cluster).
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	Metrics   *Metrics
}

// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list
// +kubebuilder:rbac:groups=ftcost.io,resources=throughputprofiles,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=ftcost.io,resources=throughputprofiles/status,verbs=get;patch;update

// Reconcile measures a finished Job and records it.
func (r *ActualsReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	job := &batchv1.Job{}
	if err := r.Get(ctx, req.NamespacedName, job); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	name := job.Labels[gate.EstimateLabel]
	if _, _, finished := actuals.JobFinished(job); name == "" || !finished {
		return ctrl.Result{}, nil
	}
	est := &ftv1.FineTuneEstimate{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: job.Namespace, Name: name}, est); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if actuals.Counted(est.Status.Actuals, string(job.UID)) {
		return ctrl.Result{}, nil
	}
	if est.Status.PricePerGPUHour == "" {
		// Not priced yet (or priced by tokens at a managed provider): nothing to price the run at.
		return ctrl.Result{RequeueAfter: waitForEstimate}, nil
	}
	pods := &corev1.PodList{}
	if err := r.APIReader.List(ctx, pods, client.InNamespace(job.Namespace), client.MatchingLabels{jobControllerUID: string(job.UID)}); err != nil {
		return ctrl.Result{}, err
	}
	m, _ := actuals.MeasureJob(job, pods.Items)
	ratio, hasRatio, err := actuals.Price(&m, &est.Status)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.calibrate(ctx, est, &m); err != nil {
		return ctrl.Result{}, err
	}
	prev := est.DeepCopy()
	if est.Status.Actuals, err = actuals.Add(est.Status.Actuals, m.Run, est.Status.GPUHours); err != nil {
		return ctrl.Result{}, err
	}
	actuals.SetSpendCondition(est, &est.Status)
	// The optimistic lock keeps two writers (a restarted manager, the estimate reconciler) from
	// counting a run twice or dropping one.
	if err := r.Status().Patch(ctx, est, client.MergeFromWithOptions(prev, client.MergeFromWithOptimisticLock{})); err != nil {
		return ctrl.Result{}, err
	}
	r.Metrics.ObserveRun(client.ObjectKeyFromObject(est), &est.Status, ratio, hasRatio)
	r.Recorder.Eventf(est, job, corev1.EventTypeNormal, ReasonActualRecorded, "Actuals", "%s", runNote(m.Run, &est.Status))
	if actuals.OutsideBand(m.Run, &est.Status) {
		r.Recorder.Eventf(est, job, corev1.EventTypeWarning, ReasonActualOutsideBand, "Actuals",
			"%s %s used %s GPU-hours, outside the estimate's band %s to %s", m.Run.Kind, m.Run.Name, m.Run.GPUHours,
			est.Status.GPUHoursLow, est.Status.GPUHoursHigh)
	}
	log.FromContext(ctx).Info("Recorded a finished run", "estimate", name, "outcome", m.Run.Outcome,
		"gpuHours", m.Run.GPUHours, "cost", m.Run.Cost, "source", m.Run.Source)
	return ctrl.Result{}, nil
}

// runNote is the message of a recorded run: "actual 0.62 GPU-hours vs 0.5 estimated, +24%".
func runNote(run ftv1.ActualRun, s *ftv1.FineTuneEstimateStatus) string {
	note := fmt.Sprintf("%s %s %s: actual %s GPU-hours", run.Kind, run.Name, run.Outcome, run.GPUHours)
	if run.ErrorPercent != "" {
		note += fmt.Sprintf(" vs %s estimated, %s%%", s.GPUHours, run.ErrorPercent)
	}
	return note + fmt.Sprintf(", cost %s %s; spent %s over %d runs", run.Cost, estimate.Currency, s.Actuals.Spend, s.Actuals.Runs)
}

// calibrate adds a successful run's throughput to its ThroughputProfile. The profile keeps the
// UIDs of its last runs, so a retry after a failed estimate patch does not add the run twice.
func (r *ActualsReconciler) calibrate(ctx context.Context, est *ftv1.FineTuneEstimate, m *actuals.Measured) error {
	if m.Run.Outcome != ftv1.RunSucceeded || est.Status.GPUType == "" || m.Run.Source != ftv1.UsageSourcePods {
		// Failed runs did not train the whole job, and the Workload fallback is too rough to calibrate on.
		return nil
	}
	tps, ok := engine.RunThroughput(actuals.Tokens(&est.Spec), m.GPUSeconds)
	if !ok {
		return nil
	}
	name := estimate.ProfileName(est.Spec.Model, est.Spec.Method, est.Status.GPUType)
	p := &ftv1.ThroughputProfile{}
	err := r.Get(ctx, types.NamespacedName{Name: name}, p)
	if apierrors.IsNotFound(err) {
		p = &ftv1.ThroughputProfile{ObjectMeta: ctrl.ObjectMeta{Name: name}, Spec: ftv1.ThroughputProfileSpec{
			Model: est.Spec.Model, Method: est.Spec.Method, GPUType: est.Status.GPUType}}
		err = r.Create(ctx, p)
	}
	if err != nil {
		return err
	}
	prev := p.DeepCopy()
	changed, err := actuals.AddToProfile(p, string(m.Run.UID), est.Namespace+"/"+est.Name, tps)
	if err != nil {
		return fmt.Errorf("ThroughputProfile %s: %w", name, err)
	}
	if changed {
		if err := r.Status().Patch(ctx, p, client.MergeFromWithOptions(prev, client.MergeFromWithOptimisticLock{})); err != nil {
			return err
		}
	}
	m.Run.TokensPerGPUSecond, m.Run.ThroughputProfile = tps.String(), name
	return nil
}

// finishedJob passes Jobs that have completed or failed.
var finishedJob = predicate.NewPredicateFuncs(func(o client.Object) bool {
	j, ok := o.(*batchv1.Job)
	if !ok {
		return false
	}
	_, _, done := actuals.JobFinished(j)
	return done
})

// SetupWithManager watches the labelled Jobs the manager caches, once they have finished.
func (r *ActualsReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&batchv1.Job{}, builder.WithPredicates(finishedJob)).
		Named("actuals-job").
		Complete(r)
}
