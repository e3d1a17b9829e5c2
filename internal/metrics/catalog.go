package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

var (
	catalogStaleDesc = prometheus.NewDesc("ftcost_catalog_stale",
		"1 while a PriceCatalog's Stale condition is True (a price is older than spec.maxAge), else 0.",
		[]string{"catalog"}, nil)
	catalogAgeDesc = prometheus.NewDesc("ftcost_catalog_oldest_price_age_seconds",
		"Age of the oldest effectiveDate of a PriceCatalog's prices (status.oldestEffectiveDate).",
		[]string{"catalog"}, nil)
)

// CatalogCollector reports each PriceCatalog's staleness when scraped, from the manager's cache, so
// no controller has to keep the series in step with catalogs coming and going.
type CatalogCollector struct {
	Reader client.Reader
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Describe implements prometheus.Collector.
func (c *CatalogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- catalogStaleDesc
	ch <- catalogAgeDesc
}

// Collect implements prometheus.Collector.
func (c *CatalogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list := &ftv1.PriceCatalogList{}
	if err := c.Reader.List(ctx, list); err != nil {
		ch <- prometheus.NewInvalidMetric(catalogStaleDesc, err)
		return
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	for i := range list.Items {
		pc := &list.Items[i]
		stale := 0.0
		if meta.IsStatusConditionTrue(pc.Status.Conditions, ftv1.ConditionStale) {
			stale = 1
		}
		ch <- prometheus.MustNewConstMetric(catalogStaleDesc, prometheus.GaugeValue, stale, pc.Name)
		if d, err := time.Parse(time.DateOnly, pc.Status.OldestEffectiveDate); err == nil {
			ch <- prometheus.MustNewConstMetric(catalogAgeDesc, prometheus.GaugeValue, now().Sub(d).Seconds(), pc.Name)
		}
	}
}
