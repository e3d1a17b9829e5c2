package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/shopspring/decimal"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

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
	reg.MustRegister(&CatalogCollector{Reader: c, Now: func() time.Time { return now }})
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

// Register puts every metric of the operator in the registry it is given, and nothing in
// controller-runtime's; a second manager in the same process replaces the first one's.
func TestRegister(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(catalog("default", "2026-01-01", true)).Build()
	reg := prometheus.NewPedanticRegistry()
	if _, err := Register(reg, c); err != nil {
		t.Fatal(err)
	}
	runs, err := Register(reg, c)
	if err != nil {
		t.Fatalf("registering a second time: %v", err)
	}
	before := testutil.ToFloat64(gateDecisions.WithLabelValues(GateJob, "Wait"))
	RecordGateDecision(GateJob, "Wait")
	RecordGateDecision(GateJob, "Wait")
	RecordGateDecision(GateKueue, "Pass")
	if got := testutil.ToFloat64(gateDecisions.WithLabelValues(GateJob, "Wait")) - before; got != 2 {
		t.Errorf("job/Wait grew by %v, want 2", got)
	}
	runs.ObserveRun(&ftv1.FineTuneEstimateStatus{Estimator: ftv1.EstimatorFLOPs}, decimal.RequireFromString("1.1"), true)
	runs.ObserveRun(&ftv1.FineTuneEstimateStatus{Estimator: ftv1.EstimatorFLOPs}, decimal.Zero, false)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	ratios := map[string]uint64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			switch f.GetName() {
			case "ftcost_estimate_error_ratio":
				ratios[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleCount()
			case "ftcost_build_info":
				got[f.GetName()] = m.GetGauge().GetValue()
			case "ftcost_catalog_stale":
				got[f.GetName()] = m.GetGauge().GetValue()
			case "ftcost_gate_decisions_total":
				got[f.GetName()] += m.GetCounter().GetValue()
			}
		}
	}
	if got["ftcost_build_info"] != 1 || got["ftcost_catalog_stale"] != 1 || got["ftcost_gate_decisions_total"] < 3 {
		t.Errorf("gathered %v; want build info 1, the catalog stale, at least 3 gate decisions", got)
	}
	// Every estimator's series exists from the start, at zero, so a dashboard's increase() counts
	// the first run after a restart.
	if diff := cmp.Diff(map[string]uint64{string(ftv1.EstimatorEmpirical): 0, string(ftv1.EstimatorFLOPs): 1,
		string(ftv1.EstimatorCalibrated): 0, string(ftv1.EstimatorMeasured): 0}, ratios); diff != "" {
		t.Errorf("error ratio observations by estimator (-want +got):\n%s", diff)
	}
	// Nothing registered itself in controller-runtime's registry.
	global, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range global {
		if strings.HasPrefix(f.GetName(), "ftcost_") {
			t.Errorf("%s is in controller-runtime's registry without Register", f.GetName())
		}
	}
}
