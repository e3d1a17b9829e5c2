package estimate

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
)

func dec(s string) *ftv1.Decimal { v := ftv1.Decimal(s); return &v }

func supportBot() *ftv1.FineTuneEstimate {
	return &ftv1.FineTuneEstimate{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "support-bot", Generation: 3},
		Spec: ftv1.FineTuneEstimateSpec{
			Model: "llama-13b", Method: ftv1.MethodLoRA,
			Dataset:      ftv1.Dataset{Examples: 10000},
			Training:     ftv1.Training{Provider: "runpod"},
			OneTimeCosts: &ftv1.OneTimeCosts{DataLabeling: dec("1000")},
			API:          ftv1.APIPricing{Model: "claude-sonnet", CostPerRequest: dec("0.005")},
			Usage: ftv1.Usage{RequestsPerMonth: 10000, InputTokensPerRequest: ptr.To[int64](1000),
				OutputTokensPerRequest: ptr.To[int64](300)},
		},
	}
}

func noCatalogs(string) (*ftv1.PriceCatalog, bool, error) { return nil, false, nil }

func catalogs(pcs ...*ftv1.PriceCatalog) CatalogGetter {
	return func(name string) (*ftv1.PriceCatalog, bool, error) {
		for _, pc := range pcs {
			if pc.Name == name {
				return pc, true, nil
			}
		}
		return nil, false, nil
	}
}

type condWant struct {
	status metav1.ConditionStatus
	reason string
}

func TestComputeConditions(t *testing.T) {
	cases := map[string]struct {
		mutate     func(*ftv1.FineTuneEstimate)
		get        CatalogGetter
		wantRec    ftv1.Recommendation
		wantConds  map[string]condWant
		wantAbsent []string
	}{
		"approved": {
			get:     noCatalogs,
			wantRec: ftv1.RecommendationFineTune,
			wantConds: map[string]condWant{
				ftv1.ConditionReady:               {metav1.ConditionTrue, ftv1.ReasonEstimated},
				ftv1.ConditionFineTuneRecommended: {metav1.ConditionTrue, ftv1.ReasonFineTunePaysOff},
				ftv1.ConditionWithinBudget:        {metav1.ConditionTrue, ftv1.ReasonNoBudgetSet},
				ftv1.ConditionApproved:            {metav1.ConditionTrue, ftv1.ReasonApproved},
			},
			wantAbsent: []string{ftv1.ConditionStalled, ftv1.ConditionReconciling},
		},
		"within budget": {
			mutate:  func(o *ftv1.FineTuneEstimate) { o.Spec.Budget = &ftv1.Budget{MaxUpfrontCost: dec("1001.25")} },
			get:     noCatalogs,
			wantRec: ftv1.RecommendationFineTune,
			wantConds: map[string]condWant{
				ftv1.ConditionWithinBudget: {metav1.ConditionTrue, ftv1.ReasonWithinBudget},
				ftv1.ConditionApproved:     {metav1.ConditionTrue, ftv1.ReasonApproved},
			},
		},
		"over budget": {
			mutate:  func(o *ftv1.FineTuneEstimate) { o.Spec.Budget = &ftv1.Budget{MaxUpfrontCost: dec("1001.24")} },
			get:     noCatalogs,
			wantRec: ftv1.RecommendationFineTune,
			wantConds: map[string]condWant{
				ftv1.ConditionWithinBudget: {metav1.ConditionFalse, ftv1.ReasonBudgetExceeded},
				ftv1.ConditionApproved:     {metav1.ConditionFalse, ftv1.ReasonOverBudget},
			},
		},
		"api cheaper": {
			mutate:  func(o *ftv1.FineTuneEstimate) { o.Spec.HorizonMonths = ptr.To[int32](12) },
			get:     noCatalogs,
			wantRec: ftv1.RecommendationAPI,
			wantConds: map[string]condWant{
				ftv1.ConditionFineTuneRecommended: {metav1.ConditionFalse, ftv1.ReasonAPICheaper},
				ftv1.ConditionApproved:            {metav1.ConditionFalse, ftv1.ReasonNotRecommended},
			},
		},
		"model not found": {
			mutate:  func(o *ftv1.FineTuneEstimate) { o.Spec.Model = "llama-3b" },
			get:     noCatalogs,
			wantRec: ftv1.RecommendationUndetermined,
			wantConds: map[string]condWant{
				ftv1.ConditionReady:               {metav1.ConditionFalse, ftv1.ReasonModelNotFound},
				ftv1.ConditionStalled:             {metav1.ConditionTrue, ftv1.ReasonModelNotFound},
				ftv1.ConditionFineTuneRecommended: {metav1.ConditionUnknown, ftv1.ReasonEstimatePending},
				ftv1.ConditionWithinBudget:        {metav1.ConditionUnknown, ftv1.ReasonEstimatePending},
				ftv1.ConditionApproved:            {metav1.ConditionFalse, ftv1.ReasonNotReady},
			},
		},
		"provider not found": {
			mutate:    func(o *ftv1.FineTuneEstimate) { o.Spec.Training.Provider = "vast-ai" },
			get:       noCatalogs,
			wantRec:   ftv1.RecommendationUndetermined,
			wantConds: map[string]condWant{ftv1.ConditionReady: {metav1.ConditionFalse, ftv1.ReasonProviderNotFound}},
		},
		"api price not found": {
			mutate:    func(o *ftv1.FineTuneEstimate) { o.Spec.API.Model = "gpt-5" },
			get:       noCatalogs,
			wantRec:   ftv1.RecommendationUndetermined,
			wantConds: map[string]condWant{ftv1.ConditionReady: {metav1.ConditionFalse, ftv1.ReasonAPIPriceNotFound}},
		},
		"invalid spec": {
			mutate:    func(o *ftv1.FineTuneEstimate) { o.Spec.Training.Estimator = ftv1.EstimatorFLOPs },
			get:       noCatalogs,
			wantRec:   ftv1.RecommendationUndetermined,
			wantConds: map[string]condWant{ftv1.ConditionReady: {metav1.ConditionFalse, ftv1.ReasonInvalidSpec}},
		},
		"named catalog missing": {
			mutate:    func(o *ftv1.FineTuneEstimate) { o.Spec.PriceCatalogRef = "q3-prices" },
			get:       noCatalogs,
			wantRec:   ftv1.RecommendationUndetermined,
			wantConds: map[string]condWant{ftv1.ConditionReady: {metav1.ConditionFalse, ftv1.ReasonCatalogNotFound}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := supportBot()
			if tc.mutate != nil {
				tc.mutate(obj)
			}
			s, err := Compute(obj, tc.get)
			if err != nil {
				t.Fatal(err)
			}
			if s.Recommendation != tc.wantRec {
				t.Errorf("recommendation = %s, want %s", s.Recommendation, tc.wantRec)
			}
			if s.ObservedGeneration != 3 {
				t.Errorf("observedGeneration = %d, want 3", s.ObservedGeneration)
			}
			for typ, want := range tc.wantConds {
				c := meta.FindStatusCondition(s.Conditions, typ)
				if c == nil {
					t.Fatalf("no %s condition in %+v", typ, s.Conditions)
				}
				if c.Status != want.status || c.Reason != want.reason {
					t.Errorf("%s = %s/%s, want %s/%s (%s)", typ, c.Status, c.Reason, want.status, want.reason, c.Message)
				}
			}
			for _, c := range s.Conditions {
				if c.ObservedGeneration != 3 {
					t.Errorf("%s has observedGeneration %d, want 3", c.Type, c.ObservedGeneration)
				}
				if c.Message == "" {
					t.Errorf("%s has no message", c.Type)
				}
			}
			for _, typ := range tc.wantAbsent {
				if meta.FindStatusCondition(s.Conditions, typ) != nil {
					t.Errorf("%s must be absent unless True", typ)
				}
			}
		})
	}
}

