package engine_test

import (
	"errors"
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
// discount factors' 18 decimals carried through the month's volume.
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
	// Each month's factor is rounded to 18 decimals, an error of at most 0.5e-18 a month, which
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
		slack := mul(mul(mul(r0, perRequest), mul(maxFactor, num(1e-17))), num(float64(mo.Month)))
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
	// float64 powers are good to about 1e-15 of the savings; the engine's factors to 1e-17 a month.
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
					r, err := engine.Estimate(&in, engine.BuiltinCatalog())
					if err != nil {
						checkOutOfRangeIsRight(t, &in, err)
						return
					}
					checkAgainstOracle(t, &in, r)
					checkSeries(t, r)
				})
			}
		}
	}
}

// checkOutOfRangeIsRight: an estimate refused as OutOfRange really does pass the one-trillion ceiling
// within the horizon, by the oracle's own count of the API's cumulative cost (serving is smaller here).
func checkOutOfRangeIsRight(t *testing.T, in *engine.Input, err error) {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) || e.Reason != engine.ReasonOutOfRange {
		t.Fatalf("Estimate: %v", err)
	}
	api, _ := in.APICostPerRequest.Float64()
	growth, _ := in.MonthlyGrowthPercent.Float64()
	cum, req := 0.0, float64(in.RequestsPerMonth)
	for m := 1; m <= int(in.HorizonMonths); m++ {
		cum += req * api
		req *= 1 + growth/100
	}
	if cum <= 1e12*(1-1e-9) {
		t.Fatalf("refused as OutOfRange (%v), but the API costs only %.2f over the horizon", err, cum)
	}
}

func TestBounds(t *testing.T) {
	tests := map[string]struct {
		edit  func(*engine.Input)
		field engine.Field
	}{
		"a trillion requests growing 1000% a month": {func(in *engine.Input) {
			in.RequestsPerMonth, in.MonthlyGrowthPercent = 1_000_000_000_000, dec("1000")
		}, engine.FieldRequestsPerMonth},
		"one example: training worth less than a cent": {func(in *engine.Input) { in.Examples = 1 }, engine.FieldHours},
		"measured hours worth less than a cent":        {func(in *engine.Input) { in.Hours = decp("0.001") }, engine.FieldHours},
		"more than 10,000 GPU-years":                   {func(in *engine.Input) { in.Hours = decp("87600001") }, engine.FieldExamples},
		"one-time costs above a trillion":              {func(in *engine.Input) { in.OneTime.Hardware = dec("1000000000001") }, engine.FieldDataCollection},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := example1()
			tc.edit(&in)
			r, err := engine.Estimate(&in, engine.BuiltinCatalog())
			if err == nil {
				t.Fatalf("estimated (upfront %s, recommendation %s), want OutOfRange", r.UpfrontCost, r.Recommendation)
			}
			if e := asEngineError(t, err); e.Reason != engine.ReasonOutOfRange || e.Field != tc.field {
				t.Errorf("error %v, want OutOfRange on %s", err, tc.field)
			}
		})
	}
}

// TestScaleFactorRoundingToNothing: a catalog scale factor of 0.000001 rounds training to 0 hours,
// which is refused, not approved at $0.00.
func TestScaleFactorRoundingToNothing(t *testing.T) {
	c := engine.BuiltinCatalog()
	m := c.Models["llama-13b"]
	m.ScaleFactor = dec("0.000001")
	c.Models["llama-13b"] = m
	in := example1()
	_, err := engine.Estimate(&in, c)
	if e := asEngineError(t, err); e.Reason != engine.ReasonOutOfRange || e.Field != engine.FieldExamples {
		t.Errorf("error %v, want OutOfRange on Examples", err)
	}
}
