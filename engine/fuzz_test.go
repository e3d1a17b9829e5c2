package engine_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ftcost/ftcost/engine"
)

// fuzzInput maps bounded fuzz arguments onto an Input. Indexes past the end of a list pick a name the
// catalog does not know, so error paths are fuzzed too.
func fuzzInput(model, method, provider, estimator uint8, examples uint32, tokens uint16, epochs uint8,
	hoursMilli uint32, labelingCents, hardwareCents uint32, apiMicros, servingMicros uint32, servingMonthlyCents uint32,
	requests uint32, inTok, outTok uint16, growthBP int16, horizon uint8, discountBP uint16, budgetCents uint32, flags uint8,
) engine.Input {
	models := []string{"llama-7b", "llama-13b", "llama-70b", "llama-405b", "gpt-4", "nope"}
	methods := []engine.Method{engine.Full, engine.LoRA, engine.QLoRA, "Nope"}
	providers := []string{"runpod", "aws-spot", "aws-on-demand", "lambda-labs", "on-premise", "openai-gpt-4", "nope"}
	estimators := []engine.Estimator{"", engine.Empirical, engine.FLOPs, "Nope"}
	cents := func(v uint32) decimal.Decimal { return decimal.New(int64(v), -2) }
	in := engine.Input{
		Model:            models[int(model)%len(models)],
		Method:           methods[int(method)%len(methods)],
		Examples:         int64(examples % 2_000_001),
		TokensPerExample: int64(tokens),
		Epochs:           int32(epochs % 11),
		Provider:         providers[int(provider)%len(providers)],
		Estimator:        estimators[int(estimator)%len(estimators)],
		OneTime: engine.OneTimeCosts{
			DataLabeling: cents(labelingCents),
			Hardware:     cents(hardwareCents),
			// A sub-cent line exercises per-line rounding.
			Deployment: decimal.New(int64(labelingCents%1000), -3),
		},
		ServingMonthlyCost:        cents(servingMonthlyCents % 10_000_000),
		APIModel:                  "claude-sonnet",
		RequestsPerMonth:          int64(requests % 100_000_001),
		MonthlyGrowthPercent:      decimal.New(int64(growthBP)/2, -2), // -163.84% .. +163.83%
		HorizonMonths:             int32(horizon%124) - 1,             // -1 .. 122
		AnnualDiscountRatePercent: decimal.New(int64(discountBP), -2), // 0 .. 655.35%
	}
	if hoursMilli != 0 {
		h := decimal.New(int64(hoursMilli%10_000_000), -3)
		in.Hours = &h
	}
	if apiMicros != 0 {
		v := decimal.New(int64(apiMicros), -6)
		in.APICostPerRequest = &v
	}
	if servingMicros != 0 {
		v := decimal.New(int64(servingMicros), -6)
		in.ServingCostPerRequest = &v
	}
	if flags&1 == 0 {
		v := int64(inTok)
		in.InputTokensPerRequest = &v
	}
	if flags&2 == 0 {
		v := int64(outTok)
		in.OutputTokensPerRequest = &v
	}
	if flags&4 != 0 {
		in.GPUType = "H100"
	}
	if flags&8 != 0 {
		in.ServingAPIModel = "openai-gpt-4-finetuned"
	}
	if flags&16 != 0 {
		b := cents(budgetCents)
		in.MaxUpfrontCost = &b
	}
	if flags&32 != 0 {
		in.APIModel = ""
	}
	return in
}

func FuzzEstimate(f *testing.F) {
	// Example 1 (quoted $0.005), its token-priced form, growth, discount, managed, FLOPs, shrinking
	// volume, an unknown model and a horizon out of range.
	f.Add(uint8(1), uint8(1), uint8(0), uint8(0), uint32(10_000), uint16(0), uint8(0), uint32(0), uint32(100_000), uint32(0),
		uint32(5000), uint32(0), uint32(0), uint32(10_000), uint16(1000), uint16(300), int16(0), uint8(37), uint16(0), uint32(0), uint8(0))
	f.Add(uint8(1), uint8(1), uint8(0), uint8(0), uint32(10_000), uint16(0), uint8(0), uint32(0), uint32(100_000), uint32(0),
		uint32(0), uint32(0), uint32(0), uint32(10_000), uint16(1000), uint16(300), int16(2000), uint8(121), uint16(1000), uint32(500_000), uint8(16))
	f.Add(uint8(4), uint8(0), uint8(5), uint8(0), uint32(10_000), uint16(500), uint8(1), uint32(0), uint32(0), uint32(0),
		uint32(0), uint32(0), uint32(0), uint32(10_000), uint16(1000), uint16(300), int16(0), uint8(37), uint16(0), uint32(0), uint8(0))
	f.Add(uint8(3), uint8(0), uint8(1), uint8(2), uint32(100_000), uint16(3000), uint8(2), uint32(0), uint32(300_000), uint32(50_000),
		uint32(1600), uint32(1000), uint32(10_000), uint32(400_000), uint16(500), uint16(20), int16(-1000), uint8(13), uint16(500), uint32(100), uint8(20))
	f.Add(uint8(0), uint8(2), uint8(3), uint8(0), uint32(5_000), uint16(0), uint8(0), uint32(250), uint32(50_000), uint32(50_000),
		uint32(1000), uint32(0), uint32(0), uint32(100_000), uint16(300), uint16(800), int16(-19_999), uint8(121), uint16(65535), uint32(0), uint8(0))
	f.Add(uint8(5), uint8(3), uint8(6), uint8(3), uint32(0), uint16(0), uint8(0), uint32(0), uint32(0), uint32(0),
		uint32(0), uint32(0), uint32(0), uint32(0), uint16(0), uint16(0), int16(-32768), uint8(123), uint16(0), uint32(0), uint8(63))
	f.Fuzz(func(t *testing.T, model, method, provider, estimator uint8, examples uint32, tokens uint16, epochs uint8,
		hoursMilli, labelingCents, hardwareCents, apiMicros, servingMicros, servingMonthlyCents, requests uint32,
		inTok, outTok uint16, growthBP int16, horizon uint8, discountBP uint16, budgetCents uint32, flags uint8,
	) {
		in := fuzzInput(model, method, provider, estimator, examples, tokens, epochs, hoursMilli, labelingCents, hardwareCents,
			apiMicros, servingMicros, servingMonthlyCents, requests, inTok, outTok, growthBP, horizon, discountBP, budgetCents, flags)
		r, err := engine.Estimate(&in, engine.BuiltinCatalog())
		if err != nil {
			var e *engine.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, not *engine.Error", err, err)
			}
			if e.Reason == "" || e.Field == "" || e.Message == "" {
				t.Fatalf("incomplete error %+v", e)
			}
			return
		}
		checkInvariants(t, &in, r)
	})
}

