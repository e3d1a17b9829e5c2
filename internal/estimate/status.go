package estimate

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/conditions"
)

// Currency of every money figure.
const Currency = "USD"

func ptrString(d *decimal.Decimal, format func(decimal.Decimal) string) string {
	if d == nil {
		return ""
	}
	return format(*d)
}

// formatPrice prints a price with at least two decimals: "2.49", "3.00", "0.0016".
func formatPrice(d decimal.Decimal) string {
	places := max(-d.Exponent(), 2)
	return d.StringFixed(places)
}

// memoryBreakdown prints the engine's breakdown with one decimal, as memoryPerGPUGiB.
func memoryBreakdown(m *engine.MemoryBreakdown) *ftv1.MemoryBreakdown {
	if m == nil {
		return nil
	}
	return &ftv1.MemoryBreakdown{
		Weights: engine.FormatOneDecimal(m.Weights), Gradients: engine.FormatOneDecimal(m.Gradients),
		Optimizer: engine.FormatOneDecimal(m.Optimizer), Activations: engine.FormatOneDecimal(m.Activations),
		Overhead: engine.FormatOneDecimal(m.Overhead),
	}
}

// Hold is a "no" to approval from outside the estimate's own figures (a CostPolicy, stale prices):
// the Approved condition's reason and message.
type Hold struct {
	Reason, Message string
}

