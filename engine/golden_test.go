package engine_test

import (
	"fmt"
	"testing"

	"github.com/ftcost/ftcost/engine"
)

// Golden tests: one named case per figure of the Fine-Tuning Economics article that its
// own arithmetic supports. Where the article slips, the case uses the explicit input that reproduces the
// article's figure and docs/article-notes.md explains the slip.

// TestGoldenGPUHoursTable checks the 16 cells of the article's GPU-hours table (Full, H100) and the
// scale factor column against the built-in catalog.
func TestGoldenGPUHoursTable(t *testing.T) {
	table := []struct {
		model string
		scale string
		hours [3]string // 10K, 50K, 100K examples
	}{
		{"llama-7b", "1", [3]string{"1", "5", "10"}},
		{"llama-13b", "2", [3]string{"2", "10", "20"}},
		{"llama-70b", "8", [3]string{"8", "40", "80"}},
		{"llama-405b", "50", [3]string{"50", "250", "500"}},
	}
	cat := engine.BuiltinCatalog()
	for _, row := range table {
		t.Run(row.model+"/scale", func(t *testing.T) {
			if got := cat.Models[row.model].ScaleFactor; !got.Equal(dec(row.scale)) {
				t.Errorf("scale factor = %s, want %s", got, row.scale)
			}
		})
		for i, examples := range []int64{10_000, 50_000, 100_000} {
			t.Run(fmt.Sprintf("%s/%dK", row.model, examples/1000), func(t *testing.T) {
				in := example1()
				in.Model, in.Method, in.Examples = row.model, engine.Full, examples
				r := mustEstimate(t, in)
				want{estimator: engine.Empirical, gpuHours: row.hours[i]}.check(t, r)
				if r.GPUType != "H100" {
					t.Errorf("gpuType = %s, want H100", r.GPUType)
				}
			})
		}
	}
}

// TestGoldenProviders is the article's "Llama 13B with 50K examples (10 GPU hours on H100)" table.
func TestGoldenProviders(t *testing.T) {
	tests := map[string]struct {
		provider string
		price    string
		cost     string
	}{
		"AWS on-demand":          {"aws-on-demand", "2.88", "28.80"},
		"AWS spot":               {"aws-spot", "0.86", "8.60"},
		"RunPod on-demand":       {"runpod", "2.49", "24.90"},
		"Lambda Labs":            {"lambda-labs", "3.98", "39.80"},
		"On-Premise (amortized)": {"on-premise", "2.73", "27.30"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := example1()
			in.Method, in.Examples, in.Provider = engine.Full, 50_000, tc.provider
			r := mustEstimate(t, in)
			want{gpuHours: "10", training: tc.cost}.check(t, r)
			if got := figure(r.PricePerGPUHour); got != tc.price {
				t.Errorf("pricePerGPUHour = %s, want %s", got, tc.price)
			}
		})
	}
}

// TestGoldenLoRAVsFull is the article's "Llama 13B fine-tuning: LoRA vs Full" table (10K examples,
// RunPod). The article prints $5.00 for Full; 2 h x $2.49 is $4.98.
func TestGoldenLoRAVsFull(t *testing.T) {
	tests := map[string]struct {
		method engine.Method
		want   want
	}{
		"LoRA 0.5 h $1.25":                       {engine.LoRA, want{gpuHours: "0.5", training: "1.25"}},
		"Full 2 h $4.98 (the article says 5.00)": {engine.Full, want{gpuHours: "2", training: "4.98"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := example1()
			in.Method = tc.method
			tc.want.check(t, mustEstimate(t, in))
		})
	}
}

