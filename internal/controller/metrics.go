package controller

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
	ftmetrics "github.com/ftcost/ftcost/internal/metrics"
)

// Metrics are the per-estimate gauges the manager exports; each series is deleted with its estimate.
type Metrics struct {
	upfront        *prometheus.GaugeVec
	breakEven      *prometheus.GaugeVec
	approved       *prometheus.GaugeVec
	netSavings     *prometheus.GaugeVec
	npv            *prometheus.GaugeVec
	apiMonthly     *prometheus.GaugeVec
	servingMonthly *prometheus.GaugeVec
	recommendation *prometheus.GaugeVec
	actualSpend    *prometheus.GaugeVec
	errorRatio     *prometheus.HistogramVec
}

// NewMetrics creates the gauges and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	labels := []string{"namespace", "name"}
	m := &Metrics{
		upfront: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ftcost_estimate_upfront_cost_usd",
			Help: "Upfront cost (training plus one-time costs) of a FineTuneEstimate, in USD."}, labels),
		breakEven: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ftcost_estimate_break_even_months",
			Help: "Months until a FineTuneEstimate's cumulative savings cover its upfront cost; absent when it never pays back."}, labels),
		approved: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ftcost_estimate_approved",
			Help: "1 when a FineTuneEstimate's Approved condition is True, else 0."}, labels),
		netSavings: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ftcost_estimate_net_savings_usd",
			Help: "Cumulative savings of a FineTuneEstimate over its horizon minus the upfront cost, undiscounted, in USD."}, labels),
		npv: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ftcost_estimate_net_present_value_usd",
			Help: "Net present value of fine-tuning over the horizon of a FineTuneEstimate, in USD."}, labels),
		apiMonthly: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ftcost_estimate_api_monthly_cost_usd",
			Help: "First-month API cost of a FineTuneEstimate, in USD."}, labels),
		servingMonthly: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ftcost_estimate_serving_monthly_cost_usd",
			Help: "First-month cost of serving the fine-tuned model of a FineTuneEstimate, in USD."}, labels),
		recommendation: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ftcost_estimate_recommendation",
			Help: "1 for a FineTuneEstimate's current recommendation (FineTune, API or Undetermined)."}, append(labels, "recommendation")),
	}
	m.actualSpend = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ftcost_estimate_actual_spend_usd",
		Help: "What the finished runs gated by a FineTuneEstimate cost, in USD (status.actuals.spend)."}, labels)
	// Buckets around 1 (a perfect estimate): the article's +/-30% band is 0.7 to 1.3.
	m.errorRatio = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ftcost_estimate_error_ratio",
		Help:    "Actual over estimated GPU-hours of each finished run, by the estimator that estimated it.",
		Buckets: []float64{0.25, 0.5, 0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.3, 1.5, 2, 4}}, []string{"estimator"})
	// Every estimator's series exists from the start: increase() over a range misses a series'
	// first sample, which would drop the first run of each estimator after every restart.
	for _, e := range []ftv1.Estimator{ftv1.EstimatorEmpirical, ftv1.EstimatorFLOPs, ftv1.EstimatorCalibrated, ftv1.EstimatorMeasured} {
		m.errorRatio.WithLabelValues(string(e))
	}
	reg.MustRegister(m.upfront, m.breakEven, m.approved, m.netSavings, m.npv, m.apiMonthly, m.servingMonthly, m.recommendation,
		m.actualSpend, m.errorRatio)
	return m
}

// Observe sets the gauges of one estimate from its status.
func (m *Metrics) Observe(key types.NamespacedName, s *ftv1.FineTuneEstimateStatus) {
	labels := prometheus.Labels{"namespace": key.Namespace, "name": key.Name}
	setOrDelete(m.upfront, labels, s.UpfrontCost)
	setOrDelete(m.breakEven, labels, s.BreakEvenMonths)
	approved := 0.0
	if meta.IsStatusConditionPresentAndEqual(s.Conditions, ftv1.ConditionApproved, metav1.ConditionTrue) {
		approved = 1
	}
	m.approved.With(labels).Set(approved)
	setOrDelete(m.netSavings, labels, s.NetSavings)
	setOrDelete(m.npv, labels, s.NetPresentValue)
	setOrDelete(m.apiMonthly, labels, s.APIMonthlyCost)
	setOrDelete(m.servingMonthly, labels, s.ServingMonthlyCost)
	spend := ""
	if s.Actuals != nil {
		spend = s.Actuals.Spend
	}
	setOrDelete(m.actualSpend, labels, spend)
	m.setRecommendation(key, s.Recommendation)
}

// recommendations are the values of the recommendation label: an enum, so a series is replaced by
// deleting the others by name (DeletePartialMatch would scan every estimate's series each time).
var recommendations = []ftv1.Recommendation{ftv1.RecommendationFineTune, ftv1.RecommendationAPI, ftv1.RecommendationUndetermined}

// setRecommendation exports 1 for current (none when empty) and deletes the estimate's other series.
func (m *Metrics) setRecommendation(key types.NamespacedName, current ftv1.Recommendation) {
	for _, r := range recommendations {
		if r != current {
			m.recommendation.DeleteLabelValues(key.Namespace, key.Name, string(r))
		}
	}
	if current != "" {
		m.recommendation.WithLabelValues(key.Namespace, key.Name, string(current)).Set(1)
	}
}

// Forget deletes the series of a deleted estimate.
func (m *Metrics) Forget(key types.NamespacedName) {
	labels := prometheus.Labels{"namespace": key.Namespace, "name": key.Name}
	m.upfront.Delete(labels)
	m.breakEven.Delete(labels)
	m.approved.Delete(labels)
	m.netSavings.Delete(labels)
	m.npv.Delete(labels)
	m.apiMonthly.Delete(labels)
	m.servingMonthly.Delete(labels)
	m.actualSpend.Delete(labels)
	m.setRecommendation(key, "")
}

// ObserveRun exports a newly recorded run: the estimate's actual spend, and the run's error ratio
// when it had an estimate to compare with.
func (m *Metrics) ObserveRun(key types.NamespacedName, s *ftv1.FineTuneEstimateStatus, ratio decimal.Decimal, ok bool) {
	if s.Actuals != nil {
		setOrDelete(m.actualSpend, prometheus.Labels{"namespace": key.Namespace, "name": key.Name}, s.Actuals.Spend)
	}
	if ok {
		m.errorRatio.WithLabelValues(string(s.Estimator)).Observe(ratio.InexactFloat64())
	}
}

// setOrDelete exports a decimal status figure; metrics are floats by nature, the API never is.
func setOrDelete(g *prometheus.GaugeVec, labels prometheus.Labels, figure string) {
	v, err := strconv.ParseFloat(figure, 64)
	if figure == "" || err != nil {
		g.Delete(labels)
		return
	}
	g.With(labels).Set(v)
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
