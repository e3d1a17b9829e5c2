// Package engine is ftcost's cost model: pure Go, exact decimal arithmetic, no Kubernetes imports.
//
// Money is rounded in one place, Cents, half away from zero to the cent; every money line is rounded
// when it is computed and totals are sums of rounded lines, so each figure can be checked by hand.
package engine

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// Money is an amount of USD held as whole cents. The zero value is $0.00.
type Money struct{ d decimal.Decimal }

var (
	hundred    = decimal.NewFromInt(100)
	million    = decimal.NewFromInt(1_000_000)
	one        = decimal.NewFromInt(1)
	twelve     = decimal.NewFromInt(12)
	zeroMoney  = Money{}
	maxDecimal = decimal.New(1, 30) // far above any real figure; inputs beyond it are refused
)

// Cents rounds an exact amount half away from zero to the cent: 8.715 is 8.72, -8.715 is -8.72.
func Cents(d decimal.Decimal) Money { return Money{d.Round(2)} }

// ParseMoney reads a decimal USD string such as "1001.25" and rounds it to the cent.
func ParseMoney(s string) (Money, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return Money{}, fmt.Errorf("%q is not a decimal number", s)
	}
	return Cents(d), nil
}

// MustMoney is ParseMoney for constants known to be valid; it panics otherwise.
func MustMoney(s string) Money {
	m, err := ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

// Add returns m + o.
func (m Money) Add(o Money) Money { return Money{m.d.Add(o.d)} }

// Sub returns m - o.
func (m Money) Sub(o Money) Money { return Money{m.d.Sub(o.d)} }

// Cmp compares m and o: -1, 0 or +1.
func (m Money) Cmp(o Money) int { return m.d.Cmp(o.d) }

// Sign is -1, 0 or +1.
func (m Money) Sign() int { return m.d.Sign() }

// IsZero reports whether m is $0.00.
func (m Money) IsZero() bool { return m.d.IsZero() }

// Decimal returns the amount as a decimal.
func (m Money) Decimal() decimal.Decimal { return m.d }

// String formats m with exactly two decimals, "1001.25", "-3.00", the same way every time.
func (m Money) String() string { return m.d.StringFixed(2) }

// Sum adds money lines.
func Sum(lines ...Money) Money {
	total := zeroMoney
	for _, l := range lines {
		total = total.Add(l)
	}
	return total
}

// roundTo rounds a non-money figure half away from zero to places decimals.
func roundTo(d decimal.Decimal, places int32) decimal.Decimal { return d.Round(places) }

// FormatFigure prints a non-money figure without trailing zeros: "0.5", "20", "79.8".
func FormatFigure(d decimal.Decimal) string { return d.String() }

// FormatOneDecimal prints a figure rounded half away from zero to one decimal, always with it: "20.0".
func FormatOneDecimal(d decimal.Decimal) string { return d.Round(1).StringFixed(1) }

// PercentChange is (to - from) / from x 100 with a sign and one decimal, "+1.1" or "-50.0"; ok is
// false when from is zero.
func PercentChange(from, to Money) (string, bool) {
	if from.IsZero() {
		return "", false
	}
	pct := to.d.Sub(from.d).Mul(hundred).DivRound(from.d.Abs(), 4)
	s := FormatOneDecimal(pct)
	if pct.Round(1).Sign() >= 0 {
		s = "+" + s
	}
	return s, true
}
