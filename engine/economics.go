package engine

import (
	"math/big"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/shopspring/decimal"
)

// factorPlaces bounds the digits of growth and discount factors so that a long horizon stays fast;
// 20 decimals is far below a cent on any realistic volume.
const factorPlaces int32 = 20

// monthly walks the months: month m serves requestsPerMonth x (1 + growth)^(m-1) requests, the factor
// growth^(m-1) rounded half away from zero to factorPlaces decimals each month.
//
// It works on the integer coefficients of the decimals (value = coefficient x 10^exponent) in reused
// big.Ints: the same exact arithmetic and the same roundings as decimal's Mul and Round, without the
// allocations that made a long horizon slow.
type monthly struct {
	growth      decimal.Decimal // 1 + g/100
	servingBase Money
	m           int

	requests0        big.Int // requests in month 1, an integer
	factor           big.Int // growth^(m-1) x 10^factorPlaces
	growthCoef       big.Int
	growthExp        int32
	apiCoef, srvCoef big.Int // cost per request coefficients
	apiExp, srvExp   int32
	servingZero      bool
	req, t, rem      big.Int // scratch
}

func newMonthly(requests0 int64, growth, apiCPR, servingCPR decimal.Decimal, servingBase Money) *monthly {
	w := &monthly{growth: growth, servingBase: servingBase, servingZero: servingCPR.IsZero()}
	w.requests0.SetInt64(requests0)
	w.factor.Set(pow10(int(factorPlaces)))
	w.growthCoef.Set(growth.Coefficient())
	w.growthExp = growth.Exponent()
	w.apiCoef.Set(apiCPR.Coefficient())
	w.apiExp = apiCPR.Exponent()
	w.srvCoef.Set(servingCPR.Coefficient())
	w.srvExp = servingCPR.Exponent()
	return w
}

// requests is this month's exact request count.
func (w *monthly) requests() decimal.Decimal {
	return decimal.NewFromBigInt(new(big.Int).Mul(&w.requests0, &w.factor), -factorPlaces)
}

func (w *monthly) next() Month {
	w.m++
	if w.m > 1 {
		// factor x growth has exponent growthExp - factorPlaces; back to -factorPlaces.
		w.t.Mul(&w.factor, &w.growthCoef)
		rescaleRound(&w.factor, &w.t, w.growthExp-factorPlaces, factorPlaces, &w.rem)
	}
	w.req.Mul(&w.requests0, &w.factor) // exponent -factorPlaces
	api := w.cents(&w.apiCoef, w.apiExp)
	serving := w.servingBase
	if !w.servingZero {
		serving = w.cents(&w.srvCoef, w.srvExp).Add(w.servingBase)
	}
	requests := decimal.NewFromBigInt(rescaleRound(&w.t, &w.req, -factorPlaces, 6, &w.rem), -6)
	return Month{Month: w.m, Requests: requests, APICost: api, ServingCost: serving, Savings: api.Sub(serving)}
}

// cents is round(requests x cost per request) to the cent.
func (w *monthly) cents(coef *big.Int, exp int32) Money {
	w.t.Mul(&w.req, coef)
	return centsOf(rescaleRound(&w.t, &w.t, exp-factorPlaces, 2, &w.rem))
}

// centsOf wraps a coefficient of whole cents.
func centsOf(c *big.Int) Money {
	if c.IsInt64() {
		return smallOrBig(c.Int64())
	}
	d := decimal.NewFromBigInt(c, -2)
	return Money{big: &d}
}

