package v1alpha1

// Condition types of a FineTuneEstimate. Ready says whether the estimate was computed; the business
// verdict lives in FineTuneRecommended, WithinBudget and Approved.
const (
	// ConditionReady is True once the estimate was computed from the spec and a price catalog.
	ConditionReady = "Ready"
	// ConditionFineTuneRecommended is True when fine-tuning has a positive net present value over the horizon.
	ConditionFineTuneRecommended = "FineTuneRecommended"
	// ConditionWithinBudget is True when the upfront cost fits spec.budget, or no budget is set.
	ConditionWithinBudget = "WithinBudget"
	// ConditionApproved is True when Ready, FineTuneRecommended and WithinBudget are all True: the GitOps gate.
	ConditionApproved = "Approved"
	// ConditionReconciling is present, and True, only while the controller works on a new generation (kstatus).
	ConditionReconciling = "Reconciling"
	// ConditionStalled is present, and True, only while the spec cannot be estimated without a change (kstatus).
	ConditionStalled = "Stalled"
)

// Reasons of the Ready condition.
const (
	// ReasonEstimated: the estimate was computed.
	ReasonEstimated = "Estimated"
	// ReasonInvalidSpec: the spec passed the schema but cannot be estimated (a field the engine needs is missing or out of range).
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonModelNotFound: spec.model is not in the price catalog.
	ReasonModelNotFound = "ModelNotFound"
	// ReasonProviderNotFound: spec.training.provider, or its GPU type, is not in the price catalog.
	ReasonProviderNotFound = "ProviderNotFound"
	// ReasonAPIPriceNotFound: an API model named by spec.api or spec.serving is not in the price catalog.
	ReasonAPIPriceNotFound = "APIPriceNotFound"
	// ReasonDoesNotFit: the training job needs more memory per GPU than the GPU has; the message names
	// the shortfall and the gpuCount, checkpointing or micro-batch that fits.
	ReasonDoesNotFit = "DoesNotFit"
	// ReasonOutOfRange: a figure passes a ceiling no real plan reaches (one trillion USD, ten thousand
	// GPU-years, a million GPUs), or training rounds to 0 hours or 0.00 USD; never approved.
	ReasonOutOfRange = "OutOfRange"
	// ReasonCatalogNotFound: spec.priceCatalogRef names a PriceCatalog that does not exist.
	ReasonCatalogNotFound = "CatalogNotFound"
	// ReasonReconciling: the controller has seen the object but not yet estimated this generation.
	ReasonReconciling = "Reconciling"
)

// Reasons of the FineTuneRecommended, WithinBudget and Approved conditions.
const (
	// ReasonFineTunePaysOff: the net present value over the horizon is positive.
	ReasonFineTunePaysOff = "FineTunePaysOff"
	// ReasonAPICheaper: the net present value over the horizon is zero or negative.
	ReasonAPICheaper = "APICheaper"
	// ReasonEstimatePending: there is no estimate yet (or it could not be computed), so there is no verdict.
	ReasonEstimatePending = "EstimatePending"
	// ReasonWithinBudget: the upfront cost is at most spec.budget.maxUpfrontCost.
	ReasonWithinBudget = "WithinBudget"
	// ReasonNoBudgetSet: spec.budget.maxUpfrontCost is not set, so any upfront cost fits.
	ReasonNoBudgetSet = "NoBudgetSet"
	// ReasonBudgetExceeded: the upfront cost is above spec.budget.maxUpfrontCost.
	ReasonBudgetExceeded = "BudgetExceeded"
	// ReasonApproved: Ready, FineTuneRecommended and WithinBudget are all True.
	ReasonApproved = "Approved"
	// ReasonNotReady: Approved is False because Ready is not True.
	ReasonNotReady = "NotReady"
	// ReasonNotRecommended: Approved is False because FineTuneRecommended is False.
	ReasonNotRecommended = "NotRecommended"
	// ReasonOverBudget: Approved is False because WithinBudget is False.
	ReasonOverBudget = "OverBudget"
	// ReasonPricesStale: Approved is False because the estimate's policy is Enforce and the
	// PriceCatalog it priced with is Stale: no verdict rests on outdated prices. It turns back once
	// the catalog is fresh.
	ReasonPricesStale = "PricesStale"
	// ReasonPolicyViolated: Approved is False because a CostPolicy that selects the estimate's namespace
	// forbids it; the message names the policy and the rule. Gates hold the work whatever spec.policy
	// says: the platform team's limit is not advisory.
	ReasonPolicyViolated = "PolicyViolated"
)

