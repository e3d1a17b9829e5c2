package estimate

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
)

// Event reasons.
const (
	ReasonRecommendationChanged = "RecommendationChanged"
	ReasonUpfrontCostChanged    = "UpfrontCostChanged"
	ReasonEstimateFailed        = "EstimateFailed"
	ReasonPricingSourceChanged  = "PricingSourceChanged"
	ReasonServingOverloaded     = "ServingOverloaded"
	// ReasonCalibrationSampleRejected: a Calibrated estimate leaves measured runs out as outliers.
	ReasonCalibrationSampleRejected = "CalibrationSampleRejected"
)

// Change is something a person should notice between two statuses, to be recorded as an Event.
type Change struct {
	Type, Reason, Message string
}

// Changes lists what moved from prev to next: a recommendation that flips between FineTune and API,
// an upfront cost that moves (with the relative change), an estimate that newly fails or fails for a
// new reason (not when its catalog was deleted: catalogLost). A first estimate (prev has none) is
// not a change.
//
// An upfront cost moved only by a new generation of its PriceCatalog is not a change of the
// estimate's: one price edit would otherwise write an Event for every estimate on the catalog, as
// many writes again as the repricing itself. The catalog's CatalogChanged Event says it once, and a
// verdict that flips still has its own Event.
func Changes(prev, next *ftv1.FineTuneEstimateStatus) []Change {
	var out []Change
	if decided(prev.Recommendation) && decided(next.Recommendation) && prev.Recommendation != next.Recommendation {
		out = append(out, Change{corev1.EventTypeNormal, ReasonRecommendationChanged,
			fmt.Sprintf("Recommendation %s -> %s", prev.Recommendation, next.Recommendation)})
	}
	if prev.UpfrontCost != "" && next.UpfrontCost != "" && prev.UpfrontCost != next.UpfrontCost && !Repriced(prev, next) {
		if msg, ok := upfrontMove(prev.UpfrontCost, next.UpfrontCost); ok {
			out = append(out, Change{corev1.EventTypeNormal, ReasonUpfrontCostChanged, msg})
		}
	}
	if prev.Pricing != nil && next.Pricing != nil && prev.Pricing.Catalog != next.Pricing.Catalog {
		msg := fmt.Sprintf("Prices now come from catalog %q instead of %q", next.Pricing.Catalog, prev.Pricing.Catalog)
		if next.Pricing.Source == ftv1.PricingSourceBuiltin {
			msg = fmt.Sprintf("Prices now come from the built-in catalog: PriceCatalog %q no longer exists", prev.Pricing.Catalog)
		}
		out = append(out, Change{corev1.EventTypeNormal, ReasonPricingSourceChanged, msg})
	}
	if b := next.ServingBreakdown; b != nil && b.OverloadedInMonth > 0 &&
		(prev.ServingBreakdown == nil || prev.ServingBreakdown.OverloadedInMonth != b.OverloadedInMonth || prev.ServingBreakdown.ReplicasNeeded != b.ReplicasNeeded) {
		out = append(out, Change{corev1.EventTypeWarning, ReasonServingOverloaded,
			servingOverloadMessage(int(b.OverloadedInMonth), b.ReplicasNeeded)})
	}
	if left := outliers(next.Calibration); left != "" && left != outliers(prev.Calibration) {
		out = append(out, Change{corev1.EventTypeWarning, ReasonCalibrationSampleRejected, "Calibration " + left})
	}
	if c := meta.FindStatusCondition(next.Conditions, ftv1.ConditionReady); c != nil && c.Status == metav1.ConditionFalse && !catalogLost(prev, next, c) {
		p := meta.FindStatusCondition(prev.Conditions, ftv1.ConditionReady)
		if p == nil || p.Status != metav1.ConditionFalse || p.Reason != c.Reason || p.Message != c.Message {
			out = append(out, Change{corev1.EventTypeWarning, ReasonEstimateFailed, fmt.Sprintf("%s: %s", c.Reason, c.Message)})
		}
	}
	return out
}

// catalogLost reports whether the estimate fails only because the catalog that priced it is gone:
// the same spec generation, priced by a PriceCatalog before, CatalogNotFound now. The catalog's own
// CatalogDeleted Event says it once, not one EstimateFailed Warning for each of its estimates.
func catalogLost(prev, next *ftv1.FineTuneEstimateStatus, ready *metav1.Condition) bool {
	return ready.Reason == ftv1.ReasonCatalogNotFound && prev.ObservedGeneration == next.ObservedGeneration &&
		prev.Pricing != nil && prev.Pricing.Source == ftv1.PricingSourceCatalog
}

// Repriced reports whether the upfront cost moved only with the catalog's prices, and quietly: the
// same spec generation, priced by a newer generation of the same PriceCatalog, with the same answer
// at the gate (Approved and WithinBudget unchanged). A move that approves or holds training is the
// estimate's own news. A catalog deleted and created again starts at generation 1: not newer.
func Repriced(prev, next *ftv1.FineTuneEstimateStatus) bool {
	return prev.ObservedGeneration == next.ObservedGeneration && prev.Pricing != nil && next.Pricing != nil &&
		prev.Pricing.Source == ftv1.PricingSourceCatalog && next.Pricing.Source == ftv1.PricingSourceCatalog &&
		prev.Pricing.Catalog == next.Pricing.Catalog && next.Pricing.CatalogGeneration > prev.Pricing.CatalogGeneration &&
		sameStatus(prev, next, ftv1.ConditionApproved) && sameStatus(prev, next, ftv1.ConditionWithinBudget)
}

func sameStatus(prev, next *ftv1.FineTuneEstimateStatus, condition string) bool {
	p, n := meta.FindStatusCondition(prev.Conditions, condition), meta.FindStatusCondition(next.Conditions, condition)
	return (p == nil) == (n == nil) && (p == nil || p.Status == n.Status)
}

func decided(r ftv1.Recommendation) bool {
	return r == ftv1.RecommendationFineTune || r == ftv1.RecommendationAPI
}

func upfrontMove(prev, next string) (string, bool) {
	from, err1 := engine.ParseMoney(prev)
	to, err2 := engine.ParseMoney(next)
	if err1 != nil || err2 != nil {
		return "", false
	}
	msg := fmt.Sprintf("Upfront cost %s -> %s", from, to)
	if pct, ok := engine.PercentChange(from, to); ok {
		msg += fmt.Sprintf(" (%s%%)", pct)
	}
	return msg, true
}

// outliers is what a calibration message says it left out ("left out as outliers ..."), "" when nothing.
func outliers(c *ftv1.CalibrationStatus) string {
	if c == nil {
		return ""
	}
	_, left, found := strings.Cut(c.Message, "; left out as outliers")
	if !found {
		return ""
	}
	return "left out as outliers" + left
}
