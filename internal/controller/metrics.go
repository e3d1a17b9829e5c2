package controller

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// Metrics are the per-estimate gauges the manager exports; each series is deleted with its estimate.
type Metrics struct {
	upfront   *prometheus.GaugeVec
	breakEven *prometheus.GaugeVec
	approved  *prometheus.GaugeVec
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
	}
	reg.MustRegister(m.upfront, m.breakEven, m.approved)
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
}

// Forget deletes the series of a deleted estimate.
func (m *Metrics) Forget(key types.NamespacedName) {
	labels := prometheus.Labels{"namespace": key.Namespace, "name": key.Name}
	m.upfront.Delete(labels)
	m.breakEven.Delete(labels)
	m.approved.Delete(labels)
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
