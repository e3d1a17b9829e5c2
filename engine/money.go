// Package engine is ftcost's cost model: pure Go, exact decimal arithmetic, no Kubernetes imports.
//
// Money is rounded in one place, Cents, half away from zero to the cent; every money line is rounded
// when it is computed and totals are sums of rounded lines, so each figure can be checked by hand.
package engine

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// Money is an exact amount of USD in whole cents. The zero value is $0.00. Only Cents makes one from
// an arbitrary decimal, so every amount has been rounded exactly once, the same way.
type Money struct {
	amount decimal.Decimal // always whole cents
}

var (
	hundred = decimal.NewFromInt(100)
	million = decimal.NewFromInt(1_000_000)
	one     = decimal.NewFromInt(1)
	twelve  = decimal.NewFromInt(12)
)

// Cents rounds an exact amount half away from zero to the cent: 8.715 is 8.72, -8.715 is -8.72.
// It is the only place money is rounded.
func Cents(d decimal.Decimal) Money { return Money{amount: d.Round(2)} }

// ParseMoney reads a decimal USD string such as "1001.25" and rounds it to the cent.
func ParseMoney(s string) (Money, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return Money{}, fmt.Errorf("%q is not a decimal number", s)
	}
	return Cents(d), nil
}

// Add returns m + o. Sums of whole cents are whole cents: nothing to round. Adding $0.00 (serving
// or a one-time item left out) returns m as it is.
func (m Money) Add(o Money) Money {
	if o.IsZero() {
		return m
	}
	return Money{amount: m.amount.Add(o.amount)}
}

// Sub returns m - o.
func (m Money) Sub(o Money) Money {
	if o.IsZero() {
		return m
	}
	return Money{amount: m.amount.Sub(o.amount)}
}

// Cmp compares m and o: -1, 0 or +1.
func (m Money) Cmp(o Money) int { return m.amount.Cmp(o.amount) }

// Sign is -1, 0 or +1.
func (m Money) Sign() int { return m.amount.Sign() }

// IsZero reports whether m is $0.00.
func (m Money) IsZero() bool { return m.amount.IsZero() }

// Decimal returns the amount as a decimal, for arithmetic whose result is rounded again by Cents.
func (m Money) Decimal() decimal.Decimal { return m.amount }

// String formats m with exactly two decimals, "1001.25", "-3.00", the same way every time.
func (m Money) String() string { return m.amount.StringFixed(2) }

// FormatFigure prints a non-money figure without trailing zeros: "0.5", "20", "79.8".
func FormatFigure(d decimal.Decimal) string { return d.String() }

// FormatRequests prints a month's request count rounded half away from zero to 6 decimals, without
// trailing zeros: "10000", "10500", "11025", "11576.25".
func FormatRequests(d decimal.Decimal) string { return d.Round(6).String() }

// FormatOneDecimal prints a figure rounded half away from zero to one decimal, always with it: "20.0".
func FormatOneDecimal(d decimal.Decimal) string { return d.Round(1).StringFixed(1) }

// PercentOf is part / whole x 100 with one decimal, "81.0"; ok is false when whole is not positive.
func PercentOf(part, whole Money) (string, bool) {
	if whole.Sign() <= 0 {
		return "", false
	}
	return FormatOneDecimal(part.Decimal().Mul(hundred).DivRound(whole.Decimal(), 1)), true // one exact rounding
}

// PercentChange is (to - from) / from x 100 with a sign and one decimal, "+1.1" or "-50.0"; ok is
// false when from is zero.
func PercentChange(from, to Money) (string, bool) {
	if from.IsZero() {
		return "", false
	}
	f := from.Decimal()
	pct := to.Decimal().Sub(f).Mul(hundred).DivRound(f.Abs(), 1) // one exact rounding
	s := FormatOneDecimal(pct)
	if pct.Sign() >= 0 {
		s = "+" + s
	}
	return s, true
}
