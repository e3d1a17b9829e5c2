// Package gate decides whether gated work (a Kueue Workload, a suspended Job) may start, from the
// FineTuneEstimate it names. It is pure: Decide says what the estimate's verdict is, CheckState and
// ForJob say what each gate does about it, and the controllers read the objects and apply the result.
package gate

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

const (
	// EstimateLabel on a workload (of a kind of workload.Kinds, or a Kueue Workload) names the
	// FineTuneEstimate, in the same namespace, that gates it.
	EstimateLabel = "ftcost.io/estimate"
	// ControllerName is the spec.controllerName of the Kueue AdmissionChecks ftcost serves.
	ControllerName = "ftcost.io/cost-gate"
	// OperatorServiceAccount is the user the manager runs as with config/default, which fills the same
	// name into the admission policies of config/vap: only this user (or Kueue) clears the suspend
	// switch of a gated workload, and this user may change nothing else.
	OperatorServiceAccount = "system:serviceaccount:ftcost-system:ftcost-controller-manager"
)

// Outcome is what the gate's decision comes to; each gate maps it to its own action.
type Outcome string

const (
	// NotGated: the work names no estimate, so the gate does not apply.
	NotGated Outcome = "NotGated"
	// Approved: the estimate is Approved for its current generation, on prices that are not Stale.
	Approved Outcome = "Approved"
	// Pending: there is no usable verdict yet (no estimate, not yet estimated, stale prices); hold the
	// work and look again after Decision.RetryAfter.
	Pending Outcome = "Pending"
	// Rejected: the estimate is not Approved and its policy is Enforce, or a CostPolicy forbids it.
	Rejected Outcome = "Rejected"
	// AdvisoryNotApproved: the estimate is not Approved, but its policy is Advisory.
	AdvisoryNotApproved Outcome = "AdvisoryNotApproved"
)

// Reasons of a Decision (CamelCase), the detail behind its Outcome. A rejection carries the Approved
// condition's own reason (NotReady, NotRecommended, OverBudget).
const (
	// ReasonNoEstimateLabel: the work names no estimate.
	ReasonNoEstimateLabel = "NoEstimateLabel"
	// ReasonEstimateNotFound: the named estimate does not exist (yet).
	ReasonEstimateNotFound = "EstimateNotFound"
	// ReasonEstimatePending: the estimate has not been computed for its current generation.
	ReasonEstimatePending = ftv1.ReasonEstimatePending
	// ReasonPricesStale: the estimate's PriceCatalog is Stale, so its verdict rests on outdated prices.
	ReasonPricesStale = ftv1.ReasonPricesStale
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
	// Reason is a CamelCase reason; Message says what the estimate's verdict is, naming the estimate.
	// What a gate does about it (and under which policy) is for the gate to add.
	Reason  string
	Message string
	// RetryAfter is set for Pending: when to look again.
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

// Decide says what the estimate's verdict on the work is. A verdict that does not exist yet, or rests
// on stale prices, is no verdict at all, so it is Pending whatever the policy; the policy only decides
// what a definite "no" is: Rejected under Enforce, AdvisoryNotApproved under Advisory.
func Decide(in Input) Decision {
	if in.EstimateName == "" {
		return Decision{Outcome: NotGated, Reason: ReasonNoEstimateLabel,
			Message: fmt.Sprintf("No %s label: not gated on cost", EstimateLabel)}
	}
	ref := in.Namespace + "/" + in.EstimateName
	obj := in.Estimate
	if obj == nil {
		return Decision{Outcome: Pending, Reason: ReasonEstimateNotFound, RetryAfter: PendingRetryAfter,
			Message: fmt.Sprintf("FineTuneEstimate %s does not exist", ref)}
	}
	approved := meta.FindStatusCondition(obj.Status.Conditions, ftv1.ConditionApproved)
	ready := meta.FindStatusCondition(obj.Status.Conditions, ftv1.ConditionReady)
	if obj.Status.ObservedGeneration != obj.Generation || ready == nil || ready.Status == metav1.ConditionUnknown ||
		approved == nil || approved.Status == metav1.ConditionUnknown || approved.ObservedGeneration != obj.Generation {
		return Decision{Outcome: Pending, Reason: ReasonEstimatePending, RetryAfter: PendingRetryAfter,
			Message: fmt.Sprintf("FineTuneEstimate %s has not been estimated for generation %d yet", ref, obj.Generation)}
	}
	if in.CatalogStale != nil && in.CatalogStale.Status == metav1.ConditionTrue {
		return Decision{Outcome: Pending, Reason: ReasonPricesStale, RetryAfter: StaleRetryAfter,
			Message: fmt.Sprintf("FineTuneEstimate %s is priced with PriceCatalog %q, which is Stale: %s",
				ref, catalogName(obj), in.CatalogStale.Message)}
	}
	if approved.Status == metav1.ConditionTrue {
		return Decision{Outcome: Approved, Reason: ReasonApproved,
			Message: fmt.Sprintf("FineTuneEstimate %s is Approved: %s", ref, approved.Message)}
	}
	if approved.Reason == ftv1.ReasonPricesStale {
		// The estimate said no because its prices were stale; they may be fresh by now, and the
		// estimate will say so. Never reject (Kueue's Rejected is final) on stale prices.
		return Decision{Outcome: Pending, Reason: ReasonPricesStale, RetryAfter: StaleRetryAfter,
			Message: fmt.Sprintf("FineTuneEstimate %s is not Approved on stale prices: %s", ref, approved.Message)}
	}
	why := fmt.Sprintf("FineTuneEstimate %s is not Approved (%s): %s", ref, approved.Reason, approved.Message)
	// A CostPolicy's "no" is the platform team's, not advisory whatever the estimate's own policy says.
	if obj.Spec.Policy == ftv1.PolicyEnforce || approved.Reason == ftv1.ReasonPolicyViolated {
		return Decision{Outcome: Rejected, Reason: approved.Reason, Message: why}
	}
	return Decision{Outcome: AdvisoryNotApproved, Reason: ReasonAdvisoryNotApproved, Message: why}
}

// enforced ends a gate's message for a Rejected decision: what enforced the "no".
func enforced(d Decision) string {
	if d.Reason == ftv1.ReasonPolicyViolated {
		return "; a CostPolicy is enforced whatever spec.policy"
	}
	return "; policy Enforce"
}

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
