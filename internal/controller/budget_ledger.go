package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/budget"
	"github.com/ftcost/ftcost/internal/costpolicy"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/workload"
)

// HeldForBudgetAnnotation is on a workload the gate holds on a CostPolicy's budget: the spend cap it
// waits to commit. Older held workloads come first (creation order), so a younger release counts
// what they wait for. Only the operator writes ftcost.io/ annotations (config/vap).
const HeldForBudgetAnnotation = "ftcost.io/held-for-budget"

// GateReasonAnnotation is the reason of the gate's decision on a workload it holds (gate.Decision
// Reason: BudgetExhausted, EstimateNotFound, SizeExceedsPlan, ...), beside its message.
const GateReasonAnnotation = "ftcost.io/gate-reason"

// waitingReasons are the holds that end by themselves, once the estimate is computed or its prices
// refreshed: an older workload held so on the same estimate will be released on the same verdict,
// so it comes first for the budget too.
var waitingReasons = map[string]bool{
	gate.ReasonEstimateNotFound: true, gate.ReasonEstimatePending: true, gate.ReasonStatusDisagrees: true,
}

// budgetPolicies are the CostPolicies with a budget that select namespace ns, by name.
func budgetPolicies(ctx context.Context, c client.Reader, ns string) ([]*ftv1.CostPolicy, error) {
	src := clusterSource{c}
	all, err := src.CostPolicies(ctx)
	if err != nil {
		return nil, err
	}
	nsLabels, err := src.NamespaceLabels(ctx, ns)
	if err != nil {
		return nil, err
	}
	applied, _ := costpolicy.Applicable(all, nsLabels)
	var out []*ftv1.CostPolicy
	for _, p := range applied {
		if p.Spec.Budget != nil {
			out = append(out, p.DeepCopy())
		}
	}
	return out, nil
}

// aheadFunc says what older held workloads in a policy's scope wait to commit before a release.
type aheadFunc func(ctx context.Context, p *ftv1.CostPolicy) (engine.Money, error)

// commitBudgets commits req to the budget of every CostPolicy that selects its namespace, each with
// one status update carrying the policy's resourceVersion: of two releases racing for the last
// dollars one update fails with a conflict, and its retry finds no room. A running workload takes
// its cap, or what it has accrued when that is more. Every policy is asked before any is written, so
// a release held by one policy writes nothing to the others (each write wakes the workloads held on
// that policy, which would ask again); req's open charges left by an earlier attempt whose write
// failed midway are taken back. The refusal is returned as a Pending decision; nil means req is
// committed everywhere.
func commitBudgets(ctx context.Context, c client.Client, req budget.Request, ahead aheadFunc) (*gate.Decision, error) {
	policies, err := budgetPolicies(ctx, c, req.Namespace)
	if err != nil {
		return nil, err
	}
	ledgers := map[*ftv1.CostPolicy]*ftv1.BudgetStatus{}
	for _, p := range policies {
		r := req
		if ahead != nil {
			if r.Ahead, err = ahead(ctx, p); err != nil {
				return nil, err
			}
		}
		st := ledgerOf(p)
		if r.Accrued, err = accruedOf(ctx, c, st); err != nil {
			return nil, err
		}
		v, ok := budget.Commit(p, st, r)
		if !v.Fits {
			if err := uncommitBudgets(ctx, c, policies, req.UID); err != nil {
				return nil, err
			}
			return &gate.Decision{Outcome: gate.Pending, Reason: v.Reason, Message: v.Message, RetryAfter: gate.PendingRetryAfter}, nil
		}
		if ok {
			ledgers[p] = st
		}
	}
	for _, p := range policies {
		st, ok := ledgers[p]
		if !ok {
			continue
		}
		p.Status.Budget = st
		if err := c.Status().Update(ctx, p); err != nil {
			return nil, fmt.Errorf("committing %s %s to CostPolicy %s: %w", req.Kind, req.Name, p.Name, err)
		}
	}
	return nil, nil
}

// accruedOf is what the workload of each open charge of st has cost so far, by UID: the accrued cost
// the spend reconciler measured on its release (status.releases of the estimate that released it).
func accruedOf(ctx context.Context, c client.Reader, st *ftv1.BudgetStatus) (map[string]engine.Money, error) {
	accrued := map[string]engine.Money{}
	estimates := map[types.NamespacedName]*ftv1.FineTuneEstimate{}
	for _, ch := range st.Charges {
		if ch.State != ftv1.ChargeCommitted {
			continue
		}
		key := types.NamespacedName{Namespace: ch.Namespace, Name: ch.Estimate}
		est, ok := estimates[key]
		if !ok {
			est = &ftv1.FineTuneEstimate{}
			if err := c.Get(ctx, key, est); client.IgnoreNotFound(err) != nil {
				return nil, err
			}
			estimates[key] = est
		}
		if i := slices.IndexFunc(est.Status.Releases, func(rel ftv1.Release) bool { return rel.UID == ch.UID }); i >= 0 {
			if m, err := engine.ParseMoney(string(est.Status.Releases[i].AccruedCost)); err == nil {
				accrued[ch.UID] = m
			}
		}
	}
	return accrued, nil
}

// ledgerOf is a copy of p's ledger to change.
func ledgerOf(p *ftv1.CostPolicy) *ftv1.BudgetStatus {
	if p.Status.Budget == nil {
		return &ftv1.BudgetStatus{}
	}
	return p.Status.Budget.DeepCopy()
}

// uncommitBudgets takes back the open charge of uid from policies.
func uncommitBudgets(ctx context.Context, c client.Client, policies []*ftv1.CostPolicy, uid string) error {
	for _, p := range policies {
		st := ledgerOf(p)
		if budget.Uncommit(st, uid) {
			p.Status.Budget = st
			if err := c.Status().Update(ctx, p); err != nil {
				return fmt.Errorf("taking back the commitment of %s from CostPolicy %s: %w", uid, p.Name, err)
			}
		}
	}
	return nil
}

