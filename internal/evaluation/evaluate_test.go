package evaluation

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
	"github.com/ftcost/ftcost/internal/estimate"
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

// testNow is the clock of the tests: prices dated before it by more than a catalog's maxAge are stale.
var testNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// compute evaluates obj with pc as the catalog its ref names (nil: none exists), no profile and no
// policy.
func compute(obj *ftv1.FineTuneEstimate, pc *ftv1.PriceCatalog) *ftv1.FineTuneEstimateStatus {
	return Evaluate(&Inputs{Estimate: obj, Catalog: pc, Now: testNow}).Status
}

type condWant struct {
	status metav1.ConditionStatus
	reason string
}

func TestComputeConditions(t *testing.T) {
	cases := map[string]struct {
		mutate     func(*ftv1.FineTuneEstimate)
		catalog    *ftv1.PriceCatalog
		wantRec    ftv1.Recommendation
		wantConds  map[string]condWant
		wantAbsent []string
	}{
		"approved": {
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
			wantRec: ftv1.RecommendationFineTune,
			wantConds: map[string]condWant{
				ftv1.ConditionWithinBudget: {metav1.ConditionTrue, ftv1.ReasonWithinBudget},
				ftv1.ConditionApproved:     {metav1.ConditionTrue, ftv1.ReasonApproved},
			},
		},
		"over budget": {
			mutate:  func(o *ftv1.FineTuneEstimate) { o.Spec.Budget = &ftv1.Budget{MaxUpfrontCost: dec("1001.24")} },
			wantRec: ftv1.RecommendationFineTune,
			wantConds: map[string]condWant{
				ftv1.ConditionWithinBudget: {metav1.ConditionFalse, ftv1.ReasonBudgetExceeded},
				ftv1.ConditionApproved:     {metav1.ConditionFalse, ftv1.ReasonOverBudget},
			},
		},
		"api cheaper": {
			mutate:  func(o *ftv1.FineTuneEstimate) { o.Spec.HorizonMonths = ptr.To[int32](12) },
			wantRec: ftv1.RecommendationAPI,
			wantConds: map[string]condWant{
				ftv1.ConditionFineTuneRecommended: {metav1.ConditionFalse, ftv1.ReasonAPICheaper},
				ftv1.ConditionApproved:            {metav1.ConditionFalse, ftv1.ReasonNotRecommended},
			},
		},
		"model not found": {
			mutate:  func(o *ftv1.FineTuneEstimate) { o.Spec.Model = "llama-3b" },
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
			wantRec:   ftv1.RecommendationUndetermined,
			wantConds: map[string]condWant{ftv1.ConditionReady: {metav1.ConditionFalse, ftv1.ReasonProviderNotFound}},
		},
		"api price not found": {
			mutate:    func(o *ftv1.FineTuneEstimate) { o.Spec.API.Model = "gpt-5" },
			wantRec:   ftv1.RecommendationUndetermined,
			wantConds: map[string]condWant{ftv1.ConditionReady: {metav1.ConditionFalse, ftv1.ReasonAPIPriceNotFound}},
		},
		"invalid spec": {
			mutate:    func(o *ftv1.FineTuneEstimate) { o.Spec.Training.Estimator = ftv1.EstimatorFLOPs },
			wantRec:   ftv1.RecommendationUndetermined,
			wantConds: map[string]condWant{ftv1.ConditionReady: {metav1.ConditionFalse, ftv1.ReasonInvalidSpec}},
		},
		"named catalog missing": {
			mutate:    func(o *ftv1.FineTuneEstimate) { o.Spec.PriceCatalogRef = "q3-prices" },
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
			s := compute(obj, tc.catalog)
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
	s := compute(supportBot(), nil)
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
	first := compute(obj, nil)
	obj.Status = *first
	for i := range obj.Status.Conditions {
		obj.Status.Conditions[i].LastTransitionTime = metav1.Unix(1, 0)
	}
	second := compute(obj, nil)
	if d := cmp.Diff(obj.Status, *second); d != "" {
		t.Errorf("recomputing changed the status (-stored +recomputed):\n%s", d)
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
	s := compute(supportBot(), pc)
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
	s := compute(obj, nil)
	if s.Estimator != ftv1.EstimatorMeasured || s.GPUHours != "3.5" || s.TrainingCost != "8.72" {
		t.Errorf("estimator %s, hours %s, training %s; want Measured, 3.5, 8.72", s.Estimator, s.GPUHours, s.TrainingCost)
	}
}

// spec.training.lossPrecision reaches the engine: Half lowers the logits' memory of a Transformers
// job, and a value the API server would refuse (a file the CLI reads) names the field.
func TestLossPrecision(t *testing.T) {
	activations := func(lp ftv1.LossPrecision) decimal.Decimal {
		obj := supportBot()
		obj.Spec.Training.Framework, obj.Spec.Training.LossPrecision = ftv1.FrameworkHuggingFace, lp
		s := compute(obj, nil)
		if s.MemoryBreakdown == nil {
			t.Fatalf("lossPrecision %q: no memory breakdown (%v)", lp, s.Conditions)
		}
		return decimal.RequireFromString(s.MemoryBreakdown.Activations)
	}
	fp32, half := activations(""), activations(ftv1.LossPrecisionHalf)
	if !activations(ftv1.LossPrecisionFP32).Equal(fp32) || !half.LessThan(fp32) {
		t.Errorf("activations: omitted %s, FP32 %s, Half %s GiB; want FP32 = omitted > Half", fp32, activations(ftv1.LossPrecisionFP32), half)
	}
	obj := supportBot()
	obj.Spec.Training.LossPrecision = "FP8"
	c := meta.FindStatusCondition(compute(obj, nil).Conditions, ftv1.ConditionReady)
	if c == nil || c.Reason != ftv1.ReasonInvalidSpec || !strings.Contains(c.Message, "spec.training.lossPrecision") {
		t.Errorf("lossPrecision FP8: Ready %v, want InvalidSpec naming spec.training.lossPrecision", c)
	}
}

// spec.training.gradientAccumulationSteps reaches the engine: at 1, on a stack that frees its
// gradients each step, a LoRA job's adapter gradients are not alive at the peak (they fill as the
// backward pass frees the activations); with no framework stated they are still counted.
func TestGradientAccumulationSteps(t *testing.T) {
	gradients := func(fw ftv1.Framework, steps *int32) string {
		obj := supportBot()
		obj.Spec.Training.Framework, obj.Spec.Training.GradientAccumulationSteps = fw, steps
		s := compute(obj, nil)
		if s.MemoryBreakdown == nil {
			t.Fatalf("gradientAccumulationSteps %v: no memory breakdown (%v)", steps, s.Conditions)
		}
		return s.MemoryBreakdown.Gradients
	}
	hf := ftv1.FrameworkHuggingFace
	if unstated, one, eight := gradients(hf, nil), gradients(hf, ptr.To[int32](1)), gradients(hf, ptr.To[int32](8)); unstated != "0.1" || eight != unstated || one != "0.0" {
		t.Errorf("HuggingFace gradients: unstated %s, 8 steps %s, 1 step %s GiB; want 0.1, 0.1, 0.0", unstated, eight, one)
	}
	if one := gradients("", ptr.To[int32](1)); one != "0.1" {
		t.Errorf("no framework, 1 step: gradients %s GiB, want 0.1 (the conservative profile counts them)", one)
	}
}

// While a catalog cannot be read, an estimate is Reconciling and never Stalled at the same time.
func TestPendingIsNeverStalled(t *testing.T) {
	obj := supportBot()
	obj.Spec.Model = "llama-3b"
	failed := compute(obj, nil)
	obj.Status = *failed
	if !meta.IsStatusConditionTrue(obj.Status.Conditions, ftv1.ConditionStalled) {
		t.Fatalf("setup: want Stalled, got %+v", obj.Status.Conditions)
	}
	s := estimate.Pending(obj, "Reading the price catalog failed: timeout")
	if meta.FindStatusCondition(s.Conditions, ftv1.ConditionStalled) != nil {
		t.Errorf("Stalled kept while Reconciling: %+v", s.Conditions)
	}
	if !meta.IsStatusConditionTrue(s.Conditions, ftv1.ConditionReconciling) {
		t.Errorf("Reconciling not True: %+v", s.Conditions)
	}
}

// The checks beside the figures, in order: prices stale under Enforce, then CostPolicy rules, then
// the estimate's own verdict. Only the prices the estimate uses age.
func TestVerdict(t *testing.T) {
	platform := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "platform"},
		Spec: ftv1.CostPolicySpec{MaxUpfrontCost: dec("500")}}
	aged := func(provider, api string) *ftv1.PriceCatalog {
		pc := catalog.FromEngine(engine.BuiltinCatalog(), ftv1.DefaultCatalogName)
		pc.Spec.MaxAge = ptr.To(ftv1.Duration("720h"))
		for i := range pc.Spec.Providers {
			pc.Spec.Providers[i].EffectiveDate = "2026-01-10"
			if pc.Spec.Providers[i].Name == "runpod" {
				pc.Spec.Providers[i].EffectiveDate = provider
			}
		}
		for i := range pc.Spec.APIModels {
			pc.Spec.APIModels[i].EffectiveDate = "2020-01-01" // every other API model is old
			if pc.Spec.APIModels[i].Name == "claude-sonnet" {
				pc.Spec.APIModels[i].EffectiveDate = api
			}
		}
		return pc
	}
	cases := map[string]struct {
		policy      ftv1.Policy
		catalog     *ftv1.PriceCatalog
		policies    []*ftv1.CostPolicy
		costPerReq  bool
		wantStatus  metav1.ConditionStatus
		wantReason  string
		wantMsg     string
		wantRecheck time.Duration
	}{
		"nothing to add": {wantStatus: metav1.ConditionTrue, wantReason: ftv1.ReasonApproved},
		"others' old prices do not count": {policy: ftv1.PolicyEnforce, catalog: aged("2026-01-10", "2026-01-10"),
			wantStatus: metav1.ConditionTrue, wantReason: ftv1.ReasonApproved,
			// runpod and claude-sonnet turn stale 30 days after 2026-01-10, at midnight.
			wantRecheck: time.Date(2026, 2, 9, 0, 0, 0, 0, time.UTC).Sub(testNow)},
		"a stated cost per request uses no API price": {policy: ftv1.PolicyEnforce, catalog: aged("2026-01-10", "2020-01-01"), costPerReq: true,
			wantStatus: metav1.ConditionTrue, wantReason: ftv1.ReasonApproved,
			wantRecheck: time.Date(2026, 2, 9, 0, 0, 0, 0, time.UTC).Sub(testNow)},
		"its own old price under Enforce": {policy: ftv1.PolicyEnforce, catalog: aged("2025-06-02", "2026-01-10"),
			wantStatus: metav1.ConditionFalse, wantReason: ftv1.ReasonPricesStale,
			wantMsg: `PriceCatalog "default": effectiveDate 2025-06-02 of provider runpod is older than maxAge 720h0m0s, and the policy is Enforce`,
			// claude-sonnet's turn comes later: the message will name it too.
			wantRecheck: time.Date(2026, 2, 9, 0, 0, 0, 0, time.UTC).Sub(testNow)},
		"its own old price under Advisory": {policy: ftv1.PolicyAdvisory, catalog: aged("2025-06-02", "2026-01-10"),
			wantStatus: metav1.ConditionTrue, wantReason: ftv1.ReasonApproved,
			wantRecheck: time.Date(2026, 2, 9, 0, 0, 0, 0, time.UTC).Sub(testNow)},
		"policy violated": {policies: []*ftv1.CostPolicy{platform}, wantStatus: metav1.ConditionFalse, wantReason: ftv1.ReasonPolicyViolated,
			wantMsg: "CostPolicy platform maxUpfrontCost: upfront cost 1001.25 USD exceeds the limit of 500 USD"},
		"stale outranks a violation": {policy: ftv1.PolicyEnforce, catalog: aged("2025-06-02", "2026-01-10"), policies: []*ftv1.CostPolicy{platform},
			wantStatus: metav1.ConditionFalse, wantReason: ftv1.ReasonPricesStale,
			wantRecheck: time.Date(2026, 2, 9, 0, 0, 0, 0, time.UTC).Sub(testNow)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := supportBot()
			obj.Spec.Policy = tc.policy
			if !tc.costPerReq {
				obj.Spec.API.CostPerRequest = nil
			}
			ev := Evaluate(&Inputs{Estimate: obj, Catalog: tc.catalog, Policies: tc.policies, Now: testNow})
			c := meta.FindStatusCondition(ev.Status.Conditions, ftv1.ConditionApproved)
			if c.Status != tc.wantStatus || c.Reason != tc.wantReason || !strings.Contains(c.Message, tc.wantMsg) {
				t.Errorf("Approved = %+v, want %s %s containing %q", c, tc.wantStatus, tc.wantReason, tc.wantMsg)
			}
			if ev.RecheckAfter != tc.wantRecheck {
				t.Errorf("recheck after %s, want %s", ev.RecheckAfter, tc.wantRecheck)
			}
			if want := policyNames(tc.policies); !slices.Equal(ev.Status.CostPolicies, want) {
				t.Errorf("costPolicies = %v, want %v", ev.Status.CostPolicies, want)
			}
		})
	}
}

