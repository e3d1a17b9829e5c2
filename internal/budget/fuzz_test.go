package budget_test

import (
	"fmt"
	"testing"
	"time"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/budget"
)

// FuzzLedger drives a ledger with releases and finishes in random order and amounts, over a period
// boundary, and checks what the gates rely on: commitments never take committed + spent past the
// budget, a UID is charged once (a commit adds a charge, or puts a dearer cap in the place of the
// UID's open one), a repeated finish changes nothing, and Summary's figures are the sums of the
// charges.
func FuzzLedger(f *testing.F) {
	f.Add([]byte{10, 200, 30, 5, 160, 90, 1, 2, 3}, uint16(400))
	f.Add([]byte{255, 255, 0, 1, 128, 64}, uint16(1))
	f.Fuzz(func(t *testing.T, ops []byte, amountCents uint16) {
		amount := engine.Cents(decimalCents(int64(amountCents)))
		p := policy(amount.String(), ftv1.BudgetPerNamespace, ftv1.BudgetMonth, "")
		st := &ftv1.BudgetStatus{}
		start := at("2026-12-31T20:00:00Z")
		for i, op := range ops {
			now := start.Add(time.Duration(i) * 30 * time.Minute) // crosses into January
			uid := fmt.Sprintf("w%d", op%7)
			if op%3 == 0 {
				r := budget.Request{Namespace: "ml", Estimate: "bot", Kind: "Job", Name: uid, UID: uid,
					Cap: engine.Cents(decimalCents(int64(op) * 3)), Now: now}
				before := len(st.Charges)
				open := false
				for _, c := range st.Charges {
					open = open || (c.UID == uid && c.State == ftv1.ChargeCommitted)
				}
				v, changed := budget.Commit(p, st, r)
				if changed && len(st.Charges) != before+1 && (!open || len(st.Charges) != before) {
					t.Fatalf("a commit added %d charges", len(st.Charges)-before)
				}
				if changed {
					period := budget.PeriodAt(ftv1.BudgetMonth, time.UTC, now).Name
					if used := usedIn(st, period); used.Cmp(amount) > 0 {
						t.Fatalf("commit %+v took %s past the budget %s (%+v)", r, used, amount, v)
					}
				}
			} else {
				fin := budget.Finish{Namespace: "ml", Kind: "Job", Name: uid, UID: uid, Actual: engine.Cents(decimalCents(int64(op))), At: now}
				budget.TrueUp(p, st, fin)
				if budget.TrueUp(p, st, fin) {
					t.Fatalf("a repeated finish of %s changed the ledger", uid)
				}
			}
			seen := map[string]bool{}
			for _, c := range st.Charges {
				if seen[c.UID] {
					t.Fatalf("%s charged twice: %+v", c.UID, st.Charges)
				}
				seen[c.UID] = true
			}
		}
		sum, _, err := budget.Summary(p, st, []string{"ml"}, nil, start.Add(time.Duration(len(ops))*30*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		for _, ps := range sum.Periods {
			var committed, spent engine.Money
			for _, c := range sum.Charges {
				if c.Period != ps.Period {
					continue
				}
				if c.State == ftv1.ChargeSpent {
					spent = spent.Add(budget.Used(c, nil))
				} else {
					committed = committed.Add(budget.Used(c, nil))
				}
			}
			if string(ps.Total.Committed) != committed.String() || string(ps.Total.Spent) != spent.String() {
				t.Fatalf("period %s: total %+v, charges sum to committed %s spent %s", ps.Period, ps.Total, committed, spent)
			}
		}
	})
}

// usedIn is committed + spent of the ledger's charges in period.
func usedIn(st *ftv1.BudgetStatus, period string) engine.Money {
	var used engine.Money
	for _, c := range st.Charges {
		if c.Period == period {
			used = used.Add(budget.Used(c, nil))
		}
	}
	return used
}
