package budget_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/budget"
)

func usd(s string) engine.Money {
	m, err := engine.ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

func policy(amount string, per ftv1.BudgetScope, period ftv1.BudgetPeriod, tz string) *ftv1.CostPolicy {
	return &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "team"},
		Spec: ftv1.CostPolicySpec{Budget: &ftv1.TeamBudget{Amount: ftv1.Decimal(amount), Per: per, Period: period, TimeZone: tz}}}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestPeriods(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind             ftv1.BudgetPeriod
		loc              *time.Location
		t                string
		name, start, end string
	}{
		{ftv1.BudgetMonth, time.UTC, "2026-12-03T04:00:00Z", "2026-12", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"", time.UTC, "2026-12-31T23:59:59Z", "2026-12", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		// 23:30 UTC on 30 November is already December in Berlin.
		{ftv1.BudgetMonth, berlin, "2026-11-30T23:30:00Z", "2026-12", "2026-11-30T23:00:00Z", "2026-12-31T23:00:00Z"},
		{ftv1.BudgetQuarter, time.UTC, "2026-11-15T00:00:00Z", "2026-Q4", "2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{ftv1.BudgetQuarter, time.UTC, "2026-01-01T00:00:00Z", "2026-Q1", "2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z"},
		{ftv1.BudgetYear, time.UTC, "2026-07-01T00:00:00Z", "2026", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		// Berlin's March changes its offset: the quarter still starts at local midnight.
		{ftv1.BudgetQuarter, berlin, "2026-05-01T00:00:00Z", "2026-Q2", "2026-03-31T22:00:00Z", "2026-06-30T22:00:00Z"},
	} {
		p := budget.PeriodAt(tc.kind, tc.loc, at(tc.t))
		got := []string{p.Name, p.Start.UTC().Format(time.RFC3339), p.End.UTC().Format(time.RFC3339)}
		if want := []string{tc.name, tc.start, tc.end}; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("PeriodAt(%s, %s, %s) = %v, want %v", tc.kind, tc.loc, tc.t, got, want)
		}
		named, ok := budget.PeriodNamed(p.Name, tc.loc)
		if !ok || !named.Start.Equal(p.Start) || !named.End.Equal(p.End) {
			t.Errorf("PeriodNamed(%q) = %v %v, want %v", p.Name, named, ok, p)
		}
	}
	for _, bad := range []string{"", "2026-13", "2026-Q5", "26", "Q4"} {
		if _, ok := budget.PeriodNamed(bad, time.UTC); ok {
			t.Errorf("PeriodNamed(%q) read a period", bad)
		}
	}
	if _, err := budget.Location(&ftv1.TeamBudget{TimeZone: "Mars/Olympus"}); err == nil || !strings.Contains(err.Error(), "spec.budget.timeZone") {
		t.Errorf("an unknown time zone: %v", err)
	}
}

func req(ns, name, uid, capUSD, now string) budget.Request {
	return budget.Request{Namespace: ns, Estimate: "bot", Kind: "Job", Name: name, UID: uid, Cap: usd(capUSD),
		Estimated: usd(capUSD), Now: at(now)}
}

// Commit fits a release while committed + spent + what older held releases wait for + its cap is at
// most the budget, per namespace or shared, in the release's period; a UID commits once.
func TestCommit(t *testing.T) {
	const now = "2026-12-03T04:00:00Z"
	p := policy("4.00", ftv1.BudgetPerNamespace, ftv1.BudgetMonth, "")
	st := &ftv1.BudgetStatus{}
	for _, uid := range []string{"a", "b"} {
		if v, changed := budget.Commit(p, st, req("ml", uid, uid, "1.62", now)); !v.Fits || !changed {
			t.Fatalf("release %s: %+v", uid, v)
		}
	}
	if v, changed := budget.Commit(p, st, req("ml", "a", "a", "1.62", now)); !v.Fits || changed {
		t.Fatalf("a second commit of the same UID: %+v %v", v, changed)
	}
	v, changed := budget.Commit(p, st, req("ml", "c", "c", "1.62", now))
	want := "CostPolicy team: namespace ml's budget for 2026-12 is 4.00 USD; committed 3.24 + spent 0.00 leaves 0.76, and Job c would commit 1.62; the period resets at 2027-01-01T00:00:00Z"
	if v.Fits || changed || v.Reason != ftv1.ReasonBudgetExhausted || v.Message != want {
		t.Fatalf("the third release: %+v\nwant %s", v, want)
	}
	// Another namespace has a budget of its own; a shared budget counts both.
	if v, _ := budget.Commit(p, st, req("other", "d", "d", "1.62", now)); !v.Fits {
		t.Fatalf("another namespace: %+v", v)
	}
	shared := policy("4.00", ftv1.BudgetPerPolicy, ftv1.BudgetMonth, "")
	if v, _ := budget.Commit(shared, st.DeepCopy(), req("other", "e", "e", "0.10", now)); v.Fits || !strings.Contains(v.Message, "the shared budget") {
		t.Fatalf("a shared budget: %+v", v)
	}
	// A cheaper finish makes room: a's actual 0.42 replaces its 1.62.
	if !budget.TrueUp(p, st, budget.Finish{Namespace: "ml", Kind: "Job", Name: "a", UID: "a", Actual: usd("0.42"), At: at(now)}) {
		t.Fatal("the true-up changed nothing")
	}
	if budget.TrueUp(p, st, budget.Finish{Namespace: "ml", Kind: "Job", Name: "a", UID: "a", Actual: usd("0.42"), At: at(now)}) {
		t.Fatal("a repeated true-up changed the ledger")
	}
	if v, _ := budget.Commit(p, st, req("ml", "c", "c", "1.62", now)); !v.Fits {
		t.Fatalf("after a cheaper finish: %+v", v)
	}
	// Older held releases come first.
	r := req("ml", "f", "f", "0.10", now)
	r.Ahead = usd("1.00")
	if v, _ := budget.Commit(p, st, r); v.Fits || !strings.Contains(v.Message, "older held workloads wait for 1.00") {
		t.Fatalf("behind older held releases: %+v", v)
	}
	// A new period starts empty: the previous period's charges do not count.
	if v, _ := budget.Commit(p, st, req("ml", "g", "g", "4.00", "2027-01-01T00:00:00Z")); !v.Fits {
		t.Fatalf("in the next period: %+v", v)
	}
	// A cap more than the whole budget never fits, and says so.
	want = "CostPolicy team: Job big would commit 4.01, more than namespace ml's budget of 4.00 USD for a whole month: it cannot be released under it"
	if v, _ := budget.Commit(p, &ftv1.BudgetStatus{}, req("ml", "big", "big", "4.01", now)); v.Fits || v.Reason != ftv1.ReasonBudgetTooSmall ||
		!strings.HasPrefix(v.Message, want) {
		t.Fatalf("a cap past the budget: %+v\nwant %s", v, want)
	}
	if v, _ := budget.Commit(policy("4", "", "", "Mars/Olympus"), &ftv1.BudgetStatus{}, req("ml", "h", "h", "1", now)); v.Fits || v.Reason != ftv1.ReasonUnknownTimeZone {
		t.Fatalf("an unknown time zone: %+v", v)
	}
	if !budget.Uncommit(st, "g") || budget.Uncommit(st, "a") {
		t.Fatal("Uncommit takes back open charges only")
	}
}

// A running workload takes its cap of the budget, or what it has accrued once that is more; a UID
// charged on a cheaper cap (a release that was not recorded, retried on a dearer plan) commits the
// dearer one in its stead when it fits, and keeps its charge when it does not.
func TestCommitCountsOverrunsAndDearerCaps(t *testing.T) {
	const now = "2026-12-03T04:00:00Z"
	p := policy("4.00", ftv1.BudgetPerNamespace, ftv1.BudgetMonth, "")
	st := &ftv1.BudgetStatus{}
	if v, _ := budget.Commit(p, st, req("ml", "a", "a", "1.62", now)); !v.Fits {
		t.Fatalf("the first release: %+v", v)
	}
	r := req("ml", "b", "b", "1.62", now)
	r.Accrued = map[string]engine.Money{"a": usd("3.00")}
	want := "committed 3.00 + spent 0.00 leaves 1.00, and Job b would commit 1.62"
	if v, changed := budget.Commit(p, st, r); v.Fits || changed || !strings.Contains(v.Message, want) {
		t.Fatalf("behind a run past its cap: %+v, want %q", v, want)
	}
	r.Accrued = map[string]engine.Money{"a": usd("1.00")}
	if v, _ := budget.Commit(p, st.DeepCopy(), r); !v.Fits {
		t.Fatalf("behind a run within its cap: %+v", v)
	}
	got, _, err := budget.Summary(p, st, []string{"ml"}, map[string]engine.Money{"a": usd("3.00")}, at(now))
	if err != nil || got.CurrentTotal.Committed != "3.00" || got.CurrentTotal.Remaining != "1.00" {
		t.Fatalf("the figures of a run past its cap: %+v %v", got.CurrentTotal, err)
	}

	if v, changed := budget.Commit(p, st, req("ml", "x", "x", "0.01", now)); !v.Fits || !changed {
		t.Fatalf("a cheap commitment: %+v", v)
	}
	if v, changed := budget.Commit(p, st, req("ml", "x", "x", "1.62", now)); !v.Fits || !changed || len(st.Charges) != 2 ||
		st.Charges[1].UID != "x" || st.Charges[1].Committed != "1.62" {
		t.Fatalf("the dearer cap in its stead: %+v %v %+v", v, changed, st.Charges)
	}
	want = "committed 1.62 + spent 0.00 leaves 2.38, and Job x would commit 3.00"
	if v, changed := budget.Commit(p, st, req("ml", "x", "x", "3.00", now)); v.Fits || changed || !strings.Contains(v.Message, want) ||
		st.Charges[1].Committed != "1.62" {
		t.Fatalf("a dearer cap with no room: %+v, want %q; charges %+v", v, want, st.Charges)
	}
	if v, changed := budget.Commit(p, st, req("ml", "x", "x", "1.00", now)); !v.Fits || changed {
		t.Fatalf("a cheaper cap: %+v %v", v, changed)
	}
}

// Summary sums the ledger into each period's figures, keeps a period with an open charge after it
// ended (a run across the rollover), drops older ones, and alerts once per threshold.
func TestSummary(t *testing.T) {
	p := policy("4.00", ftv1.BudgetPerNamespace, ftv1.BudgetMonth, "")
	st := &ftv1.BudgetStatus{}
	// October: spent; November: one run still open; December: one spent, one running.
	charge := func(period, uid string, state ftv1.ChargeState, committed, estimated, actual string) {
		st.Charges = append(st.Charges, ftv1.BudgetCharge{Period: period, Namespace: "ml", Estimate: "bot", Kind: "Job", Name: uid, UID: uid,
			State: state, Committed: ftv1.Decimal(committed), Estimated: ftv1.Decimal(estimated), Actual: ftv1.Decimal(actual)})
	}
	charge("2026-09", "sep", ftv1.ChargeSpent, "1.00", "1.00", "1.00")
	charge("2026-10", "oct", ftv1.ChargeSpent, "1.00", "1.00", "0.50")
	charge("2026-11", "nov", ftv1.ChargeCommitted, "1.62", "1.25", "")
	charge("2026-12", "dec1", ftv1.ChargeSpent, "1.62", "1.25", "1.10")
	charge("2026-12", "dec2", ftv1.ChargeCommitted, "1.62", "1.25", "")
	accrued := map[string]engine.Money{"dec2": usd("1.40"), "nov": usd("0.20")}
	got, alerts, err := budget.Summary(p, st, []string{"ml", "quiet"}, accrued, at("2026-12-03T04:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	var periods []string
	for _, ps := range got.Periods {
		periods = append(periods, ps.Period)
	}
	// December, November (the previous, and with an open charge), October is gone with September.
	if strings.Join(periods, ",") != "2026-12,2026-11" || len(got.Charges) != 3 {
		t.Fatalf("periods %v, %d charges", periods, len(got.Charges))
	}
	dec := got.Periods[0]
	ml := dec.Namespaces[0]
	if ml.Namespace != "ml" || dec.Namespaces[1].Namespace != "quiet" {
		t.Fatalf("rows %+v", dec.Namespaces)
	}
	// committed 1.62 + spent 1.10 = 2.72 of 4.00: 68.0%; forecast 1.10 + max(1.25, 1.40).
	wantML := ftv1.BudgetFigures{Budget: "4.00", Committed: "1.62", Spent: "1.10", Remaining: "1.28", Forecast: "2.50", UsedPercent: "68.0"}
	if ml.BudgetFigures != wantML {
		t.Errorf("ml in December: %+v, want %+v", ml.BudgetFigures, wantML)
	}
	// Two namespaces of 4.00 each.
	if dec.Total.Budget != "8.00" || dec.Total.Remaining != "5.28" || got.CurrentTotal.Budget != "8.00" || got.Current != "2026-12" {
		t.Errorf("December's total %+v", dec.Total)
	}
	if got.ResetsAt.UTC().Format(time.RFC3339) != "2027-01-01T00:00:00Z" {
		t.Errorf("resetsAt %v", got.ResetsAt)
	}
	nov := got.Periods[1].Namespaces[0]
	if nov.Committed != "1.62" || nov.Forecast != "1.25" {
		t.Errorf("November keeps its open charge: %+v", nov)
	}
	if len(alerts) != 0 {
		t.Errorf("alerts under 80%%: %+v", alerts)
	}

	// One more commitment: 4.34 of 4.00 is past both thresholds; one Event, for 100%, then none.
	charge("2026-12", "dec3", ftv1.ChargeCommitted, "1.62", "1.25", "")
	got2, alerts, _ := budget.Summary(p, got2From(got, st), []string{"ml"}, accrued, at("2026-12-03T05:00:00Z"))
	if len(alerts) != 1 || alerts[0].Percent != 100 || alerts[0].Namespace != "ml" || got2.Periods[0].Namespaces[0].Alerted != 100 {
		t.Fatalf("alerts %+v", alerts)
	}
	if got2.Periods[0].Namespaces[0].Remaining != "-0.34" {
		t.Errorf("remaining %s", got2.Periods[0].Namespaces[0].Remaining)
	}
	if _, again, _ := budget.Summary(p, got2, []string{"ml"}, accrued, at("2026-12-03T06:00:00Z")); len(again) != 0 {
		t.Errorf("an alert repeated: %+v", again)
	}
	// January: a new period, alerts anew.
	jan, _, _ := budget.Summary(p, got2, []string{"ml"}, accrued, at("2027-01-01T00:00:00Z"))
	if jan.Current != "2027-01" || jan.CurrentTotal.Committed != "0.00" || jan.Periods[0].Namespaces[0].Alerted != 0 {
		t.Errorf("January: %+v", jan.Periods[0])
	}
}

// got2From is got's periods (with their alerts) over st's charges.
func got2From(got, st *ftv1.BudgetStatus) *ftv1.BudgetStatus {
	next := got.DeepCopy()
	next.Charges = st.Charges
	return next
}

func decimalCents(n int64) decimal.Decimal { return decimal.New(n, -2) }
