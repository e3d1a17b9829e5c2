package controller

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
	"sigs.k8s.io/controller-runtime/pkg/source"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/actuals"
	"github.com/ftcost/ftcost/internal/budget"
	"github.com/ftcost/ftcost/internal/estimate"
	"github.com/ftcost/ftcost/internal/evaluation"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/workload"
)

// Event reasons of recorded runs.
const (
	// ReasonActualRecorded: a gated run finished and was counted in status.actuals.
	ReasonActualRecorded = "ActualRecorded"
	// ReasonActualOutsideBand: a counted run used GPU-hours outside the estimate's band.
	ReasonActualOutsideBand = "ActualOutsideBand"
	// ReasonCalibrationSampleRejected: a successful run's throughput is an outlier among its
	// namespace's runs of the profile, and is left out of calibration.
	ReasonCalibrationSampleRejected = "CalibrationSampleRejected"
	// ReasonActualUnmeasured: a counted run's GPU time is unknown (its pods are gone and its spec
	// does not tell its GPUs); it was recorded at 0 GPU-hours.
	ReasonActualUnmeasured = "ActualUnmeasured"
)

// waitForEstimate is how long a finished run waits for its estimate to be priced before a retry.
const waitForEstimate = 30 * time.Second

// ActualsReconciler records each finished workload labelled ftcost.io/estimate in its estimate's
// status.actuals, once, keyed by the workload's UID, and adds the throughput of successful runs to
// the ThroughputProfile of their model, method and GPU type. One reconciler per kind of
// workload.Kinds, once its API is served, through the kind's label-selected cache, shared with the
// suspend gate (SetupWithManager starts them).
type ActualsReconciler struct {
	client.Client
	// APIReader lists a finished run's pods (and reads the objects they belong to) straight from the
	// API server: once per run, so pods need no cache (and no watch on every pod of the cluster).
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	Metrics   *Metrics

	// Caches are the labelled workloads' caches, shared with the suspend gate.
	Caches *WorkloadCaches

	// Kind is the workload kind measured, read through Reader, its cache of Caches.
	Kind   workload.Kind
	Reader client.Reader
}

// The kinds themselves are read under the RBAC rules of workload_kinds.go; a RayJob's RayCluster
// is read once to find its pods.
// +kubebuilder:rbac:groups=ray.io,resources=rayclusters,verbs=get
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list
// +kubebuilder:rbac:groups=ftcost.io,resources=throughputprofiles,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=ftcost.io,resources=throughputprofiles/status,verbs=get;patch;update

