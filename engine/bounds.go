package engine

import "github.com/shopspring/decimal"

// Ceilings no real fine-tuning plan reaches. An estimate past one is refused (ReasonOutOfRange)
// rather than approved on figures nobody can check; docs/reliability.md lists them.
var (
	// MaxMoney bounds every money figure: one trillion USD.
	MaxMoney = Cents(decimal.New(1, 12))
	// MaxGPUHours bounds one training run: ten thousand GPU-years.
	MaxGPUHours = decimal.NewFromInt(10_000 * 8760)
)

// ReasonOutOfRange: a figure passes a ceiling of the engine, or an estimate rounds to nothing.
const ReasonOutOfRange Reason = "OutOfRange"

// checkTraining refuses training figures past the ceilings, and training that rounds to nothing:
// a GPU-hourly run of zero hours or zero dollars is a mistake in the input, not a free run.
func checkTraining(t *training) error {
	if t.estimator == ManagedEstimator {
		if t.cost.Cmp(MaxMoney) > 0 {
			return errorf(ReasonOutOfRange, FieldExamples, "training would cost %s USD, above the ceiling of %s", t.cost, MaxMoney)
		}
		return nil
	}
	// A Calibrated estimate's hours come from a measured throughput: say which, so an estimate is not
	// blamed for a profile's figure.
	by := ""
	if t.estimator == Calibrated && t.calibration != nil {
		by = " at the throughput of ThroughputProfile " + t.calibration.Profile + ": check its samples"
	}
	switch {
	case t.hours.GreaterThan(MaxGPUHours):
		return errorf(ReasonOutOfRange, FieldExamples, "training would take %s GPU-hours%s, above the ceiling of %s (10,000 GPU-years)", t.hours.Round(0), by, MaxGPUHours)
	case t.hours.Sign() <= 0:
		if by != "" {
			return errorf(ReasonOutOfRange, FieldEstimator, "training rounds to 0 GPU-hours%s", by)
		}
		return errorf(ReasonOutOfRange, FieldExamples, "training rounds to 0 GPU-hours: check the dataset size and the model's scale factor")
	case t.cost.Cmp(MaxMoney) > 0:
		return errorf(ReasonOutOfRange, FieldHours, "training would cost %s USD, above the ceiling of %s", t.cost, MaxMoney)
	case t.cost.IsZero():
		return errorf(ReasonOutOfRange, FieldHours, "training of %s GPU-hours at %s an hour rounds to 0.00 USD: check the hours and the price", t.hours, t.pricePerHour)
	}
	return nil
}

// checkMoney refuses a figure past MaxMoney, naming it and the input it grows from.
func checkMoney(name string, m Money, field Field) error {
	if m.Decimal().Abs().GreaterThan(MaxMoney.Decimal()) {
		return errorf(ReasonOutOfRange, field, "%s would be %s USD, beyond the ceiling of %s", name, m, MaxMoney)
	}
	return nil
}
