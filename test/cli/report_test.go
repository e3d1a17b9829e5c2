package cli

import (
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/cli"
)

// budgetPolicy creates a CostPolicy with budget b on the API server and writes charges as its
// status.budget ledger, as the gates and the actuals reconciler would (no controller runs here), so
// the API server validates the ledger; it is deleted when the test ends, so that the estimates of
// the other tests are evaluated with no policy.
func budgetPolicy(t *testing.T, name string, b ftv1.TeamBudget, charges ...ftv1.BudgetCharge) {
	t.Helper()
	ctx := context.Background()
	p := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn, Values: []string{"team-a", "team-b"}}}},
		Budget: &b}}
	if err := env.Client.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, p) })
	p.Status.Budget = &ftv1.BudgetStatus{Charges: charges}
	if err := env.Client.Status().Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
		t.Fatal(err)
	}
	if got := p.Status.Budget; got == nil || len(got.Charges) != len(charges) {
		t.Fatalf("the API server kept %+v of the ledger", got)
	}
}

// committed and spent are ledger charges of a Job in ns, released on estimate. When they were
// released and finished does not enter the report; the API server only requires the times.
func committed(period, ns, estimate, job, cap, estimated string) ftv1.BudgetCharge {
	return ftv1.BudgetCharge{Period: period, Namespace: ns, Estimate: estimate, Kind: "Job", Name: job, UID: ns + "-" + job + "-" + period,
		State: ftv1.ChargeCommitted, Committed: ftv1.Decimal(cap), Estimated: ftv1.Decimal(estimated),
		ReleasedAt: metav1.NewTime(time.Date(2026, time.October, 1, 0, 0, 0, 0, time.UTC))}
}

func spent(period, ns, estimate, job, cap, estimated, actual string) ftv1.BudgetCharge {
	c := committed(period, ns, estimate, job, cap, estimated)
	finished := metav1.NewTime(c.ReleasedAt.Add(time.Hour))
	c.State, c.Actual, c.FinishedAt = ftv1.ChargeSpent, ftv1.Decimal(actual), &finished
	return c
}

