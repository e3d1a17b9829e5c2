package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
	ftmetrics "github.com/ftcost/ftcost/internal/metrics"
)

// Metrics are what the reconcilers observe as it happens: the error of each recorded run. The
// per-estimate gauges are read from the cache when scraped (metrics.EstimateSeries).
type Metrics struct {
	errorRatio *prometheus.HistogramVec
}

// NewMetrics creates the histogram and registers it with reg, replacing one an earlier manager in
// the same process registered (tests start several).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	// Buckets around 1 (a perfect estimate): the article's +/-30% band is 0.7 to 1.3.
	m := &Metrics{errorRatio: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ftcost_estimate_error_ratio",
		Help:    "Actual over estimated GPU-hours of each finished run, by the estimator that estimated it.",
		Buckets: []float64{0.25, 0.5, 0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.3, 1.5, 2, 4}}, []string{"estimator"})}
	// Every estimator's series exists from the start: increase() over a range misses a series'
	// first sample, which would drop the first run of each estimator after every restart.
	for _, e := range []ftv1.Estimator{ftv1.EstimatorEmpirical, ftv1.EstimatorFLOPs, ftv1.EstimatorCalibrated, ftv1.EstimatorMeasured} {
		m.errorRatio.WithLabelValues(string(e))
	}
	reg.MustRegister(m.errorRatio)
	return m
}

// ObserveRun counts a newly recorded run's error ratio, when it had an estimate to compare with.
func (m *Metrics) ObserveRun(s *ftv1.FineTuneEstimateStatus, ratio decimal.Decimal, ok bool) {
	if ok {
		m.errorRatio.WithLabelValues(string(s.Estimator)).Observe(ratio.InexactFloat64())
	}
}

// The gate label values of the two gates.
const (
	gateJob   = ftmetrics.GateJob
	gateKueue = ftmetrics.GateKueue
)

// decided counts a gate's decision (ftcost_gate_decisions_total) and returns it unchanged.
func decided(gateName string, d gate.Decision) gate.Decision {
	ftmetrics.RecordGateDecision(gateName, string(d.Outcome))
	return d
}
