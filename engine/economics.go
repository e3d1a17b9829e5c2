package engine

import (
	"github.com/shopspring/decimal"
)

// factorPlaces bounds the digits of growth and discount factors so that a long horizon stays fast;
// 20 decimals is far below a cent on any realistic volume.
const factorPlaces int32 = 20

// monthly walks the months: month m serves requestsPerMonth x (1 + growth)^(m-1) requests.
type monthly struct {
	requests0   decimal.Decimal
	growth      decimal.Decimal // 1 + g/100
	factor      decimal.Decimal // growth^(m-1)
	apiCPR      decimal.Decimal
	servingCPR  decimal.Decimal
	servingBase Money
	m           int
}

func (w *monthly) next() Month {
	w.m++
	if w.m > 1 {
		w.factor = roundTo(w.factor.Mul(w.growth), factorPlaces)
	}
	req := w.requests0.Mul(w.factor)
	api := Cents(req.Mul(w.apiCPR))
	serving := Cents(req.Mul(w.servingCPR)).Add(w.servingBase)
	return Month{Month: w.m, Requests: roundTo(req, 6), APICost: api, ServingCost: serving, Savings: api.Sub(serving)}
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
	w := &monthly{
		requests0:   decimal.NewFromInt(in.RequestsPerMonth),
		growth:      one.Add(in.MonthlyGrowthPercent.Div(hundred)),
		factor:      one,
		apiCPR:      r.APICostPerRequest,
		servingCPR:  r.ServingCostPerRequest,
		servingBase: Cents(in.ServingMonthlyCost),
	}
	steady := in.MonthlyGrowthPercent.IsZero()

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
		roi := roundTo(r.NetSavings.Decimal().Mul(hundred).DivRound(r.UpfrontCost.Decimal(), 4), 1)
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
		be := upfront.Decimal().DivRound(s.Decimal(), 4)
		if be.GreaterThan(decimal.NewFromInt(BreakEvenSearchMonths)) {
			return nil
		}
		be = roundTo(be, 1)
		return &be
	}
	cum := zeroMoney
	// With no margin per request, savings can never be positive: stop at once.
	margin := r.APICostPerRequest.Cmp(r.ServingCostPerRequest) > 0
	for m := 1; m <= BreakEvenSearchMonths; m++ {
		var mo Month
		if m <= len(r.Months) {
			mo = r.Months[m-1]
		} else {
			mo = w.next()
		}
		if next := cum.Add(mo.Savings); next.Cmp(upfront) >= 0 {
			frac := upfront.Sub(cum).Decimal().DivRound(mo.Savings.Decimal(), 4)
			be := roundTo(decimal.NewFromInt(int64(m-1)).Add(frac), 1)
			return &be
		} else {
			cum = next
		}
		shrinking := w.growth.LessThan(one)
		if !margin || (shrinking && mo.Savings.Sign() <= 0) {
			return nil
		}
	}
	return nil
}

// netPresentValue discounts each month's savings at (1 + annual rate)^(m/12), rounds each to the cent
// and subtracts the upfront cost.
func netPresentValue(r *Result, annualPercent decimal.Decimal) (Money, error) {
	if annualPercent.IsZero() {
		return r.NetSavings, nil
	}
	annual := one.Add(annualPercent.Div(hundred))
	monthly, err := annual.PowWithPrecision(one.DivRound(twelve, factorPlaces), factorPlaces)
	if err != nil {
		return Money{}, errorf(ReasonInvalidSpec, "spec.annualDiscountRatePercent", "cannot discount at %s%%: %v", annualPercent, err)
	}
	npv := zeroMoney.Sub(r.UpfrontCost)
	discount := one
	for _, mo := range r.Months {
		discount = roundTo(discount.Mul(monthly), factorPlaces)
		npv = npv.Add(Cents(mo.Savings.Decimal().DivRound(discount, factorPlaces)))
	}
	return npv, nil
}
