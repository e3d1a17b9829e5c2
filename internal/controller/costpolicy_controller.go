package controller

import (
	"context"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/actuals"
	"github.com/ftcost/ftcost/internal/budget"
	"github.com/ftcost/ftcost/internal/costpolicy"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/workload"
)

// orphanGrace is how long a commitment may wait for its release to be recorded on its estimate
// (the gate writes the ledger first) before the budget reconciler takes it back.
const orphanGrace = 2 * time.Minute

// BudgetReconciler keeps each CostPolicy's status.budget: the figures of each period and namespace,
// summed from the ledger of charges the gates commit and the actuals reconciler trues up; the
// forecast from what running workloads have accrued; the periods (a new one begins at resetsAt);
// and a Warning Event when a namespace passes 80% and 100% of its budget.
type BudgetReconciler struct {
	client.Client
	// APIReader reads the workload of a commitment its estimate does not list, straight from the
	// API server (the workloads' caches hold labelled ones only, and belong to the gates).
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	Clock     clock.PassiveClock
}

// +kubebuilder:rbac:groups=ftcost.io,resources=costpolicies/status,verbs=get;update;patch

// Reconcile writes one status update when the figures changed, none when they did not.
func (r *BudgetReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	p := &ftv1.CostPolicy{}
	if err := r.Get(ctx, req.NamespacedName, p); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	now := r.Clock.Now()
	next := p.DeepCopy()
	next.Status.ObservedGeneration = p.Generation
	var alerts []budget.Alert
	var requeue time.Duration
	ready := metav1.Condition{Type: ftv1.ConditionReady, Status: metav1.ConditionTrue, Reason: ftv1.ReasonNoBudget,
		Message: "The policy sets no budget", ObservedGeneration: p.Generation}
	if p.Spec.Budget == nil {
		next.Status.Budget = nil
	} else {
		selected, err := r.selectedNamespaces(ctx, p)
		if err != nil {
			return ctrl.Result{}, err
		}
		ledger := ledgerOf(p)
		accrued, orphans, unmeasured, err := r.runningCosts(ctx, ledger, now)
		if err != nil {
			return ctrl.Result{}, err
		}
		for _, uid := range orphans {
			budget.Uncommit(ledger, uid)
		}
		for _, c := range unmeasured {
			budget.TrueUp(p, ledger, budget.Finish{Namespace: c.Namespace, Estimate: c.Estimate, Kind: c.Kind, Name: c.Name,
				UID: c.UID, Actual: budget.Used(c, nil), At: now})
		}
		st, a, err := budget.Summary(p, ledger, selected, accrued, now)
		if err != nil {
			ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, ftv1.ReasonUnknownTimeZone, err.Error()
		} else {
			next.Status.Budget, alerts = st, a
			ready.Reason, ready.Message = ftv1.ReasonBudgetReady, "Budget of "+string(p.Spec.Budget.Amount)+" USD per "+
				string(p.Spec.Budget.Period)+"; the period "+st.Current+" ends at "+st.ResetsAt.UTC().Format(time.RFC3339)
			requeue = st.ResetsAt.Sub(now) + time.Second
			if slices.ContainsFunc(ledger.Charges, func(c ftv1.BudgetCharge) bool { return c.State == ftv1.ChargeCommitted }) {
				// Open commitments: look for orphans again (the forecast follows what running work
				// accrues through the estimate watch).
				requeue = min(requeue, orphanGrace)
			}
		}
	}
	meta.SetStatusCondition(&next.Status.Conditions, ready)
	if !equality.Semantic.DeepEqual(p.Status, next.Status) {
		if err := r.Status().Update(ctx, next); err != nil {
			return ctrl.Result{}, err // a conflict retries on fresh data
		}
	}
	for _, a := range alerts {
		r.alert(next, a)
	}
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// alert records the Event of a passed threshold, on the CostPolicy.
func (r *BudgetReconciler) alert(p *ftv1.CostPolicy, a budget.Alert) {
	reason := ftv1.EventBudgetNearlyUsed
	if a.Percent >= 100 {
		reason = ftv1.EventBudgetUsed
	}
	who := "namespace " + a.Namespace
	if a.Namespace == "" {
		who = "the namespaces of the policy"
	}
	r.Recorder.Eventf(p, nil, corev1.EventTypeWarning, reason, "Budget",
		"%s used %s%% of its %s USD budget for %s (committed %s, spent %s, remaining %s)", who, a.Figures.UsedPercent,
		a.Figures.Budget, a.Period, a.Figures.Committed, a.Figures.Spent, a.Figures.Remaining)
}

// selectedNamespaces are the namespaces p selects now, by name.
func (r *BudgetReconciler) selectedNamespaces(ctx context.Context, p *ftv1.CostPolicy) ([]string, error) {
	sel, err := costpolicy.Selector(p)
	if err != nil {
		return nil, nil // the estimates' verdicts say why; the ledger still sums its charges
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("NamespaceList"))
	if err := r.List(ctx, list, client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, err
	}
	names := make([]string, len(list.Items))
	for i := range list.Items {
		names[i] = list.Items[i].Name
	}
	return names, nil
}

// runningCosts reads, for each open charge, what its workload has accrued so far (its release on
// the estimate). A charge committed longer than orphanGrace ago that its estimate neither lists in
// its releases nor counts in its actuals is an orphan to take back when its workload never ran (the
// release failed after its commitment, and the workload is still held or gone). Its workload may
// have run, though, on an estimate since deleted (and perhaps created again): while that workload
// exists, its charge stays; once it is gone, it is unmeasured, charged its cap, as what it ran
// cannot be measured without the estimate that released it.
func (r *BudgetReconciler) runningCosts(ctx context.Context, st *ftv1.BudgetStatus, now time.Time) (
	accrued map[string]engine.Money, orphans []string, unmeasured []ftv1.BudgetCharge, err error) {
	accrued = map[string]engine.Money{}
	for _, c := range st.Charges {
		if c.State != ftv1.ChargeCommitted {
			continue
		}
		est := &ftv1.FineTuneEstimate{}
		err := r.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: c.Estimate}, est)
		if client.IgnoreNotFound(err) != nil {
			return nil, nil, nil, err
		}
		i := slices.IndexFunc(est.Status.Releases, func(rel ftv1.Release) bool { return rel.UID == c.UID })
		switch {
		case i >= 0:
			if m, err := engine.ParseMoney(string(est.Status.Releases[i].AccruedCost)); err == nil {
				accrued[c.UID] = m
			}
		case actuals.Counted(est.Status.Actuals, c.UID):
			// Counted, and its ledger charge not trued up: the actuals reconciler retries.
		case now.Sub(c.ReleasedAt.Time) > orphanGrace:
			ran, gone, err := r.workloadOf(ctx, c)
			if err != nil {
				return nil, nil, nil, err
			}
			replaced := est.UID == "" || !est.CreationTimestamp.Before(&c.ReleasedAt)
			switch {
			case ran:
			case gone && replaced:
				unmeasured = append(unmeasured, c)
			default:
				orphans = append(orphans, c.UID)
			}
		}
	}
	return accrued, orphans, unmeasured, nil
}