// Succeeded is the status of a computed estimate. hold, when set, says why it is not Approved
// whatever its own figures say; it outranks NotRecommended and OverBudget. Every condition is set
// once, to its final value, so a recomputation keeps each lastTransitionTime.
func Succeeded(obj *ftv1.FineTuneEstimate, r *engine.Result, pricing *ftv1.Pricing, hold *Hold) *ftv1.FineTuneEstimateStatus {
	s := &ftv1.FineTuneEstimateStatus{
		ObservedGeneration: obj.Generation,
		Recommendation:     ftv1.Recommendation(r.Recommendation),
		Estimator:          ftv1.Estimator(r.Estimator),
		GPUType:            r.GPUType,
		GPUCount:           r.GPUCount,
		GPUHours:           ptrString(r.GPUHours, engine.FormatFigure),
		GPUHoursLow:        ptrString(r.GPUHoursLow, engine.FormatFigure),
		GPUHoursHigh:       ptrString(r.GPUHoursHigh, engine.FormatFigure),
		WallClockHours:     ptrString(r.WallClockHours, engine.FormatFigure),
		MemoryPerGPUGiB:    ptrString(r.MemoryPerGPUGiB, engine.FormatOneDecimal),
		MemoryBreakdown:    memoryBreakdown(r.MemoryBreakdown),
		Sharding:           ftv1.Sharding(r.Sharding),
		SequenceLength:     r.SequenceLength,
		MFUPercent:         ptrString(r.MFUPercent, engine.FormatFigure),
		PricePerGPUHour:    ptrString(r.PricePerGPUHour, formatPrice),
		TrainingTokens:     ptrString(r.TrainingTokens, engine.FormatFigure),
		Currency:           Currency,
		TrainingCost:       r.TrainingCost.String(),
		OneTimeCost:        r.OneTimeCost.String(),
		UpfrontCost:        r.UpfrontCost.String(),
		APIMonthlyCost:     r.APIMonthlyCost.String(),
		ServingMonthlyCost: r.ServingMonthlyCost.String(),
		MonthlySavings:     r.MonthlySavings.String(),
		BreakEvenMonths:    ptrString(r.BreakEvenMonths, engine.FormatOneDecimal),
		NetSavings:         r.NetSavings.String(),
		ROIPercent:         ptrString(r.ROIPercent, engine.FormatOneDecimal),
		NetPresentValue:    r.NetPresentValue.String(),
		HorizonMonths:      r.HorizonMonths,
		Pricing:            pricing,
		Calibration:        calibrationStatus(r.Calibration),
		Conditions:         slices.Clone(obj.Status.Conditions),
	}
	if r.MemoryBreakdown != nil {
		s.GradientCheckpointing = ptr.To(r.GradientCheckpointing) // a copy: a pointer into r would keep its months alive
		s.ActivationCheckpointing, s.Framework = string(r.Checkpointing), cmp.Or(string(r.Framework), ftv1.FrameworkConservative)
	}
	if sv := r.Serving; sv != nil {
		s.ServingBreakdown = &ftv1.ServingBreakdown{GPUType: sv.GPUType, GPUsPerReplica: sv.GPUsPerReplica,
			Replicas: sv.Replicas, GPUHoursPerMonth: engine.FormatFigure(sv.GPUHoursPerMonth),
			PricePerGPUHour: formatPrice(sv.PricePerGPUHour), MemoryPerGPUGiB: engine.FormatOneDecimal(sv.MemoryPerGPUGiB)}
		if sv.Overloaded {
			s.ServingBreakdown.OverloadedInMonth, s.ServingBreakdown.ReplicasNeeded = int32(sv.OverloadedMonth), sv.NeededReplicas
		}
		s.ServingCapacity = engine.FormatFigure(sv.CapacityPerReplica)
	}
	set := conditions.Setter(&s.Conditions, obj.Generation)
	set(ftv1.ConditionReady, metav1.ConditionTrue, ftv1.ReasonEstimated, readyMessage(r, pricing))
	meta.RemoveStatusCondition(&s.Conditions, ftv1.ConditionReconciling)
	meta.RemoveStatusCondition(&s.Conditions, ftv1.ConditionStalled)

	recommended := r.Recommendation == engine.RecommendFineTune
	if recommended {
		set(ftv1.ConditionFineTuneRecommended, metav1.ConditionTrue, ftv1.ReasonFineTunePaysOff,
			fmt.Sprintf("Fine-tuning breaks even in month %s of %d; net present value %s %s over the horizon",
				s.BreakEvenMonths, r.HorizonMonths, s.NetPresentValue, Currency)+servingNote(r))
	} else {
		set(ftv1.ConditionFineTuneRecommended, metav1.ConditionFalse, ftv1.ReasonAPICheaper, apiCheaperMessage(r, s)+servingNote(r))
	}

	within := r.Budget != engine.BudgetExceeded
	switch r.Budget {
	case engine.NoBudgetSet:
		set(ftv1.ConditionWithinBudget, metav1.ConditionTrue, ftv1.ReasonNoBudgetSet, "No budget is set (spec.budget.maxUpfrontCost)")
	case engine.WithinBudget:
		set(ftv1.ConditionWithinBudget, metav1.ConditionTrue, ftv1.ReasonWithinBudget,
			fmt.Sprintf("Upfront cost %s %s is within the budget of %s", s.UpfrontCost, Currency, r.MaxUpfrontCost))
	default:
		set(ftv1.ConditionWithinBudget, metav1.ConditionFalse, ftv1.ReasonBudgetExceeded,
			fmt.Sprintf("Upfront cost %s %s exceeds the budget of %s", s.UpfrontCost, Currency, r.MaxUpfrontCost))
	}

	switch {
	case hold != nil:
		set(ftv1.ConditionApproved, metav1.ConditionFalse, hold.Reason, hold.Message)
	case !recommended:
		set(ftv1.ConditionApproved, metav1.ConditionFalse, ftv1.ReasonNotRecommended, "FineTuneRecommended is False: the API is cheaper over the horizon")
	case !within:
		set(ftv1.ConditionApproved, metav1.ConditionFalse, ftv1.ReasonOverBudget, "WithinBudget is False: the upfront cost exceeds the budget")
	default:
		set(ftv1.ConditionApproved, metav1.ConditionTrue, ftv1.ReasonApproved, "Ready, FineTuneRecommended and WithinBudget are all True")
	}
	return s
}

func readyMessage(r *engine.Result, p *ftv1.Pricing) string {
	where := fmt.Sprintf("catalog %q", p.Catalog)
	if p.Source == ftv1.PricingSourceBuiltin {
		where = "the built-in catalog (no PriceCatalog \"default\" exists)"
	} else if p.CatalogGeneration > 0 {
		where = fmt.Sprintf("catalog %q generation %d", p.Catalog, p.CatalogGeneration)
	}
	return fmt.Sprintf("Estimated with the %s estimator using prices from %s", r.Estimator, where)
}