func TestComputeFigures(t *testing.T) {
	s, err := Compute(supportBot(), noCatalogs)
	if err != nil {
		t.Fatal(err)
	}
	want := ftv1.FineTuneEstimateStatus{
		ObservedGeneration: 3, Recommendation: ftv1.RecommendationFineTune, Estimator: ftv1.EstimatorEmpirical,
		GPUType: "H100", GPUCount: 1, GPUHours: "0.5", GPUHoursLow: "0.35", GPUHoursHigh: "0.65", WallClockHours: "0.5",
		// 13B LoRA on one H100 at the default 2048-token sequence: 2 x 13e9 frozen + 2 x 62,586,880 adapter
		// bytes of weights (24.3 GiB), 2 and 12 bytes per adapter parameter of gradients (0.1) and AdamW
		// state (0.7), 34 x 2048 x 5120 x 40 + 12 x 2048 x 32000 bytes of activations and logits (14.0; no
		// framework: the fp32 loss), and 1 GiB of CUDA context + 20% of the activations (3.8): 43.0 GiB.
		MemoryPerGPUGiB: "43.0", PricePerGPUHour: "2.49", Currency: "USD", TrainingCost: "1.25", OneTimeCost: "1000.00",
		MemoryBreakdown: &ftv1.MemoryBreakdown{Weights: "24.3", Gradients: "0.1", Optimizer: "0.7", Activations: "14.0", Overhead: "3.8"},
		Sharding:        ftv1.ShardingNone, SequenceLength: 2048, GradientCheckpointing: ptr.To(false),
		ActivationCheckpointing: "None", Framework: ftv1.FrameworkConservative,
		UpfrontCost: "1001.25", APIMonthlyCost: "50.00", ServingMonthlyCost: "0.00", MonthlySavings: "50.00",
		BreakEvenMonths: "20.0", NetSavings: "798.75", ROIPercent: "79.8", NetPresentValue: "798.75", HorizonMonths: 36,
		Pricing: &ftv1.Pricing{Catalog: "builtin", Source: ftv1.PricingSourceBuiltin},
	}
	s.Conditions = nil
	if d := cmp.Diff(want, *s); d != "" {
		t.Errorf("status (-want +got):\n%s", d)
	}
}