// workloadOf says whether the workload of charge c (its kind and name, with the charge's UID) ran:
// the gate released it or its suspend switch is off; gone is true when no such workload exists.
func (r *BudgetReconciler) workloadOf(ctx context.Context, c ftv1.BudgetCharge) (ran, gone bool, err error) {
	i := slices.IndexFunc(workload.Kinds, func(k workload.Kind) bool { return k.GVK.Kind == c.Kind })
	if i < 0 {
		return false, true, nil
	}
	k := workload.Kinds[i]
	u := k.New()
	err = r.APIReader.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: c.Name}, u)
	switch {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		return false, true, nil
	case err != nil:
		return false, false, err
	case string(u.GetUID()) != c.UID:
		return false, true, nil
	}
	return u.GetAnnotations()[gate.GateAnnotation] == gate.GateReleased || !k.Suspended(u), false, nil
}

// SetupWithManager watches CostPolicies, the releases of estimates (what they accrue) and the
// labels of Namespaces.
func (r *BudgetReconciler) SetupWithManager(mgr ctrl.Manager) error {
	releasesChanged := predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return !equality.Semantic.DeepEqual(e.ObjectOld.(*ftv1.FineTuneEstimate).Status.Releases,
				e.ObjectNew.(*ftv1.FineTuneEstimate).Status.Releases)
		},
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("costpolicy-budget").
		For(&ftv1.CostPolicy{}).
		Watches(&ftv1.FineTuneEstimate{}, handler.EnqueueRequestsFromMapFunc(r.budgetsOf), builder.WithPredicates(releasesChanged)).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.budgetsOf),
			builder.OnlyMetadata, builder.WithPredicates(predicate.LabelChangedPredicate{})).
		Complete(r)
}

// budgetsOf maps an object in (or a Namespace) to the CostPolicies with a budget that select its
// namespace.
func (r *BudgetReconciler) budgetsOf(ctx context.Context, o client.Object) []reconcile.Request {
	ns := o.GetNamespace()
	if ns == "" {
		ns = o.GetName()
	}
	list := &ftv1.CostPolicyList{}
	if err := r.List(ctx, list); err != nil {
		log.FromContext(ctx).Error(err, "Listing CostPolicies failed")
		return nil
	}
	nsLabels, err := clusterSource{r.Client}.NamespaceLabels(ctx, ns)
	if err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		p := &list.Items[i]
		if p.Spec.Budget == nil {
			continue
		}
		if sel, err := costpolicy.Selector(p); err == nil && !sel.Matches(labels.Set(nsLabels)) {
			continue
		}
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(p)})
	}
	return reqs
}
