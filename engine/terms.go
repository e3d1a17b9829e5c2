package engine

import "github.com/shopspring/decimal"

// BandSource says where the band on estimated GPU-hours comes from.
type BandSource string

// Band sources.
const (
	// BandArticle: the Fine-Tuning Economics article's +/-30%, for a framework the model knows as well.
	BandArticle BandSource = "the article's band"
	// BandFramework: widened for a training stack the model has fewer measurements of.
	BandFramework BandSource = "the framework's band"
	// BandMeasured: the spread of the runs a Calibrated estimate's throughput was measured on.
	BandMeasured BandSource = "the measured spread"
)

// Terms are the parts of an estimate's figures as the engine computed them: the inputs, constants
// and intermediate values a person checks each figure by. A printer shows a figure with its formula
// from these, and never computes anything again.
type Terms struct {
	// Examples, TokensPerExample and Epochs multiply to Tokens, the training tokens; Tokens is zero
	// when the input states no tokens per example.
	Examples         int64
	TokensPerExample int64
	Epochs           int32
	Tokens           decimal.Decimal
	// Band is the +/- band on estimated GPU-hours as a fraction (0.3 is +/-30%), and BandFrom says
	// why; zero for measured hours and token-priced training.
	Band     decimal.Decimal
	BandFrom BandSource
	// FLOPs is the work on one token of the FLOPs estimator; nil for the others.
	FLOPs *FLOPsTerms
	// TrainingCostExact is GPU-hours x price before the cent; nil for token-priced training.
	TrainingCostExact *decimal.Decimal
	// TrainingCostLow and TrainingCostHigh are the training cost at the band's ends, UpfrontLow and
	// UpfrontHigh the upfront cost there (with the one-time costs); nil without a band.
	TrainingCostLow, TrainingCostHigh *Money
	UpfrontLow, UpfrontHigh           *Money
	// SavingsOverHorizon is the sum of the months' savings.
	SavingsOverHorizon Money
	// BreakEvenMonth is the month of the horizon in which the cumulative savings reach the upfront
	// cost (0: after the horizon, or never), and SavingsBeforeBreakEven the savings before it.
	BreakEvenMonth         int
	SavingsBeforeBreakEven Money
}

// FLOPsTerms are the parts of the FLOPs estimator's work on one token.
type FLOPsTerms struct {
	Total decimal.Decimal
	// Parameters is the model's parameter count. Without an architecture, Total is PerParameter x
	// Parameters (FromParameters); with one, Total is BaseFactor x Parameters + AdapterFactor x
	// AdapterParameters + Attention + Recompute.
	Parameters     decimal.Decimal
	FromParameters bool
	PerParameter   decimal.Decimal
	// BaseFactor is 6 for full training (forward 2, backward 4), 4 for a frozen base (no weight
	// gradients); AdapterFactor is 6 for each adapter parameter (0 for full training).
	BaseFactor, AdapterFactor int64
	AdapterParameters         decimal.Decimal
	// Attention is 12 x Layers x Hidden x Sequence.
	Attention                decimal.Decimal
	Layers, Hidden, Sequence int64
	// Recompute is the work run again under activation checkpointing (Checkpointing).
	Recompute     decimal.Decimal
	Checkpointing Checkpointing
}

// terms completes r's terms once its months are projected.
func terms(in *Input, r *Result, t *training) {
	tm := &r.Terms
	tm.Examples, tm.TokensPerExample, tm.Epochs = in.Examples, in.TokensPerExample, epochs(in)
	if in.TokensPerExample > 0 {
		tm.Tokens = TrainingTokens(in)
	}
	tm.Band, tm.BandFrom, tm.FLOPs = t.band, t.bandFrom, t.flops
	if r.PricePerGPUHour != nil && r.GPUHours != nil {
		exact := r.GPUHours.Mul(*r.PricePerGPUHour)
		tm.TrainingCostExact = &exact
	}
	if r.PricePerGPUHour != nil && r.GPUHoursLow != nil && r.GPUHoursHigh != nil {
		low, high := Cents(r.GPUHoursLow.Mul(*r.PricePerGPUHour)), Cents(r.GPUHoursHigh.Mul(*r.PricePerGPUHour))
		upLow, upHigh := r.OneTimeCost.Add(low), r.OneTimeCost.Add(high)
		tm.TrainingCostLow, tm.TrainingCostHigh, tm.UpfrontLow, tm.UpfrontHigh = &low, &high, &upLow, &upHigh
	}
	var cum Money
	for _, mo := range r.Months {
		if tm.BreakEvenMonth == 0 && cum.Add(mo.Savings).Cmp(r.UpfrontCost) >= 0 {
			tm.BreakEvenMonth, tm.SavingsBeforeBreakEven = mo.Month, cum
		}
		cum = cum.Add(mo.Savings)
	}
	tm.SavingsOverHorizon = cum
	if tm.BreakEvenMonth == 0 {
		tm.SavingsBeforeBreakEven = cum
	}
}
