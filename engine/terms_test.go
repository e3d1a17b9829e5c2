package engine_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/ftcost/ftcost/engine"
)

// The terms are the engine's own intermediate values: what explain and chart print as formulas.
func TestTerms(t *testing.T) {
	in := example1()
	r, err := engine.Estimate(&in, engine.BuiltinCatalog())
	if err != nil {
		t.Fatal(err)
	}
	tm := r.Terms
	money := func(m *engine.Money) string {
		if m == nil {
			return "nil"
		}
		return m.String()
	}
	got := []string{tm.Band.String(), string(tm.BandFrom), tm.TrainingCostExact.String(), money(tm.TrainingCostLow), money(tm.TrainingCostHigh),
		money(tm.UpfrontLow), money(tm.UpfrontHigh), tm.SavingsOverHorizon.String(), tm.SavingsBeforeBreakEven.String()}
	// The article's example 1: 0.5 GPU-hours at 2.49 (1.245), +/-30% (0.35 to 0.65 hours: 0.87 to 1.62),
	// 50.00 saved a month for 36 months; break-even falls in month 21 (20.0: 20 + 1.25 / 50), after 1000.00 saved.
	want := []string{"0.3", string(engine.BandArticle), "1.245", "0.87", "1.62", "1000.87", "1001.62", "1800.00", "1000.00"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("terms (-want +got):\n%s", d)
	}
	if tm.BreakEvenMonth != 21 || tm.FLOPs != nil || !tm.Tokens.IsZero() {
		t.Errorf("break-even month %d, FLOPs %v, tokens %s; want 21, nil, 0", tm.BreakEvenMonth, tm.FLOPs, tm.Tokens)
	}

	// FLOPs for llama-13b LoRA on 500-token examples (the sequence): 4 x 13e9 (frozen base) +
	// 6 x 62,586,880 (adapters) + 12 x 40 x 5120 x 500 (attention) = 53,604,321,280 a token.
	in.Estimator, in.TokensPerExample = engine.FLOPs, 500
	if r, err = engine.Estimate(&in, engine.BuiltinCatalog()); err != nil {
		t.Fatal(err)
	}
	f := r.Terms.FLOPs
	if f == nil {
		t.Fatal("no FLOPs terms for the FLOPs estimator")
	}
	gotF := []string{f.Total.String(), decimal.NewFromInt(f.BaseFactor).String(), f.AdapterParameters.String(), f.Attention.String(), r.Terms.Tokens.String()}
	wantF := []string{"53604321280", "4", "62586880", "1228800000", "5000000"}
	if d := cmp.Diff(wantF, gotF); d != "" {
		t.Errorf("FLOPs terms (-want +got):\n%s", d)
	}
}
