package engine_test

import (
	"strings"
	"testing"

	"github.com/ftcost/ftcost/engine"
)

func TestCents(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"half cent up":               {"8.715", "8.72"},
		"half cent away from zero":   {"-8.715", "-8.72"},
		"just under half":            {"8.714999999", "8.71"},
		"just under half, negative":  {"-8.714999999", "-8.71"},
		"smallest half cent":         {"0.005", "0.01"},
		"smallest negative half":     {"-0.005", "-0.01"},
		"0.6225 (example 3)":         {"0.6225", "0.62"},
		"1.245 (LoRA 0.5 h at 2.49)": {"1.245", "1.25"},
		"already whole":              {"1001", "1001.00"},
		"zero":                       {"0", "0.00"},
		"negative zero":              {"-0.004", "0.00"},
		"large":                      {"123456789012345678.905", "123456789012345678.91"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := engine.Cents(dec(tc.in)).String(); got != tc.want {
				t.Errorf("Cents(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestMoney(t *testing.T) {
	t.Run("zero value prints two decimals", func(t *testing.T) {
		if got := (engine.Money{}).String(); got != "0.00" {
			t.Errorf("Money{} = %q", got)
		}
	})
	t.Run("arithmetic", func(t *testing.T) {
		a, b := money("1001.25"), money("50")
		if got := a.Add(b).String(); got != "1051.25" {
			t.Errorf("Add = %s", got)
		}
		if got := b.Sub(a).String(); got != "-951.25" {
			t.Errorf("Sub = %s", got)
		}
		if a.Cmp(b) != 1 || b.Cmp(a) != -1 || a.Cmp(money("1001.250")) != 0 {
			t.Error("Cmp")
		}
		if b.Sub(a).Sign() != -1 || !money("0.004").IsZero() {
			t.Error("Sign or IsZero")
		}
	})
	t.Run("adding or taking away zero", func(t *testing.T) {
		a, zero := money("-3"), engine.Money{}
		for what, got := range map[string]engine.Money{
			"a+0": a.Add(zero), "a-0": a.Sub(zero), "0+a": zero.Add(a), "0-0": zero.Sub(zero),
		} {
			want := "-3.00"
			switch what {
			case "0-0":
				want = "0.00"
			}
			if got.String() != want {
				t.Errorf("%s = %s, want %s", what, got, want)
			}
		}
		if got := zero.Sub(a).String(); got != "3.00" {
			t.Errorf("0-a = %s, want 3.00", got)
		}
	})
	t.Run("ParseMoney", func(t *testing.T) {
		tests := map[string]struct {
			in, want string
			err      bool
		}{
			"plain":        {"1001.25", "1001.25", false},
			"rounds":       {"3002.485", "3002.49", false},
			"one decimal":  {"0.1", "0.10", false},
			"not a number": {"12 dollars", "", true},
			"empty":        {"", "", true},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				m, err := engine.ParseMoney(tc.in)
				if (err != nil) != tc.err {
					t.Fatalf("ParseMoney(%q) error = %v", tc.in, err)
				}
				if err == nil && m.String() != tc.want {
					t.Errorf("ParseMoney(%q) = %s, want %s", tc.in, m, tc.want)
				}
			})
		}
	})
}

func TestFormat(t *testing.T) {
	tests := map[string]struct{ in, figure, oneDecimal string }{
		"whole":           {"20", "20", "20.0"},
		"half hour":       {"0.5", "0.5", "0.5"},
		"20.025":          {"20.025", "20.025", "20.0"},
		"20.05 rounds up": {"20.05", "20.05", "20.1"},
		"negative half":   {"-28.05", "-28.05", "-28.1"},
		"trailing zeros":  {"79.80", "79.8", "79.8"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := engine.FormatFigure(dec(tc.in)); got != tc.figure {
				t.Errorf("FormatFigure(%s) = %s, want %s", tc.in, got, tc.figure)
			}
			if got := engine.FormatOneDecimal(dec(tc.in)); got != tc.oneDecimal {
				t.Errorf("FormatOneDecimal(%s) = %s, want %s", tc.in, got, tc.oneDecimal)
			}
		})
	}
}

