// Package budget is the ledger of a CostPolicy's budget (spec.budget): which calendar period a moment
// falls in, whether a release fits what is left, committing a release and truing it up when the run
// finishes, and the figures of status.budget, all sums of the ledger's charges. It is pure: the
// gates and the budget reconciler read and write the CostPolicy, with its resourceVersion as the
// lock, so two releases racing for the last dollars cannot both pass.
package budget

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
)

// Period is one calendar period of a budget: [Start, End).
type Period struct {
	Name       string
	Start, End time.Time
}

// Location is the budget's time zone: UTC when omitted.
func Location(b *ftv1.TeamBudget) (*time.Location, error) {
	if b.TimeZone == "" || b.TimeZone == "UTC" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(b.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("spec.budget.timeZone %q is not a time zone of the IANA database", b.TimeZone)
	}
	return loc, nil
}

// PeriodAt is the period of kind p (Month when empty) that holds t, in loc.
func PeriodAt(p ftv1.BudgetPeriod, loc *time.Location, t time.Time) Period {
	t = t.In(loc)
	y, m := t.Year(), t.Month()
	switch p {
	case ftv1.BudgetYear:
		start := time.Date(y, time.January, 1, 0, 0, 0, 0, loc)
		return Period{Name: strconv.Itoa(y), Start: start, End: start.AddDate(1, 0, 0)}
	case ftv1.BudgetQuarter:
		q := (int(m) - 1) / 3
		start := time.Date(y, time.Month(3*q+1), 1, 0, 0, 0, 0, loc)
		return Period{Name: fmt.Sprintf("%d-Q%d", y, q+1), Start: start, End: start.AddDate(0, 3, 0)}
	default:
		start := time.Date(y, m, 1, 0, 0, 0, 0, loc)
		return Period{Name: start.Format("2006-01"), Start: start, End: start.AddDate(0, 1, 0)}
	}
}

// PeriodNamed is the period a name of PeriodAt stands for, in loc; false for a name it never gives.
func PeriodNamed(name string, loc *time.Location) (Period, bool) {
	var p ftv1.BudgetPeriod
	var t time.Time
	if y, q, ok := strings.Cut(name, "-Q"); ok {
		year, err1 := strconv.Atoi(y)
		quarter, err2 := strconv.Atoi(q)
		if err1 != nil || err2 != nil || quarter < 1 || quarter > 4 {
			return Period{}, false
		}
		p, t = ftv1.BudgetQuarter, time.Date(year, time.Month(3*quarter-2), 1, 0, 0, 0, 0, loc)
	} else if month, err := time.ParseInLocation("2006-01", name, loc); err == nil {
		p, t = ftv1.BudgetMonth, month
	} else if year, err := strconv.Atoi(name); err == nil && len(name) == 4 {
		p, t = ftv1.BudgetYear, time.Date(year, time.January, 1, 0, 0, 0, 0, loc)
	} else {
		return Period{}, false
	}
	return PeriodAt(p, loc, t), true
}

// Previous is the period before p, of the same kind.
func Previous(kind ftv1.BudgetPeriod, loc *time.Location, p Period) Period {
	return PeriodAt(kind, loc, p.Start.Add(-time.Nanosecond))
}

// money reads a decimal the API server validated; a malformed one counts as $0.00 and is reported
// by the reconciler's Ready condition, never priced.
func money(s ftv1.Decimal) engine.Money {
	m, err := engine.ParseMoney(string(s))
	if err != nil {
		return engine.Money{}
	}
	return m
}

// Amount is the budget per period, and whether it can be read.
func Amount(b *ftv1.TeamBudget) (engine.Money, error) {
	m, err := engine.ParseMoney(string(b.Amount))
	if err != nil {
		return engine.Money{}, fmt.Errorf("spec.budget.amount: %w", err)
	}
	return m, nil
}

