package engine

import (
	"testing"

	"github.com/shopspring/decimal"
)

func TestCompareOwnership(t *testing.T) {
	dp := func(s string) *decimal.Decimal { v := decimal.RequireFromString(s); return &v }
	cases := map[string]struct {
		in                                          Ownership
		wantTotal, wantPerYear, wantBreakEven       string
		wantMonth, wantYear, wantAll, wantOwnedHour string
		wantBuy                                     bool
	}{
		// The article: "$20,000 = X hours x $2.49/hour; X = 8,032 hours".
		"article's purchase against RunPod": {
			in:        Ownership{PurchasePrice: d("20000"), Years: 1, RentPerGPUHour: d("2.49")},
			wantTotal: "20000.00", wantPerYear: "20000.00", wantBreakEven: "8032.13",
		},
		// The article: 3 fine-tunings x 2 h x 2.49 = 14.94/month, 179/year, 537 over 3 years, against
		// 20,000 + 6,000 electricity = 26,000 (8,667/year).
		"article's three fine-tunings a month": {
			in:        Ownership{PurchasePrice: d("20000"), YearlyRunningCost: d("2000"), Years: 3, RentPerGPUHour: d("2.49"), HoursPerMonth: dp("6")},
			wantTotal: "26000.00", wantPerYear: "8666.67", wantBreakEven: "10441.77",
			wantMonth: "14.94", wantYear: "179.28", wantAll: "537.84",
		},
		// The article: 20 fine-tunings x 2 h x 2.49 = 99.60/month, 1,195/year: renting still cheaper.
		"article's twenty fine-tunings a month": {
			in:        Ownership{PurchasePrice: d("20000"), YearlyRunningCost: d("2000"), Years: 3, RentPerGPUHour: d("2.49"), HoursPerMonth: dp("40")},
			wantTotal: "26000.00", wantPerYear: "8666.67", wantBreakEven: "10441.77",
			wantMonth: "99.60", wantYear: "1195.20", wantAll: "3585.60",
		},
		"round the clock buying wins": {
			in:        Ownership{PurchasePrice: d("20000"), YearlyRunningCost: d("2000"), Years: 3, RentPerGPUHour: d("2.49"), HoursPerMonth: dp("730")},
			wantTotal: "26000.00", wantPerYear: "8666.67", wantBreakEven: "10441.77",
			wantMonth: "1817.70", wantYear: "21812.40", wantAll: "65437.20", wantBuy: true,
		},
		// 26,000 over 3 x 8,760 x 36.2% hours = 2.7330 an owned GPU-hour: near the article's $2.73.
		"owned hour at a utilisation": {
			in:        Ownership{PurchasePrice: d("20000"), YearlyRunningCost: d("2000"), Years: 3, RentPerGPUHour: d("2.49"), UtilizationPercent: dp("36.2")},
			wantTotal: "26000.00", wantPerYear: "8666.67", wantBreakEven: "10441.77", wantOwnedHour: "2.733",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := CompareOwnership(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what, got, want string) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %s, want %s", what, got, want)
				}
			}
			check("total", r.OwnershipCost.String(), tc.wantTotal)
			check("per year", r.CostPerYear.String(), tc.wantPerYear)
			check("break-even hours", r.BreakEvenHours.StringFixed(2), tc.wantBreakEven)
			if tc.wantMonth != "" {
				check("rent a month", r.RentPerMonth.String(), tc.wantMonth)
				check("rent a year", r.RentPerYear.String(), tc.wantYear)
				check("rent in all", r.RentTotal.String(), tc.wantAll)
				if *r.BuyingWins != tc.wantBuy {
					t.Errorf("buying wins = %v, want %v", *r.BuyingWins, tc.wantBuy)
				}
			} else if r.RentPerMonth != nil {
				t.Error("rent figures without hours per month")
			}
			if tc.wantOwnedHour != "" {
				check("owned hour", r.OwnedPerGPUHour.String(), tc.wantOwnedHour)
			}
		})
	}
}

func TestCompareOwnershipRejects(t *testing.T) {
	neg := decimal.RequireFromString("-1")
	over := decimal.RequireFromString("101")
	base := Ownership{PurchasePrice: d("20000"), Years: 3, RentPerGPUHour: d("2.49")}
	cases := map[string]struct {
		mutate func(*Ownership)
		field  Field
	}{
		"negative purchase": {func(o *Ownership) { o.PurchasePrice = neg }, FieldPurchasePrice},
		"negative running":  {func(o *Ownership) { o.YearlyRunningCost = neg }, FieldYearlyRunningCost},
		"no years":          {func(o *Ownership) { o.Years = 0 }, FieldYears},
		"free rent":         {func(o *Ownership) { o.RentPerGPUHour = decimal.Zero }, FieldRentPerGPUHour},
		"negative hours":    {func(o *Ownership) { o.HoursPerMonth = &neg }, FieldHoursPerMonth},
		"utilisation > 100": {func(o *Ownership) { o.UtilizationPercent = &over }, FieldUtilizationPercent},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := base
			tc.mutate(&o)
			_, err := CompareOwnership(o)
			e, ok := err.(*Error)
			if !ok || e.Field != tc.field {
				t.Fatalf("err = %v, want an *Error for %s", err, tc.field)
			}
		})
	}
}
