package engine_test

import (
	"fmt"
	"math"
	"math/big"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ftcost/ftcost/engine"
)

// checkAgainstOracle recomputes the monthly series and NPV independently of the engine, with
// 256-bit binary floating point and no intermediate rounding, and checks that each figure lies within
// what the engine's documented roundings allow: half a cent per money line, plus the growth and
// discount factors' 20 decimals carried through the month's volume.
func checkAgainstOracle(t testing.TB, in *engine.Input, r *engine.Result) {
	t.Helper()
	const prec = 256
	f := func(d decimal.Decimal) *big.Float {
		x, _, err := big.ParseFloat(d.String(), 10, prec, big.ToNearestEven)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	num := func(v float64) *big.Float { return new(big.Float).SetPrec(prec).SetFloat64(v) }
	mul := func(a, b *big.Float) *big.Float { return new(big.Float).SetPrec(prec).Mul(a, b) }
	add := func(a, b *big.Float) *big.Float { return new(big.Float).SetPrec(prec).Add(a, b) }
	sub := func(a, b *big.Float) *big.Float { return new(big.Float).SetPrec(prec).Sub(a, b) }
	abs := func(a *big.Float) *big.Float { return new(big.Float).SetPrec(prec).Abs(a) }
	within := func(what string, m int, got decimal.Decimal, want, tol *big.Float) {
		t.Helper()
		if abs(sub(f(got), want)).Cmp(tol) > 0 {
			t.Fatalf("month %d %s: engine %s, oracle %s (tolerance %s)", m, what, got, want.Text('g', 30), tol.Text('g', 5))
		}
	}
	quo := func(a, b *big.Float) *big.Float { return new(big.Float).SetPrec(prec).Quo(a, b) }
	growth := add(num(1), quo(f(in.MonthlyGrowthPercent), num(100)))
	r0 := f(decimal.NewFromInt(in.RequestsPerMonth))
	api, serving := f(r.APICostPerRequest), f(r.ServingCostPerRequest)
	base := f(in.ServingMonthlyCost.Round(2))
	// Each month's factor is rounded to 20 decimals, an error of at most 0.5e-20 a month, which
	// growth carries along; bound it generously by the month's count times the largest factor seen.
	perRequest := api
	if serving.Cmp(api) > 0 {
		perRequest = serving
	}
	factor, maxFactor := num(1), num(1)
	for i, mo := range r.Months {
		if i > 0 && in.RequestsPerMonth != 0 {
			factor = mul(factor, growth)
		}
		if factor.Cmp(maxFactor) > 0 {
			maxFactor = factor
		}
		req := mul(r0, factor)
		slack := mul(mul(mul(r0, perRequest), mul(maxFactor, num(1e-19))), num(float64(mo.Month)))
		within("API cost", mo.Month, mo.APICost.Decimal(), mul(req, api), add(num(0.005), slack))
		within("serving cost", mo.Month, mo.ServingCost.Decimal(), add(mul(req, serving), base), add(num(0.005), slack))
	}
	if in.AnnualDiscountRatePercent.IsZero() {
		if !r.NetPresentValue.Decimal().Equal(r.NetSavings.Decimal()) {
			t.Fatalf("NPV %s at 0%% differs from net savings %s", r.NetPresentValue, r.NetSavings)
		}
		return
	}
	// NPV from the engine's own (already checked) monthly savings, discounted by the oracle.
	rate, _ := add(num(1), quo(f(in.AnnualDiscountRatePercent), num(100))).Float64()
	sum, totalSavings := num(0), num(0)
	for _, mo := range r.Months {
		discount := num(math.Pow(rate, -float64(mo.Month)/12))
		sum = add(sum, mul(f(mo.Savings.Decimal()), discount))
		totalSavings = add(totalSavings, abs(f(mo.Savings.Decimal())))
	}
	npv := sub(sum, f(r.UpfrontCost.Decimal()))
	// float64 powers are good to about 1e-15 of the savings; the engine's factors to 1e-19 a month.
	tol := add(num(0.005), mul(totalSavings, num(1e-13)))
	within("NPV", len(r.Months), r.NetPresentValue.Decimal(), npv, tol)
}

func TestMonthsMatchOracle(t *testing.T) {
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
					checkAgainstOracle(t, &in, r)
					checkSeries(t, r)
				})
			}
		}
	}
}
