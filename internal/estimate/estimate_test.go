package estimate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
)

// named is the catalog of pcs an estimate with ref would find, nil when none.
func named(ref string, pcs ...*ftv1.PriceCatalog) *ftv1.PriceCatalog {
	name := CatalogRef(&ftv1.FineTuneEstimateSpec{PriceCatalogRef: ref})
	for _, pc := range pcs {
		if pc.Name == name {
			return pc
		}
	}
	return nil
}

func TestResolve(t *testing.T) {
	custom := catalog.FromEngine(engine.BuiltinCatalog(), "default")
	custom.Generation = 7
	custom.Spec.Providers[0].GPUPrices[0].PricePerGPUHour = "9.99"
	q3 := catalog.FromEngine(engine.BuiltinCatalog(), "q3")
	q3.Generation = 2
	cases := map[string]struct {
		ref     string
		pcs     []*ftv1.PriceCatalog
		want    ftv1.Pricing
		wantErr string
	}{
		"no default: built-in":           {"", nil, ftv1.Pricing{Catalog: "builtin", Source: ftv1.PricingSourceBuiltin}, ""},
		"explicit default missing":       {"default", nil, ftv1.Pricing{Catalog: "builtin", Source: ftv1.PricingSourceBuiltin}, ""},
		"default exists":                 {"", []*ftv1.PriceCatalog{custom}, ftv1.Pricing{Catalog: "default", CatalogGeneration: 7, Source: ftv1.PricingSourceCatalog}, ""},
		"named exists":                   {"q3", []*ftv1.PriceCatalog{custom, q3}, ftv1.Pricing{Catalog: "q3", CatalogGeneration: 2, Source: ftv1.PricingSourceCatalog}, ""},
		"named missing never falls back": {"q4", []*ftv1.PriceCatalog{custom}, ftv1.Pricing{}, `PriceCatalog "q4" not found`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := Resolve(&ftv1.FineTuneEstimateSpec{PriceCatalogRef: tc.ref}, named(tc.ref, tc.pcs...))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, res.Pricing); d != "" {
				t.Errorf("pricing (-want +got):\n%s", d)
			}
		})
	}
}