// TestReport reads two CostPolicies' ledgers from the API server: a monthly budget per namespace
// and a quarterly one the namespaces share, both charged for team-a's Job train-2, which each
// reports. The support bot's runs commit 1.62 (its spend cap) against an estimated 1.25.
func TestReport(t *testing.T) {
	budgetPolicy(t, "teams", ftv1.TeamBudget{Amount: "500.00", Period: ftv1.BudgetMonth},
		spent("2026-11", "team-a", "support-bot", "train-1", "1.62", "1.25", "1.55"),
		spent("2026-12", "team-a", "support-bot", "train-2", "1.62", "1.25", "0.42"),
		committed("2026-12", "team-a", "support-bot", "train-3", "1.62", "1.25"),
		spent("2026-12", "team-a", "low-traffic", "train", "1.62", "1.25", "1.25"),
		committed("2026-12", "team-b", "premium-bot", "train", "3.24", "2.49"),
	)
	budgetPolicy(t, "platform", ftv1.TeamBudget{Amount: "10000", Period: ftv1.BudgetQuarter, Per: ftv1.BudgetPerPolicy},
		spent("2026-Q4", "team-a", "support-bot", "train-2", "1.62", "1.25", "0.42"),
		spent("2026-Q3", "team-b", "premium-bot", "old", "3.24", "2.49", "0.00"),
	)
	const header = "period,namespace,estimate,committed_usd,actual_usd,estimated_usd,error_percent,finished_runs,running_runs,policy\n"
	for name, tc := range map[string]struct {
		args   []string
		out    string
		stderr string
		code   int
	}{
		// The context's namespace, team-a: December's support bot has 0.42 against 1.25 finished
		// (-66.4%) and 1.62 committed; November's 1.55 against 1.25 (+24.0%).
		"csv, the context's namespace": {args: []string{"-o", "csv"}, out: header +
			"2026-12,team-a,low-traffic,0.00,1.25,1.25,+0.0,1,0,teams\n" +
			"2026-12,team-a,support-bot,1.62,0.42,2.50,-66.4,1,1,teams\n" +
			"2026-11,team-a,support-bot,0.00,1.55,1.25,+24.0,1,0,teams\n" +
			"2026-Q4,team-a,support-bot,0.00,0.42,1.25,-66.4,1,0,platform\n"},
		"csv -A": {args: []string{"-o", "csv", "-A"}, out: header +
			"2026-12,team-a,low-traffic,0.00,1.25,1.25,+0.0,1,0,teams\n" +
			"2026-12,team-a,support-bot,1.62,0.42,2.50,-66.4,1,1,teams\n" +
			"2026-12,team-b,premium-bot,3.24,0.00,2.49,,0,1,teams\n" +
			"2026-11,team-a,support-bot,0.00,1.55,1.25,+24.0,1,0,teams\n" +
			"2026-Q4,team-a,support-bot,0.00,0.42,1.25,-66.4,1,0,platform\n" +
			"2026-Q3,team-b,premium-bot,0.00,0.00,2.49,-100.0,1,0,platform\n"},
		"csv -n --no-headers": {args: []string{"-o", "csv", "-n", "team-b", "--no-headers"}, out: "" +
			"2026-12,team-b,premium-bot,3.24,0.00,2.49,,0,1,teams\n" +
			"2026-Q3,team-b,premium-bot,0.00,0.00,2.49,-100.0,1,0,platform\n"},
		"a quarter takes its months": {args: []string{"-o", "csv", "-A", "--period", "2026-Q4"}, out: header +
			"2026-12,team-a,low-traffic,0.00,1.25,1.25,+0.0,1,0,teams\n" +
			"2026-12,team-a,support-bot,1.62,0.42,2.50,-66.4,1,1,teams\n" +
			"2026-12,team-b,premium-bot,3.24,0.00,2.49,,0,1,teams\n" +
			"2026-11,team-a,support-bot,0.00,1.55,1.25,+24.0,1,0,teams\n" +
			"2026-Q4,team-a,support-bot,0.00,0.42,1.25,-66.4,1,0,platform\n"},
		"--policy --period": {args: []string{"-o", "csv", "-A", "--period", "2026-11", "--policy", "teams"}, out: header +
			"2026-11,team-a,support-bot,0.00,1.55,1.25,+24.0,1,0,teams\n"},
		"table": {args: []string{"-A", "--period", "2026-12"}, out: "" +
			"PERIOD    NAMESPACE   ESTIMATE      COMMITTED-USD   ACTUAL-USD   ESTIMATED-USD   ERROR%   RUNS   POLICY\n" +
			"2026-12   team-a      low-traffic   0.00            1.25         1.25            +0.0     1/0    teams\n" +
			"2026-12   team-a      support-bot   1.62            0.42         2.50            -66.4    1/1    teams\n" +
			"2026-12   team-b      premium-bot   3.24            0.00         2.49                     0/1    teams\n"},
		"nothing in the namespace": {args: []string{"-n", "default"}, stderr: "No budget charges found in default namespace.\n"},
		"csv of nothing":           {args: []string{"-n", "default", "-o", "csv"}, out: header},
		"an unknown policy": {args: []string{"--policy", "nope"}, code: cli.ExitInput,
			stderr: "Error from server (NotFound): costpolicies.ftcost.io \"nope\" not found\n"},
		"a bad period": {args: []string{"--period", "2026-13"}, code: cli.ExitInput,
			stderr: "Error: period \"2026-13\" is not a period name such as 2026-12, 2026-Q4 or 2026\n"},
		"a bad format": {args: []string{"-o", "json"}, code: cli.ExitInput,
			stderr: "Error: unknown output format \"json\": use table or csv\n"},
	} {
		t.Run(name, func(t *testing.T) {
			r := ftcost(t, append(append([]string{"report"}, tc.args...), ctxEnvtest...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", r.code, tc.code, r.err)
			}
			if d := cmp.Diff(tc.out, r.out); d != "" {
				t.Errorf("stdout (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.stderr, r.err); d != "" {
				t.Errorf("stderr (-want +got):\n%s", d)
			}
			if strings.Contains(strings.Join(tc.args, " "), "csv") && tc.code == cli.ExitOK {
				records, err := csv.NewReader(strings.NewReader(r.out)).ReadAll()
				if err != nil {
					t.Fatalf("the output is not CSV: %v", err)
				}
				for _, rec := range records {
					if len(rec) != 10 {
						t.Errorf("a record of %d fields: %q", len(rec), rec)
					}
				}
			}
		})
	}
	t.Run("--policy completes CostPolicies", func(t *testing.T) {
		if got := complete(t, "report", "--policy", "t"); !slices.Equal(got, []string{"teams"}) {
			t.Errorf("completing --policy t: %q, want teams", got)
		}
	})
}
