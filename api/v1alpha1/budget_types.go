package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// TeamBudget is what the namespaces a CostPolicy selects may commit and spend on training per calendar
// period, in USD. A workload commits its spend cap (status.releases[].spendCap of its estimate) when
// the gate releases it; when it finishes, its actual cost replaces the commitment. A release that
// would take committed + spent past the budget is held (BudgetExhausted) until room appears.
type TeamBudget struct {
	// amount is the budget per period, USD.
	// +required
	Amount Decimal `json:"amount"`
	// period is Month, Quarter or Year: calendar periods in timeZone.
	// +optional
	// +kubebuilder:default=Month
	Period BudgetPeriod `json:"period,omitempty"`
	// timeZone is the IANA time zone the periods start and end in, e.g. "Europe/Berlin"; omitted, UTC.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$`
	TimeZone string `json:"timeZone,omitempty"`
	// per is Namespace (each selected namespace has amount to itself) or Policy (the selected
	// namespaces share amount); omitted, Namespace.
	// +optional
	// +kubebuilder:default=Namespace
	Per BudgetScope `json:"per,omitempty"`
}

// BudgetPeriod is the calendar period a budget renews over.
// +kubebuilder:validation:Enum=Month;Quarter;Year
type BudgetPeriod string

// Budget periods.
const (
	BudgetMonth   BudgetPeriod = "Month"
	BudgetQuarter BudgetPeriod = "Quarter"
	BudgetYear    BudgetPeriod = "Year"
)

// BudgetScope says whom a budget's amount is for.
// +kubebuilder:validation:Enum=Namespace;Policy
type BudgetScope string

// Budget scopes.
const (
	// BudgetPerNamespace: every selected namespace has the whole amount to itself.
	BudgetPerNamespace BudgetScope = "Namespace"
	// BudgetPerPolicy: the selected namespaces share the amount.
	BudgetPerPolicy BudgetScope = "Policy"
)

// Bounds of a CostPolicy's status.budget.
const (
	// MaxBudgetCharges is how many charges status.budget.charges holds (the current and the previous
	// period, and earlier ones while a charge of theirs is still open). A release that finds the
	// ledger full is held (BudgetLedgerFull).
	MaxBudgetCharges = 1000
	// MaxBudgetPeriods is how many periods status.budget.periods lists.
	MaxBudgetPeriods = 13
)

// ChargeState says whether a charge is a commitment or a cost.
// +kubebuilder:validation:Enum=Committed;Spent
type ChargeState string

// Charge states.
const (
	// ChargeCommitted: the workload runs; its spend cap is committed.
	ChargeCommitted ChargeState = "Committed"
	// ChargeSpent: the workload finished (or was deleted); its actual cost replaced the commitment.
	ChargeSpent ChargeState = "Spent"
)

// BudgetCharge is one workload charged to a budget period: the ledger that the figures of
// status.budget.periods are sums of, keyed by the workload's UID so that no run counts twice.
type BudgetCharge struct {
	// period is the period the charge belongs to: the one the workload was released in ("2026-12",
	// "2026-Q4", "2026").
	// +required
	// +kubebuilder:validation:MaxLength=16
	Period string `json:"period"`
	// namespace of the workload and its estimate.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`
	// estimate is the FineTuneEstimate that released the workload.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Estimate string `json:"estimate"`
	// kind and name of the workload.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Kind string `json:"kind"`
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// uid of the workload.
	// +required
	// +kubebuilder:validation:MaxLength=64
	UID string `json:"uid"`
	// state is Committed while the workload runs, Spent once it finished.
	// +required
	State ChargeState `json:"state"`
	// committed is the spend cap the workload was released with, USD.
	// +required
	Committed Decimal `json:"committed"`
	// estimated is the estimate's training cost (its point estimate) at release, USD.
	// +optional
	Estimated Decimal `json:"estimated,omitempty"`
	// actual is what the run cost once it finished (its run in status.actuals of the estimate), or
	// what it had accrued when it was deleted before finishing, USD.
	// +optional
	Actual Decimal `json:"actual,omitempty"`
	// releasedAt is when the gate committed the charge.
	// +required
	ReleasedAt metav1.Time `json:"releasedAt"`
	// finishedAt is when the charge turned Spent.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
}

