package evaluation

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

var accruedAt = metav1.NewTime(testNow)

// running is a release of a workload that has accrued cost so far.
func running(name, cost string) ftv1.Release {
	return ftv1.Release{Kind: "Job", Name: name, UID: name + "-uid", Generation: 3, GPUs: 1, PricePerGPUHour: "2.49",
		SpendCap: "1.62", ReleasedAt: accruedAt, AccruedGPUHours: "1", AccruedCost: ftv1.Decimal(cost), AccruedAt: &accruedAt}
}

// The spend judged against the budget is the recorded runs' and the running workloads' accrued cost
// together: an estimate whose running work passed its budget is no longer Approved.
func TestAccruedSpendCountsAgainstTheBudget(t *testing.T) {
	for _, tc := range []struct {
		name     string
		actuals  *ftv1.Actuals
		releases []ftv1.Release
		approved metav1.ConditionStatus
		// spendWithin is the ActualSpendWithinBudget status, "" when the condition is absent.
		spendWithin metav1.ConditionStatus
		message     string
	}{
		{name: "nothing spent", approved: metav1.ConditionTrue},
		{name: "released, nothing accrued yet", releases: []ftv1.Release{{Kind: "Job", Name: "a", UID: "a", Generation: 3, SpendCap: "1.62"}},
			approved: metav1.ConditionTrue},
		{name: "recorded within", actuals: &ftv1.Actuals{Runs: 1, Spend: "900.00"}, approved: metav1.ConditionTrue,
			spendWithin: metav1.ConditionTrue, message: "Actual spend 900.00 USD over 1 runs is within"},
		{name: "accrued alone past the budget", releases: []ftv1.Release{running("a", "1593.60")},
			approved: metav1.ConditionFalse, spendWithin: metav1.ConditionFalse,
			message: "Actual spend 1593.60 USD (0.00 recorded over 0 runs, 1593.60 accrued by 1 running workloads) is above spec.budget.maxUpfrontCost 1500.00"},
		{name: "recorded and accrued together past it", actuals: &ftv1.Actuals{Runs: 1, Spend: "900.00"},
			releases: []ftv1.Release{running("a", "400.00"), running("b", "200.01")},
			approved: metav1.ConditionFalse, spendWithin: metav1.ConditionFalse,
			message: "Actual spend 1500.01 USD (900.00 recorded over 1 runs, 600.01 accrued by 2 running workloads) is above"},
		{name: "recorded and accrued at the budget", actuals: &ftv1.Actuals{Runs: 1, Spend: "900.00"},
			releases: []ftv1.Release{running("a", "600.00")}, approved: metav1.ConditionTrue, spendWithin: metav1.ConditionTrue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := supportBot()
			obj.Spec.Budget = &ftv1.Budget{MaxUpfrontCost: dec("1500")}
			obj.Status.Actuals, obj.Status.Releases = tc.actuals, tc.releases
			s := compute(obj, nil)
			a := meta.FindStatusCondition(s.Conditions, ftv1.ConditionApproved)
			if a == nil || a.Status != tc.approved {
				t.Fatalf("Approved = %+v, want %s", a, tc.approved)
			}
			if tc.approved == metav1.ConditionFalse && (a.Reason != ftv1.ReasonSpendOverBudget || !strings.Contains(a.Message, tc.message)) {
				t.Errorf("Approved = %s %q, want %s containing %q", a.Reason, a.Message, ftv1.ReasonSpendOverBudget, tc.message)
			}
			c := meta.FindStatusCondition(s.Conditions, ftv1.ConditionActualSpendWithinBudget)
			switch {
			case tc.spendWithin == "" && c != nil:
				t.Errorf("ActualSpendWithinBudget = %+v, want none", c)
			case tc.spendWithin != "" && (c == nil || c.Status != tc.spendWithin || !strings.Contains(c.Message, tc.message)):
				t.Errorf("ActualSpendWithinBudget = %+v, want %s containing %q", c, tc.spendWithin, tc.message)
			}
		})
	}
}