// Used is what a charge takes of its period: its actual cost once the workload finished; while it
// runs, its commitment, or what it has accrued when that is more (a run past its spend cap has spent
// past its commitment). accrued is what each running workload has cost so far, by UID.
func Used(c ftv1.BudgetCharge, accrued map[string]engine.Money) engine.Money {
	if c.State == ftv1.ChargeSpent {
		return money(c.Actual)
	}
	committed := money(c.Committed)
	if a, ok := accrued[c.UID]; ok && a.Cmp(committed) > 0 {
		return a
	}
	return committed
}

// inScope says whether a charge of namespace ns counts against the budget of namespace scopeNS: all
// of the policy's charges do with per: Policy, a namespace's own with per: Namespace.
func inScope(b *ftv1.TeamBudget, scopeNS, ns string) bool {
	return b.Per == ftv1.BudgetPerPolicy || scopeNS == ns
}

// Request is a release asking for room in a budget.
type Request struct {
	Namespace, Estimate, Kind, Name, UID string
	// Cap is what the release commits: its spend cap. Estimated is its point estimate.
	Cap, Estimated engine.Money
	// Ahead is what older held releases in the same scope wait to commit: they come first.
	Ahead engine.Money
	// Accrued is what the workloads of the ledger's open charges have cost so far, by UID.
	Accrued map[string]engine.Money
	Now     time.Time
}

// Verdict is whether a release fits a policy's budget; Reason and Message say why not.
type Verdict struct {
	Fits            bool
	Reason, Message string
}

// Commit adds req's charge to the ledger st of policy p when it fits: committed (each running
// workload's cap, or what it accrued when that is more) + spent in the period, plus what older held
// releases wait for, plus req.Cap at most the budget. A UID charged already fits without a second
// charge, unless its open charge commits less than req.Cap (made for a cheaper plan by a release
// that was not recorded): then req's charge must fit in its stead. changed says whether st was
// modified.
func Commit(p *ftv1.CostPolicy, st *ftv1.BudgetStatus, req Request) (v Verdict, changed bool) {
	b := p.Spec.Budget
	loc, err := Location(b)
	if err != nil {
		return Verdict{Reason: ftv1.ReasonUnknownTimeZone, Message: fmt.Sprintf("CostPolicy %s: %v", p.Name, err)}, false
	}
	amount, err := Amount(b)
	if err != nil {
		return Verdict{Reason: ftv1.ReasonBudgetExhausted, Message: fmt.Sprintf("CostPolicy %s: %v", p.Name, err)}, false
	}
	if i := slices.IndexFunc(st.Charges, func(c ftv1.BudgetCharge) bool { return c.UID == req.UID }); i >= 0 {
		c := st.Charges[i]
		if c.State == ftv1.ChargeSpent || money(c.Committed).Cmp(req.Cap) >= 0 {
			return Verdict{Fits: true}, false
		}
		rest := &ftv1.BudgetStatus{Charges: slices.Delete(slices.Clone(st.Charges), i, i+1)}
		if v, _ := Commit(p, rest, req); !v.Fits {
			return v, false
		}
		st.Charges = rest.Charges
		return Verdict{Fits: true}, true
	}
	whose := "namespace " + req.Namespace + "'s"
	if b.Per == ftv1.BudgetPerPolicy {
		whose = "the shared"
	}
	if req.Cap.Cmp(amount) > 0 {
		kind := b.Period
		if kind == "" {
			kind = ftv1.BudgetMonth
		}
		return Verdict{Reason: ftv1.ReasonBudgetTooSmall, Message: fmt.Sprintf(
			"CostPolicy %s: %s %s would commit %s, more than %s budget of %s USD for a whole %s: it cannot be released under it; plan a smaller run, or ask for a larger budget",
			p.Name, req.Kind, req.Name, req.Cap, whose, amount, strings.ToLower(string(kind)))}, false
	}
	period := PeriodAt(b.Period, loc, req.Now)
	var committed, spent engine.Money
	for _, c := range st.Charges {
		if c.Period != period.Name || !inScope(b, req.Namespace, c.Namespace) {
			continue
		}
		if c.State == ftv1.ChargeSpent {
			spent = spent.Add(Used(c, req.Accrued))
		} else {
			committed = committed.Add(Used(c, req.Accrued))
		}
	}
	need := committed.Add(spent).Add(req.Ahead).Add(req.Cap)
	if need.Cmp(amount) > 0 {
		left := amount.Sub(committed).Sub(spent)
		ahead := ""
		if !req.Ahead.IsZero() {
			ahead = fmt.Sprintf(", older held workloads wait for %s", req.Ahead)
		}
		return Verdict{Reason: ftv1.ReasonBudgetExhausted, Message: fmt.Sprintf(
			"CostPolicy %s: %s budget for %s is %s USD; committed %s + spent %s leaves %s%s, and %s %s would commit %s; the period resets at %s",
			p.Name, whose, period.Name, amount, committed, spent, left, ahead, req.Kind, req.Name, req.Cap,
			period.End.UTC().Format(time.RFC3339))}, false
	}
	if len(st.Charges) >= ftv1.MaxBudgetCharges {
		return Verdict{Reason: ftv1.ReasonBudgetLedgerFull, Message: fmt.Sprintf(
			"CostPolicy %s's ledger holds %d charges, the most it records: wait for the previous period's to be dropped",
			p.Name, ftv1.MaxBudgetCharges)}, false
	}
	st.Charges = append(st.Charges, ftv1.BudgetCharge{Period: period.Name, Namespace: req.Namespace, Estimate: req.Estimate,
		Kind: req.Kind, Name: req.Name, UID: req.UID, State: ftv1.ChargeCommitted,
		Committed: ftv1.Decimal(req.Cap.String()), Estimated: ftv1.Decimal(req.Estimated.String()),
		ReleasedAt: metav1.NewTime(req.Now.Truncate(time.Second))})
	return Verdict{Fits: true}, true
}

