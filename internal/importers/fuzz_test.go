package importers

import (
	"testing"
)

// The parsers must never panic, and whatever they import must validate.

func FuzzLiteLLM(f *testing.F) {
	f.Add([]byte(`{"m": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05, "mode": "chat"}}`))
	f.Add([]byte(`{"m": {"input_cost_per_token": "1e-13", "output_cost_per_token": null, "mode": "completion"}, "m": 1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := LiteLLM(data, testOptions)
		if err == nil {
			checkValid(t, r.Spec())
		}
	})
}

func FuzzSkyPilot(f *testing.F) {
	f.Add([]byte(lines(skyHeader, "p5.48xlarge,H100,8.0,192.0,2048.0,"+h100Info+",98.32,39.33,us-east-1,us-east-1a")))
	f.Add([]byte(lines(skyHeader, "p4d.24xlarge,A100,8.0,96.0,1152.0,"+a100Info+",32.7726,,us-east-1,us-east-1b", `x,"L4,1`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := SkyPilot(data, Options{Source: "f", EffectiveDate: "2026-11-01", Provider: "aws"})
		if err == nil {
			checkValid(t, r.Spec())
		}
	})
}

func FuzzOpenCost(f *testing.F) {
	f.Add([]byte(`{"GPU": "0.95", "spotGPU": 0.308}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := OpenCost(data, Options{Source: "f", EffectiveDate: "2026-11-01", Provider: "p", GPUType: "H100"})
		if err == nil {
			checkValid(t, r.Spec())
		}
	})
}
