package evaluation

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
	"github.com/ftcost/ftcost/internal/costpolicy"
	"github.com/ftcost/ftcost/internal/estimate"
)

// Evaluation is an estimate evaluated: the status to write, and the engine's figures behind it for
// those who explain them.
type Evaluation struct {
	Status *ftv1.FineTuneEstimateStatus
	// Input, Catalog and Result are the engine's input, the catalog it priced with and its result;
	// nil where the evaluation stopped before them (Status says why).
	Input   *engine.Input
	Catalog *engine.Catalog
	Result  *engine.Result
	// Stale is how old the prices the estimate uses are against its catalog's maxAge; its Recheck
	// is when the verdict changes if nothing else does (a used price turns stale).
	Stale catalog.Staleness
	// RecheckAfter is when to evaluate again if nothing changes; 0: no such time.
	RecheckAfter time.Duration
}

// Evaluate turns gathered inputs into the estimate's status: the engine's figures, then the checks
// beside them in one order (prices stale under Enforce, CostPolicy violations, recorded and accrued
// spend past the budget, then the estimate's own verdict), and the spend condition. Decimals stay decimals until
// the status is formatted, once. Every condition is set once, to its final value, so evaluating the
// same inputs again yields the same status with the same transition times.
func Evaluate(in *Inputs) *Evaluation {
	obj := in.Estimate
	ev := &Evaluation{}
	policies := policyNames(in.Policies)
	res, err := estimate.Resolve(&obj.Spec, in.Catalog)
	if err != nil {
		ev.Status = failed(obj, err, nil)
	} else {
		ev.Catalog = res.Catalog
		ev.Input, err = estimate.Input(&obj.Spec)
		if err == nil {
			ev.Input.Throughput = estimate.Throughput(in.Profile, trustedNamespaces(obj.Namespace, in.Policies))
			ev.Result, err = engine.Estimate(ev.Input, res.Catalog)
		}
		if err != nil {
			ev.Result = nil
			ev.Status = failed(obj, err, &res.Pricing)
		} else {
			if in.Catalog != nil {
				ev.Stale = catalog.StalePrices(in.Catalog, UsedPrices(ev.Input, ev.Catalog), in.Now)
				ev.RecheckAfter = ev.Stale.Recheck
			}
			ev.Status = estimate.Succeeded(obj, ev.Result, &res.Pricing, verdict(in, ev.Stale, ev.Catalog, ev.Result))
		}
	}
	ev.Status.CostPolicies = policies
	// status.releases is the gate's record, status.actuals the actuals reconciler's: both kept, the
	// spend judged against the budget.
	ev.Status.Releases = obj.Status.Releases
	ev.Status.Actuals = obj.Status.Actuals
	JudgeSpend(obj, ev.Status)
	return ev
}

// failed is the status of an estimate that could not be computed, naming the spec field at fault.
func failed(obj *ftv1.FineTuneEstimate, err error, pricing *ftv1.Pricing) *ftv1.FineTuneEstimateStatus {
	var notFound *estimate.CatalogNotFoundError
	if errors.As(err, &notFound) {
		return estimate.Failed(obj, ftv1.ReasonCatalogNotFound, err.Error(), pricing)
	}
	var ee *engine.Error
	if !errors.As(err, &ee) {
		ee = &engine.Error{Reason: engine.ReasonInvalidSpec, Message: err.Error()}
	}
	return estimate.Failed(obj, string(ee.Reason), estimate.SpecMessage(ee), pricing)
}

// verdict weighs what stands beside the estimate's own figures, in order: the prices it uses
// being stale under policy Enforce (no verdict on outdated prices), then the rules of the
// CostPolicies that select its namespace, then the spend of its recorded runs against its budget.
// It returns the first "no", nil when there is none.
func verdict(in *Inputs, stale catalog.Staleness, cat *engine.Catalog, r *engine.Result) *estimate.Hold {
	obj := in.Estimate
	if len(stale.Stale) > 0 && obj.Spec.Policy == ftv1.PolicyEnforce {
		return &estimate.Hold{Reason: ftv1.ReasonPricesStale, Message: fmt.Sprintf(
			"PriceCatalog %q: %s, and the policy is Enforce: no approval on outdated prices", in.Catalog.Name, stale.Message())}
	}
	violations := in.BrokenPolicies
	upfront := r.UpfrontCost.Decimal()
	for _, p := range in.Policies {
		violations = append(violations, costpolicy.Check(p, costpolicy.Estimate{Spec: &obj.Spec, UpfrontCost: &upfront, Catalog: cat})...)
	}
	if len(violations) > 0 {
		msgs := make([]string, len(violations))
		for i, v := range violations {
			msgs[i] = v.String()
		}
		return &estimate.Hold{Reason: ftv1.ReasonPolicyViolated, Message: strings.Join(msgs, "; ")}
	}
	return overspent(obj)
}

// UsedPrices are the catalog entries whose prices an estimate's figures rest on: its training
// provider, the provider it self-hosts on, the API model it compares with, and the API model that
// bills its fine-tuned model (spec.serving.apiModel, else a Managed provider's).
func UsedPrices(in *engine.Input, cat *engine.Catalog) []catalog.PriceRef {
	refs := []catalog.PriceRef{{Kind: catalog.EntryProvider, Name: in.Provider}}
	add := func(kind, name string) {
		for _, r := range refs {
			if r.Kind == kind && r.Name == name {
				return
			}
		}
		refs = append(refs, catalog.PriceRef{Kind: kind, Name: name})
	}
	if in.SelfHosted != nil {
		add(catalog.EntryProvider, in.SelfHosted.Provider)
	}
	if in.APIModel != "" && in.APICostPerRequest == nil {
		add(catalog.EntryAPIModel, in.APIModel)
	}
	serving := in.ServingAPIModel
	if p, ok := cat.Providers[in.Provider]; ok && serving == "" {
		serving = p.ServingAPIModel
	}
	if serving != "" {
		add(catalog.EntryAPIModel, serving)
	}
	return refs
}

// trustedNamespaces says whose measured runs a Calibrated estimate in namespace may use: its own, and
// those the CostPolicies that select it name in spec.trustedCalibrationNamespaces.
func trustedNamespaces(namespace string, policies []*ftv1.CostPolicy) func(string) bool {
	return func(ns string) bool {
		if ns == namespace {
			return true
		}
		for _, p := range policies {
			if slices.Contains(p.Spec.TrustedCalibrationNamespaces, ns) {
				return true
			}
		}
		return false
	}
}

func policyNames(policies []*ftv1.CostPolicy) []string {
	var names []string
	for _, p := range policies {
		names = append(names, p.Name)
	}
	return names
}
