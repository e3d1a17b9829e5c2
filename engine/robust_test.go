package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/ftcost/ftcost/engine"
)

func TestRobust(t *testing.T) {
	ds := func(xs ...string) []decimal.Decimal {
		out := make([]decimal.Decimal, len(xs))
		for i, x := range xs {
			out[i] = decimal.RequireFromString(x)
		}
		return out
	}
	cases := map[string]struct {
		samples  []decimal.Decimal
		median   string
		spread   string
		rejected []int
	}{
		"none":  {nil, "0", "0", nil},
		"three": {ds("1120.0717", "1157.4074", "1068.3761"), "1120.0717", "4", nil},
		"even":  {ds("600", "700", "800", "900"), "750", "17.2", nil},
		// The poisoning: one run claiming 100,000 examples, against three honest runs.
		"one claim":  {ds("694", "700", "688", "69400"), "694", "0.9", []int{3}},
		"too slow":   {ds("694", "700", "688", "100"), "694", "0.9", []int{3}},
		"2x is kept": {ds("500", "500", "1000"), "500", "43.3", nil},
		"zero":       {ds("0", "500", "500"), "500", "0", []int{0}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := engine.Robust(tc.samples)
			if r.Median.String() != tc.median || r.SpreadPercent.String() != tc.spread {
				t.Errorf("median %s spread %s, want %s %s", r.Median, r.SpreadPercent, tc.median, tc.spread)
			}
			if d := cmp.Diff(tc.rejected, r.Rejected); d != "" {
				t.Errorf("rejected (-want +got):\n%s", d)
			}
		})
	}
}

// Hours out of range because of a measured throughput name the profile, not the estimate's dataset.
func TestOutOfRangeNamesTheProfile(t *testing.T) {
	in := example1()
	in.Estimator, in.TokensPerExample = engine.Calibrated, 500
	in.Throughput = &engine.Throughput{Profile: "llama-13b.lora.h100", Samples: 3, TokensPerGPUSecond: decimal.RequireFromString("0.00001")}
	_, err := engine.Estimate(&in, engine.BuiltinCatalog())
	var ee *engine.Error
	if !errors.As(err, &ee) || ee.Reason != engine.ReasonOutOfRange || !strings.Contains(ee.Message, "at the throughput of ThroughputProfile llama-13b.lora.h100") {
		t.Errorf("err = %v, want OutOfRange naming the profile", err)
	}
}
