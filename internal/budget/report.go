package budget

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
)

// ReportRow is what the workloads of one estimate were charged in one period of one CostPolicy's
// ledger: a line of a chargeback or showback sheet (ftcost report).
type ReportRow struct {
	Policy, Period, Namespace, Estimate string
	// Committed is the sum of the spend caps of the charges still open (their workloads run).
	Committed engine.Money
	// Actual is the sum of the actual costs of the finished charges.
	Actual engine.Money
	// Estimated is the sum of the estimated costs of all the charges, open and finished.
	Estimated engine.Money
	// Error is (actual - estimated) / estimated x 100 over the finished charges that carry an
	// estimated cost, signed, to one decimal ("+24.0"); "" when none has (or theirs sum to zero).
	Error string
	// Finished and Running count the charges that are spent and those still committed.
	Finished, Running int
}

// ReportFilter narrows a report. Empty fields do not filter.
type ReportFilter struct {
	// Policy is a CostPolicy's name.
	Policy string
	// Namespace is the namespace of the charges.
	Namespace string
	// Period is a period name as PeriodAt gives them: a charge matches when its period lies within
	// it, so "2026-Q4" takes the months October to December of a monthly budget and "2026" every
	// period of the year.
	Period string
}

// Report sums the ledgers (status.budget.charges) of policies into one row per policy, period,
// namespace and estimate, sorted by period (newest first), namespace, estimate and policy. A
// workload that two policies select is charged to both ledgers and reported under each: rows of
// different policies must not be added up. Only what the ledgers hold is reported: the current and
// the previous period, and earlier ones while a charge of theirs is open.
func Report(policies []ftv1.CostPolicy, f ReportFilter) ([]ReportRow, error) {
	var within Period
	if f.Period != "" {
		var ok bool
		if within, ok = PeriodNamed(f.Period, time.UTC); !ok {
			return nil, fmt.Errorf("period %q is not a period name such as 2026-12, 2026-Q4 or 2026", f.Period)
		}
	}
	type key struct{ policy, period, namespace, estimate string }
	type sums struct {
		row                               ReportRow
		finishedActual, finishedEstimated engine.Money
		withEstimate                      bool
	}
	byKey := map[key]*sums{}
	for i := range policies {
		p := &policies[i]
		if p.Status.Budget == nil || (f.Policy != "" && p.Name != f.Policy) {
			continue
		}
		for j, c := range p.Status.Budget.Charges {
			if (f.Namespace != "" && c.Namespace != f.Namespace) || (f.Period != "" && !periodWithin(c.Period, within)) {
				continue
			}
			committed, actual, estimated, err := chargeFigures(c)
			if err != nil {
				return nil, fmt.Errorf("CostPolicy %s: status.budget.charges[%d] (%s %s/%s): %w", p.Name, j, c.Kind, c.Namespace, c.Name, err)
			}
			k := key{p.Name, c.Period, c.Namespace, c.Estimate}
			s := byKey[k]
			if s == nil {
				s = &sums{row: ReportRow{Policy: p.Name, Period: c.Period, Namespace: c.Namespace, Estimate: c.Estimate}}
				byKey[k] = s
			}
			s.row.Estimated = s.row.Estimated.Add(estimated)
			if c.State == ftv1.ChargeSpent {
				s.row.Actual = s.row.Actual.Add(actual)
				s.row.Finished++
				if c.Estimated != "" {
					s.finishedActual = s.finishedActual.Add(actual)
					s.finishedEstimated = s.finishedEstimated.Add(estimated)
					s.withEstimate = true
				}
			} else {
				s.row.Committed = s.row.Committed.Add(committed)
				s.row.Running++
			}
		}
	}
	rows := make([]ReportRow, 0, len(byKey))
	for _, s := range byKey {
		if s.withEstimate {
			s.row.Error, _ = engine.PercentChange(s.finishedEstimated, s.finishedActual)
		}
		rows = append(rows, s.row)
	}
	slices.SortFunc(rows, func(a, b ReportRow) int {
		return cmp.Or(newestFirst(a.Period, b.Period), cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Estimate, b.Estimate), cmp.Compare(a.Policy, b.Policy))
	})
	return rows, nil
}

// chargeFigures reads a charge's amounts; an omitted estimated or actual cost is $0.00.
func chargeFigures(c ftv1.BudgetCharge) (committed, actual, estimated engine.Money, err error) {
	for _, field := range []struct {
		name  string
		value ftv1.Decimal
		into  *engine.Money
	}{{"committed", c.Committed, &committed}, {"actual", c.Actual, &actual}, {"estimated", c.Estimated, &estimated}} {
		if field.value == "" {
			continue
		}
		if *field.into, err = engine.ParseMoney(string(field.value)); err != nil {
			return engine.Money{}, engine.Money{}, engine.Money{}, fmt.Errorf("%s: %w", field.name, err)
		}
	}
	return committed, actual, estimated, nil
}

// periodWithin says whether the period named name lies within p. Calendar periods nest the same
// way in every time zone, so the names are compared as periods of UTC.
func periodWithin(name string, p Period) bool {
	if name == p.Name {
		return true
	}
	q, ok := PeriodNamed(name, time.UTC)
	return ok && !q.Start.Before(p.Start) && !q.End.After(p.End)
}

// newestFirst orders period names by when they start, the latest first; of periods that start
// together, the shorter first (the month 2026-10 before the quarter 2026-Q4); names that are no
// period last, by name.
func newestFirst(a, b string) int {
	pa, okA := PeriodNamed(a, time.UTC)
	pb, okB := PeriodNamed(b, time.UTC)
	switch {
	case !okA && !okB:
		return cmp.Compare(a, b)
	case !okA:
		return 1
	case !okB:
		return -1
	}
	return cmp.Or(pb.Start.Compare(pa.Start), pa.End.Compare(pb.End), cmp.Compare(a, b))
}