// Reconcile measures a finished workload and records it.
func (r *ActualsReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj, run, sources, err := r.finishedRun(ctx, req)
	if apierrors.IsNotFound(err) {
		// Deleted before it finished: it no longer freezes the plan of the estimate that released it.
		return ctrl.Result{}, forgetDeleted(ctx, r.Client, r.Kind.GVK.Kind, req.Namespace, req.Name)
	}
	if obj == nil || err != nil {
		return ctrl.Result{}, err
	}
	if measured, err := r.parentMeasured(ctx, obj); measured || err != nil {
		return ctrl.Result{}, err
	}
	// A released run is charged to the estimate that released it, by the workload's UID, whatever
	// its label says by now; a run the gate did not release (Kueue's, one released before the
	// releases were recorded) to the estimate its label names.
	est, err := releasedBy(ctx, r.Client, obj.GetNamespace(), string(obj.GetUID()))
	if err != nil {
		return ctrl.Result{}, err
	}
	name := obj.GetLabels()[gate.EstimateLabel]
	if est != nil {
		name = est.Name
	} else {
		if name == "" {
			return ctrl.Result{}, nil
		}
		est = &ftv1.FineTuneEstimate{}
		if err := r.Get(ctx, types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}, est); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	if actuals.Counted(est.Status.Actuals, string(obj.GetUID())) {
		return ctrl.Result{}, nil
	}
	if est.Status.PricePerGPUHour == "" {
		// Not priced yet (or priced by tokens at a managed provider): nothing to price the run at.
		return ctrl.Result{RequeueAfter: waitForEstimate}, nil
	}
	pods, err := r.podsOf(ctx, obj, sources)
	if err != nil {
		return ctrl.Result{}, err
	}
	m := actuals.Measure(run, pods)
	ratio, hasRatio, err := actuals.Price(&m, &est.Status)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.calibrate(ctx, est, &m); err != nil {
		return ctrl.Result{}, err
	}
	// The budgets' ledgers first: their charge of the run is set, not added, so a retry after the
	// estimate's patch fails counts it once.
	if err := trueUpBudgets(ctx, r.Client, finishOf(est, m.Run)); err != nil {
		return ctrl.Result{}, err
	}
	prev := est.DeepCopy()
	if est.Status.Actuals, err = actuals.Add(est.Status.Actuals, m.Run, est.Status.GPUHours); err != nil {
		return ctrl.Result{}, err
	}
	est.Status.Releases = withoutRelease(est.Status.Releases, string(obj.GetUID()))
	evaluation.JudgeSpend(est, &est.Status)
	// The optimistic lock keeps two writers (a restarted manager, the estimate reconciler) from
	// counting a run twice or dropping one.
	if err := patchStatus(ctx, r, prev, est); err != nil {
		return ctrl.Result{}, err
	}
	r.Metrics.ObserveRun(&est.Status, ratio, hasRatio)
	r.Recorder.Eventf(est, obj, corev1.EventTypeNormal, ReasonActualRecorded, "Actuals", "%s", runNote(m.Run, &est.Status))
	if m.Unmeasured != "" {
		r.Recorder.Eventf(est, obj, corev1.EventTypeWarning, ReasonActualUnmeasured, "Actuals",
			"%s %s: GPU time unknown, recorded as 0 GPU-hours: %s", m.Run.Kind, m.Run.Name, m.Unmeasured)
	} else if actuals.OutsideBand(m.Run, &est.Status) {
		r.Recorder.Eventf(est, obj, corev1.EventTypeWarning, ReasonActualOutsideBand, "Actuals",
			"%s %s used %s GPU-hours, outside the estimate's band %s to %s", m.Run.Kind, m.Run.Name, m.Run.GPUHours,
			est.Status.GPUHoursLow, est.Status.GPUHoursHigh)
	}
	log.FromContext(ctx).Info("Recorded a finished run", "estimate", name, "kind", m.Run.Kind, "outcome", m.Run.Outcome,
		"gpuHours", m.Run.GPUHours, "cost", m.Run.Cost, "source", m.Run.Source, "unmeasured", m.Unmeasured)
	return ctrl.Result{}, nil
}

// finishOf is a recorded run of est, for its budgets' ledgers.
func finishOf(est *ftv1.FineTuneEstimate, run ftv1.ActualRun) budget.Finish {
	f := budget.Finish{Namespace: est.Namespace, Estimate: est.Name, Kind: run.Kind, Name: run.Name, UID: run.UID, At: time.Now()}
	f.Actual, _ = engine.ParseMoney(run.Cost)
	if run.EndTime != nil {
		f.At = run.EndTime.Time
	}
	if run.StartTime != nil {
		f.Started = run.StartTime.Time
	}
	return f
}

// finishedRun reads the workload of req and, once it has finished, its run and where its pods
// are; the workload is nil while it runs, and the error NotFound once it is gone.
func (r *ActualsReconciler) finishedRun(ctx context.Context, req ctrl.Request) (client.Object, workload.Run, []workload.PodSource, error) {
	u := r.Kind.New()
	if err := r.Reader.Get(ctx, req.NamespacedName, u); err != nil {
		return nil, workload.Run{}, nil, err
	}
	run, finished := r.Kind.Finished(u)
	if !finished {
		return nil, run, nil, nil
	}
	return u, run, r.Kind.Pods(u), nil
}

// podsOf lists the pods of a run from each of its sources, each pod once. A source's child (a
// TrainJob's JobSet, a RayJob's RayCluster or submitter Job) is read first; one that is gone (with
// its pods), not served, or not controlled by the workload adds no pods.
func (r *ActualsReconciler) podsOf(ctx context.Context, obj client.Object, sources []workload.PodSource) ([]corev1.Pod, error) {
	seen := map[types.UID]bool{}
	var pods []corev1.Pod
	for _, src := range sources {
		if c := src.Child; c != nil {
			child := unstructuredOf(c.GVK)
			err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: obj.GetNamespace(), Name: c.Name}, child)
			if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if !c.Shared && !metav1.IsControlledBy(child, obj) {
				continue
			}
			src = c.Pods(child)
		}
		if !src.Selects() {
			continue
		}
		list := &corev1.PodList{}
		if err := r.APIReader.List(ctx, list, client.InNamespace(obj.GetNamespace()), client.MatchingLabels(src.Labels)); err != nil {
			return nil, err
		}
		for _, p := range src.Keep(list.Items) {
			if !seen[p.UID] {
				seen[p.UID] = true
				pods = append(pods, p)
			}
		}
	}
	return pods, nil
}

