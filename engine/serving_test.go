package engine_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ftcost/ftcost/engine"
)

// supportBotSelfHosted is worked example 1 with the fine-tuned 13B model kept on rented H100s.
func supportBotSelfHosted(sh engine.SelfHosted) engine.Input {
	in := example1()
	in.APICostPerRequest = nil // priced by tokens: 1000 in, 300 out at claude-sonnet's 3/15 = 0.0075
	in.SelfHosted = &sh
	return in
}

func TestSelfHostedServing(t *testing.T) {
	// Llama 2 13B (bf16): 26e9 bytes of weights; its KV cache, 2 x 40 layers x 40 heads x 128 x 2
	// bytes = 819,200 bytes a token, x 1,300 tokens x 8 concurrent requests = 8.52e9 bytes. An H100
	// plans with 80 x 0.9 - 1 = 71 GiB: one GPU holds it.
	// Decode: 3350e9 B/s x 0.77 / 26e9 B x 6.6 = 654.7725 tokens/s; prefill: 989e12 x 0.30 / (2 x 13e9)
	// = 11,411.54 tokens/s; a request takes 1000 / 11,411.54 + 300 / 654.7725 = 0.545804 s, so a
	// replica serves 6,595.77 requests an hour, 4,814,915 a month of 730 hours.
	perHour := decimal.NewFromInt(3600).Div(decimal.NewFromInt(1000).Div(dec("989e12").Mul(dec("0.30")).Div(dec("26e9"))).
		Add(decimal.NewFromInt(300).Div(dec("3350e9").Mul(dec("0.77")).Div(dec("26e9")).Mul(dec("6.6")))))
	tests := map[string]struct {
		sh             engine.SelfHosted
		requests       int64
		growth         string
		wantServing    string // month 1
		wantGPUs       int32
		wantReplicas   int32
		wantGPUHours   string
		wantOverloaded int // month, 0: none
		wantRecommend  engine.Recommendation
	}{
		"always on: 730 h x $2.49 a month, against $75 of API": {
			sh: engine.SelfHosted{Provider: "runpod"}, requests: 10_000,
			wantServing: "1817.70", wantGPUs: 1, wantReplicas: 1, wantGPUHours: "730", wantRecommend: engine.RecommendAPI},
		"scale to zero bills the busy hours": {
			sh: engine.SelfHosted{Provider: "runpod", ScaleToZero: true}, requests: 10_000,
			wantServing: engine.Cents(decimal.NewFromInt(10_000).Div(perHour).Mul(dec("2.49"))).String(),
			wantGPUs:    1, wantReplicas: 0, wantGPUHours: decimal.NewFromInt(10_000).Div(perHour).Round(2).String(),
			wantRecommend: engine.RecommendFineTune},
		"two replicas for availability, part-time": {
			sh: engine.SelfHosted{Provider: "runpod", MinReplicas: 2, HoursPerMonth: decp("200")}, requests: 10_000,
			wantServing: "996.00", wantGPUs: 1, wantReplicas: 2, wantGPUHours: "400", wantRecommend: engine.RecommendAPI},
		"a volume beyond one replica prices the replicas needed": {
			// 10M requests need ceil(10,000,000 / 4,814,915) = 3 replicas: 3 x 730 x 2.49.
			sh: engine.SelfHosted{Provider: "runpod", Replicas: 1}, requests: 10_000_000,
			wantServing: "5453.10", wantGPUs: 1, wantReplicas: 3, wantGPUHours: "2190", wantOverloaded: 1,
			wantRecommend: engine.RecommendFineTune},
		"growth outgrows a fixed replica in a later month": {
			// 4,000,000 x 1.1^(m-1) first exceeds 4,814,915 in month 3 (4,840,000).
			sh: engine.SelfHosted{Provider: "runpod", Replicas: 1}, requests: 4_000_000, growth: "10",
			wantServing: "1817.70", wantGPUs: 1, wantReplicas: 1, wantGPUHours: "730", wantOverloaded: 3,
			wantRecommend: engine.RecommendFineTune},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := supportBotSelfHosted(tc.sh)
			in.RequestsPerMonth = tc.requests
			if tc.growth != "" {
				in.MonthlyGrowthPercent = dec(tc.growth)
			}
			r := mustEstimate(t, in)
			s := r.Serving
			if s == nil {
				t.Fatal("no serving figures")
			}
			if got := r.ServingMonthlyCost.String(); got != tc.wantServing {
				t.Errorf("serving month 1 = %s, want %s", got, tc.wantServing)
			}
			if s.GPUsPerReplica != tc.wantGPUs || s.Replicas != tc.wantReplicas {
				t.Errorf("%d GPUs x %d replicas, want %d x %d", s.GPUsPerReplica, s.Replicas, tc.wantGPUs, tc.wantReplicas)
			}
			if got := s.GPUHoursPerMonth.String(); got != tc.wantGPUHours {
				t.Errorf("GPU-hours a month = %s, want %s", got, tc.wantGPUHours)
			}
			if want := perHour.Mul(dec("730")).Floor(); !s.CapacityPerReplica.Equal(want) {
				t.Errorf("capacity %s, want %s", s.CapacityPerReplica, want)
			}
			if s.Overloaded != (tc.wantOverloaded > 0) || s.OverloadedMonth != tc.wantOverloaded {
				t.Errorf("overloaded %v in month %d, want month %d", s.Overloaded, s.OverloadedMonth, tc.wantOverloaded)
			}
			if r.Recommendation != tc.wantRecommend {
				t.Errorf("recommendation %s, want %s", r.Recommendation, tc.wantRecommend)
			}
			if r.ServingUnpriced {
				t.Error("self-hosted serving reported as unpriced")
			}
			checkSeries(t, r)
		})
	}
}

