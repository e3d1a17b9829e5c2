package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ftcost/ftcost/engine"
)

func TestActualCost(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		gpus              int64
		seconds           time.Duration
		price             string
		wantHours, wantUS string
	}{
		"one GPU, 37 min 12 s at 2.49":   {1, 37*time.Minute + 12*time.Second, "2.49", "0.62", "1.54"},
		"two GPUs, half an hour at 2.49": {2, 30 * time.Minute, "2.49", "1", "2.49"},
		"half a cent rounds away":        {1, 18 * time.Second, "1", "0.005", "0.01"},
		"sub-second dropped":             {1, 1500 * time.Millisecond, "3600", "0.000278", "1.00"},
		"no time":                        {4, 0, "2.49", "0", "0.00"},
		"no GPUs":                        {0, time.Hour, "2.49", "0", "0.00"},
	} {
		t.Run(name, func(t *testing.T) {
			s := engine.GPUSeconds(tc.gpus, t0, t0.Add(tc.seconds))
			if got := engine.FormatFigure(engine.GPUHoursOf(s)); got != tc.wantHours {
				t.Errorf("GPU-hours %s, want %s", got, tc.wantHours)
			}
			if got := engine.ActualCost(s, dec(tc.price)).String(); got != tc.wantUS {
				t.Errorf("cost %s, want %s", got, tc.wantUS)
			}
		})
	}
}

func TestActualVsEstimate(t *testing.T) {
	for name, tc := range map[string]struct {
		actual, estimated, ratio, pct string
		ok                            bool
	}{
		"over":      {"0.62", "0.5", "1.24", "+24", true},
		"under":     {"0.485", "0.5", "0.97", "-3", true},
		"exact":     {"0.5", "0.5", "1", "+0", true},
		"no figure": {"0.5", "0", "0", "", false},
	} {
		t.Run(name, func(t *testing.T) {
			r, p, ok := engine.ActualVsEstimate(dec(tc.actual), dec(tc.estimated))
			if ok != tc.ok || r.String() != tc.ratio || p != tc.pct {
				t.Errorf("got %s %q %v, want %s %q %v", r, p, ok, tc.ratio, tc.pct, tc.ok)
			}
		})
	}
}

func TestThroughputStats(t *testing.T) {
	var s engine.ThroughputStats
	for _, x := range []string{"900", "1000", "1100"} {
		s = s.Add(dec(x))
	}
	if s.Samples != 3 || s.Mean().String() != "1000" || s.SpreadPercent().String() != "10" {
		t.Errorf("samples %d mean %s spread %s, want 3, 1000, 10", s.Samples, s.Mean(), s.SpreadPercent())
	}
	one := engine.ThroughputStats{}.Add(dec("5"))
	if one.SpreadPercent().Sign() != 0 {
		t.Errorf("one sample has no spread, got %s", one.SpreadPercent())
	}
	if tp, ok := engine.RunThroughput(decimal.NewFromInt(10_000*2500), 3*3600); !ok || tp.String() != "2314.8148" {
		t.Errorf("throughput %s %v", tp, ok)
	}
}

// TestCalibratedEstimator: with enough samples the hours are tokens over measured throughput and
// the band is the measured spread; with too few, FLOPs with a message saying so.
func TestCalibratedEstimator(t *testing.T) {
	base := example1()
	base.Estimator, base.TokensPerExample, base.Epochs = engine.Calibrated, 500, 1
	tp := &engine.Throughput{Profile: "llama-13b.lora.h100", TokensPerGPUSecond: dec("2500"), Samples: 3, SpreadPercent: dec("10")}
	for name, tc := range map[string]struct {
		throughput                  *engine.Throughput
		estimator                   engine.Estimator
		hours, low, high, usedMatch string
		used                        bool
	}{
		// 10,000 x 500 tokens / 2500 per GPU-second = 2000 GPU-seconds = 0.555556 h.
		"calibrated": {tp, engine.Calibrated, "0.555556", "0.5", "0.611112", "", true},
		"too few":    {&engine.Throughput{Profile: "p", TokensPerGPUSecond: dec("2500"), Samples: 2}, engine.FLOPs, "", "", "", "2 of the 3", false},
		"no profile": {nil, engine.FLOPs, "", "", "", "no throughput", false},
	} {
		t.Run(name, func(t *testing.T) {
			in := base
			in.Throughput = tc.throughput
			r := mustEstimate(t, in)
			if r.Estimator != tc.estimator || r.Calibration == nil || r.Calibration.Used != tc.used {
				t.Fatalf("estimator %s calibration %+v", r.Estimator, r.Calibration)
			}
			if tc.hours != "" && (figure(r.GPUHours) != tc.hours || figure(r.GPUHoursLow) != tc.low || figure(r.GPUHoursHigh) != tc.high) {
				t.Errorf("hours %s [%s, %s], want %s [%s, %s]", figure(r.GPUHours), figure(r.GPUHoursLow), figure(r.GPUHoursHigh), tc.hours, tc.low, tc.high)
			}
			if tc.usedMatch != "" && !strings.Contains(r.Calibration.Message, tc.usedMatch) {
				t.Errorf("message %q lacks %q", r.Calibration.Message, tc.usedMatch)
			}
		})
	}
}
