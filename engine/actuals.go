package engine

import (
	"math"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Calibrated is the estimator that divides a job's training tokens by the throughput measured on
// this cluster's own finished runs of the same model, method and GPU type (docs/actuals.md).
const Calibrated Estimator = "Calibrated"

// MinCalibrationSamples is the fewest measured runs the Calibrated estimator uses; with fewer it
// falls back to the FLOPs model and says so. Three is the fewest that give a spread worth a band.
const MinCalibrationSamples int64 = 3

// Throughput is training throughput measured on finished runs, the Calibrated estimator's input.
type Throughput struct {
	// Profile names where the measurement is kept (a ThroughputProfile in the operator).
	Profile string
	// TokensPerGPUSecond is the mean measured throughput of one GPU.
	TokensPerGPUSecond decimal.Decimal
	// Samples is how many runs were measured.
	Samples int64
	// SpreadPercent is the runs' relative standard deviation, in percent; it sets the band.
	SpreadPercent decimal.Decimal
	// Rejected names the samples left out as outliers (RobustThroughput), for the message.
	Rejected []string
}

// Calibration says whether the Calibrated estimator could use a measured throughput.
type Calibration struct {
	Profile string
	Samples int64
	// Used is false when there were too few samples and the FLOPs model was used instead.
	Used    bool
	Message string
}

// GPUSeconds is the GPU time of one pod: gpus x the seconds between start and end (0 when end is
// not after start). Sub-second remainders are dropped, the same way every time.
func GPUSeconds(gpus int64, start, end time.Time) int64 {
	if gpus <= 0 || !end.After(start) {
		return 0
	}
	return gpus * int64(end.Sub(start)/time.Second)
}

// GPUHoursOf turns GPU-seconds into GPU-hours, rounded to six places for display.
func GPUHoursOf(gpuSeconds int64) decimal.Decimal {
	return decimal.NewFromInt(gpuSeconds).DivRound(secondsInHour, hoursPlaces)
}

// ActualCost is what gpuSeconds of GPU time cost at pricePerGPUHour: one rounding, to the cent,
// of the exact product (the division by 3600 is carried to 16 places first).
func ActualCost(gpuSeconds int64, pricePerGPUHour decimal.Decimal) Money {
	return Cents(decimal.NewFromInt(gpuSeconds).Mul(pricePerGPUHour).DivRound(secondsInHour, 16))
}

// ActualVsEstimate compares actual with estimated GPU-hours: the ratio actual / estimated (four
// places) and the signed change in percent with no decimals, "+24" or "-3"; ok is false when
// nothing was estimated.
func ActualVsEstimate(actual, estimated decimal.Decimal) (ratio decimal.Decimal, percent string, ok bool) {
	if estimated.Sign() <= 0 {
		return decimal.Zero, "", false
	}
	ratio = actual.DivRound(estimated, 4)
	pct := actual.Sub(estimated).Mul(hundred).DivRound(estimated, 0)
	percent = pct.String()
	if pct.Sign() >= 0 {
		percent = "+" + percent
	}
	return ratio, percent, true
}

// RunThroughput is tokens per GPU-second of a run, four places; ok is false without GPU time.
func RunThroughput(tokens decimal.Decimal, gpuSeconds int64) (decimal.Decimal, bool) {
	if tokens.Sign() <= 0 || gpuSeconds <= 0 {
		return decimal.Zero, false
	}
	return tokens.DivRound(decimal.NewFromInt(gpuSeconds), 4), true
}

// ThroughputStats are running sums of measured throughputs: enough for the mean and the spread
// without keeping every sample.
type ThroughputStats struct {
	Samples    int64
	Sum        decimal.Decimal
	SumSquares decimal.Decimal
}

// Add folds one sample in.
func (s ThroughputStats) Add(x decimal.Decimal) ThroughputStats {
	return ThroughputStats{Samples: s.Samples + 1, Sum: s.Sum.Add(x), SumSquares: s.SumSquares.Add(x.Mul(x))}
}

// Mean is the mean throughput, four places (0 without samples).
func (s ThroughputStats) Mean() decimal.Decimal {
	if s.Samples == 0 {
		return decimal.Zero
	}
	return s.Sum.DivRound(decimal.NewFromInt(s.Samples), 4)
}

// SpreadPercent is the sample standard deviation over the mean, in percent, one decimal (0 with
// fewer than two samples). The square root is taken in float64: a spread is a statistic, not money.
func (s ThroughputStats) SpreadPercent() decimal.Decimal {
	if s.Samples < 2 || s.Sum.Sign() <= 0 {
		return decimal.Zero
	}
	n := decimal.NewFromInt(s.Samples)
	// (sumsq - sum^2/n) / (n-1), exact but for the division.
	variance := s.SumSquares.Sub(s.Sum.Mul(s.Sum).DivRound(n, 16)).DivRound(n.Sub(one), 16)
	if variance.Sign() <= 0 {
		return decimal.Zero
	}
	sd := decimal.NewFromFloat(math.Sqrt(variance.InexactFloat64()))
	mean := s.Sum.DivRound(n, 16)
	return sd.Mul(hundred).DivRound(mean, 1)
}

// calibrate decides whether the Calibrated estimator can use the input's throughput.
func calibrate(in *Input) (*Calibration, bool) {
	tp := in.Throughput
	if tp == nil {
		return &Calibration{Message: "no throughput has been measured for this model, method and GPU type yet; estimated by FLOPs"}, false
	}
	c := &Calibration{Profile: tp.Profile, Samples: tp.Samples}
	switch {
	case tp.Samples < MinCalibrationSamples:
		c.Message = "ThroughputProfile " + tp.Profile + " has " + decimal.NewFromInt(tp.Samples).String() + " of the " +
			decimal.NewFromInt(MinCalibrationSamples).String() + " measured runs calibration needs; estimated by FLOPs"
		return c, false
	case tp.TokensPerGPUSecond.Sign() <= 0:
		c.Message = "ThroughputProfile " + tp.Profile + " has no throughput; estimated by FLOPs"
		return c, false
	}
	c.Used = true
	c.Message = "measured " + tp.TokensPerGPUSecond.String() + " tokens per GPU-second (the median) over " +
		decimal.NewFromInt(tp.Samples).String() + " runs (ThroughputProfile " + tp.Profile + "), spread " + tp.SpreadPercent.String() + "%"
	if len(tp.Rejected) > 0 {
		c.Message += "; left out as outliers (more than " + OutlierFactor.String() + "x from the median): " + strings.Join(tp.Rejected, ", ")
	}
	return c, true
}

// OverrunLimit is the most a run capped at spendCap may spend before its overrun applies: the cap
// plus percent of it, to the cent.
func OverrunLimit(spendCap Money, percent decimal.Decimal) Money {
	return Cents(spendCap.Decimal().Mul(hundred.Add(percent)).DivRound(hundred, 16))
}