// rescaleRound sets z to the coefficient of x x 10^exp at exponent -places, rounding half away from
// zero when digits are dropped, and returns z. z may be x; rem is scratch.
//
// Whether the dropped part is at least half depends only on its highest digit (as in decimal.Round),
// so digits below the last 19 dropped are truncated away first, and the last division's remainder
// decides. Dividing by at most 10^19 keeps every divisor in one machine word, math/big's fast path.
func rescaleRound(z, x *big.Int, exp, places int32, rem *big.Int) *big.Int {
	if exp >= -places {
		return z.Mul(x, pow10(int(exp+places)))
	}
	neg := x.Sign() < 0
	k := int(-places - exp) // digits dropped, >= 1
	last := min(k, 19)
	if bits.UintSize == 64 && x.BitLen() <= 128 {
		return divRound128(z, x, k, last, neg)
	}
	z.Set(x)
	for n := k - last; n > 0; n -= 19 {
		z.QuoRem(z, pow10Big[min(n, 19)], rem) // truncates toward zero
	}
	z.QuoRem(z, pow10Big[last], rem)
	if rem.CmpAbs(halfPow10[last]) >= 0 {
		if neg {
			z.Sub(z, bigOne)
		} else {
			z.Add(z, bigOne)
		}
	}
	return z
}

// divRound128 is rescaleRound's dropping of k digits for a magnitude of at most 128 bits, in machine
// words: the same truncations and the same half test, without math/big's per-call overhead.
func divRound128(z, x *big.Int, k, last int, neg bool) *big.Int {
	var hi, lo uint64
	switch w := x.Bits(); len(w) { // little-endian words of |x|
	case 2:
		hi = uint64(w[1])
		fallthrough
	case 1:
		lo = uint64(w[0])
	}
	div := func(d uint64) (rem uint64) {
		var r uint64
		hi, r = hi/d, hi%d
		lo, rem = bits.Div64(r, lo, d)
		return rem
	}
	for n := k - last; n > 0; n -= 19 {
		div(pow10U64[min(n, 19)]) // truncates
	}
	if div(pow10U64[last]) >= pow10U64[last]/2 {
		var carry uint64
		lo, carry = bits.Add64(lo, 1, 0)
		hi += carry
	}
	ws := append(z.Bits()[:0], big.Word(lo), big.Word(hi))
	z.SetBits(ws) // normalises
	if neg {
		z.Neg(z)
	}
	return z
}

// pow10U64[n] is 10^n; 10^19 still fits in a uint64.
var pow10U64 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// halfPow10[n] is 10^n / 2 for n >= 1.
var halfPow10 = func() (h [20]*big.Int) {
	for i := 1; i < len(h); i++ {
		h[i] = new(big.Int).Mul(big.NewInt(5), pow10Big[i-1])
	}
	return h
}()

