package engine

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// factorPlaces is how many decimals the growth and discount factors keep: far below a cent on any
// volume, and the same every time, so a long horizon gives the same figures on every machine.
const factorPlaces int32 = 18

// monthly walks the months: month m serves requestsPerMonth x (1 + growth)^(m-1) requests, the factor
// (1 + growth)^(m-1) rounded half away from zero to factorPlaces decimals each month.
type monthly struct {
	growth      decimal.Decimal // 1 + g/100
	requests0   decimal.Decimal // requests in month 1
	factor      decimal.Decimal // (1 + g/100)^(m-1)
	apiCPR      decimal.Decimal // API cost per request, unrounded
	servingCPR  decimal.Decimal // serving cost per request, unrounded
	servingBase Money           // serving cost per month, whatever the volume
	hosting     *hosting        // self-hosted serving, or nil
	m           int
}

func newMonthly(requests0 int64, growth, apiCPR, servingCPR decimal.Decimal, servingBase Money) *monthly {
	return &monthly{growth: growth, requests0: decimal.NewFromInt(requests0), factor: one,
		apiCPR: apiCPR, servingCPR: servingCPR, servingBase: servingBase}
}

// requests is the current month's exact request count.
func (w *monthly) requests() decimal.Decimal { return w.requests0.Mul(w.factor) }

func (w *monthly) next() Month {
	w.m++
	if w.m > 1 {
		w.factor = w.factor.Mul(w.growth).Round(factorPlaces)
	}
	req := w.requests()
	api := Cents(req.Mul(w.apiCPR))
	serving := w.servingBase
	if !w.servingCPR.IsZero() {
		serving = Cents(req.Mul(w.servingCPR)).Add(w.servingBase)
	}
	var replicas int32
	if w.hosting != nil {
		var hosted Money
		hosted, replicas = w.hosting.cost(req)
		serving = serving.Add(hosted)
	}
	return Month{Month: w.m, Requests: req, APICost: api, ServingCost: serving, Savings: api.Sub(serving),
		ServingReplicas: replicas}
}

func projectMonths(in *Input, r *Result, hosted *hosting) error {
	horizon := in.HorizonMonths
	if horizon == 0 {
		horizon = DefaultHorizonMonths
	}
	if horizon < 1 || horizon > MaxHorizonMonths {
		return errorf(ReasonInvalidSpec, FieldHorizonMonths, "must be between 1 and %d, got %d", MaxHorizonMonths, horizon)
	}
	if in.RequestsPerMonth < 0 {
		return errorf(ReasonInvalidSpec, FieldRequestsPerMonth, "must be at least 0, got %d", in.RequestsPerMonth)
	}
	if in.MonthlyGrowthPercent.LessThanOrEqual(decimal.NewFromInt(-100)) {
		return errorf(ReasonInvalidSpec, FieldMonthlyGrowthPercent, "must be greater than -100, got %s", in.MonthlyGrowthPercent)
	}
	if in.AnnualDiscountRatePercent.Sign() < 0 {
		return errorf(ReasonInvalidSpec, FieldAnnualDiscountRatePercent, "must be at least 0, got %s", in.AnnualDiscountRatePercent)
	}
	r.HorizonMonths = horizon
	w := newMonthly(in.RequestsPerMonth, one.Add(in.MonthlyGrowthPercent.Div(hundred)),
		r.APICostPerRequest, r.ServingCostPerRequest, Cents(in.ServingMonthlyCost))
	w.hosting = hosted
	// With no requests, growth changes nothing: every month is month 1.
	steady := in.MonthlyGrowthPercent.IsZero() || in.RequestsPerMonth == 0

	r.Months = make([]Month, 0, horizon)
	maxFineTune := r.UpfrontCost.Add(MaxMoney)
	var cumAPI Money
	cumFT := r.UpfrontCost
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
		// Cumulative costs only grow, so bounding them bounds every month's figure too.
		if cumAPI.Cmp(MaxMoney) > 0 || cumFT.Cmp(maxFineTune) > 0 {
			if err := checkMoney(fmt.Sprintf("the API's cost to month %d", m), cumAPI, FieldRequestsPerMonth); err != nil {
				return err
			}
			return checkMoney(fmt.Sprintf("serving's cost to month %d", m), cumFT.Sub(r.UpfrontCost), FieldRequestsPerMonth)
		}
		r.Months = append(r.Months, mo)
	}
	first := r.Months[0]
	r.APIMonthlyCost, r.ServingMonthlyCost, r.MonthlySavings = first.APICost, first.ServingCost, first.Savings
	if hosted != nil {
		r.Serving = servingFigures(hosted, r.Months)
	}
	// Each month's savings is its API cost less its serving cost, so their sum less the upfront
	// cost is the API's total less the fine-tune's total (upfront included), to the cent.
	r.NetSavings = cumAPI.Sub(cumFT)
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
	var cum Money
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
	floor := w.servingBase
	if h := w.hosting; h != nil {
		// Self-hosted serving adds a cost that never falls below its always-on replicas (scale-to-zero:
		// below nothing), so the margin alone proves nothing; the shrinking bound counts the floor.
		margin = true
		always, _ := h.cost(decimal.Zero)
		floor = floor.Add(always)
	}
	for m := 1; m <= BreakEvenSearchMonths; m++ {
		var mo Month
		if m <= len(r.Months) {
			mo = r.Months[m-1]
		} else {
			mo = w.next()
		}
		if m > len(r.Months) && mo.APICost.Add(mo.ServingCost).Cmp(MaxMoney) > 0 {
			return nil // past the horizon and past the ceilings: no break-even worth stating
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
			if bound.LessThanOrEqual(floor.Decimal()) {
				return nil
			}
		}
	}
	return nil
}