func unstructuredOf(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}

// done says whether a labelled workload of k has finished.
func done(k workload.Kind, u *unstructured.Unstructured) bool {
	_, finished := k.Finished(u)
	return finished && u.GetLabels()[gate.EstimateLabel] != ""
}

// parentMeasured says whether a workload's run is its gated parent's: the parent exists and
// carries the estimate label, so its run counts the child's pods.
func (r *ActualsReconciler) parentMeasured(ctx context.Context, obj metav1.Object) (bool, error) {
	ref := workload.GatedParent(obj)
	if ref == nil {
		return false, nil
	}
	parent := &metav1.PartialObjectMetadata{}
	parent.SetGroupVersionKind(schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind))
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: obj.GetNamespace(), Name: ref.Name}, parent)
	switch {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return parent.UID == ref.UID && parent.GetLabels()[gate.EstimateLabel] != "", nil
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
	changed, outlier, err := actuals.AddToProfile(p, string(m.Run.UID), est.Namespace+"/"+est.Name, est.Namespace, tps)
	if err != nil {
		return fmt.Errorf("ThroughputProfile %s: %w", name, err)
	}
	if outlier != "" {
		r.Recorder.Eventf(est, p, corev1.EventTypeWarning, ReasonCalibrationSampleRejected, "Calibrate", "%s %s: ThroughputProfile %s: %s",
			m.Run.Kind, m.Run.Name, name, outlier)
	}
	if changed {
		if err := r.Status().Patch(ctx, p, client.MergeFromWithOptions(prev, client.MergeFromWithOptimisticLock{})); err != nil {
			return err
		}
	}
	m.Run.TokensPerGPUSecond, m.Run.ThroughputProfile = tps.String(), name
	return nil
}

// SetupWithManager starts a reconciler for each kind of workload.Kinds once its API is served (a
// metadata-only watch on CustomResourceDefinitions, as the suspend gate does).
func (r *ActualsReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := setupReleaseIndexes(ctx, mgr); err != nil {
		return err
	}
	kinds := &actualsKinds{base: r, mgr: mgr, running: map[schema.GroupKind]bool{}}
	return kindStarter{name: "actuals-kinds", started: "its actuals are measured", ensure: kinds.ensure}.setupWithManager(mgr)
}

// actualsKinds starts the reconcilers of the kinds of workload.Kinds, each once.
type actualsKinds struct {
	base    *ActualsReconciler
	mgr     ctrl.Manager
	mu      sync.Mutex
	running map[schema.GroupKind]bool
}

// ensure starts the label-selected cache and the reconciler of a kind once; it fails with a
// no-match error while the kind is not served.
func (a *actualsKinds) ensure(ctx context.Context, k workload.Kind) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.running[k.GVK.GroupKind()] {
		return nil
	}
	if _, err := a.mgr.GetRESTMapper().RESTMapping(k.GVK.GroupKind(), k.GVK.Version); err != nil {
		return err
	}
	c, err := a.base.Caches.For(k.GVK)
	if err != nil {
		return err
	}
	r := *a.base
	r.Kind, r.Reader = k, c
	finished := predicate.TypedFuncs[*unstructured.Unstructured]{
		CreateFunc: func(e event.TypedCreateEvent[*unstructured.Unstructured]) bool { return done(k, e.Object) },
		UpdateFunc: func(e event.TypedUpdateEvent[*unstructured.Unstructured]) bool { return done(k, e.ObjectNew) },
		// A workload deleted before it finished leaves the releases of its estimate.
		DeleteFunc: func(event.TypedDeleteEvent[*unstructured.Unstructured]) bool { return true },
	}
	err = ctrl.NewControllerManagedBy(a.mgr).
		Named("actuals-" + strings.ToLower(k.GVK.Kind)).
		WatchesRawSource(source.Kind(c, k.New(), &handler.TypedEnqueueRequestForObject[*unstructured.Unstructured]{}, finished)).
		Complete(&r)
	if err != nil {
		return err
	}
	a.running[k.GVK.GroupKind()] = true
	log.FromContext(ctx).Info("Measuring the actuals of a obj kind", "kind", k.GVK.GroupKind().String())
	return nil
}
