package engine_test

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ftcost/ftcost/engine"
)

// TestFLOPsCalibration: at 2500 tokens per example and one epoch, the FLOPs estimator (Full, H100)
// lands within the article's +/-30% of its Empirical table for every model and dataset size. The logged
// table is the one in docs/cost-model.md.
func TestFLOPsCalibration(t *testing.T) {
	limit := dec("30")
	for _, model := range []string{"llama-7b", "llama-13b", "llama-70b", "llama-405b"} {
		for _, examples := range []int64{10_000, 50_000, 100_000} {
			t.Run(fmt.Sprintf("%s/%dK", model, examples/1000), func(t *testing.T) {
				in := example1()
				in.Model, in.Method, in.Examples = model, engine.Full, examples
				emp := mustEstimate(t, in)
				in.Estimator, in.TokensPerExample, in.Epochs = engine.FLOPs, 2500, 1
				fl := mustEstimate(t, in)
				if fl.Estimator != engine.FLOPs || emp.Estimator != engine.Empirical {
					t.Fatalf("estimators %s, %s", emp.Estimator, fl.Estimator)
				}
				diff := fl.GPUHours.Sub(*emp.GPUHours).Mul(decimal.NewFromInt(100)).DivRound(*emp.GPUHours, 1)
				t.Logf("| %s | %s | %s | %s | %s%% |", model, decimal.NewFromInt(examples), emp.GPUHours, fl.GPUHours, diff)
				if diff.Abs().GreaterThan(limit) {
					t.Errorf("FLOPs %s h is %s%% from Empirical %s h, beyond +/-30%%", fl.GPUHours, diff, emp.GPUHours)
				}
			})
		}
	}
}