// Uncommit removes the still-open charge of uid: a release another policy refused, or that could
// not be recorded. It says whether st changed.
func Uncommit(st *ftv1.BudgetStatus, uid string) bool {
	n := len(st.Charges)
	st.Charges = slices.DeleteFunc(st.Charges, func(c ftv1.BudgetCharge) bool { return c.UID == uid && c.State == ftv1.ChargeCommitted })
	return len(st.Charges) != n
}

// Finish is a run that finished, for TrueUp.
type Finish struct {
	Namespace, Estimate, Kind, Name, UID string
	// Actual is what the run cost; At is when it finished (or was deleted).
	Actual engine.Money
	At     time.Time
	// Started is when it started, for a run charged for the first time at its finish.
	Started time.Time
}

// TrueUp replaces the commitment of f's workload by its actual cost. A run that finishes with no
// charge (released before the budget existed, or by a path that does not commit) is charged to the
// period it started in, if that period is still in the ledger's reach. Setting, never adding, the
// actual cost makes a retry harmless. It says whether st changed.
func TrueUp(p *ftv1.CostPolicy, st *ftv1.BudgetStatus, f Finish) bool {
	actual := ftv1.Decimal(f.Actual.String())
	at := metav1.NewTime(f.At.Truncate(time.Second))
	for i := range st.Charges {
		c := &st.Charges[i]
		if c.UID != f.UID {
			continue
		}
		if c.State == ftv1.ChargeSpent && c.Actual == actual {
			return false
		}
		c.State, c.Actual = ftv1.ChargeSpent, actual
		if c.FinishedAt == nil {
			c.FinishedAt = &at
		}
		return true
	}
	loc, err := Location(p.Spec.Budget)
	if err != nil || len(st.Charges) >= ftv1.MaxBudgetCharges {
		return false
	}
	started := f.Started
	if started.IsZero() {
		started = f.At
	}
	period := PeriodAt(p.Spec.Budget.Period, loc, started)
	if period.End.Before(Previous(p.Spec.Budget.Period, loc, PeriodAt(p.Spec.Budget.Period, loc, f.At)).Start) {
		return false // older than the ledger keeps
	}
	st.Charges = append(st.Charges, ftv1.BudgetCharge{Period: period.Name, Namespace: f.Namespace, Estimate: f.Estimate,
		Kind: f.Kind, Name: f.Name, UID: f.UID, State: ftv1.ChargeSpent, Committed: "0.00", Actual: actual,
		ReleasedAt: metav1.NewTime(started.Truncate(time.Second)), FinishedAt: &at})
	return true
}