// BudgetFigures are a budget's figures for one namespace (or the policy's total) in one period, USD.
type BudgetFigures struct {
	// budget is the amount available.
	// +required
	Budget Decimal `json:"budget"`
	// committed is the sum of the spend caps of the workloads still running.
	// +required
	Committed Decimal `json:"committed"`
	// spent is the sum of the actual costs of the finished workloads.
	// +required
	Spent Decimal `json:"spent"`
	// remaining is budget - committed - spent; negative once runs overspent their caps.
	// +required
	Remaining SignedDecimal `json:"remaining"`
	// forecast is what the period will have spent once the workloads running now finish: spent plus,
	// for each, the larger of its estimated cost and what it has accrued.
	// +required
	Forecast Decimal `json:"forecast"`
	// usedPercent is (committed + spent) / budget x 100, to one decimal.
	// +optional
	UsedPercent Decimal `json:"usedPercent,omitempty"`
}

// NamespaceBudget is one namespace's figures in one period.
type NamespaceBudget struct {
	// namespace the figures are for.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Namespace     string `json:"namespace"`
	BudgetFigures `json:",inline"`
	// alerted is the highest threshold (80 or 100 percent of the budget) a Warning Event was
	// recorded for in this period, so that a restart does not repeat it.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Alerted int32 `json:"alerted,omitempty"`
}

// BudgetPeriodStatus is a budget's figures for one period.
type BudgetPeriodStatus struct {
	// period names it: "2026-12", "2026-Q4" or "2026".
	// +required
	// +kubebuilder:validation:MaxLength=16
	Period string `json:"period"`
	// start and end of the period (end exclusive).
	// +required
	Start metav1.Time `json:"start"`
	// +required
	End metav1.Time `json:"end"`
	// total is the policy's figures over its namespaces.
	// +required
	Total BudgetFigures `json:"total"`
	// alerted is, for a budget shared by the policy's namespaces (per: Policy), the highest
	// threshold (80 or 100 percent) a Warning Event was recorded for in this period.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Alerted int32 `json:"alerted,omitempty"`
	// namespaces are the figures of each selected namespace, and of each namespace with a charge.
	// +optional
	// +listType=map
	// +listMapKey=namespace
	// +kubebuilder:validation:MaxItems=1000
	Namespaces []NamespaceBudget `json:"namespaces,omitempty"`
}

// BudgetStatus is the ledger of a CostPolicy's budget and its figures.
type BudgetStatus struct {
	// current is the period now, as in periods (for the printer columns).
	// +optional
	// +kubebuilder:validation:MaxLength=16
	Current string `json:"current,omitempty"`
	// currentTotal is the current period's total, as in periods.
	// +optional
	CurrentTotal *BudgetFigures `json:"currentTotal,omitempty"`
	// resetsAt is when the current period ends and a new one begins.
	// +optional
	ResetsAt *metav1.Time `json:"resetsAt,omitempty"`
	// periods are the current period, the previous one, and any earlier with a charge still open,
	// newest first.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=13
	Periods []BudgetPeriodStatus `json:"periods,omitempty"`
	// charges are the workloads charged to those periods, oldest first.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=1000
	Charges []BudgetCharge `json:"charges,omitempty"`
}

// CostPolicyStatus is what the operator found of a CostPolicy.
type CostPolicyStatus struct {
	// observedGeneration is the metadata.generation the status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions: Ready says whether the policy's budget is understood (its time zone known).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// budget is the ledger and figures of spec.budget.
	// +optional
	Budget *BudgetStatus `json:"budget,omitempty"`
}
