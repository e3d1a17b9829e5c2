package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// estimateFigure is a per-estimate gauge read from a status string.
type estimateFigure struct {
	desc   *prometheus.Desc
	figure func(*ftv1.FineTuneEstimateStatus) string
}

var (
	estimateLabels = []string{"namespace", "name"}
	figures        = []estimateFigure{
		{prometheus.NewDesc("ftcost_estimate_upfront_cost_usd",
			"Upfront cost (training plus one-time costs) of a FineTuneEstimate, in USD.", estimateLabels, nil),
			func(s *ftv1.FineTuneEstimateStatus) string { return s.UpfrontCost }},
		{prometheus.NewDesc("ftcost_estimate_break_even_months",
			"Months until a FineTuneEstimate's cumulative savings cover its upfront cost; absent when it never pays back.", estimateLabels, nil),
			func(s *ftv1.FineTuneEstimateStatus) string { return s.BreakEvenMonths }},
		{prometheus.NewDesc("ftcost_estimate_net_savings_usd",
			"Cumulative savings of a FineTuneEstimate over its horizon minus the upfront cost, undiscounted, in USD.", estimateLabels, nil),
			func(s *ftv1.FineTuneEstimateStatus) string { return s.NetSavings }},
		{prometheus.NewDesc("ftcost_estimate_net_present_value_usd",
			"Net present value of fine-tuning over the horizon of a FineTuneEstimate, in USD.", estimateLabels, nil),
			func(s *ftv1.FineTuneEstimateStatus) string { return s.NetPresentValue }},
		{prometheus.NewDesc("ftcost_estimate_api_monthly_cost_usd",
			"First-month API cost of a FineTuneEstimate, in USD.", estimateLabels, nil),
			func(s *ftv1.FineTuneEstimateStatus) string { return s.APIMonthlyCost }},
		{prometheus.NewDesc("ftcost_estimate_serving_monthly_cost_usd",
			"First-month cost of serving the fine-tuned model of a FineTuneEstimate, in USD.", estimateLabels, nil),
			func(s *ftv1.FineTuneEstimateStatus) string { return s.ServingMonthlyCost }},
		{prometheus.NewDesc("ftcost_estimate_actual_spend_usd",
			"What the finished runs gated by a FineTuneEstimate cost, in USD (status.actuals.spend).", estimateLabels, nil),
			func(s *ftv1.FineTuneEstimateStatus) string {
				if s.Actuals == nil {
					return ""
				}
				return s.Actuals.Spend
			}},
	}
	approvedDesc = prometheus.NewDesc("ftcost_estimate_approved",
		"1 when a FineTuneEstimate's Approved condition is True, else 0.", estimateLabels, nil)
	recommendationDesc = prometheus.NewDesc("ftcost_estimate_recommendation",
		"1 for a FineTuneEstimate's current recommendation (FineTune, API or Undetermined).", append(estimateLabels, "recommendation"), nil)
)

// EstimateCollector reports each FineTuneEstimate's figures when scraped, read from its status in
// the manager's cache. Nothing is kept between scrapes: a deleted estimate's series are gone with
// it, and the manager holds no second copy of 10,000 estimates' figures (about 3 KB of label pairs
// and gauges an estimate when they were kept as gauges; docs/benchmarks.md).
type EstimateCollector struct {
	Reader client.Reader
}

// Describe implements prometheus.Collector.
func (c *EstimateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range figures {
		ch <- f.desc
	}
	ch <- approvedDesc
	ch <- recommendationDesc
}

// Collect implements prometheus.Collector.
func (c *EstimateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list := &ftv1.FineTuneEstimateList{}
	// Read-only: the cache's objects themselves, not 10,000 copies a scrape.
	if err := c.Reader.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		ch <- prometheus.NewInvalidMetric(approvedDesc, err)
		return
	}
	for i := range list.Items {
		e := &list.Items[i]
		s := &e.Status
		for _, f := range figures {
			// Metrics are floats by nature; the API never is. Empty or unparsable: no series.
			if v, err := strconv.ParseFloat(f.figure(s), 64); err == nil {
				ch <- prometheus.MustNewConstMetric(f.desc, prometheus.GaugeValue, v, e.Namespace, e.Name)
			}
		}
		approved := 0.0
		if meta.IsStatusConditionTrue(s.Conditions, ftv1.ConditionApproved) {
			approved = 1
		}
		ch <- prometheus.MustNewConstMetric(approvedDesc, prometheus.GaugeValue, approved, e.Namespace, e.Name)
		if s.Recommendation != "" {
			ch <- prometheus.MustNewConstMetric(recommendationDesc, prometheus.GaugeValue, 1, e.Namespace, e.Name, string(s.Recommendation))
		}
	}
}

// RegisterEstimateCollector registers c with reg, replacing a collector registered by an earlier
// manager in the same process (tests start several).
func RegisterEstimateCollector(reg prometheus.Registerer, c *EstimateCollector) error {
	reg.Unregister(c)
	return reg.Register(c)
}
