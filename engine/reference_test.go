package engine_test

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ftcost/ftcost/engine"
)

// checkAgainstReference recomputes the monthly series and NPV the slow, obvious way with decimal's
// own Mul and Round, and compares: the engine's integer fast paths must give exactly the same figures.
func checkAgainstReference(t testing.TB, in *engine.Input, r *engine.Result) {
	t.Helper()
	const places = 20
	growth := decimal.NewFromInt(1).Add(in.MonthlyGrowthPercent.Div(decimal.NewFromInt(100)))
	factor := decimal.NewFromInt(1)
	base := in.ServingMonthlyCost.Round(2)
	r0 := decimal.NewFromInt(in.RequestsPerMonth)
	for i, mo := range r.Months {
		if i > 0 && in.RequestsPerMonth != 0 {
			factor = factor.Mul(growth).Round(places)
		}
		req := r0.Mul(factor)
		api := req.Mul(r.APICostPerRequest).Round(2)
		serving := req.Mul(r.ServingCostPerRequest).Round(2).Add(base)
		if !mo.Requests.Equal(req.Round(6)) || !mo.APICost.Decimal().Equal(api) || !mo.ServingCost.Decimal().Equal(serving) {
			t.Fatalf("month %d: requests %s api %s serving %s; reference %s %s %s", mo.Month, mo.Requests, mo.APICost,
				mo.ServingCost, req.Round(6), api.StringFixed(2), serving.StringFixed(2))
		}
	}
	npv := r.NetSavings.Decimal()
	if !in.AnnualDiscountRatePercent.IsZero() {
		annual := decimal.NewFromInt(1).Add(in.AnnualDiscountRatePercent.Div(decimal.NewFromInt(100)))
		monthly, err := annual.PowWithPrecision(decimal.NewFromInt(1).DivRound(decimal.NewFromInt(12), places), places)
		if err != nil {
			t.Fatal(err)
		}
		inverse := decimal.NewFromInt(1).DivRound(monthly, places)
		// The contract: -upfront + the sum of each month's savings / (1 + rate)^(m/12), rounded once.
		discount := decimal.NewFromInt(1)
		sum := decimal.Zero
		for _, mo := range r.Months {
			discount = discount.Mul(inverse).Round(places)
			sum = sum.Add(mo.Savings.Decimal().Mul(discount))
		}
		npv = r.UpfrontCost.Decimal().Neg().Add(sum.Round(2))
	}
	if !r.NetPresentValue.Decimal().Equal(npv) {
		t.Fatalf("NPV %s, reference %s", r.NetPresentValue, npv.StringFixed(2))
	}
}

func TestMonthsMatchReference(t *testing.T) {
	for _, growth := range []string{"0", "5", "-3.7", "12.345", "99", "-99.5", "150"} {
		for _, rate := range []string{"0", "7", "33.3"} {
			for _, c := range []struct {
				requests           int64
				api, serving, base string
			}{
				{10_000, "0.005", "0", "0"},
				{123_457, "0.0018", "0.000143", "12.5"},
				{7, "1.23456789", "0.333333333333", "0.07"},
				{100_000_000, "0.000000123456789012345", "0", "1000"},
				{3, "2e18", "1e17", "0"}, // absurd quotes: money past int64 cents, no digits dropped
			} {
				name := fmt.Sprintf("growth %s rate %s requests %d api %s", growth, rate, c.requests, c.api)
				t.Run(name, func(t *testing.T) {
					in := example1()
					in.MonthlyGrowthPercent, in.AnnualDiscountRatePercent = dec(growth), dec(rate)
					in.RequestsPerMonth, in.APICostPerRequest = c.requests, decp(c.api)
					in.ServingCostPerRequest, in.ServingMonthlyCost = decp(c.serving), dec(c.base)
					in.HorizonMonths = 120
					r := mustEstimate(t, in)
					checkAgainstReference(t, &in, r)
					checkSeries(t, r)
				})
			}
		}
	}
}
