package evaluation

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/conditions"
)

// JudgeSpend sets ActualSpendWithinBudget from status.actuals and spec.budget, and removes it while
// either is missing. Evaluate calls it, and so does the actuals reconciler when it records a run,
// so the condition never goes stale.
func JudgeSpend(obj *ftv1.FineTuneEstimate, status *ftv1.FineTuneEstimateStatus) {
	b := obj.Spec.Budget
	if status.Actuals == nil || b == nil || b.MaxUpfrontCost == nil {
		meta.RemoveStatusCondition(&status.Conditions, ftv1.ConditionActualSpendWithinBudget)
		return
	}
	spent, err1 := engine.ParseMoney(status.Actuals.Spend)
	limit, err2 := engine.ParseMoney(string(*b.MaxUpfrontCost))
	if err1 != nil || err2 != nil {
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
