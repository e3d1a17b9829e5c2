package engine_test

import (
	"testing"

	"github.com/ftcost/ftcost/engine"
)

// The spend cap is the training cost at the top of the band, from the engine's own figures.
func TestSpendCap(t *testing.T) {
	measured := func() engine.Input {
		in := example1()
		in.Hours = decp("3.5")
		return in
	}
	managed := func() engine.Input {
		in := example1()
		in.Model, in.Provider, in.TokensPerExample = "gpt-4", "openai-gpt-4", 500
		return in
	}
	cases := map[string]struct {
		in   func() engine.Input
		want string
		ok   bool
	}{
		// The article's support bot: 0.5 GPU-hours, band 0.35 to 0.65, at 2.49: 0.65 x 2.49 = 1.6185.
		"the band's top":          {example1, "1.62", true},
		"measured hours: no band": {measured, "8.72", true},
		"billed by the token":     {managed, "0.00", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := tc.in()
			r, err := engine.Estimate(&in, engine.BuiltinCatalog())
			if err != nil {
				t.Fatal(err)
			}
			got, ok := engine.SpendCap(r)
			if got.String() != tc.want || ok != tc.ok {
				t.Errorf("SpendCap = %s, %v; want %s, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	if _, ok := engine.SpendCap(nil); ok {
		t.Error("SpendCap(nil) has a cap")
	}
}