// Condition types and reasons of a PriceCatalog.
const (
	// ConditionStale is present, and True, only while an entry's effectiveDate is older than spec.maxAge.
	ConditionStale = "Stale"
	// ReasonValid: every entry of the catalog is consistent.
	ReasonValid = "Valid"
	// ReasonInvalidEntries: an entry refers to something the catalog lacks (a GPU type, an API model).
	ReasonInvalidEntries = "InvalidEntries"
	// ReasonPricesOutdated: an entry's effectiveDate is older than spec.maxAge.
	ReasonPricesOutdated = "PricesOutdated"
)

// ConditionActualSpendWithinBudget is present once a gated workload's run was recorded in
// status.actuals and spec.budget.maxUpfrontCost is set: True while the recorded spend is at most the
// budget, False once it passes it.
const ConditionActualSpendWithinBudget = "ActualSpendWithinBudget"

// Reasons of the ActualSpendWithinBudget condition.
const (
	// ReasonSpendWithinBudget: status.actuals.spend is at most spec.budget.maxUpfrontCost.
	ReasonSpendWithinBudget = "SpendWithinBudget"
	// ReasonSpendOverBudget: status.actuals.spend is above spec.budget.maxUpfrontCost.
	ReasonSpendOverBudget = "SpendOverBudget"
)

// ConditionSpendWithinCap is present while status.releases lists a running workload: True while the
// accrued cost of each is at most its overrunLimit, False once one passes it (the CostPolicy overrun
// Warn or Suspend applies to that workload).
const ConditionSpendWithinCap = "SpendWithinCap"

// Reasons of the SpendWithinCap condition.
const (
	// ReasonWithinCap: every running workload's accrued cost is within its limit.
	ReasonWithinCap = "WithinCap"
	// ReasonOverCap: a running workload's accrued cost passed its limit.
	ReasonOverCap = "OverCap"
)

// Reasons of a CostPolicy's Ready condition, and of the gate holding a release on a budget.
const (
	// ReasonBudgetReady: the policy's budget is understood and its ledger up to date.
	ReasonBudgetReady = "BudgetReady"
	// ReasonNoBudget: the policy sets no budget.
	ReasonNoBudget = "NoBudget"
	// ReasonUnknownTimeZone: spec.budget.timeZone is not a time zone of the IANA database; the gate
	// holds the releases the policy's budget governs until it is.
	ReasonUnknownTimeZone = "UnknownTimeZone"
	// ReasonBudgetExhausted: releasing the workload would take the period's committed + spent past
	// a CostPolicy's budget (or an older held workload comes first).
	ReasonBudgetExhausted = "BudgetExhausted"
	// ReasonBudgetTooSmall: the workload's spend cap alone is more than a CostPolicy's budget for a
	// whole period: it is held, and does not keep younger workloads waiting behind it.
	ReasonBudgetTooSmall = "BudgetTooSmall"
	// ReasonBudgetUnmeasured: work in a namespace under a budget that ftcost cannot charge (a bare
	// Pod of the pod gate, a Kueue Workload whose owner is not one of the gated kinds) is held: only
	// the gated kinds commit at release and are measured at their finish.
	ReasonBudgetUnmeasured = "BudgetUnmeasured"
	// ReasonBudgetLedgerFull: the CostPolicy's ledger holds MaxBudgetCharges charges already.
	ReasonBudgetLedgerFull = "BudgetLedgerFull"
)

// Event reasons of a CostPolicy's budget: a namespace (or the policy's total, for a shared budget)
// passed 80% or 100% of its budget in the current period.
const (
	EventBudgetNearlyUsed = "BudgetNearlyUsed"
	EventBudgetUsed       = "BudgetUsed"
)