// pow10 is 10^n, from a table for the common sizes.
func pow10(n int) *big.Int {
	if n < len(pow10Big) {
		return pow10Big[n]
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

func projectMonths(in *Input, r *Result) error {
	horizon := in.HorizonMonths
	if horizon == 0 {
		horizon = DefaultHorizonMonths
	}
	if horizon < 1 || horizon > MaxHorizonMonths {
		return errorf(ReasonInvalidSpec, "spec.horizonMonths", "must be between 1 and %d, got %d", MaxHorizonMonths, horizon)
	}
	if in.RequestsPerMonth < 0 {
		return errorf(ReasonInvalidSpec, "spec.usage.requestsPerMonth", "must be at least 0, got %d", in.RequestsPerMonth)
	}
	if in.MonthlyGrowthPercent.LessThanOrEqual(decimal.NewFromInt(-100)) {
		return errorf(ReasonInvalidSpec, "spec.usage.monthlyGrowthPercent", "must be greater than -100, got %s", in.MonthlyGrowthPercent)
	}
	if in.AnnualDiscountRatePercent.Sign() < 0 {
		return errorf(ReasonInvalidSpec, "spec.annualDiscountRatePercent", "must be at least 0, got %s", in.AnnualDiscountRatePercent)
	}
	r.HorizonMonths = horizon
	w := newMonthly(in.RequestsPerMonth, one.Add(in.MonthlyGrowthPercent.Div(hundred)),
		r.APICostPerRequest, r.ServingCostPerRequest, Cents(in.ServingMonthlyCost))
	// With no requests, growth changes nothing: every month is month 1.
	steady := in.MonthlyGrowthPercent.IsZero() || in.RequestsPerMonth == 0

	r.Months = make([]Month, 0, horizon)
	cumAPI, cumFT := zeroMoney, r.UpfrontCost
	var savings Money
	for m := int32(1); m <= horizon; m++ {
		var mo Month
		if steady && m > 1 {
			mo = r.Months[0]
			mo.Month = int(m)
		} else {
			mo = w.next()
		}
		cumAPI, cumFT = cumAPI.Add(mo.APICost), cumFT.Add(mo.ServingCost)
		mo.CumulativeAPI, mo.CumulativeFineTune = cumAPI, cumFT
		savings = savings.Add(mo.Savings)
		r.Months = append(r.Months, mo)
	}
	first := r.Months[0]
	r.APIMonthlyCost, r.ServingMonthlyCost, r.MonthlySavings = first.APICost, first.ServingCost, first.Savings
	r.NetSavings = savings.Sub(r.UpfrontCost)
	if !r.UpfrontCost.IsZero() {
		// One exact rounding: DivRound rounds the true quotient half away from zero.
		roi := r.NetSavings.Decimal().Mul(hundred).DivRound(r.UpfrontCost.Decimal(), 1)
		r.ROIPercent = &roi
	}
	r.BreakEvenMonths = breakEven(r, w, steady)

	npv, err := netPresentValue(r, in.AnnualDiscountRatePercent)
	if err != nil {
		return err
	}
	r.NetPresentValue = npv
	r.Recommendation = RecommendAPI
	if npv.Sign() > 0 {
		r.Recommendation = RecommendFineTune
	}
	return nil
}

// breakEven is the first point where cumulative savings reach the upfront cost, interpolated within
// the month, one decimal; nil when that does not happen within BreakEvenSearchMonths. It reads the
// horizon's months and walks on past them with w when needed.
func breakEven(r *Result, w *monthly, steady bool) *decimal.Decimal {
	upfront := r.UpfrontCost
	if upfront.Sign() <= 0 {
		z := decimal.Zero.Round(1)
		return &z
	}
	if steady {
		s := r.MonthlySavings
		if s.Sign() <= 0 {
			return nil
		}
		if upfront.Decimal().GreaterThan(s.Decimal().Mul(decimal.NewFromInt(BreakEvenSearchMonths))) {
			return nil
		}
		be := upfront.Decimal().DivRound(s.Decimal(), 1)
		return &be
	}
	cum := zeroMoney
	// Stopping early must be sound: a month's savings are round(req x api) - round(req x serving) -
	// monthly serving cost, and the two roundings can make a month's savings dip to zero and recover,
	// so a zero month alone proves nothing. Requests never grow when growth < 1 (the factor is rounded
	// on a fixed grid, and rounding is monotone). Any of these proves that the rest never pays:
	//   - api <= serving per request: savings <= -monthly serving cost <= 0 in every month;
	//   - shrinking and this month's API cost rounds to 0: so does every later month's;
	//   - shrinking and req x (api - serving) + 0.01 <= monthly serving cost: each later month's
	//     savings is at most that bound (0.01 covers both roundings), so at most 0.
	margin := r.APICostPerRequest.Cmp(r.ServingCostPerRequest) > 0
	shrinking := w.growth.LessThan(one)
	perRequest := r.APICostPerRequest.Sub(r.ServingCostPerRequest)
	slack := decimal.New(1, -2)
	for m := 1; m <= BreakEvenSearchMonths; m++ {
		var mo Month
		if m <= len(r.Months) {
			mo = r.Months[m-1]
		} else {
			mo = w.next()
		}
		if next := cum.Add(mo.Savings); next.Cmp(upfront) >= 0 {
			// (m-1) + (upfront - cum) / savings, rounded once; savings > 0 here since cum < upfront.
			s := mo.Savings.Decimal()
			be := decimal.NewFromInt(int64(m-1)).Mul(s).Add(upfront.Sub(cum).Decimal()).DivRound(s, 1)
			return &be
		} else {
			cum = next
		}
		if !margin || shrinking && mo.APICost.IsZero() {
			return nil
		}
		// w's current month is m once the horizon's months are used up.
		if shrinking && m >= len(r.Months) {
			bound := w.requests().Mul(perRequest).Add(slack)
			if bound.LessThanOrEqual(w.servingBase.Decimal()) {
				return nil
			}
		}
	}
	return nil
}

// discountCache holds (1 + rate)^(-1/12) by rate: computing it takes longer than the rest of an
// estimate, and a cluster uses few rates. It stops growing at discountCacheMax entries.
var (
	discountCache     sync.Map // string -> decimal.Decimal
	discountCacheSize atomic.Int32
)

const discountCacheMax = 256

func inverseMonthlyDiscount(annualPercent decimal.Decimal) (decimal.Decimal, error) {
	key := annualPercent.String()
	if v, ok := discountCache.Load(key); ok {
		return v.(decimal.Decimal), nil
	}
	annual := one.Add(annualPercent.Div(hundred))
	monthly, err := annual.PowWithPrecision(one.DivRound(twelve, factorPlaces), factorPlaces)
	if err != nil || monthly.Sign() <= 0 {
		return decimal.Decimal{}, errorf(ReasonInvalidSpec, "spec.annualDiscountRatePercent", "cannot discount at %s%%: %v", annualPercent, err)
	}
	inverse := one.DivRound(monthly, factorPlaces)
	if discountCacheSize.Add(1) <= discountCacheMax {
		discountCache.Store(key, inverse)
	}
	return inverse, nil
}

// netPresentValue is -upfront + the sum of each month's savings / (1 + annual rate)^(m/12), rounded to the
// cent once (the contract's formula; only money lines are rounded as they are made). The monthly factor (1 + rate)^(-1/12) and its powers are held to
// factorPlaces decimals (multiplying by them is much cheaper than dividing), far below a cent.
func netPresentValue(r *Result, annualPercent decimal.Decimal) (Money, error) {
	if annualPercent.IsZero() {
		return r.NetSavings, nil
	}
	inverse, err := inverseMonthlyDiscount(annualPercent)
	if err != nil {
		return Money{}, err
	}
	invCoef, invExp := inverse.Coefficient(), inverse.Exponent()
	// discount is (1 + rate)^(-m/12) x 10^factorPlaces; total is the sum of the discounted savings
	// in units of 10^-(2+factorPlaces) USD, rounded to the cent once at the end: the contract's
	// -upfront + sum of savings(m) / (1 + rate)^(m/12). pv, t and rem are scratch.
	var discount, total, pv, t, rem big.Int
	discount.Set(pow10(int(factorPlaces)))
	for _, mo := range r.Months {
		t.Mul(&discount, invCoef)
		rescaleRound(&discount, &t, invExp-factorPlaces, factorPlaces, &rem)
		if mo.Savings.IsZero() {
			continue
		}
		exp := int32(-2)
		if mo.Savings.big != nil {
			pv.Set(mo.Savings.big.Coefficient())
			exp = mo.Savings.big.Exponent()
		} else {
			pv.SetInt64(mo.Savings.c)
		}
		pv.Mul(&pv, &discount) // exponent exp - factorPlaces
		total.Add(&total, rescaleRound(&pv, &pv, exp-factorPlaces, 2+factorPlaces, &rem))
	}
	npv := zeroMoney.Sub(r.UpfrontCost).Add(centsOf(rescaleRound(&total, &total, -2-factorPlaces, 2, &rem)))
	return npv, nil
}
