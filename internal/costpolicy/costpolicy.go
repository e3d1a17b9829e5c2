// Package costpolicy is the CostPolicy's own code: which namespaces a policy selects, and which of its
// rules an estimate breaks. It is pure: the estimate reconciler reads the policies, the namespace and
// the catalog, and folds the violations into the Approved condition (internal/evaluation.Evaluate).
package costpolicy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
)

// Rules of a CostPolicy, named by their spec field.
const (
	RuleNamespaceSelector    = "namespaceSelector"
	RuleMaxUpfrontCost       = "maxUpfrontCost"
	RuleRequiredPolicy       = "requiredPolicy"
	RuleAllowedProviders     = "allowedProviders"
	RuleMaxAPIPriceDeviation = "maxAPIPriceDeviationPercent"
)

// Decimal places of the figures in violation messages: fixed, so a message never churns.
const (
	percentPlaces    = 1
	perRequestPlaces = 6
)

// Violation is one rule of one policy that an estimate breaks.
type Violation struct {
	Policy, Rule, Message string
}

func (v Violation) String() string {
	return fmt.Sprintf("CostPolicy %s %s: %s", v.Policy, v.Rule, v.Message)
}

// Applicable returns the policies that select a namespace with nsLabels, sorted by name. A policy
// whose selector cannot be read fails closed: it applies, with a violation saying why, so an
// administrator's typo never lets spend through.
func Applicable(policies []ftv1.CostPolicy, nsLabels map[string]string) (applied []*ftv1.CostPolicy, broken []Violation) {
	for i := range policies {
		p := &policies[i]
		sel, err := Selector(p)
		if err != nil {
			applied = append(applied, p)
			broken = append(broken, Violation{Policy: p.Name, Rule: RuleNamespaceSelector,
				Message: fmt.Sprintf("cannot be read (%v); the policy fails closed", err)})
			continue
		}
		if sel.Matches(labels.Set(nsLabels)) {
			applied = append(applied, p)
		}
	}
	slices.SortFunc(applied, func(a, b *ftv1.CostPolicy) int { return strings.Compare(a.Name, b.Name) })
	return applied, broken
}

// Selector is the policy's namespace selector; a nil selector selects nothing.
func Selector(p *ftv1.CostPolicy) (labels.Selector, error) {
	if p.Spec.NamespaceSelector == nil {
		return labels.Nothing(), nil
	}
	return metav1.LabelSelectorAsSelector(p.Spec.NamespaceSelector)
}

// Estimate is what a policy checks of an estimate.
type Estimate struct {
	Spec *ftv1.FineTuneEstimateSpec
	// UpfrontCost is the engine's upfront cost; nil when the estimate could not be computed.
	UpfrontCost *decimal.Decimal
	// Catalog is the catalog the estimate priced with; nil when it could not be resolved.
	Catalog *engine.Catalog
}

