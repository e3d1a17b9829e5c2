package engine

import "github.com/shopspring/decimal"

// HoursPerYear is 365 x 24.
const HoursPerYear = 8760

// Ownership compares buying a GPU with renting one.
type Ownership struct {
	PurchasePrice      decimal.Decimal // per GPU, USD
	YearlyRunningCost  decimal.Decimal // power, cooling and hosting per GPU per year, USD
	Years              int32           // how long the purchase is used (amortisation period), at least 1
	RentPerGPUHour     decimal.Decimal // the rental alternative, USD
	HoursPerMonth      *decimal.Decimal
	UtilizationPercent *decimal.Decimal // share of the year's hours the owned GPU works, for its hourly cost
}

// OwnershipResult is the rent-versus-buy comparison; every money figure is rounded to the cent.
type OwnershipResult struct {
	OwnershipCost  Money           // purchase + running x years
	CostPerYear    Money           // OwnershipCost / years
	BreakEvenHours decimal.Decimal // OwnershipCost / rent, two decimals: more GPU-hours than this and buying wins
	// With HoursPerMonth: what renting those hours costs.
	RentPerMonth *Money
	RentPerYear  *Money
	RentTotal    *Money // over Years
	BuyingWins   *bool
	// With UtilizationPercent: what an owned GPU-hour costs.
	OwnedPerGPUHour *decimal.Decimal // four decimals
}

// CompareOwnership computes the rent-versus-buy break-even: the article's $20,000 H100 against RunPod's
// $2.49 an hour breaks even at 8,032.13 GPU-hours.
func CompareOwnership(o Ownership) (*OwnershipResult, error) {
	switch {
	case o.PurchasePrice.Sign() < 0:
		return nil, errorf(ReasonInvalidSpec, FieldPurchasePrice, "must be at least 0, got %s", o.PurchasePrice)
	case o.YearlyRunningCost.Sign() < 0:
		return nil, errorf(ReasonInvalidSpec, FieldYearlyRunningCost, "must be at least 0, got %s", o.YearlyRunningCost)
	case o.Years < 1:
		return nil, errorf(ReasonInvalidSpec, FieldYears, "must be at least 1, got %d", o.Years)
	case o.RentPerGPUHour.Sign() <= 0:
		return nil, errorf(ReasonInvalidSpec, FieldRentPerGPUHour, "must be greater than 0, got %s", o.RentPerGPUHour)
	case o.HoursPerMonth != nil && o.HoursPerMonth.Sign() < 0:
		return nil, errorf(ReasonInvalidSpec, FieldHoursPerMonth, "must be at least 0, got %s", o.HoursPerMonth)
	case o.UtilizationPercent != nil && (o.UtilizationPercent.Sign() <= 0 || o.UtilizationPercent.GreaterThan(hundred)):
		return nil, errorf(ReasonInvalidSpec, FieldUtilizationPercent, "must be greater than 0 and at most 100, got %s", o.UtilizationPercent)
	}
	years := decimal.NewFromInt32(o.Years)
	total := Cents(o.PurchasePrice).Add(Cents(o.YearlyRunningCost.Mul(years)))
	r := &OwnershipResult{
		OwnershipCost:  total,
		CostPerYear:    Cents(total.Decimal().Div(years)),
		BreakEvenHours: total.Decimal().DivRound(o.RentPerGPUHour, 2),
	}
	if o.HoursPerMonth != nil {
		month := Cents(o.HoursPerMonth.Mul(o.RentPerGPUHour))
		year := Cents(month.Decimal().Mul(twelve))
		all := Cents(year.Decimal().Mul(years))
		wins := all.Cmp(total) > 0
		r.RentPerMonth, r.RentPerYear, r.RentTotal, r.BuyingWins = &month, &year, &all, &wins
	}
	if o.UtilizationPercent != nil {
		hours := decimal.NewFromInt(HoursPerYear).Mul(years).Mul(*o.UtilizationPercent).Div(hundred)
		owned := total.Decimal().DivRound(hours, 4)
		r.OwnedPerGPUHour = &owned
	}
	return r, nil
}