// netPresentValue is -upfront + the sum of each month's savings / (1 + annual rate)^(m/12), rounded
// to the cent once (the contract's formula; only money lines are rounded as they are made). The
// monthly factor v = (1 + rate)^(-1/12) keeps factorPlaces decimals; the sum is taken by Horner's
// scheme, each step rounded to factorPlaces decimals of a dollar (docs/cost-model.md bounds both
// errors: far below a cent under the ceilings).
func netPresentValue(r *Result, annualPercent decimal.Decimal) (Money, error) {
	if annualPercent.IsZero() {
		return r.NetSavings, nil
	}
	annual := one.Add(annualPercent.Div(hundred))
	monthly, err := annual.PowWithPrecision(one.DivRound(twelve, factorPlaces), factorPlaces)
	if err != nil || monthly.Sign() <= 0 {
		return Money{}, errorf(ReasonInvalidSpec, FieldAnnualDiscountRatePercent, "cannot discount at %s%%: %v", annualPercent, err)
	}
	inverse := one.DivRound(monthly, factorPlaces)
	// Horner's scheme: v(s1 + v(s2 + ... + v(sn))), one multiplication a month.
	sum := decimal.Zero
	for i := len(r.Months) - 1; i >= 0; i-- {
		sum = sum.Add(r.Months[i].Savings.Decimal()).Mul(inverse).Round(factorPlaces)
	}
	return Cents(sum).Sub(r.UpfrontCost), nil
}

// servingFigures is the self-hosted serving of month 1, and the first month a fixed replica count
// cannot carry.
func servingFigures(h *hosting, months []Month) *Serving {
	s := h.s
	first := months[0]
	s.Replicas = first.ServingReplicas
	if h.scaleToZero {
		s.GPUHoursPerMonth = first.Requests.Div(h.requestsPerHrs).Mul(decimal.NewFromInt32(s.GPUsPerReplica)).Round(2)
	} else {
		s.GPUHoursPerMonth = decimal.NewFromInt32(s.Replicas * s.GPUsPerReplica).Mul(s.HoursPerMonth)
	}
	if h.fixed > 0 {
		for _, mo := range months {
			if mo.ServingReplicas > h.fixed {
				s.Overloaded, s.OverloadedMonth, s.NeededReplicas = true, mo.Month, mo.ServingReplicas
				break
			}
		}
	}
	return &s
}