// ServingUnpricedNote is what an estimate says when nothing prices serving the fine-tuned model.
const ServingUnpricedNote = "serving the fine-tuned model is unpriced (counted as free): set spec.serving.selfHosted, costPerRequest, monthlyCost or apiModel"

// servingNote adds to the verdict what a reader must know about the serving side: that it is
// unpriced, or that a fixed replica count cannot carry the volume.
func servingNote(r *engine.Result) string {
	switch {
	case r.ServingUnpriced:
		return "; " + ServingUnpricedNote
	case r.Serving != nil && r.Serving.Overloaded:
		return "; " + servingOverloadMessage(r.Serving.OverloadedMonth, r.Serving.NeededReplicas)
	}
	return ""
}

// servingOverloadMessage says that a fixed replica count cannot carry the volume, and what is priced.
func servingOverloadMessage(month int, needed int32) string {
	return fmt.Sprintf("spec.serving.selfHosted.replicas cannot carry the volume from month %d, which needs %d replicas; those are priced",
		month, needed)
}

func apiCheaperMessage(r *engine.Result, s *ftv1.FineTuneEstimateStatus) string {
	msg := fmt.Sprintf("Net present value over %d months is %s %s: first-month savings of %s do not recover the upfront cost of %s in time",
		r.HorizonMonths, s.NetPresentValue, Currency, s.MonthlySavings, s.UpfrontCost)
	if s.BreakEvenMonths != "" {
		return msg + fmt.Sprintf(" (break-even at month %s)", s.BreakEvenMonths)
	}
	return msg + " (it never breaks even)"
}

// Failed is the status of an estimate that could not be computed: Ready=False with reason, Stalled
// while the input stays as it is, no figures, and no verdict.
func Failed(obj *ftv1.FineTuneEstimate, reason, message string, pricing *ftv1.Pricing) *ftv1.FineTuneEstimateStatus {
	s := &ftv1.FineTuneEstimateStatus{
		ObservedGeneration: obj.Generation,
		Recommendation:     ftv1.RecommendationUndetermined,
		Pricing:            pricing,
		Conditions:         slices.Clone(obj.Status.Conditions),
	}
	set := conditions.Setter(&s.Conditions, obj.Generation)
	set(ftv1.ConditionReady, metav1.ConditionFalse, reason, message)
	set(ftv1.ConditionStalled, metav1.ConditionTrue, reason, message)
	meta.RemoveStatusCondition(&s.Conditions, ftv1.ConditionReconciling)
	set(ftv1.ConditionFineTuneRecommended, metav1.ConditionUnknown, ftv1.ReasonEstimatePending, "No estimate: "+message)
	set(ftv1.ConditionWithinBudget, metav1.ConditionUnknown, ftv1.ReasonEstimatePending, "No estimate: "+message)
	set(ftv1.ConditionApproved, metav1.ConditionFalse, ftv1.ReasonNotReady, "Ready is False: "+message)
	return s
}

// Pending is the status of an estimate seen but not yet computed: Ready=Unknown, Reconciling=True.
func Pending(obj *ftv1.FineTuneEstimate, message string) *ftv1.FineTuneEstimateStatus {
	s := obj.Status.DeepCopy()
	set := conditions.Setter(&s.Conditions, obj.Generation)
	set(ftv1.ConditionReconciling, metav1.ConditionTrue, ftv1.ReasonReconciling, message)
	meta.RemoveStatusCondition(&s.Conditions, ftv1.ConditionStalled) // kstatus: never both at once
	for _, t := range []string{ftv1.ConditionFineTuneRecommended, ftv1.ConditionWithinBudget, ftv1.ConditionApproved} {
		if meta.FindStatusCondition(s.Conditions, t) == nil {
			set(t, metav1.ConditionUnknown, ftv1.ReasonEstimatePending, message)
		}
	}
	if meta.FindStatusCondition(s.Conditions, ftv1.ConditionReady) == nil {
		set(ftv1.ConditionReady, metav1.ConditionUnknown, ftv1.ReasonReconciling, message)
	}
	return s
}
