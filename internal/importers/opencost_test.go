package importers

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOpenCost(t *testing.T) {
	tests := map[string]struct {
		json              string
		gpuType           string
		onDemand, spot    skyPrices
		issues            []string
		imported, skipped int
		err               string
	}{
		"custom pricing config, strings": {
			json:     lines(`{`, `  "provider": "custom",`, `  "CPU": "0.031611",`, `  "GPU": "0.95",`, `  "spotGPU": "0.308",`, `  "storage": "0.00005479452"`, `}`),
			onDemand: skyPrices{"H100": "0.95"}, spot: skyPrices{"H100": "0.308"},
			imported: 2,
		},
		"numbers, datasheet GPU": {
			json:     `{"GPU": 1.10, "spotGPU": 4.425e-1}`,
			gpuType:  "A100-80GB",
			onDemand: skyPrices{"A100-80GB": "1.1"}, spot: skyPrices{"A100-80GB": "0.4425"},
			imported: 2,
		},
		"no spot price": {
			json:     `{"GPU": "2.73"}`,
			onDemand: skyPrices{"H100": "2.73"},
			imported: 1,
		},
		"each malformed kind, with its line": {
			json:     lines(`{`, `  "GPU": "",`, `  "spotGPU": "-0.3"`, `}`),
			err:      ErrNothingImported.Error(),
			issues:   []string{`line 2: "GPU": empty; skipped`, `line 3: "spotGPU": -0.3 is negative; skipped`},
			skipped:  2,
			imported: 0,
		},
		"zero and text": {
			json:     lines(`{`, `  "GPU": "0",`, `  "spotGPU": "cheap",`, `  "spotGPU": "0.3"`, `}`),
			err:      ErrNothingImported.Error(),
			issues:   []string{`line 4: "spotGPU": duplicate key (the first one is used); skipped`, `line 2: "GPU": 0 is zero; skipped`, `line 3: "spotGPU": "cheap" is not a number; skipped`},
			skipped:  3,
			imported: 0,
		},
		"rounding": {
			json:     `{"GPU": "1.0000005"}`,
			onDemand: skyPrices{"H100": "1.000001"},
			issues:   []string{`W line 1: "GPU": 1.0000005 rounded to 1.000001 at 6 decimals`},
			imported: 1,
		},
		"unknown GPU type": {json: `{"GPU": "1"}`, gpuType: "T4", err: "--gpu-type T4: its memory and peak BF16 TFLOP/s are unknown to ftcost; give them with --gpu-memory T4=GIB --gpu-tflops T4=TFLOPS"},
		"no GPU type":      {json: `{"GPU": "1"}`, gpuType: "-", err: "--gpu-type is required"},
		"not an object":    {json: `"GPU"`, err: "not a JSON object"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := testOptions
			o.Provider, o.GPUType = "onprem", tc.gpuType
			switch tc.gpuType {
			case "":
				o.GPUType = "H100"
			case "-":
				o.GPUType = ""
			}
			r, err := OpenCost([]byte(tc.json), o)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want one containing %q", err, tc.err)
				}
				if r != nil {
					if d := cmp.Diff(tc.issues, issues(r)); d != "" {
						t.Errorf("issues (-want +got):\n%s", d)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.onDemand, providerPrices(r, "onprem-on-demand")); d != "" {
				t.Errorf("on-demand (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.spot, providerPrices(r, "onprem-spot")); d != "" {
				t.Errorf("spot (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.issues, issues(r)); d != "" {
				t.Errorf("issues (-want +got):\n%s", d)
			}
			if r.Imported != tc.imported || r.Skipped != tc.skipped {
				t.Errorf("imported %d, skipped %d; want %d, %d", r.Imported, r.Skipped, tc.imported, tc.skipped)
			}
			checkValid(t, r.Spec())
		})
	}
}

func TestOpenCostFile(t *testing.T) {
	data, err := os.ReadFile("testdata/opencost-default.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenCost(data, Options{Source: "default.json", EffectiveDate: "2026-11-01", Provider: "on-prem", GPUType: "A100-80GB"})
	if err != nil {
		t.Fatal(err)
	}
	if got := providerPrices(r, "on-prem-on-demand")["A100-80GB"]; got != "1.1" {
		t.Errorf("on-demand A100-80GB %q, want 1.1", got)
	}
	checkValid(t, r.Spec())
}