// SpendWithinCap is judged from status.releases alone: absent until a release was measured, False
// naming each workload past its limit.
func TestJudgeCap(t *testing.T) {
	over := running("big", "1593.60")
	over.OverrunLimit, over.OverCapAt = "1.62", &accruedAt
	for _, tc := range []struct {
		name     string
		releases []ftv1.Release
		want     metav1.ConditionStatus
		reason   string
		message  string
	}{
		{name: "no release"},
		{name: "not measured yet", releases: []ftv1.Release{{Kind: "Job", Name: "a", UID: "a", SpendCap: "1.62"}}},
		{name: "within", releases: []ftv1.Release{running("small", "1.00")}, want: metav1.ConditionTrue, reason: ftv1.ReasonWithinCap},
		{name: "one over", releases: []ftv1.Release{running("small", "1.00"), over}, want: metav1.ConditionFalse, reason: ftv1.ReasonOverCap,
			message: "Job big accrued 1593.60 USD, past its limit 1.62 (spend cap 1.62)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := supportBot()
			s := &ftv1.FineTuneEstimateStatus{Releases: tc.releases}
			JudgeCap(obj, s)
			c := meta.FindStatusCondition(s.Conditions, ftv1.ConditionSpendWithinCap)
			if tc.want == "" {
				if c != nil {
					t.Errorf("SpendWithinCap = %+v, want none", c)
				}
				return
			}
			if c == nil || c.Status != tc.want || c.Reason != tc.reason || !strings.Contains(c.Message, tc.message) || c.ObservedGeneration != 3 {
				t.Errorf("SpendWithinCap = %+v, want %s %s containing %q at generation 3", c, tc.want, tc.reason, tc.message)
			}
		})
	}
}

// The overrun of a release is the strictest of the policies: the smallest percent over the cap,
// Suspend over Warn; with none, Warn at the cap.
func TestOverrunOf(t *testing.T) {
	policy := func(name string, action ftv1.OverrunAction, percent string) *ftv1.CostPolicy {
		p := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: ftv1.CostPolicySpec{Overrun: action}}
		if percent != "" {
			p.Spec.OverrunPercent = dec(percent)
		}
		return p
	}
	for _, tc := range []struct {
		name     string
		spendCap ftv1.Decimal
		policies []*ftv1.CostPolicy
		limit    string
		action   ftv1.OverrunAction
		policy   string
		ok       bool
	}{
		{name: "no policy: Warn at the cap", spendCap: "1.62", limit: "1.62", action: ftv1.OverrunWarn, ok: true},
		{name: "a policy without overrun", spendCap: "1.62", policies: []*ftv1.CostPolicy{policy("budget", "", "")},
			limit: "1.62", action: ftv1.OverrunWarn, ok: true},
		{name: "50 percent over", spendCap: "1.62", policies: []*ftv1.CostPolicy{policy("loose", ftv1.OverrunWarn, "50")},
			limit: "2.43", action: ftv1.OverrunWarn, policy: "loose", ok: true},
		{name: "strictest of two", spendCap: "100", policies: []*ftv1.CostPolicy{policy("loose", ftv1.OverrunWarn, "20"),
			policy("stop", ftv1.OverrunSuspend, ""), policy("tight", "", "12.5")},
			limit: "112.50", action: ftv1.OverrunSuspend, policy: "stop", ok: true},
		{name: "no spend cap", spendCap: "", policies: []*ftv1.CostPolicy{policy("stop", ftv1.OverrunSuspend, "")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, ok := OverrunOf(ftv1.Release{SpendCap: tc.spendCap}, tc.policies)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if o.Limit.String() != tc.limit || o.Action != tc.action || o.Policy != tc.policy {
				t.Errorf("OverrunOf = %s %s %q, want %s %s %q", o.Limit, o.Action, o.Policy, tc.limit, tc.action, tc.policy)
			}
		})
	}
}
