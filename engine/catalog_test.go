package engine_test

import (
	"slices"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ftcost/ftcost/engine"
)

func TestDefaultGPUOf(t *testing.T) {
	tests := map[string]struct {
		p    engine.Provider
		want string
	}{
		"named default": {engine.Provider{DefaultGPU: "H100", GPUPrices: map[string]decimal.Decimal{"A100": dec("1")}}, "H100"},
		"first by name": {engine.Provider{GPUPrices: map[string]decimal.Decimal{"H100": dec("2"), "A100": dec("1")}}, "A100"},
		"no prices":     {engine.Provider{}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.p.DefaultGPUOf(); got != tc.want {
				t.Errorf("DefaultGPUOf = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBuiltinCatalog(t *testing.T) {
	c := engine.BuiltinCatalog()
	if got := engine.SortedKeys(c.Providers); !slices.Equal(got, []string{"aws-on-demand", "aws-spot", "lambda-labs", "on-premise", "openai-gpt-4", "runpod"}) {
		t.Errorf("providers = %v", got)
	}
	if got := engine.SortedKeys(c.Models); !slices.Equal(got, []string{"llama-13b", "llama-3.1-405b", "llama-3.1-70b", "llama-3.1-8b", "llama-3.2-1b", "llama-3.2-3b", "llama-405b", "llama-70b", "llama-7b"}) {
		t.Errorf("models = %v", got)
	}
	for name, m := range c.Models {
		if m.Architecture == nil || m.Architecture.Source == "" {
			t.Errorf("model %s has no architecture with its source", name)
		}
	}
	if p := c.Providers["openai-gpt-4"]; p.Kind != engine.Managed || !p.PricePerMillionTrainingTokens.Equal(dec("25")) {
		t.Errorf("openai-gpt-4 = %+v", p)
	}
	if !c.Providers["aws-spot"].Spot || c.Providers["runpod"].Spot {
		t.Error("only aws-spot is spot")
	}
	a := c.APIModels["claude-sonnet"]
	if !a.InputPerMillionToken.Equal(dec("3")) || !a.OutputPerMillionToken.Equal(dec("15")) {
		t.Errorf("claude-sonnet = %s / %s", a.InputPerMillionToken, a.OutputPerMillionToken)
	}
	for name, m := range c.Models {
		if m.Source == "" || m.EffectiveDate == "" {
			t.Errorf("model %s has no provenance", name)
		}
	}
	// A fresh copy each time: changing one does not change the next.
	c.Providers["runpod"].GPUPrices["H100"] = dec("99")
	if got := engine.BuiltinCatalog().Providers["runpod"].GPUPrices["H100"]; !got.Equal(dec("2.49")) {
		t.Errorf("built-in runpod price changed to %s", got)
	}
}

func TestErrorText(t *testing.T) {
	if got := (&engine.Error{Reason: engine.ReasonInvalidSpec, Message: "bad"}).Error(); got != "bad" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&engine.Error{Reason: engine.ReasonInvalidSpec, Field: engine.FieldModel, Message: "bad"}).Error(); got != "Model: bad" {
		t.Errorf("Error() = %q", got)
	}
}