// uncommitBudgetsIn takes back the open charge of uid from the budgets selecting namespace ns.
func uncommitBudgetsIn(ctx context.Context, c client.Client, ns, uid string) error {
	policies, err := budgetPolicies(ctx, c, ns)
	if err != nil {
		return err
	}
	return uncommitBudgets(ctx, c, policies, uid)
}

// trueUpBudgets replaces the commitment of a finished (or deleted) workload by its actual cost in
// every budget that charged it or selects its namespace; setting, not adding, makes a retry after
// a failed write harmless.
func trueUpBudgets(ctx context.Context, c client.Client, f budget.Finish) error {
	policies, err := budgetPolicies(ctx, c, f.Namespace)
	if err != nil {
		return err
	}
	for _, p := range policies {
		st := ledgerOf(p)
		if budget.TrueUp(p, st, f) {
			p.Status.Budget = st
			if err := c.Status().Update(ctx, p); err != nil {
				return fmt.Errorf("recording the cost of %s %s in CostPolicy %s: %w", f.Kind, f.Name, p.Name, err)
			}
		}
	}
	return nil
}

// budgetRequest is the request to commit rel, released on in's estimate.
func budgetRequest(rel ftv1.Release, in gate.Input, now time.Time) budget.Request {
	req := budget.Request{Namespace: in.Namespace, Estimate: in.EstimateName, Kind: rel.Kind, Name: rel.Name, UID: rel.UID, Now: now}
	req.Cap, _ = engine.ParseMoney(string(rel.SpendCap))
	if in.Fresh != nil {
		req.Estimated, _ = engine.ParseMoney(in.Fresh.TrainingCost)
		if req.Cap.IsZero() {
			req.Cap = req.Estimated // priced by the token: its cost is its cap
		}
	}
	return req
}

// heldAhead is what the workloads held on a budget that are older than obj (by creation, then UID),
// in the scope of p's budget, wait to commit: they are released first.
// A workload older than obj held waiting for the same estimate's verdict counts too, at obj's own cap.
func (g *SuspendGates) heldAhead(obj *unstructured.Unstructured, ownCap string) aheadFunc {
	return func(ctx context.Context, p *ftv1.CostPolicy) (engine.Money, error) {
		var sum engine.Money
		if g == nil {
			return sum, nil
		}
		sel, err := costpolicy.Selector(p)
		if err != nil {
			return sum, err
		}
		nsLabels := map[string]labels.Set{}
		for _, k := range workload.Kinds {
			r, ok := g.Reader(k.GVK.GroupKind())
			if !ok {
				continue
			}
			list := k.NewList()
			if err := r.List(ctx, list); err != nil {
				return sum, err
			}
			for i := range list.Items {
				u := &list.Items[i]
				if u.GetUID() == obj.GetUID() || !older(u, obj) || !k.Suspended(u) || u.GetAnnotations()[gate.GateAnnotation] != gate.GateHeld {
					continue
				}
				held, ok := u.GetAnnotations()[HeldForBudgetAnnotation]
				if !ok {
					// Waiting for the same estimate's verdict: it will ask for the same cap.
					sameEstimate := u.GetNamespace() == obj.GetNamespace() && u.GetLabels()[gate.EstimateLabel] == obj.GetLabels()[gate.EstimateLabel]
					if !sameEstimate || !waitingReasons[u.GetAnnotations()[GateReasonAnnotation]] {
						continue
					}
					held = ownCap
				}
				if p.Spec.Budget.Per != ftv1.BudgetPerPolicy && u.GetNamespace() != obj.GetNamespace() {
					continue
				}
				if _, seen := nsLabels[u.GetNamespace()]; !seen {
					l, err := clusterSource{g.mgr.GetClient()}.NamespaceLabels(ctx, u.GetNamespace())
					if err != nil {
						return sum, err
					}
					nsLabels[u.GetNamespace()] = l
				}
				if !sel.Matches(nsLabels[u.GetNamespace()]) {
					continue
				}
				if m, err := engine.ParseMoney(held); err == nil {
					sum = sum.Add(m)
				}
			}
		}
		return sum, nil
	}
}

// older says whether a was created before b (then by UID, so that two of the same second are ordered).
func older(a, b *unstructured.Unstructured) bool {
	ta, tb := a.GetCreationTimestamp(), b.GetCreationTimestamp()
	if !ta.Equal(&tb) {
		return ta.Before(&tb)
	}
	return strings.Compare(string(a.GetUID()), string(b.GetUID())) < 0
}

// unmeasuredUnderBudget holds work a budget cannot charge: when a CostPolicy with a budget selects
// namespace ns, a Pending decision naming it; nil otherwise.
func unmeasuredUnderBudget(ctx context.Context, c client.Reader, ns, what string) (*gate.Decision, error) {
	policies, err := budgetPolicies(ctx, c, ns)
	if err != nil || len(policies) == 0 {
		return nil, err
	}
	kinds := make([]string, len(workload.Kinds))
	for i, k := range workload.Kinds {
		kinds[i] = k.GVK.Kind
	}
	return &gate.Decision{Outcome: gate.Pending, Reason: ftv1.ReasonBudgetUnmeasured, RetryAfter: gate.StaleRetryAfter,
		Message: fmt.Sprintf("CostPolicy %s gives namespace %s a budget, and %s cannot be charged to it: run the training as one of "+
			"%s, which commit their spend cap at release and are measured when they finish",
			policies[0].Name, ns, what, strings.Join(kinds, ", "))}, nil
}