func TestChanges(t *testing.T) {
	ready := func(st metav1.ConditionStatus, reason, msg string) []metav1.Condition {
		return []metav1.Condition{{Type: ftv1.ConditionReady, Status: st, Reason: reason, Message: msg}}
	}
	cases := map[string]struct {
		prev, next ftv1.FineTuneEstimateStatus
		want       []Change
	}{
		"first estimate is quiet": {
			next: ftv1.FineTuneEstimateStatus{Recommendation: ftv1.RecommendationFineTune, UpfrontCost: "1001.25"},
		},
		"nothing moved": {
			prev: ftv1.FineTuneEstimateStatus{Recommendation: ftv1.RecommendationFineTune, UpfrontCost: "1001.25"},
			next: ftv1.FineTuneEstimateStatus{Recommendation: ftv1.RecommendationFineTune, UpfrontCost: "1001.25"},
		},
		"flip and price move": {
			prev: ftv1.FineTuneEstimateStatus{Recommendation: ftv1.RecommendationFineTune, UpfrontCost: "1001.25"},
			next: ftv1.FineTuneEstimateStatus{Recommendation: ftv1.RecommendationAPI, UpfrontCost: "1012.46"},
			want: []Change{
				{corev1.EventTypeNormal, ReasonRecommendationChanged, "Recommendation FineTune -> API"},
				{corev1.EventTypeNormal, ReasonUpfrontCostChanged, "Upfront cost 1001.25 -> 1012.46 (+1.1%)"},
			},
		},
		"price drop": {
			prev: ftv1.FineTuneEstimateStatus{UpfrontCost: "200.00"},
			next: ftv1.FineTuneEstimateStatus{UpfrontCost: "100.00"},
			want: []Change{{corev1.EventTypeNormal, ReasonUpfrontCostChanged, "Upfront cost 200.00 -> 100.00 (-50.0%)"}},
		},
		"from zero has no percentage": {
			prev: ftv1.FineTuneEstimateStatus{UpfrontCost: "0.00"},
			next: ftv1.FineTuneEstimateStatus{UpfrontCost: "5.00"},
			want: []Change{{corev1.EventTypeNormal, ReasonUpfrontCostChanged, "Upfront cost 0.00 -> 5.00"}},
		},
		"repriced by a new catalog generation is the catalog's news": {
			prev: ftv1.FineTuneEstimateStatus{ObservedGeneration: 3, UpfrontCost: "1001.25",
				Pricing: &ftv1.Pricing{Catalog: "default", CatalogGeneration: 1, Source: ftv1.PricingSourceCatalog}},
			next: ftv1.FineTuneEstimateStatus{ObservedGeneration: 3, UpfrontCost: "1006.85",
				Pricing: &ftv1.Pricing{Catalog: "default", CatalogGeneration: 2, Source: ftv1.PricingSourceCatalog}},
		},
		"a spec change with new prices is the estimate's": {
			prev: ftv1.FineTuneEstimateStatus{ObservedGeneration: 3, UpfrontCost: "1001.25",
				Pricing: &ftv1.Pricing{Catalog: "default", CatalogGeneration: 1, Source: ftv1.PricingSourceCatalog}},
			next: ftv1.FineTuneEstimateStatus{ObservedGeneration: 4, UpfrontCost: "1006.85",
				Pricing: &ftv1.Pricing{Catalog: "default", CatalogGeneration: 2, Source: ftv1.PricingSourceCatalog}},
			want: []Change{{corev1.EventTypeNormal, ReasonUpfrontCostChanged, "Upfront cost 1001.25 -> 1006.85 (+0.6%)"}},
		},
		"prices that push it over budget are the estimate's news": {
			prev: ftv1.FineTuneEstimateStatus{ObservedGeneration: 3, UpfrontCost: "900.00",
				Pricing:    &ftv1.Pricing{Catalog: "default", CatalogGeneration: 1, Source: ftv1.PricingSourceCatalog},
				Conditions: []metav1.Condition{{Type: ftv1.ConditionWithinBudget, Status: metav1.ConditionTrue}, {Type: ftv1.ConditionApproved, Status: metav1.ConditionTrue}}},
			next: ftv1.FineTuneEstimateStatus{ObservedGeneration: 3, UpfrontCost: "1100.00",
				Pricing:    &ftv1.Pricing{Catalog: "default", CatalogGeneration: 2, Source: ftv1.PricingSourceCatalog},
				Conditions: []metav1.Condition{{Type: ftv1.ConditionWithinBudget, Status: metav1.ConditionFalse}, {Type: ftv1.ConditionApproved, Status: metav1.ConditionFalse}}},
			want: []Change{{corev1.EventTypeNormal, ReasonUpfrontCostChanged, "Upfront cost 900.00 -> 1100.00 (+22.2%)"}},
		},
		"a catalog created again under its name is news": {
			prev: ftv1.FineTuneEstimateStatus{ObservedGeneration: 3, UpfrontCost: "1001.25",
				Pricing: &ftv1.Pricing{Catalog: "default", CatalogGeneration: 7, Source: ftv1.PricingSourceCatalog}},
			next: ftv1.FineTuneEstimateStatus{ObservedGeneration: 3, UpfrontCost: "1006.85",
				Pricing: &ftv1.Pricing{Catalog: "default", CatalogGeneration: 1, Source: ftv1.PricingSourceCatalog}},
			want: []Change{{corev1.EventTypeNormal, ReasonUpfrontCostChanged, "Upfront cost 1001.25 -> 1006.85 (+0.6%)"}},
		},
		"a verdict flipped by prices still says so": {
			prev: ftv1.FineTuneEstimateStatus{ObservedGeneration: 3, Recommendation: ftv1.RecommendationFineTune, UpfrontCost: "1001.25",
				Pricing: &ftv1.Pricing{Catalog: "default", CatalogGeneration: 1, Source: ftv1.PricingSourceCatalog}},
			next: ftv1.FineTuneEstimateStatus{ObservedGeneration: 3, Recommendation: ftv1.RecommendationAPI, UpfrontCost: "9001.25",
				Pricing: &ftv1.Pricing{Catalog: "default", CatalogGeneration: 2, Source: ftv1.PricingSourceCatalog}},
			want: []Change{{corev1.EventTypeNormal, ReasonRecommendationChanged, "Recommendation FineTune -> API"}},
		},
		"newly failing warns once": {
			prev: ftv1.FineTuneEstimateStatus{Recommendation: ftv1.RecommendationFineTune, Conditions: ready(metav1.ConditionTrue, "Estimated", "ok")},
			next: ftv1.FineTuneEstimateStatus{Recommendation: ftv1.RecommendationUndetermined, Conditions: ready(metav1.ConditionFalse, "ModelNotFound", "spec.model: gone")},
			want: []Change{{corev1.EventTypeWarning, ReasonEstimateFailed, "ModelNotFound: spec.model: gone"}},
		},
		"default catalog deleted": {
			prev: ftv1.FineTuneEstimateStatus{Pricing: &ftv1.Pricing{Catalog: "default", Source: ftv1.PricingSourceCatalog}},
			next: ftv1.FineTuneEstimateStatus{Pricing: &ftv1.Pricing{Catalog: "builtin", Source: ftv1.PricingSourceBuiltin}},
			want: []Change{{corev1.EventTypeNormal, ReasonPricingSourceChanged, `Prices now come from the built-in catalog: PriceCatalog "default" no longer exists`}},
		},
		"still failing the same way is quiet": {
			prev: ftv1.FineTuneEstimateStatus{Conditions: ready(metav1.ConditionFalse, "ModelNotFound", "spec.model: gone")},
			next: ftv1.FineTuneEstimateStatus{Conditions: ready(metav1.ConditionFalse, "ModelNotFound", "spec.model: gone")},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, Changes(&tc.prev, &tc.next)); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
		})
	}
}

// Runs left out of a calibration as outliers are named in a Warning, once.
func TestCalibrationOutliersAreNews(t *testing.T) {
	msg := "measured 694 tokens per GPU-second (the median) over 3 runs (ThroughputProfile p), spread 0.9%"
	left := "; left out as outliers (more than 2x from the median): run d of sandbox/e (69400 tokens per GPU-second)"
	prev := &ftv1.FineTuneEstimateStatus{Calibration: &ftv1.CalibrationStatus{Message: msg}}
	next := &ftv1.FineTuneEstimateStatus{Calibration: &ftv1.CalibrationStatus{Message: msg + left}}
	got := Changes(prev, next)
	if len(got) != 1 || got[0].Reason != ReasonCalibrationSampleRejected || !strings.Contains(got[0].Message, "run d of sandbox/e") {
		t.Errorf("changes = %+v, want one CalibrationSampleRejected naming run d", got)
	}
	if again := Changes(next, next); len(again) != 0 {
		t.Errorf("the same outliers again: %+v", again)
	}
}