func TestSelfHostedModelNeedsTwoGPUs(t *testing.T) {
	// Llama 2 70B in bf16: 140e9 bytes of weights plus 2 x 80 x 8 x 128 x 2 x 1300 x 8 = 3.4e9 of
	// cache, 71.7e9 bytes a GPU on two H100s (76.2e9 usable each): 2 GPUs a replica, 2 x 730 x 2.49.
	in := supportBotSelfHosted(engine.SelfHosted{Provider: "runpod"})
	in.Model = "llama-70b"
	r := mustEstimate(t, in)
	if r.Serving.GPUsPerReplica != 2 || r.ServingMonthlyCost.String() != "3635.40" {
		t.Errorf("%d GPUs a replica, %s a month; want 2 and 3635.40", r.Serving.GPUsPerReplica, r.ServingMonthlyCost)
	}
	// In int4 it fits one.
	in.SelfHosted.Precision = engine.ServeInt4
	if r := mustEstimate(t, in); r.Serving.GPUsPerReplica != 1 {
		t.Errorf("int4: %d GPUs a replica, want 1", r.Serving.GPUsPerReplica)
	}
}

func TestServingUnpriced(t *testing.T) {
	in := example1()
	in.ServingCostPerRequest = nil
	if r := mustEstimate(t, in); !r.ServingUnpriced {
		t.Error("no serving cost given, not reported unpriced")
	}
	in.ServingMonthlyCost = dec("10")
	if r := mustEstimate(t, in); r.ServingUnpriced {
		t.Error("a monthly serving cost reported as unpriced")
	}
	in.ServingMonthlyCost, in.ServingStated = decimal.Zero, true
	if r := mustEstimate(t, in); r.ServingUnpriced {
		t.Error("serving stated at nothing reported as unpriced")
	}
}

func TestSelfHostedErrors(t *testing.T) {
	tests := map[string]struct {
		edit  func(*engine.Input)
		field engine.Field
	}{
		"unknown provider":        {func(in *engine.Input) { in.SelfHosted.Provider = "nope" }, engine.FieldServingProvider},
		"managed provider":        {func(in *engine.Input) { in.SelfHosted.Provider = "openai-gpt-4" }, engine.FieldServingProvider},
		"unpriced GPU":            {func(in *engine.Input) { in.SelfHosted.GPUType = "B200" }, engine.FieldServingGPUType},
		"no output tokens":        {func(in *engine.Input) { in.APICostPerRequest, in.OutputTokensPerRequest = decp("0.0075"), nil }, engine.FieldInputTokensPerRequest},
		"more hours than a month": {func(in *engine.Input) { in.SelfHosted.HoursPerMonth = decp("745") }, engine.FieldServingHoursPerMonth},
		"bad precision":           {func(in *engine.Input) { in.SelfHosted.Precision = "fp3" }, engine.FieldServingPrecision},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := supportBotSelfHosted(engine.SelfHosted{Provider: "runpod"})
			tc.edit(&in)
			_, err := engine.Estimate(&in, engine.BuiltinCatalog())
			if e := asEngineError(t, err); e.Field != tc.field {
				t.Errorf("error on %s, want %s: %v", e.Field, tc.field, err)
			}
		})
	}
}
