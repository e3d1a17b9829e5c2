package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/estimate"
)

// calibratedEstimate is worked example 1 estimated with the Calibrated estimator, 500 tokens an example.
const calibratedEstimate = `apiVersion: ftcost.io/v1alpha1
kind: FineTuneEstimate
metadata: {name: calibrated, namespace: ml}
spec:
  model: llama-13b
  method: LoRA
  dataset: {examples: 10000, tokensPerExample: 500}
  training: {provider: runpod, estimator: Calibrated}
  api: {model: claude-sonnet, costPerRequest: "0.005"}
  usage: {requestsPerMonth: 10000}
  serving: {monthlyCost: "0"}
`

// profile is a ThroughputProfile as kubectl get -o yaml prints it, status included: samples runs of
// namespace ml whose median is tps (tps less 50, tps, tps plus 50, ...).
func profile(name, gpu string, samples int64, tps string) string {
	mid, err := decimal.NewFromString(tps)
	var runs []string
	for i := range samples {
		x := tps // not a decimal: as it is
		if err == nil {
			x = mid.Add(decimal.NewFromInt(50 * (i%2*2 - 1) * ((i + 1) / 2))).String()
		}
		runs = append(runs, fmt.Sprintf(`{uid: run-%d, estimate: ml/calibrated, namespace: ml, tokensPerGPUSecond: "%s"}`, i, x))
	}
	return fmt.Sprintf(`---
apiVersion: ftcost.io/v1alpha1
kind: ThroughputProfile
metadata: {name: %s}
spec: {model: llama-13b, method: LoRA, gpuType: %s}
status: {samples: %d, tokensPerGPUSecond: "%s", spreadPercent: "4.2", recentRuns: [%s]}
`, name, gpu, samples, tps, strings.Join(runs, ", "))
}

// TestCalibratedFromFiles: offline, a Calibrated estimate reads the ThroughputProfile given with -f,
// as the operator reads it from the cluster; with too few samples, or none given, it falls back to
// FLOPs and says why.
func TestCalibratedFromFiles(t *testing.T) {
	gpu := engine.BuiltinCatalog().Providers["runpod"].DefaultGPUOf()
	name := estimate.ProfileName("llama-13b", ftv1.MethodLoRA, gpu)
	// 10,000 examples x 500 tokens at 1,250 tokens per GPU-second: 4,000 GPU-seconds.
	wantHours := decimal.NewFromInt(10_000 * 500).Div(decimal.NewFromInt(1250 * 3600)).Round(6)
	cases := map[string]struct {
		input               string
		estimator           ftv1.Estimator
		profile, messageHas string
		samples             int64
		gpuHours            string
	}{
		"measured": {input: calibratedEstimate + profile(name, gpu, 3, "1250"), estimator: ftv1.EstimatorCalibrated,
			profile: name, samples: 3, messageHas: "measured 1250 tokens per GPU-second (the median) over 3 runs", gpuHours: engine.FormatFigure(wantHours)},
		"too few samples": {input: calibratedEstimate + profile(name, gpu, 2, "1250"), estimator: ftv1.EstimatorFLOPs,
			profile: name, samples: 2, messageHas: "has 2 of the 3 measured runs"},
		"another GPU's profile": {input: calibratedEstimate + profile("llama-13b.lora.other", "other", 9, "1250"), estimator: ftv1.EstimatorFLOPs,
			messageHas: "no throughput has been measured"},
		"no profile": {input: calibratedEstimate, estimator: ftv1.EstimatorFLOPs, messageHas: "no throughput has been measured"},
	}
	for what, tc := range cases {
		t.Run(what, func(t *testing.T) {
			r := ftcost(t, tc.input, "estimate", "-f", "-", "-o", "json")
			if r.code != ExitOK {
				t.Fatalf("exit %d: %s", r.code, r.err)
			}
			var list ftv1.FineTuneEstimateList
			if err := json.Unmarshal([]byte(r.out), &list); err != nil || len(list.Items) != 1 {
				t.Fatalf("%v: %s", err, r.out)
			}
			st := list.Items[0].Status
			if st.Estimator != tc.estimator {
				t.Errorf("estimator %s, want %s", st.Estimator, tc.estimator)
			}
			c := st.Calibration
			if c == nil {
				t.Fatal("no status.calibration")
			}
			if c.ThroughputProfile != tc.profile || c.Samples != tc.samples || !strings.Contains(c.Message, tc.messageHas) {
				t.Errorf("calibration %+v, want profile %q, %d samples, a message with %q", *c, tc.profile, tc.samples, tc.messageHas)
			}
			if tc.gpuHours != "" && st.GPUHours != tc.gpuHours {
				t.Errorf("gpuHours %s, want %s", st.GPUHours, tc.gpuHours)
			}
		})
	}

	t.Run("explain shows the measured figures", func(t *testing.T) {
		r := ftcost(t, calibratedEstimate+profile(name, gpu, 3, "1250"), "explain", "-f", "-")
		if r.code != ExitOK {
			t.Fatalf("exit %d: %s", r.code, r.err)
		}
		for _, want := range []string{
			"1. GPU-hours: " + engine.FormatFigure(wantHours) + " (Calibrated estimator)",
			"GPU-hours = 5000000 training tokens / (1250 tokens per GPU-second x 3600 s) = " + engine.FormatFigure(wantHours),
			"(ThroughputProfile " + name + ")",
			"range: -/+4% (the measured spread) = 1.066667 to 1.155555", // 1200, 1250 and 1300: 50 over 1250
		} {
			if !strings.Contains(r.out, want) {
				t.Errorf("explain does not say %q:\n%s", want, r.out)
			}
		}
	})
	t.Run("explain says why it fell back", func(t *testing.T) {
		r := ftcost(t, calibratedEstimate+profile(name, gpu, 2, "1250"), "explain", "-f", "-")
		if r.code != ExitOK || !strings.Contains(r.out, "Calibrated asked for: ThroughputProfile "+name+" has 2 of the 3 measured runs") {
			t.Errorf("exit %d:\n%s%s", r.code, r.out, r.err)
		}
	})
	t.Run("a profile twice is an error", func(t *testing.T) {
		r := ftcost(t, calibratedEstimate+profile(name, gpu, 3, "1250")+profile(name, gpu, 3, "1250"), "estimate", "-f", "-")
		if r.code != ExitInput || !strings.Contains(r.err, fmt.Sprintf("ThroughputProfile %q is already defined", name)) {
			t.Errorf("exit %d, stderr %q", r.code, r.err)
		}
	})
	t.Run("a bad measurement names its field", func(t *testing.T) {
		r := ftcost(t, calibratedEstimate+profile(name, gpu, 3, "fast"), "estimate", "-f", "-")
		if r.code != ExitInput || !strings.Contains(r.err, `status.tokensPerGPUSecond: "fast" is not a decimal number`) {
			t.Errorf("exit %d, stderr %q", r.code, r.err)
		}
	})
	t.Run("not in --catalog files", func(t *testing.T) {
		r := ftcost(t, profile(name, gpu, 3, "1250"), "estimate", "-f", "testdata/article-example-1.yaml", "--catalog", "-")
		if r.code != ExitInput || !strings.Contains(r.err, "--catalog files hold PriceCatalogs only") {
			t.Errorf("exit %d, stderr %q", r.code, r.err)
		}
	})
}
