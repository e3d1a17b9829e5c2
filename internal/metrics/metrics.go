// Package metrics holds the operator's own metrics: gate decisions by outcome, the error of each
// recorded run, each estimate's figures, the staleness of each PriceCatalog and the build. Register
// registers them, in one place, with the registry the manager is given (controller-runtime's, which
// its metrics endpoint serves, unless a test gives another); nothing registers itself.
package metrics

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/version"
)

// Gates, the values of the gate label of ftcost_gate_decisions_total.
const (
	// GateJob is the Job gate (suspended Jobs labelled ftcost.io/estimate).
	GateJob = "job"
	// GateKueue is the Kueue AdmissionCheck ftcost.io/cost-gate.
	GateKueue = "kueue"
)

// gateDecisions counts the gates' decisions. The gates count through RecordGateDecision, so the
// counter is the process's; Register puts it in the manager's registry.
var gateDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "ftcost_gate_decisions_total",
	Help: "Decisions of the cost gates on a Job or Workload, by gate (job, kueue) and outcome (Pass, Wait, Reject).",
}, []string{"gate", "outcome"})

// RecordGateDecision counts one decision of a gate (GateJob or GateKueue); outcome is the
// gate.Outcome as a string.
func RecordGateDecision(gate, outcome string) {
	gateDecisions.WithLabelValues(gate, outcome).Inc()
}

// Runs is what the actuals reconciler observes as it happens: the error of each recorded run. The
// per-estimate gauges are read from the cache when scraped (EstimateSeries).
type Runs struct {
	errorRatio *prometheus.HistogramVec
	overCap    *prometheus.CounterVec
}

func newRuns() *Runs {
	// Buckets around 1 (a perfect estimate): the article's +/-30% band is 0.7 to 1.3.
	r := &Runs{errorRatio: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ftcost_estimate_error_ratio",
		Help:    "Actual over estimated GPU-hours of each finished run, by the estimator that estimated it.",
		Buckets: []float64{0.25, 0.5, 0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.3, 1.5, 2, 4}}, []string{"estimator"}),
		overCap: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ftcost_spend_over_cap_total",
			Help: "Running workloads whose accrued cost passed their limit (spend cap plus the CostPolicy overrunPercent), by the overrun applied (Warn, Suspend)."},
			[]string{"action"})}
	// Every estimator's series exists from the start: increase() over a range misses a series'
	// first sample, which would drop the first run of each estimator after every restart.
	for _, e := range []ftv1.Estimator{ftv1.EstimatorEmpirical, ftv1.EstimatorFLOPs, ftv1.EstimatorCalibrated, ftv1.EstimatorMeasured} {
		r.errorRatio.WithLabelValues(string(e))
	}
	for _, a := range []ftv1.OverrunAction{ftv1.OverrunWarn, ftv1.OverrunSuspend} {
		r.overCap.WithLabelValues(string(a))
	}
	return r
}

// ObserveRun counts a newly recorded run's error ratio, when it had an estimate to compare with.
func (r *Runs) ObserveRun(s *ftv1.FineTuneEstimateStatus, ratio decimal.Decimal, ok bool) {
	if ok {
		r.errorRatio.WithLabelValues(string(s.Estimator)).Observe(ratio.InexactFloat64())
	}
}

// ObserveOverCap counts a running workload that passed its limit, once, by the overrun applied.
func (r *Runs) ObserveOverCap(action ftv1.OverrunAction) {
	r.overCap.WithLabelValues(string(action)).Inc()
}

// Register registers every metric of the operator with reg: the gate decisions, the build, the run
// errors (returned, for the actuals reconciler) and the catalogs' staleness read from cache when
// scraped. A metric an earlier manager in the same process registered with reg is replaced (tests
// start several). The estimate series are not registered: the metrics endpoint writes them after
// the registry's (EstimateSeries.Wrap).
func Register(reg prometheus.Registerer, cache client.Reader) (*Runs, error) {
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ftcost_build_info",
		Help: "Always 1; the labels say which build of the manager is running.",
	}, []string{"version", "revision", "goversion"})
	build.WithLabelValues(version.Get(), version.Revision(), runtime.Version()).Set(1)
	runs := newRuns()
	for _, c := range []prometheus.Collector{gateDecisions, build, runs.errorRatio, runs.overCap, &CatalogCollector{Reader: cache}, &BudgetCollector{Reader: cache}} {
		reg.Unregister(c)
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return runs, nil
}
