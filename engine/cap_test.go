package engine_test

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ftcost/ftcost/engine"
)

func TestSpendCap(t *testing.T) {
	d := func(s string) *decimal.Decimal { v := decimal.RequireFromString(s); return &v }
	cases := map[string]struct {
		r    *engine.Result
		want string
		ok   bool
	}{
		// The article's support bot: 0.5 GPU-hours, band 0.35 to 0.65, at 2.49: 0.65 x 2.49 = 1.6185.
		"upper band":           {&engine.Result{GPUHours: d("0.5"), GPUHoursHigh: d("0.65"), PricePerGPUHour: d("2.49")}, "1.62", true},
		"measured, no band":    {&engine.Result{GPUHours: d("3.5"), PricePerGPUHour: d("2.49")}, "8.72", true},
		"managed: no GPU-hour": {&engine.Result{TrainingCost: engine.Cents(decimal.RequireFromString("24"))}, "0.00", false},
		"nothing":              {nil, "0.00", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := engine.SpendCap(tc.r)
			if got.String() != tc.want || ok != tc.ok {
				t.Errorf("SpendCap = %s, %v; want %s, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
