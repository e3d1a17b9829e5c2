package costchart

import (
	"bytes"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ftcost/ftcost/engine"
)

func TestFormatMoney(t *testing.T) {
	for name, tc := range map[string]struct {
		v        float64
		currency string
		want     string
	}{
		"zero":              {0, "USD", "$0"},
		"hundreds":          {800, "USD", "$800"},
		"thousands":         {1600, "USD", "$1,600"},
		"millions, rounded": {1234567.6, "USD", "$1,234,568"},
		"negative":          {-2500, "USD", "-$2,500"},
		"another currency":  {2500, "EUR", "2,500 EUR"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := formatMoney(tc.v, tc.currency); got != tc.want {
				t.Errorf("formatMoney(%v, %s) = %q, want %q", tc.v, tc.currency, got, tc.want)
			}
		})
	}
}

func TestNiceStep(t *testing.T) {
	for x, want := range map[float64]float64{0: 1, 0.3: 0.5, 1: 1, 3: 5, 7: 10, 130: 200, 2600 / 6.0: 500} {
		if got := niceStep(x); got != want {
			t.Errorf("niceStep(%v) = %v, want %v", x, got, want)
		}
	}
}

func TestRenderRefusesWhatItCannotDraw(t *testing.T) {
	month := engine.Month{Month: 1}
	be := decimal.RequireFromString("0.0")
	for name, tc := range map[string]struct {
		in     *Input
		format string
		want   string
	}{
		"no months":      {&Input{Currency: "USD"}, "svg", "no months to chart"},
		"unknown format": {&Input{Months: []engine.Month{month}, Currency: "USD", BreakEven: &be}, "gif", `unknown chart format "gif"`},
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			err := Render(&b, tc.in, tc.format)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}
