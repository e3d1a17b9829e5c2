package budget_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/budget"
)

// charge is a ledger charge: state "C" (Committed) or "S" (Spent); estimated or actual "" are omitted.
func charge(period, ns, estimate, uid, state, committed, estimated, actual string) ftv1.BudgetCharge {
	c := ftv1.BudgetCharge{Period: period, Namespace: ns, Estimate: estimate, Kind: "Job", Name: uid, UID: uid,
		State: ftv1.ChargeCommitted, Committed: ftv1.Decimal(committed), Estimated: ftv1.Decimal(estimated),
		ReleasedAt: metav1.Now()}
	if state == "S" {
		c.State, c.Actual = ftv1.ChargeSpent, ftv1.Decimal(actual)
		c.FinishedAt = &c.ReleasedAt
	}
	return c
}

func ledgerPolicy(name string, charges ...ftv1.BudgetCharge) ftv1.CostPolicy {
	p := policy("100.00", ftv1.BudgetPerNamespace, ftv1.BudgetMonth, "")
	p.Name = name
	p.Status.Budget = &ftv1.BudgetStatus{Charges: charges}
	return *p
}

// row is a report row as text: policy period namespace estimate committed actual estimated error finished/running.
func row(fields ...string) string { return strings.Join(fields, " ") }

func rowText(r budget.ReportRow) string {
	return row(r.Policy, r.Period, r.Namespace, r.Estimate, r.Committed.String(), r.Actual.String(), r.Estimated.String(),
		"err="+r.Error, strconv.Itoa(r.Finished)+"/"+strconv.Itoa(r.Running))
}

