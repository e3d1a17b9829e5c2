package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shopspring/decimal"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

var budgetLabels = []string{"costpolicy", "namespace", "period"}

var (
	budgetDesc = prometheus.NewDesc("ftcost_budget_usd",
		"A CostPolicy's budget for a namespace in the current period (status.budget), USD; namespace \"\" is the policy's total.",
		budgetLabels, nil)
	budgetCommittedDesc = prometheus.NewDesc("ftcost_budget_committed_usd",
		"Spend caps committed by the workloads running now, charged to the current period, USD.", budgetLabels, nil)
	budgetSpentDesc = prometheus.NewDesc("ftcost_budget_spent_usd",
		"Actual cost of the finished workloads charged to the current period, USD.", budgetLabels, nil)
	budgetRemainingDesc = prometheus.NewDesc("ftcost_budget_remaining_usd",
		"Budget less committed and spent in the current period, USD; negative once runs overspent.", budgetLabels, nil)
	budgetForecastDesc = prometheus.NewDesc("ftcost_budget_forecast_usd",
		"What the current period will have spent once the workloads running now finish, USD.", budgetLabels, nil)
)

// BudgetCollector reports the current period's figures of each CostPolicy's budget when scraped,
// from the manager's cache (status.budget, written by the budget reconciler): the series follow the
// policies and periods with no state of their own.
type BudgetCollector struct {
	Reader client.Reader
}

// Describe implements prometheus.Collector.
func (c *BudgetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{budgetDesc, budgetCommittedDesc, budgetSpentDesc, budgetRemainingDesc, budgetForecastDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *BudgetCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list := &ftv1.CostPolicyList{}
	if err := c.Reader.List(ctx, list); err != nil {
		ch <- prometheus.NewInvalidMetric(budgetDesc, err)
		return
	}
	for i := range list.Items {
		st := list.Items[i].Status.Budget
		if st == nil {
			continue
		}
		for _, ps := range st.Periods {
			if ps.Period != st.Current {
				continue
			}
			emit(ch, list.Items[i].Name, "", ps.Period, ps.Total)
			for _, ns := range ps.Namespaces {
				emit(ch, list.Items[i].Name, ns.Namespace, ps.Period, ns.BudgetFigures)
			}
		}
	}
}

func emit(ch chan<- prometheus.Metric, policy, ns, period string, f ftv1.BudgetFigures) {
	for _, m := range []struct {
		desc  *prometheus.Desc
		value string
	}{{budgetDesc, string(f.Budget)}, {budgetCommittedDesc, string(f.Committed)}, {budgetSpentDesc, string(f.Spent)},
		{budgetRemainingDesc, string(f.Remaining)}, {budgetForecastDesc, string(f.Forecast)}} {
		if v, err := decimal.NewFromString(m.value); err == nil {
			ch <- prometheus.MustNewConstMetric(m.desc, prometheus.GaugeValue, v.InexactFloat64(), policy, ns, period)
		}
	}
}
