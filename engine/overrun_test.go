package engine_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ftcost/ftcost/engine"
)

// The overrun limit is the spend cap plus a percentage of it, one rounding to the cent.
func TestOverrunLimit(t *testing.T) {
	for _, tc := range []struct{ spendCap, percent, want string }{
		{"1.62", "0", "1.62"},
		{"1.62", "50", "2.43"},
		{"1.62", "12.5", "1.82"}, // 1.8225
		{"1593.60", "100", "3187.20"},
		{"0", "50", "0.00"},
	} {
		c, err := engine.ParseMoney(tc.spendCap)
		if err != nil {
			t.Fatal(err)
		}
		if got := engine.OverrunLimit(c, decimal.RequireFromString(tc.percent)).String(); got != tc.want {
			t.Errorf("OverrunLimit(%s, %s%%) = %s, want %s", tc.spendCap, tc.percent, got, tc.want)
		}
	}
}

// A running workload's cost so far: 8 GPUs x 80 hours at 2.49 USD is 1593.60 USD.
func TestAccruedCostOfALongRun(t *testing.T) {
	const seconds = 8 * 80 * 3600
	if got := engine.GPUHoursOf(seconds).String(); got != "640" {
		t.Errorf("GPU-hours = %s, want 640", got)
	}
	if got := engine.ActualCost(seconds, decimal.RequireFromString("2.49")).String(); got != "1593.60" {
		t.Errorf("cost = %s, want 1593.60", got)
	}
}
