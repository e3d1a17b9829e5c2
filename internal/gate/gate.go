// Package gate decides whether gated work (a Kueue Workload, a suspended Job) may start, from the
// FineTuneEstimate it names. It is pure: the controllers read the objects and apply the result.
package gate

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

const (
	// EstimateLabel on a Job (or a Workload) names the FineTuneEstimate, in the same namespace, that gates it.
	EstimateLabel = "ftcost.io/estimate"
	// ControllerName is the spec.controllerName of the Kueue AdmissionChecks ftcost serves.
	ControllerName = "ftcost.io/cost-gate"
	// OperatorServiceAccount is the user the manager runs as with config/default; the
	// ValidatingAdmissionPolicy in config/vap lets only this user clear spec.suspend on a gated Job.
	OperatorServiceAccount = "system:serviceaccount:ftcost-system:ftcost-controller-manager"
)

// Outcome is what the gate says about a piece of work.
type Outcome string

const (
	// Pass lets the work start.
	Pass Outcome = "Pass"
	// Wait holds the work: there is no usable verdict yet (no estimate, not yet estimated, stale prices).
	Wait Outcome = "Wait"
	// Reject holds the work for good: the estimate is not Approved and its policy is Enforce.
	Reject Outcome = "Reject"
)

// Reasons of a Decision (CamelCase). A rejection carries the Approved condition's own reason
// (NotReady, NotRecommended, OverBudget).
const (
	// ReasonNoEstimateLabel: the work names no estimate, so the gate does not apply.
	ReasonNoEstimateLabel = "NoEstimateLabel"
	// ReasonEstimateNotFound: the named estimate does not exist (yet).
	ReasonEstimateNotFound = "EstimateNotFound"
	// ReasonEstimatePending: the estimate has not been computed for its current generation.
	ReasonEstimatePending = ftv1.ReasonEstimatePending
	// ReasonPricesStale: the estimate's PriceCatalog is Stale, so its verdict rests on outdated prices.
	ReasonPricesStale = "PricesStale"
	// ReasonApproved: the estimate is Approved.
	ReasonApproved = ftv1.ReasonApproved
	// ReasonAdvisoryNotApproved: the estimate is not Approved, but its policy is Advisory.
	ReasonAdvisoryNotApproved = "AdvisoryNotApproved"
)

// Delays before looking again at held work. An estimate is computed within a second of a change, so a
// pending one is worth a quick second look; stale prices wait for a person to update the catalog.
const (
	PendingRetryAfter = 15 * time.Second
	StaleRetryAfter   = 5 * time.Minute
)

// Decision is the gate's verdict on one piece of work.
type Decision struct {
	Outcome Outcome
	// Reason is a CamelCase reason; Message says why in words, naming the estimate.
	Reason  string
	Message string
	// RetryAfter is set for Wait: when to look again.
	RetryAfter time.Duration
}

// Input is what the gate reads.
type Input struct {
	// Namespace of the work, which is also the estimate's.
	Namespace string
	// EstimateName is the value of the EstimateLabel; empty when the work has none.
	EstimateName string
	// Estimate is the named estimate; nil when it does not exist.
	Estimate *ftv1.FineTuneEstimate
	// CatalogStale is the Stale condition of the PriceCatalog named by status.pricing.catalog; nil when
	// the catalog is not Stale (or the built-in catalog was used, which has none).
	CatalogStale *metav1.Condition
}

// Decide says whether the work may start. A verdict that does not exist yet, or rests on stale prices,
// is no verdict at all, so it is Wait whatever the policy; the policy only decides what a definite "no"
// does: Enforce rejects, Advisory passes with a message.
func Decide(in Input) Decision {
	if in.EstimateName == "" {
		return Decision{Outcome: Pass, Reason: ReasonNoEstimateLabel,
			Message: fmt.Sprintf("No %s label: not gated on cost", EstimateLabel)}
	}
	ref := in.Namespace + "/" + in.EstimateName
	obj := in.Estimate
	if obj == nil {
		return Decision{Outcome: Wait, Reason: ReasonEstimateNotFound, RetryAfter: PendingRetryAfter,
			Message: fmt.Sprintf("FineTuneEstimate %s does not exist", ref)}
	}
	approved := meta.FindStatusCondition(obj.Status.Conditions, ftv1.ConditionApproved)
	ready := meta.FindStatusCondition(obj.Status.Conditions, ftv1.ConditionReady)
	if obj.Status.ObservedGeneration != obj.Generation || ready == nil || ready.Status == metav1.ConditionUnknown ||
		approved == nil || approved.Status == metav1.ConditionUnknown || approved.ObservedGeneration != obj.Generation {
		return Decision{Outcome: Wait, Reason: ReasonEstimatePending, RetryAfter: PendingRetryAfter,
			Message: fmt.Sprintf("FineTuneEstimate %s has not been estimated for generation %d yet", ref, obj.Generation)}
	}
	if in.CatalogStale != nil && in.CatalogStale.Status == metav1.ConditionTrue {
		return Decision{Outcome: Wait, Reason: ReasonPricesStale, RetryAfter: StaleRetryAfter,
			Message: fmt.Sprintf("FineTuneEstimate %s is priced with PriceCatalog %q, which is Stale: %s",
				ref, catalogName(obj), in.CatalogStale.Message)}
	}
	if approved.Status == metav1.ConditionTrue {
		return Decision{Outcome: Pass, Reason: ReasonApproved,
			Message: fmt.Sprintf("FineTuneEstimate %s is Approved: %s", ref, approved.Message)}
	}
	why := fmt.Sprintf("FineTuneEstimate %s is not Approved (%s): %s", ref, approved.Reason, approved.Message)
	if obj.Spec.Policy == ftv1.PolicyEnforce {
		return Decision{Outcome: Reject, Reason: approved.Reason, Message: why + "; policy Enforce"}
	}
	return Decision{Outcome: Pass, Reason: ReasonAdvisoryNotApproved, Message: why + advisoryLetsItRun}
}

// advisoryLetsItRun ends the message of an Advisory "no" that passes.
const advisoryLetsItRun = "; policy Advisory lets it run"

// CatalogToCheck is the PriceCatalog whose Stale condition matters for an estimate; empty when the
// estimate was priced with the built-in catalog or not priced at all.
func CatalogToCheck(obj *ftv1.FineTuneEstimate) string {
	if obj == nil || obj.Status.Pricing == nil || obj.Status.Pricing.Source != ftv1.PricingSourceCatalog {
		return ""
	}
	return obj.Status.Pricing.Catalog
}

func catalogName(obj *ftv1.FineTuneEstimate) string {
	if obj.Status.Pricing == nil {
		return ""
	}
	return obj.Status.Pricing.Catalog
}
