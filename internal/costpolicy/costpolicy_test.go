package costpolicy

import (
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
)

func dec(s string) *ftv1.Decimal { v := ftv1.Decimal(s); return &v }

// supportBot is the article's worked example 1, with claude-sonnet at 3 / 15 per million tokens:
// 1000 input and 300 output tokens cost 0.0075 a request at catalog prices.
func supportBot() *ftv1.FineTuneEstimateSpec {
	return &ftv1.FineTuneEstimateSpec{
		Model: "llama-13b", Method: ftv1.MethodLoRA, Dataset: ftv1.Dataset{Examples: 10000},
		Training: ftv1.Training{Provider: "runpod"},
		API:      ftv1.APIPricing{Model: "claude-sonnet"},
		Usage: ftv1.Usage{RequestsPerMonth: 10000, InputTokensPerRequest: ptr.To[int64](1000),
			OutputTokensPerRequest: ptr.To[int64](300)},
	}
}

func policy(mutate func(*ftv1.CostPolicySpec)) *ftv1.CostPolicy {
	p := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "platform"},
		Spec: ftv1.CostPolicySpec{NamespaceSelector: &metav1.LabelSelector{}}}
	mutate(&p.Spec)
	return p
}

func TestCheck(t *testing.T) {
	catalog := engine.BuiltinCatalog()
	cases := map[string]struct {
		policy  func(*ftv1.CostPolicySpec)
		spec    func(*ftv1.FineTuneEstimateSpec)
		upfront string
		want    []string // "rule: message substring", one per violation
	}{
		"within every rule": {
			policy: func(p *ftv1.CostPolicySpec) {
				p.MaxUpfrontCost, p.RequiredPolicy = dec("5000"), ftv1.PolicyEnforce
				p.AllowedProviders, p.MaxAPIPriceDeviationPercent = []string{"runpod", "lambda-labs"}, dec("10")
			},
			spec: func(s *ftv1.FineTuneEstimateSpec) { s.Policy = ftv1.PolicyEnforce },
		},
		"upfront at the limit is allowed": {
			policy: func(p *ftv1.CostPolicySpec) { p.MaxUpfrontCost = dec("1001.25") },
		},
		"upfront above the limit": {
			policy:  func(p *ftv1.CostPolicySpec) { p.MaxUpfrontCost = dec("1000") },
			upfront: "1001.25",
			want:    []string{"maxUpfrontCost: upfront cost 1001.25 USD exceeds the limit of 1000 USD"},
		},
		"own budget does not raise the limit": {
			policy:  func(p *ftv1.CostPolicySpec) { p.MaxUpfrontCost = dec("500") },
			spec:    func(s *ftv1.FineTuneEstimateSpec) { s.Budget = &ftv1.Budget{MaxUpfrontCost: dec("100000")} },
			upfront: "1001.25",
			want:    []string{"maxUpfrontCost: upfront cost 1001.25 USD exceeds the limit of 500 USD"},
		},
		"not computed: no upfront to check": {
			policy: func(p *ftv1.CostPolicySpec) { p.MaxUpfrontCost = dec("1") }, upfront: "-",
		},
		"Enforce required, none set": {
			policy: func(p *ftv1.CostPolicySpec) { p.RequiredPolicy = ftv1.PolicyEnforce },
			want:   []string{"requiredPolicy: spec.policy must be Enforce, not Advisory"},
		},
		"Advisory required asks nothing": {
			policy: func(p *ftv1.CostPolicySpec) { p.RequiredPolicy = ftv1.PolicyAdvisory },
		},
		"provider not allowed": {
			policy: func(p *ftv1.CostPolicySpec) { p.AllowedProviders = []string{"on-premise"} },
			want:   []string{`allowedProviders: spec.training.provider "runpod" is not one of on-premise`},
		},
		"catalog API price": {
			policy: func(p *ftv1.CostPolicySpec) { p.MaxAPIPriceDeviationPercent = dec("0") },
		},
		"raised costPerRequest": {
			policy: func(p *ftv1.CostPolicySpec) { p.MaxAPIPriceDeviationPercent = dec("20") },
			spec:   func(s *ftv1.FineTuneEstimateSpec) { s.API.CostPerRequest = dec("0.05") },
			want:   []string{"maxAPIPriceDeviationPercent: the API cost per request 0.050000 USD is 566.7% away from the catalog's 0.007500 USD for claude-sonnet (at most 20% allowed)"},
		},
		"costPerRequest within the deviation": {
			policy: func(p *ftv1.CostPolicySpec) { p.MaxAPIPriceDeviationPercent = dec("20") },
			spec:   func(s *ftv1.FineTuneEstimateSpec) { s.API.CostPerRequest = dec("0.009") },
		},
		"lowered costPerRequest is a deviation too": {
			policy: func(p *ftv1.CostPolicySpec) { p.MaxAPIPriceDeviationPercent = dec("20") },
			spec:   func(s *ftv1.FineTuneEstimateSpec) { s.API.CostPerRequest = dec("0.005") },
			want:   []string{"33.3% away"},
		},
		"raised output price override": {
			policy: func(p *ftv1.CostPolicySpec) { p.MaxAPIPriceDeviationPercent = dec("5") },
			spec:   func(s *ftv1.FineTuneEstimateSpec) { s.API.OutputPricePerMillionTokens = dec("30") },
			want:   []string{"the API cost per request 0.012000 USD is 60.0% away"},
		},
		"no API model to compare with": {
			policy: func(p *ftv1.CostPolicySpec) { p.MaxAPIPriceDeviationPercent = dec("20") },
			spec:   func(s *ftv1.FineTuneEstimateSpec) { s.API = ftv1.APIPricing{CostPerRequest: dec("0.005")} },
			want:   []string{"maxAPIPriceDeviationPercent: spec.api.model is required"},
		},
		"no token counts to compare at": {
			policy: func(p *ftv1.CostPolicySpec) { p.MaxAPIPriceDeviationPercent = dec("20") },
			spec: func(s *ftv1.FineTuneEstimateSpec) {
				s.API.CostPerRequest, s.Usage.InputTokensPerRequest = dec("0.0075"), nil
			},
			want: []string{"maxAPIPriceDeviationPercent: spec.usage.inputTokensPerRequest and outputTokensPerRequest are required"},
		},
		"every broken rule is listed": {
			policy: func(p *ftv1.CostPolicySpec) {
				p.MaxUpfrontCost, p.RequiredPolicy = dec("10"), ftv1.PolicyEnforce
				p.AllowedProviders, p.MaxAPIPriceDeviationPercent = []string{"aws-spot"}, dec("1")
			},
			spec:    func(s *ftv1.FineTuneEstimateSpec) { s.API.CostPerRequest = dec("1") },
			upfront: "1001.25",
			want:    []string{"maxUpfrontCost:", "requiredPolicy:", "allowedProviders:", "maxAPIPriceDeviationPercent:"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			spec := supportBot()
			if tc.spec != nil {
				tc.spec(spec)
			}
			var upfront *decimal.Decimal
			switch tc.upfront {
			case "":
				upfront = ptr.To(decimal.RequireFromString("1001.25"))
			case "-":
			default:
				upfront = ptr.To(decimal.RequireFromString(tc.upfront))
			}
			got := Check(policy(tc.policy), Estimate{Spec: spec, UpfrontCost: upfront, Catalog: catalog})
			if len(got) != len(tc.want) {
				t.Fatalf("got %d violations, want %d: %v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				if s := got[i].Rule + ": " + got[i].Message; !strings.Contains(s, w) {
					t.Errorf("violation %d = %q, want it to contain %q", i, s, w)
				}
				if got[i].Policy != "platform" {
					t.Errorf("violation %d names policy %q", i, got[i].Policy)
				}
			}
		})
	}
}

