package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
	"github.com/ftcost/ftcost/internal/evaluation"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/workload"
)

// DefaultSpendInterval is how often, at most, the spend reconciler writes an estimate's accrued spend.
const DefaultSpendInterval = time.Minute

// releaseInFlight is how soon the spend reconciler looks again at a workload to suspend whose
// release (recorded on the estimate before the gate clears its switch) it has not seen yet.
const releaseInFlight = time.Second

// Event reasons of the spend reconciler.
const (
	// ReasonSpendOverCap: a running workload's accrued cost passed its limit (Warning).
	ReasonSpendOverCap = "SpendOverCap"
	// ReasonOverrunSuspended: the operator suspended a workload that passed its limit under a
	// CostPolicy overrun Suspend (Warning).
	ReasonOverrunSuspended = "OverrunSuspended"
)

// SpendReconciler measures the spend of the workloads an estimate released while they run: each
// release's accrued GPU-hours and cost (its pods' GPUs x the time since they started, at the
// release's price) go into its status.releases entry, at most one status write per Interval per
// estimate and none when nothing changed. A workload whose accrued cost passes its limit (the spend
// cap plus the CostPolicy overrunPercent) sets SpendWithinCap False with a Warning Event and a
// metric, and under a CostPolicy overrun Suspend is suspended. The accrued cost counts towards the
// estimate's budget in the same write (evaluation.Evaluate), so an estimate spent past its budget
// stops being Approved while its work still runs.
type SpendReconciler struct {
	client.Client
	// APIReader lists the pods of a running workload, once an interval (no cache of every pod).
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	Metrics   *Metrics
	// Caches are the labelled workloads' caches, shared with the suspend gate.
	Caches *WorkloadCaches
	// Interval is the least time between two accrual writes on one estimate (DefaultSpendInterval when 0).
	Interval time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Reconcile measures the running workloads of one estimate.
func (r *SpendReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	est := &ftv1.FineTuneEstimate{}
	if err := r.Get(ctx, req.NamespacedName, est); err != nil || len(est.Status.Releases) == 0 {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	now := r.now()
	in, err := evaluation.Gather(ctx, clusterSource{r.Client}, est, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	if wait := r.wait(est, now); wait > 0 {
		// Written less than an interval ago; a suspension that failed then is retried now.
		return r.suspendOverCap(ctx, est, in.Policies, wait)
	}
	next := est.DeepCopy()
	var newlyOver []int
	for i := range next.Status.Releases {
		rel := &next.Status.Releases[i]
		changed, err := r.accrue(ctx, est.Namespace, rel, now)
		if err != nil {
			return ctrl.Result{}, err
		}
		if !changed {
			continue
		}
		o, ok := evaluation.OverrunOf(*rel, in.Policies)
		if !ok {
			continue
		}
		rel.OverrunLimit = ftv1.Decimal(o.Limit.String())
		if rel.OverCapAt == nil && overLimit(rel.AccruedCost, o.Limit) {
			rel.OverCapAt = rel.AccruedAt.DeepCopy()
			newlyOver = append(newlyOver, i)
		}
	}
	if equality.Semantic.DeepEqual(est.Status.Releases, next.Status.Releases) {
		return r.suspendOverCap(ctx, est, in.Policies, r.interval())
	}
	// One write: the accruals and the evaluation they change (the spend against the budget, the
	// verdict, SpendWithinCap), with the estimate's resourceVersion as the lock.
	in.Estimate = next
	next.Status = *evaluation.Evaluate(in).Status
	if err := patchStatus(ctx, r, est, next); err != nil {
		return ctrl.Result{}, err
	}
	for _, i := range newlyOver {
		rel := next.Status.Releases[i]
		o, _ := evaluation.OverrunOf(rel, in.Policies)
		r.Metrics.ObserveOverCap(o.Action)
		note := ""
		if o.Action == ftv1.OverrunSuspend {
			if _, u, err := r.workloadOf(ctx, next.Namespace, &rel); err == nil && u != nil {
				if kueue, err := (&suspendGate{Client: r.Client}).kueueManaged(ctx, u); err == nil && kueue {
					note = ", not applied: Kueue owns the suspend switch of work with a queue name (deactivate its Workload to stop it)"
				}
			}
		}
		r.Recorder.Eventf(next, nil, corev1.EventTypeWarning, ReasonSpendOverCap, "Overrun",
			"%s %s accrued %s USD (%s GPU-hours at %s USD), past its limit %s USD (spend cap %s): overrun %s%s",
			rel.Kind, rel.Name, rel.AccruedCost, rel.AccruedGPUHours, rel.PricePerGPUHour, rel.OverrunLimit, rel.SpendCap, o.Action, note)
	}
	log.FromContext(ctx).V(1).Info("Accrued spend", "releases", len(next.Status.Releases), "overCap", len(newlyOver))
	return r.suspendOverCap(ctx, next, in.Policies, r.interval())
}

// accrue measures rel's workload now: its pods' GPU time since they started at the release's price.
// changed is false when the figures are those already recorded (nothing ran since), or the workload
// is gone or replaced (the actuals reconciler forgets its release).
func (r *SpendReconciler) accrue(ctx context.Context, ns string, rel *ftv1.Release, now time.Time) (changed bool, err error) {
	k, u, err := r.workloadOf(ctx, ns, rel)
	if u == nil || err != nil {
		return false, err
	}
	price, err := decimal.NewFromString(string(rel.PricePerGPUHour))
	if err != nil {
		return false, nil // released without a price: nothing to accrue at
	}
	pods, err := (&ActualsReconciler{APIReader: r.APIReader}).podsOf(ctx, u, k.Pods(u))
	if err != nil {
		return false, err
	}
	seconds := accruedSeconds(rel, pods, now)
	hours := ftv1.Decimal(engine.FormatFigure(engine.GPUHoursOf(seconds)))
	cost := ftv1.Decimal(engine.ActualCost(seconds, price).String())
	if seconds == 0 && rel.AccruedAt == nil || hours == rel.AccruedGPUHours && cost == rel.AccruedCost {
		return false, nil
	}
	rel.AccruedGPUHours, rel.AccruedCost = hours, cost
	rel.AccruedAt = &metav1.Time{Time: now.Truncate(time.Second)}
	return true, nil
}

// accruedSeconds is the GPU time of a running workload's pods so far: each pod's GPUs x the time
// from its start to its containers' last finish, or to now while it runs (actuals.Measure, with the
// run ending now).
func accruedSeconds(rel *ftv1.Release, pods []corev1.Pod, now time.Time) int64 {
	run := workload.Run{Kind: rel.Kind, Name: rel.Name, UID: types.UID(rel.UID), Start: &rel.ReleasedAt, End: now}
	return actuals.Measure(run, pods).GPUSeconds
}

// workloadOf reads rel's workload from its kind's labelled cache; nil when it is gone, was replaced
// by another of the same name, or its kind is not served.
func (r *SpendReconciler) workloadOf(ctx context.Context, ns string, rel *ftv1.Release) (workload.Kind, *unstructured.Unstructured, error) {
	k, ok := workload.Named(rel.Kind)
	if !ok {
		return k, nil, nil
	}
	c, err := r.Caches.For(k.GVK)
	if err != nil {
		return k, nil, err
	}
	u := k.New()
	switch err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: rel.Name}, u); {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		return k, nil, nil
	case err != nil:
		return k, nil, err
	}
	if string(u.GetUID()) != rel.UID {
		return k, nil, nil
	}
	return k, u, nil
}

// suspendOverCap suspends the workloads of est's releases that passed their limit, under a CostPolicy
// overrun Suspend, unless they are suspended already or Kueue owns their suspend switch: the only
// write the operator makes to a running workload, which the admission policy ftcost-operator-writes
// allows (suspend true, and the ftcost.io/gate-message annotation saying why). It returns to look again after next, or after
// releaseInFlight while the gate's release of such a workload is not yet seen (recorded on the
// estimate, its suspend switch not yet cleared).
func (r *SpendReconciler) suspendOverCap(ctx context.Context, est *ftv1.FineTuneEstimate, policies []*ftv1.CostPolicy, next time.Duration) (ctrl.Result, error) {
	res := ctrl.Result{RequeueAfter: next}
	for _, rel := range est.Status.Releases {
		if rel.OverCapAt == nil {
			continue
		}
		o, ok := evaluation.OverrunOf(rel, policies)
		if !ok || o.Action != ftv1.OverrunSuspend {
			continue
		}
		k, u, err := r.workloadOf(ctx, est.Namespace, &rel)
		if err != nil {
			return ctrl.Result{}, err
		}
		if u == nil {
			continue
		}
		kueue, err := (&suspendGate{Client: r.Client}).kueueManaged(ctx, u)
		if err != nil {
			return ctrl.Result{}, err
		}
		if kueue {
			// Kueue owns the switch of admitted work with a queue name and would clear it again:
			// the overrun stays a warning (its Event says so).
			continue
		}
		if k.Suspended(u) {
			if u.GetAnnotations()[gate.GateAnnotation] != gate.GateReleased {
				res.RequeueAfter = min(res.RequeueAfter, releaseInFlight)
			}
			continue
		}
		msg := fmt.Sprintf("Suspended by ftcost: accrued %s USD, past the limit %s USD (spend cap %s) of FineTuneEstimate %s/%s; CostPolicy %s says overrun Suspend",
			rel.AccruedCost, rel.OverrunLimit, rel.SpendCap, est.Namespace, est.Name, o.Policy)
		u = u.DeepCopy() // the cache's copy is shared
		patch := client.MergeFromWithOptions(u.DeepCopy(), client.MergeFromWithOptimisticLock{})
		ann := u.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[gate.GateMessageAnnotation] = msg
		u.SetAnnotations(ann)
		if err := k.SetSuspend(u, true); err != nil {
			return ctrl.Result{}, err
		}
		switch err := r.Patch(ctx, u, patch); {
		case apierrors.IsConflict(err):
			// The cache is behind the workload (this suspension, or the gate's release, just
			// written): look again once it has caught up.
			res.RequeueAfter = min(res.RequeueAfter, releaseInFlight)
			continue
		case err != nil:
			return ctrl.Result{}, fmt.Errorf("suspending %s %s: %w", rel.Kind, rel.Name, err)
		}
		r.Recorder.Eventf(u, est, corev1.EventTypeWarning, ReasonOverrunSuspended, "Overrun", "%s", msg)
		log.FromContext(ctx).Info("Suspended a workload past its spend limit", "kind", rel.Kind, "name", rel.Name,
			"accruedCost", rel.AccruedCost, "limit", rel.OverrunLimit)
	}
	return res, nil
}

// overLimit says whether an accrued cost is past limit.
func overLimit(accrued ftv1.Decimal, limit engine.Money) bool {
	c, err := engine.ParseMoney(string(accrued))
	return err == nil && c.Cmp(limit) > 0
}

// wait is how long until est may be written again: an interval after its last accrual. accruedAt
// is whole seconds (the time the figures are as of, truncated), so the write it records came up to a
// second later: the interval runs from the end of that second.
func (r *SpendReconciler) wait(est *ftv1.FineTuneEstimate, now time.Time) time.Duration {
	var last time.Time
	for _, rel := range est.Status.Releases {
		if rel.AccruedAt != nil && rel.AccruedAt.After(last) {
			last = rel.AccruedAt.Time
		}
	}
	if last.IsZero() || last.After(now) {
		// A time to come was not written by this reconciler: it does not hold the next accrual back.
		return 0
	}
	return r.interval() - now.Sub(last.Add(time.Second))
}

func (r *SpendReconciler) interval() time.Duration {
	if r.Interval > 0 {
		return r.Interval
	}
	return DefaultSpendInterval
}

func (r *SpendReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// hasReleases selects the estimates that list a running workload: an estimate with none is never
// reconciled here.
var hasReleases = predicate.NewPredicateFuncs(func(o client.Object) bool {
	e, ok := o.(*ftv1.FineTuneEstimate)
	return ok && len(e.Status.Releases) > 0
})

// SetupWithManager watches the estimates that list releases; each reconcile requeues itself an
// interval later while any is listed.
func (r *SpendReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("spend").
		For(&ftv1.FineTuneEstimate{}, builder.WithPredicates(hasReleases)).
		Complete(r)
}