// Check returns the rules of p that e breaks, in the order of the spec's fields.
func Check(p *ftv1.CostPolicy, e Estimate) []Violation {
	var out []Violation
	add := func(rule, format string, args ...any) {
		out = append(out, Violation{Policy: p.Name, Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	if limit := p.Spec.MaxUpfrontCost; limit != nil && e.UpfrontCost != nil {
		max, err := decimal.NewFromString(string(*limit))
		switch {
		case err != nil:
			add(RuleMaxUpfrontCost, "%q is not a decimal; the policy fails closed", *limit)
		case e.UpfrontCost.GreaterThan(max):
			add(RuleMaxUpfrontCost, "upfront cost %s USD exceeds the limit of %s USD", engine.Cents(*e.UpfrontCost), *limit)
		}
	}
	if p.Spec.RequiredPolicy == ftv1.PolicyEnforce && e.Spec.Policy != ftv1.PolicyEnforce {
		got := e.Spec.Policy
		if got == "" {
			got = ftv1.PolicyAdvisory
		}
		add(RuleRequiredPolicy, "spec.policy must be Enforce, not %s", got)
	}
	if len(p.Spec.AllowedProviders) > 0 && !slices.Contains(p.Spec.AllowedProviders, e.Spec.Training.Provider) {
		add(RuleAllowedProviders, "spec.training.provider %q is not one of %s", e.Spec.Training.Provider, strings.Join(p.Spec.AllowedProviders, ", "))
	}
	if p.Spec.MaxAPIPriceDeviationPercent != nil {
		if msg := apiPriceDeviation(*p.Spec.MaxAPIPriceDeviationPercent, e); msg != "" {
			add(RuleMaxAPIPriceDeviation, "%s", msg)
		}
	}
	return out
}

var hundred = decimal.NewFromInt(100)

// apiPriceDeviation says why the estimate's API cost per request sits too far from the catalog's
// price for spec.api.model, or "" when it does not.
func apiPriceDeviation(limit ftv1.Decimal, e Estimate) string {
	maxPct, err := decimal.NewFromString(string(limit))
	if err != nil {
		return fmt.Sprintf("%q is not a decimal; the policy fails closed", limit)
	}
	api, usage := e.Spec.API, e.Spec.Usage
	if api.Model == "" {
		return "spec.api.model is required, so the API price can be compared with the catalog's"
	}
	if usage.InputTokensPerRequest == nil || usage.OutputTokensPerRequest == nil {
		return "spec.usage.inputTokensPerRequest and outputTokensPerRequest are required, so the API price can be compared with the catalog's"
	}
	if e.Catalog == nil {
		return "" // not priced at all: Approved is already False (NotReady)
	}
	listed, ok := e.Catalog.APIModels[api.Model]
	if !ok {
		return "" // Ready=False APIPriceNotFound says so
	}
	in, out := decimal.NewFromInt(*usage.InputTokensPerRequest), decimal.NewFromInt(*usage.OutputTokensPerRequest)
	perRequest := func(inPrice, outPrice decimal.Decimal) decimal.Decimal {
		return in.Mul(inPrice).Add(out.Mul(outPrice)).Div(decimal.NewFromInt(1_000_000))
	}
	catalogPrice := perRequest(listed.InputPerMillionToken, listed.OutputPerMillionToken)
	stated := catalogPrice
	switch {
	case api.CostPerRequest != nil:
		d, err := decimal.NewFromString(string(*api.CostPerRequest))
		if err != nil {
			return "spec.api.costPerRequest cannot be read"
		}
		stated = d
	case api.InputPricePerMillionTokens != nil || api.OutputPricePerMillionTokens != nil:
		inPrice, outPrice := listed.InputPerMillionToken, listed.OutputPerMillionToken
		if api.InputPricePerMillionTokens != nil {
			if inPrice, err = decimal.NewFromString(string(*api.InputPricePerMillionTokens)); err != nil {
				return "spec.api.inputPricePerMillionTokens cannot be read"
			}
		}
		if api.OutputPricePerMillionTokens != nil {
			if outPrice, err = decimal.NewFromString(string(*api.OutputPricePerMillionTokens)); err != nil {
				return "spec.api.outputPricePerMillionTokens cannot be read"
			}
		}
		stated = perRequest(inPrice, outPrice)
	}
	diff := stated.Sub(catalogPrice).Abs()
	if catalogPrice.IsZero() {
		if diff.IsZero() {
			return ""
		}
		return fmt.Sprintf("the API cost per request %s USD differs from the catalog's %s USD for %s, which is free",
			stated.StringFixed(perRequestPlaces), catalogPrice.StringFixed(perRequestPlaces), api.Model)
	}
	pct := diff.Mul(hundred).Div(catalogPrice)
	if pct.LessThanOrEqual(maxPct) {
		return ""
	}
	return fmt.Sprintf("the API cost per request %s USD is %s%% away from the catalog's %s USD for %s (at most %s%% allowed)",
		stated.StringFixed(perRequestPlaces), pct.Round(percentPlaces).StringFixed(percentPlaces),
		catalogPrice.StringFixed(perRequestPlaces), api.Model, limit)
}
