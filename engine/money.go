// Package engine is ftcost's cost model: pure Go, exact decimal arithmetic, no Kubernetes imports.
//
// Money is rounded in one place, Cents, half away from zero to the cent; every money line is rounded
// when it is computed and totals are sums of rounded lines, so each figure can be checked by hand.
package engine

import (
	"fmt"
	"math/big"

	"github.com/shopspring/decimal"
)

// Money is an amount of USD held as whole cents. The zero value is $0.00.
//
// Amounts up to 10^18 cents are held as an int64, so that adding up months allocates nothing; larger
// ones fall back to an exact decimal. Either way the value is exact and whole cents.
type Money struct {
	c   int64            // cents, when big is nil; |c| <= maxSmallCents
	big *decimal.Decimal // cents as a decimal with exponent -2, when |amount| exceeds maxSmallCents
}

// maxSmallCents bounds the int64 form so that the sum or difference of two never overflows.
const maxSmallCents = 1_000_000_000_000_000_000

var (
	hundred    = decimal.NewFromInt(100)
	million    = decimal.NewFromInt(1_000_000)
	one        = decimal.NewFromInt(1)
	twelve     = decimal.NewFromInt(12)
	zeroMoney  = Money{}
	maxDecimal = decimal.New(1, 30) // far above any real figure; inputs beyond it are refused
)

// Cents rounds an exact amount half away from zero to the cent: 8.715 is 8.72, -8.715 is -8.72.
func Cents(d decimal.Decimal) Money { return moneyOf(roundTo(d, 2)) }

// moneyOf wraps a decimal that is already whole cents (exponent -2, as Round(2) leaves it).
func moneyOf(r decimal.Decimal) Money {
	if r.Exponent() == -2 {
		// NumDigits is cheap when the coefficient fits in an int64, the common case.
		if c := r.CoefficientInt64(); c > -maxSmallCents && c < maxSmallCents && r.NumDigits() <= 18 {
			return Money{c: c}
		}
	}
	return Money{big: &r}
}

func smallOrBig(c int64) Money {
	if c > maxSmallCents || c < -maxSmallCents {
		d := decimal.New(c, -2)
		return Money{big: &d}
	}
	return Money{c: c}
}

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
func (m Money) Add(o Money) Money {
	if m.big == nil && o.big == nil {
		return smallOrBig(m.c + o.c)
	}
	return moneyOf(m.Decimal().Add(o.Decimal()).Round(2))
}

// Sub returns m - o.
func (m Money) Sub(o Money) Money {
	if m.big == nil && o.big == nil {
		return smallOrBig(m.c - o.c)
	}
	return moneyOf(m.Decimal().Sub(o.Decimal()).Round(2))
}

// Cmp compares m and o: -1, 0 or +1.
func (m Money) Cmp(o Money) int {
	if m.big == nil && o.big == nil {
		switch {
		case m.c < o.c:
			return -1
		case m.c > o.c:
			return 1
		}
		return 0
	}
	return m.Decimal().Cmp(o.Decimal())
}

// Sign is -1, 0 or +1.
func (m Money) Sign() int {
	if m.big != nil {
		return m.big.Sign()
	}
	switch {
	case m.c < 0:
		return -1
	case m.c > 0:
		return 1
	}
	return 0
}

// IsZero reports whether m is $0.00.
func (m Money) IsZero() bool { return m.Sign() == 0 }

// Decimal returns the amount as a decimal.
func (m Money) Decimal() decimal.Decimal {
	if m.big != nil {
		return *m.big
	}
	return decimal.New(m.c, -2)
}

// String formats m with exactly two decimals, "1001.25", "-3.00", the same way every time.
func (m Money) String() string {
	if m.big != nil {
		return m.big.StringFixed(2)
	}
	c, sign := m.c, ""
	if c < 0 {
		c, sign = -c, "-"
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// Sum adds money lines.
func Sum(lines ...Money) Money {
	total := zeroMoney
	for _, l := range lines {
		total = total.Add(l)
	}
	return total
}

var bigOne = big.NewInt(1)

// pow10Int64[n] is 10^n; pow10Big[n] likewise, for dropping up to len(pow10Big)-1 digits at once.
var (
	pow10Int64 = func() (p [19]uint64) {
		p[0] = 1
		for i := 1; i < len(p); i++ {
			p[i] = p[i-1] * 10
		}
		return p
	}()
	pow10Big = func() (p [64]*big.Int) {
		for i := range p {
			p[i] = new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(i)), nil)
		}
		return p
	}()
)

// roundTo rounds a figure half away from zero to places decimals. It gives exactly what
// decimal.Round gives, with one division instead of two and none on big numbers when the coefficient
// fits in an int64.
func roundTo(d decimal.Decimal, places int32) decimal.Decimal {
	exp := d.Exponent()
	if exp >= -places || int(-places-exp) >= len(pow10Big) {
		return d.Round(places)
	}
	shift := int(-places - exp) // digits dropped, >= 1
	coef := d.Coefficient()     // a copy, ours to overwrite
	if coef.IsInt64() {
		if c := coef.Int64(); shift < len(pow10Int64) && c > -1e18 && c < 1e18 {
			p := int64(pow10Int64[shift])
			q, rem := c/p, c%p
			// |rem| >= p/2, written without overflow.
			if rem >= p-rem {
				q++
			} else if -rem >= p+rem {
				q--
			}
			return decimal.New(q, -places)
		}
	}
	p := pow10Big[shift]
	var rem big.Int
	coef.QuoRem(coef, p, &rem) // truncates toward zero
	if rem.Sign() != 0 && rem.Lsh(rem.Abs(&rem), 1).Cmp(p) >= 0 {
		if d.Sign() < 0 {
			coef.Sub(coef, bigOne)
		} else {
			coef.Add(coef, bigOne)
		}
	}
	return decimal.NewFromBigInt(coef, -places)
}

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
	f := from.Decimal()
	pct := to.Decimal().Sub(f).Mul(hundred).DivRound(f.Abs(), 1) // one exact rounding
	s := FormatOneDecimal(pct)
	if pct.Round(1).Sign() >= 0 {
		s = "+" + s
	}
	return s, true
}
