package evaluation

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/conditions"
	"github.com/ftcost/ftcost/internal/estimate"
)

// spend compares the actual spend in actuals with spec.budget.maxUpfrontCost; ok is false while
// either is missing or unreadable.
func spend(obj *ftv1.FineTuneEstimate, actuals *ftv1.Actuals) (spent, limit engine.Money, ok bool) {
	b := obj.Spec.Budget
	if actuals == nil || b == nil || b.MaxUpfrontCost == nil {
		return spent, limit, false
	}
	spent, err1 := engine.ParseMoney(actuals.Spend)
	limit, err2 := engine.ParseMoney(string(*b.MaxUpfrontCost))
	return spent, limit, err1 == nil && err2 == nil
}

// JudgeSpend sets ActualSpendWithinBudget from status.actuals and spec.budget, and removes it while
// either is missing. Evaluate calls it, and so does the actuals reconciler when it records a run,
// so the condition never goes stale.
func JudgeSpend(obj *ftv1.FineTuneEstimate, status *ftv1.FineTuneEstimateStatus) {
	spent, limit, ok := spend(obj, status.Actuals)
	if !ok {
		meta.RemoveStatusCondition(&status.Conditions, ftv1.ConditionActualSpendWithinBudget)
		return
	}
	set := conditions.Setter(&status.Conditions, obj.Generation)
	if spent.Cmp(limit) > 0 {
		set(ftv1.ConditionActualSpendWithinBudget, metav1.ConditionFalse, ftv1.ReasonSpendOverBudget,
			fmt.Sprintf("Actual spend %s USD over %d runs is above spec.budget.maxUpfrontCost %s", spent, status.Actuals.Runs, limit))
		return
	}
	set(ftv1.ConditionActualSpendWithinBudget, metav1.ConditionTrue, ftv1.ReasonSpendWithinBudget,
		fmt.Sprintf("Actual spend %s USD over %d runs is within spec.budget.maxUpfrontCost %s", spent, status.Actuals.Runs, limit))
}

// overspent is the "no" of an estimate whose recorded runs spent past its budget: no more work is
// released on it. nil while the spend is within the budget, or either is missing.
func overspent(obj *ftv1.FineTuneEstimate) *estimate.Hold {
	spent, limit, ok := spend(obj, obj.Status.Actuals)
	if !ok || spent.Cmp(limit) <= 0 {
		return nil
	}
	return &estimate.Hold{Reason: ftv1.ReasonSpendOverBudget, Message: fmt.Sprintf(
		"Actual spend %s USD over %d runs is above spec.budget.maxUpfrontCost %s: no more work is released on this estimate",
		spent, obj.Status.Actuals.Runs, limit)}
}