// Evaluating the same inputs again changes nothing, transition times included, in every state the
// checks can leave Approved in: each condition is set once, to its final value.
func TestEvaluateAgainChangesNothing(t *testing.T) {
	platform := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "platform"}, Spec: ftv1.CostPolicySpec{MaxUpfrontCost: dec("500")}}
	stale := catalog.FromEngine(engine.BuiltinCatalog(), ftv1.DefaultCatalogName)
	stale.Spec.MaxAge = ptr.To(ftv1.Duration("24h"))
	for i := range stale.Spec.Providers {
		stale.Spec.Providers[i].EffectiveDate = "2025-01-01"
	}
	for name, in := range map[string]Inputs{
		"policy violated": {Policies: []*ftv1.CostPolicy{platform}},
		"stale, Enforce":  {Catalog: stale},
		"spend recorded":  {},
	} {
		t.Run(name, func(t *testing.T) {
			obj := supportBot()
			obj.Spec.Policy = ftv1.PolicyEnforce
			obj.Spec.Budget = &ftv1.Budget{MaxUpfrontCost: dec("2000")}
			obj.Status.Actuals = &ftv1.Actuals{Runs: 1, GPUHours: "0.6", Spend: "1.49"}
			in.Estimate, in.Now = obj, testNow
			obj.Status = *Evaluate(&in).Status
			for i := range obj.Status.Conditions {
				obj.Status.Conditions[i].LastTransitionTime = metav1.Unix(1, 0)
			}
			again := Evaluate(&in).Status
			if d := cmp.Diff(obj.Status, *again); d != "" {
				t.Errorf("evaluating again changed the status (-stored +again):\n%s", d)
			}
		})
	}
}

