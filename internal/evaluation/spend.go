package evaluation

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/conditions"
	"github.com/ftcost/ftcost/internal/estimate"
)

// spent is an estimate's spend: its recorded runs' (status.actuals.spend) and the accrued cost of
// the workloads still running (status.releases[].accruedCost).
type spent struct {
	total, recorded, accrued engine.Money
	runs                     int32
	// running is how many releases have accrued a cost.
	running int
}

// note is "1593.60 USD (0.00 recorded over 0 runs, 1593.60 accrued by 1 running workload)", or
// "3.09 USD over 1 runs" while nothing runs.
func (s spent) note() string {
	if s.running == 0 {
		return fmt.Sprintf("%s USD over %d runs", s.total, s.runs)
	}
	return fmt.Sprintf("%s USD (%s recorded over %d runs, %s accrued by %d running workloads)",
		s.total, s.recorded, s.runs, s.accrued, s.running)
}

// spend compares the spend of status (recorded and accrued) with spec.budget.maxUpfrontCost; ok is
// false while the budget is missing, nothing was spent yet, or a figure is unreadable.
func spend(obj *ftv1.FineTuneEstimate, status *ftv1.FineTuneEstimateStatus) (s spent, limit engine.Money, ok bool) {
	b := obj.Spec.Budget
	if b == nil || b.MaxUpfrontCost == nil {
		return s, limit, false
	}
	if a := status.Actuals; a != nil {
		var err error
		if s.recorded, err = engine.ParseMoney(a.Spend); err != nil {
			return s, limit, false
		}
		s.runs = a.Runs
	}
	for _, r := range status.Releases {
		if r.AccruedCost == "" {
			continue
		}
		c, err := engine.ParseMoney(string(r.AccruedCost))
		if err != nil {
			return s, limit, false
		}
		s.accrued, s.running = s.accrued.Add(c), s.running+1
	}
	if status.Actuals == nil && s.running == 0 {
		return s, limit, false
	}
	s.total = s.recorded.Add(s.accrued)
	limit, err := engine.ParseMoney(string(*b.MaxUpfrontCost))
	return s, limit, err == nil
}

// JudgeSpend sets ActualSpendWithinBudget from the spend of status (its recorded runs and the cost
// its running workloads accrued) and spec.budget, removed while either is missing, and
// SpendWithinCap from status.releases (JudgeCap). Evaluate calls it, and so do the actuals and spend
// reconcilers when they write a run or an accrual, so the conditions never go stale.
func JudgeSpend(obj *ftv1.FineTuneEstimate, status *ftv1.FineTuneEstimateStatus) {
	JudgeCap(obj, status)
	s, limit, ok := spend(obj, status)
	if !ok {
		meta.RemoveStatusCondition(&status.Conditions, ftv1.ConditionActualSpendWithinBudget)
		return
	}
	set := conditions.Setter(&status.Conditions, obj.Generation)
	if s.total.Cmp(limit) > 0 {
		set(ftv1.ConditionActualSpendWithinBudget, metav1.ConditionFalse, ftv1.ReasonSpendOverBudget,
			fmt.Sprintf("Actual spend %s is above spec.budget.maxUpfrontCost %s", s.note(), limit))
		return
	}
	set(ftv1.ConditionActualSpendWithinBudget, metav1.ConditionTrue, ftv1.ReasonSpendWithinBudget,
		fmt.Sprintf("Actual spend %s is within spec.budget.maxUpfrontCost %s", s.note(), limit))
}

// JudgeCap sets SpendWithinCap while status.releases lists a workload whose spend was measured:
// False naming each workload whose accrued cost passed its overrunLimit (overCapAt set), True
// otherwise; removed while no release has been measured.
func JudgeCap(obj *ftv1.FineTuneEstimate, status *ftv1.FineTuneEstimateStatus) {
	var over []string
	measured := false
	for _, r := range status.Releases {
		measured = measured || r.AccruedAt != nil
		if r.OverCapAt != nil {
			over = append(over, fmt.Sprintf("%s %s accrued %s USD, past its limit %s (spend cap %s)",
				r.Kind, r.Name, r.AccruedCost, r.OverrunLimit, r.SpendCap))
		}
	}
	if !measured {
		meta.RemoveStatusCondition(&status.Conditions, ftv1.ConditionSpendWithinCap)
		return
	}
	set := conditions.Setter(&status.Conditions, obj.Generation)
	if len(over) > 0 {
		set(ftv1.ConditionSpendWithinCap, metav1.ConditionFalse, ftv1.ReasonOverCap, strings.Join(over, "; "))
		return
	}
	set(ftv1.ConditionSpendWithinCap, metav1.ConditionTrue, ftv1.ReasonWithinCap,
		fmt.Sprintf("Every running workload's accrued cost is within its limit (%d running)", len(status.Releases)))
}

// overspent is the "no" of an estimate whose spend (its recorded runs and the cost its running
// workloads accrued) passed its budget: no more work is released on it. nil while the spend is
// within the budget, or either is missing.
func overspent(obj *ftv1.FineTuneEstimate) *estimate.Hold {
	s, limit, ok := spend(obj, &obj.Status)
	if !ok || s.total.Cmp(limit) <= 0 {
		return nil
	}
	return &estimate.Hold{Reason: ftv1.ReasonSpendOverBudget, Message: fmt.Sprintf(
		"Actual spend %s is above spec.budget.maxUpfrontCost %s: no more work is released on this estimate",
		s.note(), limit)}
}

// Overrun is what applies to a running workload that spends past its limit.
type Overrun struct {
	// Limit is the release's spend cap plus the smallest overrunPercent of the policies.
	Limit engine.Money
	// Action is Suspend when any policy says so, else Warn.
	Action ftv1.OverrunAction
	// Policy names the policy that set Action Suspend, or Limit's percent ("" when none did).
	Policy string
}

// OverrunOf is the overrun of rel under the CostPolicies that select its estimate's namespace: the
// strictest of them (the smallest percent over the cap, Suspend over Warn); with none, Warn at the
// cap. ok is false when the release has no readable spend cap (nothing to compare with).
func OverrunOf(rel ftv1.Release, policies []*ftv1.CostPolicy) (o Overrun, ok bool) {
	spendCap, err := engine.ParseMoney(string(rel.SpendCap))
	if rel.SpendCap == "" || err != nil {
		return o, false
	}
	o.Action = ftv1.OverrunWarn
	var pct *decimal.Decimal
	var pctPolicy string
	for _, p := range policies {
		if p.Spec.Overrun == ftv1.OverrunSuspend && o.Action != ftv1.OverrunSuspend {
			o.Action, o.Policy = ftv1.OverrunSuspend, p.Name
		}
		if p.Spec.OverrunPercent == nil {
			continue
		}
		d, err := decimal.NewFromString(string(*p.Spec.OverrunPercent))
		if err != nil || d.Sign() < 0 {
			continue // the CRD's pattern refuses these
		}
		if pct == nil || d.LessThan(*pct) {
			pct, pctPolicy = &d, p.Name
		}
	}
	o.Limit = spendCap
	if pct != nil {
		o.Limit = engine.OverrunLimit(spendCap, *pct)
	}
	if o.Policy == "" {
		o.Policy = pctPolicy
	}
	return o, true
}