func TestFormatRequests(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"whole":                 {"10000", "10000"},
		"grown, trailing zeros": {"10500.000000000000000000", "10500"},
		"six decimals":          {"11576.25", "11576.25"},
		"rounds half away":      {"1.0000005", "1.000001"},
		"rounds down":           {"1.00000049999", "1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := engine.FormatRequests(dec(tc.in)); got != tc.want {
				t.Errorf("FormatRequests(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestPercentChange(t *testing.T) {
	tests := map[string]struct {
		from, to, want string
		ok             bool
	}{
		"up":                {"100", "101.10", "+1.1", true},
		"down by half":      {"100", "50", "-50.0", true},
		"unchanged":         {"50", "50", "+0.0", true},
		"from zero":         {"0", "5", "", false},
		"from negative":     {"-100", "-50", "+50.0", true},
		"tiny change":       {"20001", "20001.01", "+0.0", true},
		"just under a half": {"20001", "20011", "+0.0", true}, // 0.0499975%
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := engine.PercentChange(money(tc.from), money(tc.to))
			if got != tc.want || ok != tc.ok {
				t.Errorf("PercentChange(%s, %s) = %q, %v; want %q, %v", tc.from, tc.to, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestRoundingMatchesDecimal checks Cents against decimal.Round on values of every size and sign
// around the half: rounding is half away from zero, whatever the size.
func TestRoundingMatchesDecimal(t *testing.T) {
	bases := []string{"0", "1", "8.71", "-8.71", "99999999999999.99", "-123456789.12", "1234567890123456789012.34"}
	tails := []string{"5", "4999999999", "5000000001", "49999999999999999999999", "50000000000000000000001", "0000000000000000000000000000000005", "1"}
	for _, b := range bases {
		for _, tail := range tails {
			s := b
			if !strings.Contains(s, ".") {
				s += ".00"
			}
			s += tail
			d := dec(s)
			if got, want := engine.Cents(d).String(), d.Round(2).StringFixed(2); got != want {
				t.Errorf("Cents(%s) = %s, decimal.Round gives %s", s, got, want)
			}
		}
	}
}

func TestMoneyLarge(t *testing.T) {
	// Amounts beyond an int64 of cents stay exact.
	a := money("9999999999999999.99")
	sum := a.Add(a).Add(a)
	if got := sum.String(); got != "29999999999999999.97" {
		t.Errorf("3a = %s", got)
	}
	if got := sum.Sub(a).Sub(a).String(); got != "9999999999999999.99" || sum.Sub(a).Sub(a).Cmp(a) != 0 {
		t.Errorf("3a - 2a = %s", got)
	}
	neg := engine.Money{}.Sub(sum)
	if neg.Sign() != -1 || neg.String() != "-29999999999999999.97" || neg.Cmp(a) != -1 {
		t.Errorf("-3a = %s", neg)
	}
	if got := engine.Cents(dec("123456789012345678901234.565")).String(); got != "123456789012345678901234.57" {
		t.Errorf("big Cents = %s", got)
	}
}

// money parses a constant of the test.
func money(s string) engine.Money {
	m, err := engine.ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

func TestPercentOf(t *testing.T) {
	for _, tc := range []struct{ part, whole, want string }{
		{"3.24", "4.00", "81.0"}, {"4.34", "4.00", "108.5"}, {"0.00", "4.00", "0.0"}, {"1.00", "3.00", "33.3"}, {"2.00", "3.00", "66.7"},
	} {
		got, ok := engine.PercentOf(money(tc.part), money(tc.whole))
		if !ok || got != tc.want {
			t.Errorf("PercentOf(%s, %s) = %q %v, want %q", tc.part, tc.whole, got, ok, tc.want)
		}
	}
	if _, ok := engine.PercentOf(money("1"), engine.Money{}); ok {
		t.Error("a percentage of a zero budget")
	}
}