// Once its recorded runs spent past its budget, an estimate is no longer Approved: no more work is
// released on it, whatever its plan says.
func TestOverspentIsNotApproved(t *testing.T) {
	obj := supportBot()
	obj.Spec.Budget = &ftv1.Budget{MaxUpfrontCost: dec("1500")}
	obj.Status.Actuals = &ftv1.Actuals{Runs: 2, GPUHours: "640", Spend: "1593.60"}
	s := compute(obj, nil)
	c := meta.FindStatusCondition(s.Conditions, ftv1.ConditionApproved)
	want := "Actual spend 1593.60 USD over 2 runs is above spec.budget.maxUpfrontCost 1500.00: no more work is released"
	if c.Status != metav1.ConditionFalse || c.Reason != ftv1.ReasonSpendOverBudget || !strings.Contains(c.Message, want) {
		t.Errorf("Approved = %+v, want False %s %q", c, ftv1.ReasonSpendOverBudget, want)
	}
	if !meta.IsStatusConditionTrue(s.Conditions, ftv1.ConditionWithinBudget) {
		t.Errorf("the plan is within budget; only the spend is over: %+v", s.Conditions)
	}
	obj.Status.Actuals.Spend = "1500.00"
	if c := meta.FindStatusCondition(compute(obj, nil).Conditions, ftv1.ConditionApproved); c.Status != metav1.ConditionTrue {
		t.Errorf("spend at the budget: Approved = %+v, want True", c)
	}
}

