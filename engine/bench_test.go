package engine_test

import (
	"testing"

	"github.com/ftcost/ftcost/engine"
)

// The goal: a 120-month estimate with growth and discounting under 200 microseconds.
// docs/benchmarks.md records runs.

func benchmarkEstimate(b *testing.B, in engine.Input) {
	cat := engine.BuiltinCatalog()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := engine.Estimate(&in, cat); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEstimate is worked example 1, 36 months.
func BenchmarkEstimate(b *testing.B) { benchmarkEstimate(b, example1()) }

// BenchmarkEstimateGrowthDiscount adds 5% monthly growth and a 10% annual discount rate, so every
// month is computed and discounted.
func BenchmarkEstimateGrowthDiscount(b *testing.B) {
	in := example1()
	in.MonthlyGrowthPercent, in.AnnualDiscountRatePercent = dec("5"), dec("10")
	benchmarkEstimate(b, in)
}

// BenchmarkEstimate120Months is the longest horizon with growth and discounting.
func BenchmarkEstimate120Months(b *testing.B) {
	in := example1()
	in.HorizonMonths = 120
	in.MonthlyGrowthPercent, in.AnnualDiscountRatePercent = dec("5"), dec("10")
	benchmarkEstimate(b, in)
}

// BenchmarkEstimateNeverPaysBack shrinks volume 10% a month (savings sum to at most 500 < 1001.25),
// so break-even is searched for past the horizon until the savings round to zero (month 88).
func BenchmarkEstimateNeverPaysBack(b *testing.B) {
	in := example1()
	in.MonthlyGrowthPercent, in.AnnualDiscountRatePercent = dec("-10"), dec("10")
	benchmarkEstimate(b, in)
}