// TestGoldenWorkedExamples covers the article's three practical examples, the full cost breakdown, the
// OpenAI managed path and the rounding rule.
func TestGoldenWorkedExamples(t *testing.T) {
	ex2 := func(requests int64) engine.Input {
		return engine.Input{
			Model: "llama-7b", Method: engine.LoRA, Examples: 10_000, Provider: "runpod",
			Hours:                 decp("1"),
			OneTime:               engine.OneTimeCosts{DataLabeling: dec("3000")},
			ServingCostPerRequest: decp("0.001"),
			APIModel:              "claude-sonnet", APICostPerRequest: decp("0.0016"),
			RequestsPerMonth:      requests,
			InputTokensPerRequest: i64p(500), OutputTokensPerRequest: i64p(20),
			HorizonMonths: 36,
		}
	}
	ex3 := func(requests int64, cpr string) engine.Input {
		return engine.Input{
			Model: "llama-7b", Method: engine.LoRA, Examples: 5_000, Provider: "runpod",
			Hours:             decp("0.25"),
			OneTime:           engine.OneTimeCosts{DataLabeling: dec("500"), Hardware: dec("500")},
			APICostPerRequest: decp(cpr),
			RequestsPerMonth:  requests,
			HorizonMonths:     36,
		}
	}
	tests := map[string]struct {
		in   func() engine.Input
		want want
	}{
		"example 1 support bot, the article's quoted $0.005/request": {
			in: example1,
			want: want{estimator: engine.Empirical, gpuHours: "0.5", training: "1.25", oneTime: "1000.00",
				upfront: "1001.25", apiMonthly: "50.00", serving: "0.00", savings: "50.00", breakEven: "20.0",
				netSavings: "798.75", roi: "79.8", npv: "798.75", rec: engine.RecommendFineTune},
		},
		"example 1 support bot, priced by tokens at 3/15 per million (0.0075/request)": {
			in: func() engine.Input {
				in := example1()
				in.APICostPerRequest = nil
				return in
			},
			// 1001.25 / 75 = 13.35; 36 x 75 - 1001.25 = 1698.75; 1698.75 / 1001.25 = 169.66%.
			want: want{upfront: "1001.25", apiMonthly: "75.00", savings: "75.00", breakEven: "13.4",
				netSavings: "1698.75", roi: "169.7", npv: "1698.75", rec: engine.RecommendFineTune},
		},
		"example 2 classification, 1 batch/month: break-even 50 months, beyond the horizon": {
			in: func() engine.Input { return ex2(100_000) },
			// 36 x 60 - 3002.49 = -842.49; -842.49 / 3002.49 = -28.06%.
			want: want{estimator: engine.Measured, gpuHours: "1", training: "2.49", upfront: "3002.49",
				apiMonthly: "160.00", serving: "100.00", savings: "60.00", breakEven: "50.0",
				netSavings: "-842.49", roi: "-28.1", npv: "-842.49", rec: engine.RecommendAPI},
		},
		"example 2 classification, 4 batches/month: break-even 12.5 months": {
			in: func() engine.Input { return ex2(400_000) },
			// 3002.49 / 240 = 12.51; 36 x 240 - 3002.49 = 5637.51; 5637.51 / 3002.49 = 187.76%.
			want: want{upfront: "3002.49", apiMonthly: "640.00", serving: "400.00", savings: "240.00",
				breakEven: "12.5", netSavings: "5637.51", roi: "187.8", npv: "5637.51", rec: engine.RecommendFineTune},
		},
		"example 3 code generation, 100,000 requests at $0.001": {
			in: func() engine.Input { return ex3(100_000, "0.001") },
			// 0.25 x 2.49 = 0.6225 -> 0.62; 1000.62 / 100 = 10.006; 3600 - 1000.62 = 2599.38.
			want: want{estimator: engine.Measured, gpuHours: "0.25", training: "0.62", oneTime: "1000.00",
				upfront: "1000.62", apiMonthly: "100.00", serving: "0.00", savings: "100.00", breakEven: "10.0",
				netSavings: "2599.38", roi: "259.8", npv: "2599.38", rec: engine.RecommendFineTune},
		},
		"example 3 code generation, 100 requests at $1": {
			in:   func() engine.Input { return ex3(100, "1") },
			want: want{upfront: "1000.62", apiMonthly: "100.00", breakEven: "10.0", netSavings: "2599.38"},
		},
		"example 3 code generation, 100 requests at $0.001 as the article states: $0.10/month": {
			in: func() engine.Input { return ex3(100, "0.001") },
			// 36 x 0.10 - 1000.62 = -997.02; 1000.62 / 0.10 = 10006.2 months > 1200: never.
			want: want{apiMonthly: "0.10", savings: "0.10", breakEven: "-", netSavings: "-997.02", rec: engine.RecommendAPI},
		},
		"example 3 by the formula: 7B LoRA 5K is 0.125 h, not the article's 0.25 h": {
			in: func() engine.Input {
				in := ex3(100_000, "0.001")
				in.Hours = nil
				return in
			},
			// 0.125 x 2.49 = 0.31125 -> 0.31.
			want: want{estimator: engine.Empirical, gpuHours: "0.125", training: "0.31", upfront: "1000.31"},
		},
		"full example: 13B 50K Full on RunPod plus preparation, experimentation and deployment": {
			in: func() engine.Input {
				in := example1()
				in.Method, in.Examples = engine.Full, 50_000
				in.OneTime = engine.OneTimeCosts{DataCleaning: dec("1250"), Experimentation: dec("500"), Deployment: dec("200")}
				return in
			},
			// Against example 1's $50/month API: 1974.90 / 50 = 39.498 months; 1800 - 1974.90 = -174.90.
			want: want{gpuHours: "10", training: "24.90", oneTime: "1950.00", upfront: "1974.90",
				breakEven: "39.5", netSavings: "-174.90", rec: engine.RecommendAPI},
		},
		"full example with the preparation booked as labeling": {
			in: func() engine.Input {
				in := example1()
				in.Method, in.Examples = engine.Full, 50_000
				in.OneTime = engine.OneTimeCosts{DataLabeling: dec("1250"), Experimentation: dec("500"), Deployment: dec("200")}
				return in
			},
			want: want{training: "24.90", upfront: "1974.90"},
		},
		"OpenAI managed GPT-4: 10K x 500 tokens = 5M tokens at $25/M": {
			in: func() engine.Input {
				in := example1()
				in.Model, in.Provider, in.TokensPerExample, in.Epochs = "gpt-4", "openai-gpt-4", 500, 1
				in.APICostPerRequest = nil
				return in
			},
			// Serving at 30/60 per million: 1000 x 30 + 300 x 60 = 48,000 per million = 0.048/request;
			// API 0.0075/request. 10,000 requests: 480.00 vs 75.00.
			want: want{estimator: engine.ManagedEstimator, gpuHours: "-", trainingToks: "5000000", training: "125.00",
				upfront: "1125.00", apiMonthly: "75.00", serving: "480.00", savings: "-405.00", breakEven: "-",
				rec: engine.RecommendAPI},
		},
		"rounding: 3.5 h x 2.49 = 8.715 rounds half away from zero to 8.72": {
			in: func() engine.Input {
				in := example1()
				in.Hours = decp("3.5")
				return in
			},
			want: want{estimator: engine.Measured, gpuHours: "3.5", training: "8.72", upfront: "1008.72"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.want.check(t, mustEstimate(t, tc.in()))
		})
	}
}

// TestGoldenManagedServingDefault checks that a managed provider's serving model is its fine-tuned
// API model when the spec names none.
func TestGoldenManagedServingDefault(t *testing.T) {
	in := example1()
	in.Model, in.Provider, in.TokensPerExample = "gpt-4", "openai-gpt-4", 500
	r := mustEstimate(t, in)
	if !r.ServingCostPerRequest.Equal(dec("0.048")) {
		t.Errorf("servingCostPerRequest = %s, want 0.048 (openai-gpt-4-finetuned at 30/60 per million)", r.ServingCostPerRequest)
	}
	if r.PricePerGPUHour != nil || r.GPUHours != nil || r.GPUCount != 0 {
		t.Errorf("managed estimate has GPU figures: price %v hours %v count %d", r.PricePerGPUHour, r.GPUHours, r.GPUCount)
	}
}
