package engine

import (
	"math/big"
	mrand "math/rand"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// TestRescaleRoundMatchesDecimal checks the integer rounding of the monthly loops (both the 128-bit
// word path and the math/big path) and roundTo against decimal.Round, on random coefficients of every
// size and sign, and on values sitting exactly at, just under and just over a half.
func TestRescaleRoundMatchesDecimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := mrand.New(mrand.NewSource(3))
	var z, rem big.Int
	check := func(coef *big.Int, exp, places int32) {
		t.Helper()
		want := decimal.NewFromBigInt(coef, exp).Round(places)
		got := decimal.NewFromBigInt(rescaleRound(&z, coef, exp, places, &rem), -places)
		if !got.Equal(want) {
			t.Fatalf("rescaleRound(%s e%d, %d) = %s, decimal.Round gives %s", coef, exp, places, got, want)
		}
		if r := roundTo(decimal.NewFromBigInt(coef, exp), places); !r.Equal(want) {
			t.Fatalf("roundTo(%s e%d, %d) = %s, decimal.Round gives %s", coef, exp, places, r, want)
		}
	}
	for i := 0; i < 20000; i++ {
		digits := 1 + rng.IntN(70)
		coef := new(big.Int).Rand(src, pow10(digits))
		if rng.IntN(2) == 0 {
			coef.Neg(coef)
		}
		places := int32(rng.IntN(21))
		exp := -places - int32(rng.IntN(45)) + 3
		check(coef, exp, places)
	}
	for _, k := range []int{1, 2, 18, 19, 20, 21, 38, 39, 40} {
		for _, q := range []string{"0", "1", "18446744073709551615", "340282366920938463463374607431768211455"} {
			qi, _ := new(big.Int).SetString(q, 10)
			half := new(big.Int).Mul(big.NewInt(5), pow10(k-1))
			for _, delta := range []int64{-1, 0, 1} {
				c := new(big.Int).Mul(qi, pow10(k))
				c.Add(c, half).Add(c, big.NewInt(delta))
				check(c, -int32(k)-2, 2)
				check(new(big.Int).Neg(c), -int32(k)-2, 2)
			}
		}
	}
}
