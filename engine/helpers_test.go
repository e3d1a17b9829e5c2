package engine_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ftcost/ftcost/engine"
)

// dec parses a decimal literal; tests use it for every exact figure.
func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func decp(s string) *decimal.Decimal { v := dec(s); return &v }
func boolp(b bool) *bool             { return &b }

func i64p(v int64) *int64 { return &v }

// example1 is the article's worked example 1 (customer support bot) with the article's quoted $0.005.
func example1() engine.Input {
	return engine.Input{
		Model:                  "llama-13b",
		Method:                 engine.LoRA,
		Examples:               10_000,
		Provider:               "runpod",
		OneTime:                engine.OneTimeCosts{DataLabeling: dec("1000")},
		APIModel:               "claude-sonnet",
		APICostPerRequest:      decp("0.005"),
		RequestsPerMonth:       10_000,
		InputTokensPerRequest:  i64p(1000),
		OutputTokensPerRequest: i64p(300),
		HorizonMonths:          36,
	}
}

// mustEstimate runs the engine on the built-in catalog and fails the test on error.
func mustEstimate(t testing.TB, in engine.Input) *engine.Result {
	t.Helper()
	r, err := engine.Estimate(&in, engine.BuiltinCatalog())
	if err != nil {
		t.Fatalf("Estimate: %v", err)
	}
	return r
}

// figure prints an optional figure as the status would, "-" when absent.
func figure(d *decimal.Decimal) string {
	if d == nil {
		return "-"
	}
	return engine.FormatFigure(*d)
}

func oneDecimal(d *decimal.Decimal) string {
	if d == nil {
		return "-"
	}
	return engine.FormatOneDecimal(*d)
}

func asEngineError(t testing.TB, err error) *engine.Error {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not *engine.Error", err, err)
	}
	return e
}

// want holds expected status figures as strings; an empty string is not checked.
type want struct {
	estimator    engine.Estimator
	gpuHours     string // FormatFigure; "-" when absent
	training     string
	oneTime      string
	upfront      string
	apiMonthly   string
	serving      string
	savings      string
	breakEven    string // FormatOneDecimal; "-" when absent
	netSavings   string
	roi          string // FormatOneDecimal; "-" when absent
	npv          string
	rec          engine.Recommendation
	trainingToks string
}

func (w want) check(t *testing.T, r *engine.Result) {
	t.Helper()
	eq := func(name, got, want string) {
		t.Helper()
		if want != "" && got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	if w.estimator != "" && r.Estimator != w.estimator {
		t.Errorf("estimator = %s, want %s", r.Estimator, w.estimator)
	}
	eq("gpuHours", figure(r.GPUHours), w.gpuHours)
	eq("trainingTokens", figure(r.TrainingTokens), w.trainingToks)
	eq("trainingCost", r.TrainingCost.String(), w.training)
	eq("oneTimeCost", r.OneTimeCost.String(), w.oneTime)
	eq("upfrontCost", r.UpfrontCost.String(), w.upfront)
	eq("apiMonthlyCost", r.APIMonthlyCost.String(), w.apiMonthly)
	eq("servingMonthlyCost", r.ServingMonthlyCost.String(), w.serving)
	eq("monthlySavings", r.MonthlySavings.String(), w.savings)
	eq("breakEvenMonths", oneDecimal(r.BreakEvenMonths), w.breakEven)
	eq("netSavings", r.NetSavings.String(), w.netSavings)
	eq("roiPercent", oneDecimal(r.ROIPercent), w.roi)
	eq("netPresentValue", r.NetPresentValue.String(), w.npv)
	if w.rec != "" && r.Recommendation != w.rec {
		t.Errorf("recommendation = %s, want %s", r.Recommendation, w.rec)
	}
}