// A second computation of the same object keeps every condition's lastTransitionTime and yields an
// identical status, so the reconciler writes nothing.
func TestComputeIsStable(t *testing.T) {
	obj := supportBot()
	first, _ := Compute(obj, noCatalogs)
	obj.Status = *first
	for i := range obj.Status.Conditions {
		obj.Status.Conditions[i].LastTransitionTime = metav1.Unix(1, 0)
	}
	second, _ := Compute(obj, noCatalogs)
	if d := cmp.Diff(obj.Status, *second); d != "" {
		t.Errorf("recomputing changed the status (-stored +recomputed):\n%s", d)
	}
}

func TestResolve(t *testing.T) {
	custom := catalog.FromEngine(engine.BuiltinCatalog(), "default")
	custom.Generation = 7
	custom.Spec.Providers[0].GPUPrices[0].PricePerGPUHour = "9.99"
	q3 := catalog.FromEngine(engine.BuiltinCatalog(), "q3")
	q3.Generation = 2
	cases := map[string]struct {
		ref     string
		get     CatalogGetter
		want    ftv1.Pricing
		wantErr string
	}{
		"no default: built-in":           {"", noCatalogs, ftv1.Pricing{Catalog: "builtin", Source: ftv1.PricingSourceBuiltin}, ""},
		"explicit default missing":       {"default", noCatalogs, ftv1.Pricing{Catalog: "builtin", Source: ftv1.PricingSourceBuiltin}, ""},
		"default exists":                 {"", catalogs(custom), ftv1.Pricing{Catalog: "default", CatalogGeneration: 7, Source: ftv1.PricingSourceCatalog}, ""},
		"named exists":                   {"q3", catalogs(custom, q3), ftv1.Pricing{Catalog: "q3", CatalogGeneration: 2, Source: ftv1.PricingSourceCatalog}, ""},
		"named missing never falls back": {"q4", catalogs(custom), ftv1.Pricing{}, `PriceCatalog "q4" not found`},
		"lookup fails":                   {"", func(string) (*ftv1.PriceCatalog, bool, error) { return nil, false, errors.New("etcd is down") }, ftv1.Pricing{}, "etcd is down"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := Resolve(&ftv1.FineTuneEstimateSpec{PriceCatalogRef: tc.ref}, tc.get)
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

// An estimate never prices with a catalog that fails catalog.Validate: a zero training price would make
// fine-tuning look free (review finding).
func TestInvalidCatalogIsNotUsed(t *testing.T) {
	pc := catalog.FromEngine(engine.BuiltinCatalog(), "default")
	for i := range pc.Spec.Providers {
		for j := range pc.Spec.Providers[i].GPUPrices {
			pc.Spec.Providers[i].GPUPrices[j].PricePerGPUHour = "0"
		}
	}
	s, err := Compute(supportBot(), catalogs(pc))
	if err != nil {
		t.Fatal(err)
	}
	c := meta.FindStatusCondition(s.Conditions, ftv1.ConditionReady)
	if c.Status != metav1.ConditionFalse || c.Reason != ftv1.ReasonInvalidSpec ||
		!strings.Contains(c.Message, `PriceCatalog "default" is not valid`) || !strings.Contains(c.Message, "pricePerGPUHour") {
		t.Errorf("Ready = %+v", c)
	}
	if s.UpfrontCost != "" || meta.IsStatusConditionTrue(s.Conditions, ftv1.ConditionApproved) {
		t.Errorf("an invalid catalog priced the estimate: %+v", s)
	}
}

// Measured hours replace the estimator, whichever is named (the contract: "replaces the estimator
// when set"); FLOPs then needs no tokensPerExample.
func TestMeasuredHoursReplaceFLOPs(t *testing.T) {
	obj := supportBot()
	obj.Spec.Training.Estimator = ftv1.EstimatorFLOPs
	obj.Spec.Training.Hours = dec("3.5")
	s, err := Compute(obj, noCatalogs)
	if err != nil {
		t.Fatal(err)
	}
	if s.Estimator != ftv1.EstimatorMeasured || s.GPUHours != "3.5" || s.TrainingCost != "8.72" {
		t.Errorf("estimator %s, hours %s, training %s; want Measured, 3.5, 8.72", s.Estimator, s.GPUHours, s.TrainingCost)
	}
}

// While a catalog cannot be read, an estimate is Reconciling and never Stalled at the same time.
func TestPendingIsNeverStalled(t *testing.T) {
	obj := supportBot()
	obj.Spec.Model = "llama-3b"
	failed, _ := Compute(obj, noCatalogs)
	obj.Status = *failed
	if !meta.IsStatusConditionTrue(obj.Status.Conditions, ftv1.ConditionStalled) {
		t.Fatalf("setup: want Stalled, got %+v", obj.Status.Conditions)
	}
	s := Pending(obj, "Reading the price catalog failed: timeout")
	if meta.FindStatusCondition(s.Conditions, ftv1.ConditionStalled) != nil {
		t.Errorf("Stalled kept while Reconciling: %+v", s.Conditions)
	}
	if !meta.IsStatusConditionTrue(s.Conditions, ftv1.ConditionReconciling) {
		t.Errorf("Reconciling not True: %+v", s.Conditions)
	}
}
