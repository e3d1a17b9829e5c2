package engine

import (
	"slices"

	"github.com/shopspring/decimal"
)

// OutlierFactor bounds a calibration sample: a run that measured more than this many times the
// median throughput of its samples, or less than the median over it, is rejected as an outlier. A
// throughput is a claim (the estimate's tokens over the GPU time its pods used): one team's run
// that claims a dataset it did not train on must not move another team's plan. Same-model,
// same-GPU runs on one stack differ by tens of percent, not by a factor of two (docs/actuals.md).
var OutlierFactor = decimal.NewFromInt(2)

// RobustThroughput is the throughput of samples that outliers cannot move: the median, after
// rejecting every sample more than OutlierFactor from the median of all of them; the spread is
// the accepted samples' relative standard deviation. Accepted and Rejected index samples.
type RobustThroughput struct {
	Median             decimal.Decimal
	SpreadPercent      decimal.Decimal
	Accepted, Rejected []int
}

// Robust computes RobustThroughput; the zero value for no samples.
func Robust(samples []decimal.Decimal) RobustThroughput {
	var r RobustThroughput
	if len(samples) == 0 {
		return r
	}
	all := median(samples)
	var kept []decimal.Decimal
	for i, x := range samples {
		if x.Sign() <= 0 || x.GreaterThan(all.Mul(OutlierFactor)) || x.Mul(OutlierFactor).LessThan(all) {
			r.Rejected = append(r.Rejected, i)
			continue
		}
		r.Accepted = append(r.Accepted, i)
		kept = append(kept, x)
	}
	if len(kept) == 0 {
		return r
	}
	r.Median = median(kept)
	st := ThroughputStats{Sum: decimal.Zero, SumSquares: decimal.Zero}
	for _, x := range kept {
		st = st.Add(x)
	}
	r.SpreadPercent = st.SpreadPercent()
	return r
}

// median of xs (not empty): the middle one, or the mean of the two middle ones to four places.
func median(xs []decimal.Decimal) decimal.Decimal {
	s := slices.Clone(xs)
	slices.SortFunc(s, func(a, b decimal.Decimal) int { return a.Cmp(b) })
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return s[n/2-1].Add(s[n/2]).DivRound(decimal.NewFromInt(2), 4)
}
