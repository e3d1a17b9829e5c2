// Package gate decides whether gated work (a Kueue Workload, a suspended Job) may start, from the
// FineTuneEstimate it names. It is pure: Decide says what the estimate's verdict is, CheckState and
// ForJob say what each gate does about it, and the controllers read the objects and apply the result.
package gate

import (
	"fmt"
	"strings"
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
	// ReasonStatusDisagrees: the estimate's stored verdict is not what a fresh evaluation of its
	// inputs gives (written by someone else, or not yet rewritten by the operator).
	ReasonStatusDisagrees = "StatusDisagrees"
	// ReasonSizeExceedsPlan: the workload asks for more accelerators than its estimate planned.
	ReasonSizeExceedsPlan = "SizeExceedsPlan"
	// ReasonGPUTypeMismatch: the workload pins another GPU type than its estimate planned.
	ReasonGPUTypeMismatch = "GPUTypeMismatch"
	// ReasonSizeUnknown: the workload's accelerators cannot be read from its spec.
	ReasonSizeUnknown = "SizeUnknown"
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
	// Estimate is the named estimate as stored; nil when it does not exist.
	Estimate *ftv1.FineTuneEstimate
	// Fresh is the estimate's status evaluated afresh from its inputs by the gate itself: the verdict
	// the gate acts on, so a status written by anyone else releases nothing. nil with Estimate.
	Fresh *ftv1.FineTuneEstimateStatus
	// StalePrices says which prices the estimate uses are older than its catalog's maxAge; "" when
	// none is. Whatever the policy, a verdict on outdated prices is no verdict.
	StalePrices string
	// Asked is what the workload asks for, to compare with the plan; nil when not compared (a Kueue
	// Workload, which Kueue sizes).
	Asked *Accelerators
	// SpendCap is the most a run released on the estimate may spend (engine.SpendCap of the fresh
	// figures), USD; "" when the estimate is not priced by the GPU-hour.
	SpendCap string
}

// Accelerators are what a workload asks for: pods x per-pod accelerator requests, and the GPU type
// it pins (by node selector or affinity), if any.
type Accelerators struct {
	// GPUs counts every accelerator the workload asks for: an approval is for the plan's count.
	GPUs int64
	// GPUTypes are the GPU types its pods pin; none when they pin none.
	GPUTypes []string
	// Unknown says why the count cannot be read from the spec ("" when it can).
	Unknown string
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
	stored := meta.FindStatusCondition(obj.Status.Conditions, ftv1.ConditionApproved)
	ready := meta.FindStatusCondition(obj.Status.Conditions, ftv1.ConditionReady)
	if obj.Status.ObservedGeneration != obj.Generation || ready == nil || ready.Status == metav1.ConditionUnknown ||
		stored == nil || stored.Status == metav1.ConditionUnknown || stored.ObservedGeneration != obj.Generation || in.Fresh == nil {
		return Decision{Outcome: Pending, Reason: ReasonEstimatePending, RetryAfter: PendingRetryAfter,
			Message: fmt.Sprintf("FineTuneEstimate %s has not been estimated for generation %d yet", ref, obj.Generation)}
	}
	approved := meta.FindStatusCondition(in.Fresh.Conditions, ftv1.ConditionApproved)
	if approved == nil || approved.Status != stored.Status || approved.Reason != stored.Reason {
		fresh := "none"
		if approved != nil {
			fresh = string(approved.Status) + " (" + approved.Reason + ")"
		}
		return Decision{Outcome: Pending, Reason: ReasonStatusDisagrees, RetryAfter: PendingRetryAfter,
			Message: fmt.Sprintf("FineTuneEstimate %s says Approved=%s (%s), but its inputs give %s now: waiting for the operator to write its verdict",
				ref, stored.Status, stored.Reason, fresh)}
	}
	if in.StalePrices != "" {
		return Decision{Outcome: Pending, Reason: ReasonPricesStale, RetryAfter: StaleRetryAfter,
			Message: fmt.Sprintf("FineTuneEstimate %s is priced with PriceCatalog %q, whose prices it uses are stale: %s",
				ref, catalogName(obj), in.StalePrices)}
	}
	if approved.Status == metav1.ConditionTrue {
		if d, ok := sized(ref, in.Fresh, in.Asked); !ok {
			return d
		}
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
	switch d.Reason {
	case ftv1.ReasonPolicyViolated:
		return "; a CostPolicy is enforced whatever spec.policy"
	case ReasonSizeExceedsPlan, ReasonGPUTypeMismatch, ReasonSizeUnknown:
		return "; an approval is for the planned GPUs, whatever spec.policy"
	}
	return "; policy Enforce"
}

// sized holds an approved workload that asks for more accelerators than the plan, or another GPU
// type, or whose size cannot be read: an approval is for the plan's GPUs, not for whatever runs.
func sized(ref string, plan *ftv1.FineTuneEstimateStatus, asked *Accelerators) (Decision, bool) {
	switch {
	case asked == nil:
		return Decision{}, true
	case asked.Unknown != "":
		return Decision{Outcome: Rejected, Reason: ReasonSizeUnknown,
			Message: fmt.Sprintf("FineTuneEstimate %s plans %d GPUs, but the workload's size cannot be read: %s", ref, plan.GPUCount, asked.Unknown)}, false
	case asked.GPUs > int64(plan.GPUCount):
		return Decision{Outcome: Rejected, Reason: ReasonSizeExceedsPlan,
			Message: fmt.Sprintf("the workload asks for %d GPUs; FineTuneEstimate %s is Approved for %d %s GPUs: lower its size or raise spec.training.gpuCount",
				asked.GPUs, ref, plan.GPUCount, plan.GPUType)}, false
	}
	for _, t := range asked.GPUTypes {
		if plan.GPUType != "" && !SameGPUType(t, plan.GPUType) {
			return Decision{Outcome: Rejected, Reason: ReasonGPUTypeMismatch,
				Message: fmt.Sprintf("the workload pins GPU type %q; FineTuneEstimate %s is Approved for %s: pin %s or change spec.training.gpuType",
					t, ref, plan.GPUType, plan.GPUType)}, false
		}
	}
	return Decision{}, true
}

// SameGPUType says whether a node label's GPU product (nvidia.com/gpu.product "NVIDIA-H100-80GB-HBM3",
// GKE's cloud.google.com/gke-accelerator "nvidia-h100-80gb") names a catalog's GPU type ("H100"): the
// catalog's name, as a whole word, in the label's value, case-insensitively.
func SameGPUType(label, catalogType string) bool {
	words := strings.FieldsFunc(strings.ToLower(label), func(r rune) bool { return r == '-' || r == '_' || r == ' ' || r == '.' })
	want := strings.ToLower(catalogType)
	for _, w := range words {
		if w == want {
			return true
		}
	}
	return strings.EqualFold(label, catalogType)
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