func TestApplicable(t *testing.T) {
	named := func(name string, sel *metav1.LabelSelector) ftv1.CostPolicy {
		return ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: ftv1.CostPolicySpec{NamespaceSelector: sel, MaxUpfrontCost: dec("1")}}
	}
	policies := []ftv1.CostPolicy{
		named("z-everywhere", &metav1.LabelSelector{}),
		named("a-ml-teams", &metav1.LabelSelector{MatchLabels: map[string]string{"team": "ml"}}),
		named("none", nil),
		named("not-prod", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "env", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"prod"}}}}),
	}
	broken := named("typo", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "team", Operator: "Equals", Values: []string{"ml"}}}})
	cases := map[string]struct {
		policies   []ftv1.CostPolicy
		labels     map[string]string
		want       []string
		wantBroken int
	}{
		"ml in prod":        {policies, map[string]string{"team": "ml", "env": "prod"}, []string{"a-ml-teams", "z-everywhere"}, 0},
		"unlabelled":        {policies, nil, []string{"not-prod", "z-everywhere"}, 0},
		"no policies":       {nil, map[string]string{"team": "ml"}, nil, 0},
		"broken fails shut": {[]ftv1.CostPolicy{broken}, nil, []string{"typo"}, 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			applied, violations := Applicable(tc.policies, tc.labels)
			var got []string
			for _, p := range applied {
				got = append(got, p.Name)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("applied = %v, want %v", got, tc.want)
			}
			if len(violations) != tc.wantBroken {
				t.Errorf("violations = %v, want %d", violations, tc.wantBroken)
			}
			for _, v := range violations {
				if v.Rule != RuleNamespaceSelector || !strings.Contains(v.Message, "fails closed") {
					t.Errorf("violation = %+v", v)
				}
			}
		})
	}
}
