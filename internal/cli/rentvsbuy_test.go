package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ftcost/ftcost/engine"
)

func TestRentVsBuy(t *testing.T) {
	cases := map[string]struct {
		args     []string
		wantCode int
		wantOut  []string
		wantErr  string
	}{
		"the Fine-Tuning Economics article's break-even": {
			args:    []string{"--purchase", "20000", "--rent", "2.49"},
			wantOut: []string{"Break-even: 8032.13 GPU-hours"},
		},
		"the article's three fine-tunings a month over three years": {
			args: []string{"--purchase", "20000", "--yearly-running", "2000", "--years", "3", "--rent", "2.49", "--hours-per-month", "6"},
			wantOut: []string{"= 26000.00 (8666.67 a year)",
				"renting costs 14.94 a month, 179.28 a year, 537.84 over 3 years against 26000.00 to own: rent"},
		},
		"owned hourly price": {
			args:    []string{"--purchase", "20000", "--yearly-running", "2000", "--years", "3", "--rent", "2.49", "--utilization", "36.2"},
			wantOut: []string{"Owned GPU-hour at 36.2% utilisation: 2.733"},
		},
		"missing rent":      {args: []string{"--purchase", "20000"}, wantCode: ExitInput, wantErr: `"rent" not set`},
		"not a number":      {args: []string{"--purchase", "20k", "--rent", "2.49"}, wantCode: ExitInput, wantErr: `--purchase: "20k" is not a decimal number`},
		"zero rent":         {args: []string{"--purchase", "20000", "--rent", "0"}, wantCode: ExitInput, wantErr: "--rent: must be greater than 0"},
		"utilisation > 100": {args: []string{"--purchase", "1", "--rent", "1", "--utilization", "120"}, wantCode: ExitInput, wantErr: "--utilization: must be greater than 0 and at most 100"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(append([]string{"rent-vs-buy"}, tc.args...), Streams{In: &bytes.Buffer{}, Out: &out, Err: &errOut})
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.wantCode, errOut.String())
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			if tc.wantErr != "" && !strings.Contains(errOut.String(), tc.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantErr, errOut.String())
			}
		})
	}
}

// TestEveryOwnershipFieldHasAFlag: an engine error about any input of a rent-versus-buy comparison
// names a flag the command really has.
func TestEveryOwnershipFieldHasAFlag(t *testing.T) {
	cmd := newRentVsBuyCommand(Streams{})
	for _, f := range engine.OwnershipFields {
		flag, ok := ownershipFlags[f]
		if !ok || cmd.Flags().Lookup(flag) == nil {
			t.Errorf("engine field %s maps to flag %q, which rent-vs-buy does not have", f, flag)
		}
	}
}