// A ThroughputProfile is the cluster's, but a Calibrated estimate calibrates on its own namespace's
// runs and those of namespaces a CostPolicy trusts, by their median, outliers left out and named:
// one run in another namespace claiming 100 times the tokens moves nothing.
func TestCalibrationCannotBePoisoned(t *testing.T) {
	run := func(uid, ns, tps string) ftv1.ProfileRun {
		return ftv1.ProfileRun{UID: uid, Estimate: ns + "/e", Namespace: ns, TokensPerGPUSecond: tps}
	}
	profile := &ftv1.ThroughputProfile{ObjectMeta: metav1.ObjectMeta{Name: "llama-13b.lora.h100"},
		Status: ftv1.ThroughputProfileStatus{Samples: 5, RecentRuns: []ftv1.ProfileRun{
			run("a", "ml", "694"), run("b", "ml", "700"), run("c", "ml", "688"),
			run("d", "sandbox", "69400"), run("e", "", "1"), // a claim, and a run recorded before namespaces were
		}}}
	trusting := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "share"},
		Spec: ftv1.CostPolicySpec{TrustedCalibrationNamespaces: []string{"sandbox"}}}
	for name, tc := range map[string]struct {
		policies []*ftv1.CostPolicy
		message  string
	}{
		"own runs only":                 {nil, "measured 694 tokens per GPU-second (the median) over 3 runs"},
		"a trusted namespace's outlier": {[]*ftv1.CostPolicy{trusting}, "left out as outliers (more than 2x from the median): run d of sandbox/e (69400 tokens per GPU-second)"},
	} {
		t.Run(name, func(t *testing.T) {
			obj := supportBot()
			obj.Spec.Training.Estimator = ftv1.EstimatorCalibrated
			obj.Spec.Dataset.TokensPerExample = ptr.To[int64](500)
			ev := Evaluate(&Inputs{Estimate: obj, Profile: profile, Policies: tc.policies, Now: testNow})
			s := ev.Status
			if s.Estimator != ftv1.EstimatorCalibrated || s.Calibration == nil || !strings.Contains(s.Calibration.Message, tc.message) {
				t.Fatalf("estimator %s, calibration %+v; want Calibrated with %q", s.Estimator, s.Calibration, tc.message)
			}
			// 10,000 x 500 tokens at 694 tokens per GPU-second: 2.001281 GPU-hours.
			if s.GPUHours != "2.001281" {
				t.Errorf("gpuHours %s, want 2.001281", s.GPUHours)
			}
		})
	}
}