func TestReport(t *testing.T) {
	// team-a's bot in December: two runs finished (1.55 and 0.42 against 1.25 each: 1.97 against
	// 2.50, -21.2%), one runs (1.62 committed); a run of November finished at 1.10 against 1.00.
	team := ledgerPolicy("team",
		charge("2026-11", "team-a", "bot", "u1", "S", "1.62", "1.00", "1.10"),
		charge("2026-12", "team-a", "bot", "u2", "S", "1.62", "1.25", "1.55"),
		charge("2026-12", "team-a", "bot", "u3", "S", "1.62", "1.25", "0.42"),
		charge("2026-12", "team-a", "bot", "u4", "C", "1.62", "1.25", ""),
		charge("2026-12", "team-b", "classifier", "u5", "C", "20.00", "12.34", ""),
		charge("2026-12", "team-a", "alpha", "u6", "S", "8.00", "8.00", "8.10"),
	)
	for name, tc := range map[string]struct {
		policies []ftv1.CostPolicy
		filter   budget.ReportFilter
		want     []string
		err      string
	}{
		"sums per period, namespace and estimate, newest period first": {policies: []ftv1.CostPolicy{team}, want: []string{
			// 8.10 against 8.00 is +1.25%: half away from zero, +1.3.
			row("team", "2026-12", "team-a", "alpha", "0.00", "8.10", "8.00", "err=+1.3", "1/0"),
			row("team", "2026-12", "team-a", "bot", "1.62", "1.97", "3.75", "err=-21.2", "2/1"),
			row("team", "2026-12", "team-b", "classifier", "20.00", "0.00", "12.34", "err=", "0/1"),
			row("team", "2026-11", "team-a", "bot", "0.00", "1.10", "1.00", "err=+10.0", "1/0"),
		}},
		"-n": {policies: []ftv1.CostPolicy{team}, filter: budget.ReportFilter{Namespace: "team-b"}, want: []string{
			row("team", "2026-12", "team-b", "classifier", "20.00", "0.00", "12.34", "err=", "0/1"),
		}},
		"a month": {policies: []ftv1.CostPolicy{team}, filter: budget.ReportFilter{Period: "2026-11"}, want: []string{
			row("team", "2026-11", "team-a", "bot", "0.00", "1.10", "1.00", "err=+10.0", "1/0"),
		}},
		"a quarter takes its months": {policies: []ftv1.CostPolicy{team}, filter: budget.ReportFilter{Period: "2026-Q4", Namespace: "team-a"}, want: []string{
			row("team", "2026-12", "team-a", "alpha", "0.00", "8.10", "8.00", "err=+1.3", "1/0"),
			row("team", "2026-12", "team-a", "bot", "1.62", "1.97", "3.75", "err=-21.2", "2/1"),
			row("team", "2026-11", "team-a", "bot", "0.00", "1.10", "1.00", "err=+10.0", "1/0"),
		}},
		"a period with no charge":     {policies: []ftv1.CostPolicy{team}, filter: budget.ReportFilter{Period: "2026-Q3"}, want: []string{}},
		"a month is not in a quarter": {policies: []ftv1.CostPolicy{ledgerPolicy("q", charge("2026-Q4", "ns", "e", "u", "C", "5.00", "4.00", ""))}, filter: budget.ReportFilter{Period: "2026-12"}, want: []string{}},
		"a year takes its quarters": {policies: []ftv1.CostPolicy{ledgerPolicy("q", charge("2026-Q4", "ns", "e", "u", "C", "5.00", "4.00", ""))}, filter: budget.ReportFilter{Period: "2026"}, want: []string{
			row("q", "2026-Q4", "ns", "e", "5.00", "0.00", "4.00", "err=", "0/1"),
		}},
		// A workload two policies select is charged to both ledgers: one row under each policy.
		"a charge in two policies": {policies: []ftv1.CostPolicy{
			ledgerPolicy("platform", charge("2026-12", "ns", "e", "u", "S", "1.62", "1.25", "1.30")),
			ledgerPolicy("ml", charge("2026-12", "ns", "e", "u", "S", "1.62", "1.25", "1.30")),
		}, want: []string{
			row("ml", "2026-12", "ns", "e", "0.00", "1.30", "1.25", "err=+4.0", "1/0"),
			row("platform", "2026-12", "ns", "e", "0.00", "1.30", "1.25", "err=+4.0", "1/0"),
		}},
		"--policy": {policies: []ftv1.CostPolicy{
			ledgerPolicy("platform", charge("2026-12", "ns", "e", "u", "S", "1.62", "1.25", "1.30")),
			ledgerPolicy("ml", charge("2026-12", "ns", "e", "u", "S", "1.62", "1.25", "1.30")),
		}, filter: budget.ReportFilter{Policy: "ml"}, want: []string{
			row("ml", "2026-12", "ns", "e", "0.00", "1.30", "1.25", "err=+4.0", "1/0"),
		}},
		// A run charged only at its finish (released before the budget existed) has no estimated
		// cost: its actual counts, and it stays out of the error.
		"a finished charge with no estimate": {policies: []ftv1.CostPolicy{ledgerPolicy("p",
			charge("2026-12", "ns", "e", "u1", "S", "0.00", "", "3.00"),
			charge("2026-12", "ns", "e", "u2", "S", "2.00", "2.00", "1.00"),
			charge("2026-12", "ns", "f", "u3", "S", "0.00", "", "0.99"),
		)}, want: []string{
			row("p", "2026-12", "ns", "e", "0.00", "4.00", "2.00", "err=-50.0", "2/0"),
			row("p", "2026-12", "ns", "f", "0.00", "0.99", "0.00", "err=", "1/0"),
		}},
		"newest first across kinds of period": {policies: []ftv1.CostPolicy{
			ledgerPolicy("m", charge("2026-10", "ns", "e", "u1", "C", "1.00", "1.00", ""), charge("2026-12", "ns", "e", "u2", "C", "1.00", "1.00", "")),
			ledgerPolicy("q", charge("2026-Q4", "ns", "e", "u3", "C", "1.00", "1.00", "")),
			ledgerPolicy("y", charge("2026", "ns", "e", "u4", "C", "1.00", "1.00", ""), charge("2025", "ns", "e", "u5", "C", "1.00", "1.00", "")),
		}, want: []string{
			row("m", "2026-12", "ns", "e", "1.00", "0.00", "1.00", "err=", "0/1"),
			row("m", "2026-10", "ns", "e", "1.00", "0.00", "1.00", "err=", "0/1"),
			row("q", "2026-Q4", "ns", "e", "1.00", "0.00", "1.00", "err=", "0/1"),
			row("y", "2026", "ns", "e", "1.00", "0.00", "1.00", "err=", "0/1"),
			row("y", "2025", "ns", "e", "1.00", "0.00", "1.00", "err=", "0/1"),
		}},
		"a policy with no ledger": {policies: []ftv1.CostPolicy{*policy("1.00", "", "", "")}, want: []string{}},
		"a bad period":            {policies: []ftv1.CostPolicy{team}, filter: budget.ReportFilter{Period: "December"}, err: `period "December" is not a period name`},
		"a malformed amount": {policies: []ftv1.CostPolicy{ledgerPolicy("p", charge("2026-12", "ns", "e", "u1", "S", "1.00", "1.00", "one"))},
			err: "CostPolicy p: status.budget.charges[0] (Job ns/u1): actual: "},
	} {
		t.Run(name, func(t *testing.T) {
			rows, err := budget.Report(tc.policies, tc.filter)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, r := range rows {
				got = append(got, rowText(r))
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