// Alert is a threshold a namespace (or, for a shared budget, the policy: Namespace "") passed in the
// current period: 80 or 100 percent of its budget.
type Alert struct {
	Namespace string
	Percent   int32
	Figures   ftv1.BudgetFigures
	Period    string
}

// thresholds are the shares of a budget that raise an Event, highest first.
var thresholds = []int32{100, 80}

// Summary recomputes status.budget from its charges at now: drops the charges of periods before the
// previous one that are all spent, and sums the figures of each period and namespace. selected are
// the namespaces the policy selects now (each has a row in the current period); accrued is what each
// running workload (by UID) has cost so far, for the forecast and for a run past its cap. It returns
// the new status and the thresholds passed since prev was written.
func Summary(p *ftv1.CostPolicy, prev *ftv1.BudgetStatus, selected []string, accrued map[string]engine.Money, now time.Time) (*ftv1.BudgetStatus, []Alert, error) {
	b := p.Spec.Budget
	loc, err := Location(b)
	if err != nil {
		return nil, nil, err
	}
	amount, err := Amount(b)
	if err != nil {
		return nil, nil, err
	}
	cur := PeriodAt(b.Period, loc, now)
	prevPeriod := Previous(b.Period, loc, cur)
	next := &ftv1.BudgetStatus{Current: cur.Name}
	end := metav1.NewTime(cur.End)
	next.ResetsAt = &end

	// Periods to show: the current and the previous, and any other with an open charge.
	show := map[string]Period{cur.Name: cur, prevPeriod.Name: prevPeriod}
	for _, c := range prev.Charges {
		if c.State == ftv1.ChargeCommitted {
			if per, ok := PeriodNamed(c.Period, loc); ok {
				show[c.Period] = per
			}
		}
	}
	for _, c := range prev.Charges {
		if _, ok := show[c.Period]; ok {
			next.Charges = append(next.Charges, c)
		}
	}
	periods := make([]Period, 0, len(show))
	for _, per := range show {
		periods = append(periods, per)
	}
	slices.SortFunc(periods, func(a, b Period) int { return b.Start.Compare(a.Start) })
	if len(periods) > ftv1.MaxBudgetPeriods {
		periods = periods[:ftv1.MaxBudgetPeriods]
	}

	alerted, sharedAlerted := map[string]int32{}, int32(0)
	for _, ps := range prev.Periods {
		if ps.Period == cur.Name {
			sharedAlerted = ps.Alerted
			for _, ns := range ps.Namespaces {
				alerted[ns.Namespace] = ns.Alerted
			}
		}
	}
	var alerts []Alert
	for _, per := range periods {
		ps := ftv1.BudgetPeriodStatus{Period: per.Name, Start: metav1.NewTime(per.Start), End: metav1.NewTime(per.End)}
		rows := map[string]*tally{}
		if per.Name == cur.Name {
			for _, ns := range selected {
				rows[ns] = &tally{}
			}
		}
		total := &tally{}
		for _, c := range next.Charges {
			if c.Period != per.Name {
				continue
			}
			if rows[c.Namespace] == nil {
				rows[c.Namespace] = &tally{}
			}
			rows[c.Namespace].add(c, accrued)
			total.add(c, accrued)
		}
		names := make([]string, 0, len(rows))
		for ns := range rows {
			names = append(names, ns)
		}
		slices.Sort(names)
		for _, ns := range names {
			rowBudget, rowUsed := amount, rows[ns]
			if b.Per == ftv1.BudgetPerPolicy {
				rowUsed = &tally{committed: total.committed, spent: total.spent, forecast: rows[ns].forecast}
				rowUsed.committedOwn, rowUsed.spentOwn = rows[ns].committed, rows[ns].spent
			}
			row := ftv1.NamespaceBudget{Namespace: ns, BudgetFigures: rowUsed.figures(rowBudget, b.Per == ftv1.BudgetPerPolicy)}
			if per.Name == cur.Name && b.Per != ftv1.BudgetPerPolicy {
				row.Alerted = alerted[ns]
				if a, ok := passed(row.BudgetFigures, rowBudget, row.Alerted); ok {
					row.Alerted = a
					alerts = append(alerts, Alert{Namespace: ns, Percent: a, Figures: row.BudgetFigures, Period: per.Name})
				}
			}
			ps.Namespaces = append(ps.Namespaces, row)
		}
		totalBudget := amount
		if b.Per != ftv1.BudgetPerPolicy {
			totalBudget = engine.Cents(amount.Decimal().Mul(decimal.NewFromInt(int64(len(names)))))
		}
		ps.Total = total.figures(totalBudget, false)
		if per.Name == cur.Name && b.Per == ftv1.BudgetPerPolicy {
			// A shared budget alerts for the policy as a whole.
			ps.Alerted = sharedAlerted
			if a, ok := passed(ps.Total, totalBudget, ps.Alerted); ok {
				ps.Alerted = a
				alerts = append(alerts, Alert{Percent: a, Figures: ps.Total, Period: per.Name})
			}
		}
		if per.Name == cur.Name {
			t := ps.Total
			next.CurrentTotal = &t
		}
		next.Periods = append(next.Periods, ps)
	}
	return next, alerts, nil
}

