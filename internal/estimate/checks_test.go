package estimate

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/costpolicy"
)

func TestApplyChecks(t *testing.T) {
	stale := &metav1.Condition{Type: ftv1.ConditionStale, Status: metav1.ConditionTrue, Reason: ftv1.ReasonPricesOutdated, Message: "effectiveDate 2025-06-02 of API model grok-3 is older than maxAge 24h0m0s"}
	violation := costpolicy.Violation{Policy: "platform", Rule: costpolicy.RuleMaxUpfrontCost, Message: "upfront cost 1001.25 USD exceeds the limit of 500 USD"}
	cases := map[string]struct {
		mutate     func(*ftv1.FineTuneEstimate)
		checks     Checks
		wantStatus metav1.ConditionStatus
		wantReason string
		wantMsg    string
	}{
		"nothing to add":             {wantStatus: metav1.ConditionTrue, wantReason: ftv1.ReasonApproved},
		"stale under Advisory stays": {checks: Checks{CatalogStale: stale}, wantStatus: metav1.ConditionTrue, wantReason: ftv1.ReasonApproved},
		"stale under Enforce": {
			mutate: func(o *ftv1.FineTuneEstimate) { o.Spec.Policy = ftv1.PolicyEnforce },
			checks: Checks{CatalogStale: stale}, wantStatus: metav1.ConditionFalse, wantReason: ftv1.ReasonPricesStale,
			wantMsg: `PriceCatalog "default" is Stale (effectiveDate 2025-06-02`,
		},
		"policy violated": {
			checks:     Checks{Policies: []string{"platform"}, Violations: []costpolicy.Violation{violation}},
			wantStatus: metav1.ConditionFalse, wantReason: ftv1.ReasonPolicyViolated,
			wantMsg: "CostPolicy platform maxUpfrontCost: upfront cost 1001.25 USD exceeds the limit of 500 USD",
		},
		"policy violation outranks the estimate's own no": {
			mutate:     func(o *ftv1.FineTuneEstimate) { o.Spec.Usage.RequestsPerMonth = 1 },
			checks:     Checks{Policies: []string{"platform"}, Violations: []costpolicy.Violation{violation}},
			wantStatus: metav1.ConditionFalse, wantReason: ftv1.ReasonPolicyViolated,
		},
		"stale outranks a violation": {
			mutate:     func(o *ftv1.FineTuneEstimate) { o.Spec.Policy = ftv1.PolicyEnforce },
			checks:     Checks{CatalogStale: stale, Violations: []costpolicy.Violation{violation}},
			wantStatus: metav1.ConditionFalse, wantReason: ftv1.ReasonPricesStale,
		},
		"not ready stays NotReady": {
			mutate:     func(o *ftv1.FineTuneEstimate) { o.Spec.Model = "llama-9000b" },
			checks:     Checks{CatalogStale: stale, Violations: []costpolicy.Violation{violation}},
			wantStatus: metav1.ConditionFalse, wantReason: ftv1.ReasonNotReady,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := supportBot()
			if tc.mutate != nil {
				tc.mutate(obj)
			}
			s, err := Compute(obj, noCatalogs)
			if err != nil {
				t.Fatal(err)
			}
			s.Pricing = &ftv1.Pricing{Catalog: "default", CatalogGeneration: 2, Source: ftv1.PricingSourceCatalog}
			ApplyChecks(obj, s, tc.checks)
			c := meta.FindStatusCondition(s.Conditions, ftv1.ConditionApproved)
			if c.Status != tc.wantStatus || c.Reason != tc.wantReason || !strings.Contains(c.Message, tc.wantMsg) || c.ObservedGeneration != obj.Generation {
				t.Errorf("Approved = %+v, want %s %s containing %q", c, tc.wantStatus, tc.wantReason, tc.wantMsg)
			}
			if !slices.Equal(s.CostPolicies, tc.checks.Policies) {
				t.Errorf("costPolicies = %v, want %v", s.CostPolicies, tc.checks.Policies)
			}
		})
	}
}