func checkInvariants(t *testing.T, in *engine.Input, r *engine.Result) {
	t.Helper()
	for name, h := range map[string]*decimal.Decimal{"gpuHours": r.GPUHours, "gpuHoursLow": r.GPUHoursLow,
		"gpuHoursHigh": r.GPUHoursHigh, "wallClockHours": r.WallClockHours, "memoryPerGPUGiB": r.MemoryPerGPUGiB,
		"trainingTokens": r.TrainingTokens} {
		if h != nil && h.Sign() < 0 {
			t.Errorf("%s = %s is negative", name, h)
		}
	}
	if (r.Estimator == engine.ManagedEstimator) != (r.GPUHours == nil) {
		t.Errorf("estimator %s with gpuHours %v", r.Estimator, r.GPUHours)
	}
	if r.GPUHours != nil && r.GPUCount < 1 {
		t.Errorf("gpuCount %d", r.GPUCount)
	}
	lines := engine.Money{}
	for _, l := range r.OneTimeLines {
		lines = lines.Add(l.Amount)
	}
	if lines.Cmp(r.OneTimeCost) != 0 {
		t.Errorf("one-time cost %s != sum of lines %s", r.OneTimeCost, lines)
	}
	if got := r.TrainingCost.Add(lines); got.Cmp(r.UpfrontCost) != 0 {
		t.Errorf("upfront %s != training %s + one-time lines %s", r.UpfrontCost, r.TrainingCost, lines)
	}
	checkAgainstOracle(t, in, r)
	checkSeries(t, r) // net savings == sum of savings - upfront; cumulative lines; crossing
	money := []engine.Money{r.TrainingCost, r.OneTimeCost, r.UpfrontCost, r.APIMonthlyCost, r.ServingMonthlyCost,
		r.MonthlySavings, r.NetSavings, r.NetPresentValue}
	for _, l := range r.OneTimeLines {
		money = append(money, l.Amount)
	}
	for _, mo := range r.Months {
		money = append(money, mo.APICost, mo.ServingCost, mo.Savings, mo.CumulativeAPI, mo.CumulativeFineTune)
		if mo.APICost.Sign() < 0 || mo.ServingCost.Sign() < 0 {
			t.Errorf("month %d: negative cost %s / %s", mo.Month, mo.APICost, mo.ServingCost)
		}
	}
	if r.MaxUpfrontCost != nil {
		money = append(money, *r.MaxUpfrontCost)
	}
	for i, m := range money {
		if d := m.Decimal(); !d.Equal(d.Round(2)) {
			t.Errorf("money value %d = %s has more than 2 decimals", i, d)
		}
	}
	if (r.ROIPercent == nil) != r.UpfrontCost.IsZero() {
		t.Errorf("roi %v with upfront %s", r.ROIPercent, r.UpfrontCost)
	}
	if r.UpfrontCost.Sign() < 0 {
		t.Errorf("upfront %s is negative", r.UpfrontCost)
	}
	if in.AnnualDiscountRatePercent.IsZero() && r.NetPresentValue.Cmp(r.NetSavings) != 0 {
		t.Errorf("at 0%% NPV %s != net savings %s", r.NetPresentValue, r.NetSavings)
	}
	if wantRec := engine.RecommendAPI; r.NetPresentValue.Sign() > 0 && r.Recommendation != engine.RecommendFineTune ||
		r.NetPresentValue.Sign() <= 0 && r.Recommendation != wantRec {
		t.Errorf("recommendation %s with NPV %s", r.Recommendation, r.NetPresentValue)
	}
	switch {
	case r.MaxUpfrontCost == nil && r.Budget != engine.NoBudgetSet,
		r.MaxUpfrontCost != nil && (r.UpfrontCost.Cmp(*r.MaxUpfrontCost) > 0) != (r.Budget == engine.BudgetExceeded):
		t.Errorf("budget %s with max %v and upfront %s", r.Budget, r.MaxUpfrontCost, r.UpfrontCost)
	}
	if r.BreakEvenMonths != nil && r.BreakEvenMonths.Sign() < 0 {
		t.Errorf("break-even %s is negative", r.BreakEvenMonths)
	}
}