// passed is the highest threshold the figures reach above the one alerted already.
func passed(f ftv1.BudgetFigures, budget engine.Money, alerted int32) (int32, bool) {
	if budget.Sign() <= 0 {
		return 0, false
	}
	used := money(f.Committed).Add(money(f.Spent)).Decimal().Mul(decimal.NewFromInt(100))
	for _, t := range thresholds {
		if t > alerted && used.Cmp(budget.Decimal().Mul(decimal.NewFromInt(int64(t)))) >= 0 {
			return t, true
		}
	}
	return 0, false
}

// tally sums charges into figures.
type tally struct {
	committed, spent, forecast engine.Money
	// committedOwn and spentOwn are a namespace's own share of a shared budget's figures.
	committedOwn, spentOwn engine.Money
}

func (t *tally) add(c ftv1.BudgetCharge, accrued map[string]engine.Money) {
	if c.State == ftv1.ChargeSpent {
		t.spent = t.spent.Add(Used(c, accrued))
		t.forecast = t.forecast.Add(Used(c, accrued))
		return
	}
	t.committed = t.committed.Add(Used(c, accrued))
	expected := money(c.Estimated)
	if a, ok := accrued[c.UID]; ok && a.Cmp(expected) > 0 {
		expected = a
	}
	t.forecast = t.forecast.Add(expected)
}

// figures are the tally's figures against budget. shared: the committed and spent of a namespace's
// row are its own, its remaining the shared budget's.
func (t *tally) figures(budget engine.Money, shared bool) ftv1.BudgetFigures {
	remaining := budget.Sub(t.committed).Sub(t.spent)
	committed, spent := t.committed, t.spent
	if shared {
		committed, spent = t.committedOwn, t.spentOwn
	}
	f := ftv1.BudgetFigures{Budget: ftv1.Decimal(budget.String()), Committed: ftv1.Decimal(committed.String()),
		Spent: ftv1.Decimal(spent.String()), Remaining: ftv1.SignedDecimal(remaining.String()),
		Forecast: ftv1.Decimal(t.forecast.String())}
	if used, ok := engine.PercentOf(committed.Add(spent), budget); ok {
		f.UsedPercent = ftv1.Decimal(used)
	}
	return f
}
