package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/scheme"
)

func catalog(name, oldest string, stale bool) *ftv1.PriceCatalog {
	pc := &ftv1.PriceCatalog{ObjectMeta: metav1.ObjectMeta{Name: name}}
	pc.Status.OldestEffectiveDate = oldest
	if stale {
		pc.Status.Conditions = []metav1.Condition{{Type: ftv1.ConditionStale, Status: metav1.ConditionTrue, Reason: ftv1.ReasonPricesOutdated}}
	}
	return pc
}

func TestCatalogCollector(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(
		catalog("default", "2026-01-01", false),
		catalog("premium", "2025-12-30", true),
		catalog("fresh", "", false), // not yet reconciled: no age
	).Build()
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	reg := prometheus.NewPedanticRegistry()
	cc := &CatalogCollector{Reader: c, Now: func() time.Time { return now }}
	if err := RegisterCatalogCollector(reg, cc); err != nil {
		t.Fatal(err)
	}
	// A second manager in the same process replaces the first collector rather than failing.
	if err := RegisterCatalogCollector(reg, &CatalogCollector{Reader: c, Now: cc.Now}); err != nil {
		t.Fatalf("registering a second collector: %v", err)
	}
	want := `
# HELP ftcost_catalog_oldest_price_age_seconds Age of the oldest effectiveDate of a PriceCatalog's prices (status.oldestEffectiveDate).
# TYPE ftcost_catalog_oldest_price_age_seconds gauge
ftcost_catalog_oldest_price_age_seconds{catalog="default"} 86400
ftcost_catalog_oldest_price_age_seconds{catalog="premium"} 259200
# HELP ftcost_catalog_stale 1 while a PriceCatalog's Stale condition is True (a price is older than spec.maxAge), else 0.
# TYPE ftcost_catalog_stale gauge
ftcost_catalog_stale{catalog="default"} 0
ftcost_catalog_stale{catalog="fresh"} 0
ftcost_catalog_stale{catalog="premium"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestRecordGateDecision(t *testing.T) {
	before := testutil.ToFloat64(gateDecisions.WithLabelValues(GateJob, "Wait"))
	RecordGateDecision(GateJob, "Wait")
	RecordGateDecision(GateJob, "Wait")
	RecordGateDecision(GateKueue, "Pass")
	if got := testutil.ToFloat64(gateDecisions.WithLabelValues(GateJob, "Wait")) - before; got != 2 {
		t.Errorf("job/Wait grew by %v, want 2", got)
	}
	if got := testutil.ToFloat64(buildInfo); got != 1 {
		t.Errorf("ftcost_build_info = %v, want 1", got)
	}
}
