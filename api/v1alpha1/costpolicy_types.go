package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CostPolicySpec is what a platform team allows the FineTuneEstimates of the namespaces it selects.
// Teams that can edit their estimates cannot edit a CostPolicy (it is cluster-scoped, and the built-in
// edit and admin roles do not grant it), so an estimate cannot approve its own spend. Every verdict
// checks every policy that selects the estimate's namespace, the way a Kueue ClusterQueue bounds the
// LocalQueues that point at it.
// +kubebuilder:validation:XValidation:rule="has(self.maxUpfrontCost) || has(self.requiredPolicy) || has(self.allowedProviders) || has(self.maxAPIPriceDeviationPercent) || has(self.trustedCalibrationNamespaces) || has(self.estimateLabel) || has(self.overrun) || has(self.overrunPercent) || has(self.budget)",message="a CostPolicy needs at least one of maxUpfrontCost, requiredPolicy, allowedProviders, maxAPIPriceDeviationPercent, trustedCalibrationNamespaces, estimateLabel, overrun, overrunPercent, budget"
type CostPolicySpec struct {
	// namespaceSelector selects the namespaces whose FineTuneEstimates the policy bounds, by their
	// labels; {} selects every namespace.
	// +required
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.all(e, e.operator in ['In', 'NotIn', 'Exists', 'DoesNotExist'])",message="namespaceSelector.matchExpressions operators are In, NotIn, Exists and DoesNotExist"
	// +kubebuilder:validation:XValidation:rule="!has(self.matchExpressions) || self.matchExpressions.all(e, (e.operator in ['In', 'NotIn']) == (has(e.values) && size(e.values) > 0))",message="namespaceSelector.matchExpressions need values with In and NotIn, and none with Exists and DoesNotExist"
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector"`

	// maxUpfrontCost is the most an estimate's upfront cost (training and one-time costs) may be, in
	// USD, whatever the estimate's own spec.budget says.
	// +optional
	MaxUpfrontCost *Decimal `json:"maxUpfrontCost,omitempty"`

	// requiredPolicy Enforce requires spec.policy Enforce of every selected estimate, so that a "no"
	// holds work back. Advisory (or omitted) requires nothing.
	// +optional
	RequiredPolicy Policy `json:"requiredPolicy,omitempty"`

	// allowedProviders are the providers (spec.training.provider) estimates may train with; omitted,
	// any provider of the catalog is allowed.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=63
	AllowedProviders []string `json:"allowedProviders,omitempty"`

	// maxAPIPriceDeviationPercent is how far, in percent either way, the API cost per request an
	// estimate states (spec.api.costPerRequest or its token price overrides) may sit from what the
	// price catalog charges for spec.api.model at the estimate's token counts. Set, every selected
	// estimate must name spec.api.model and its token counts, so the API side cannot be made up.
	// "0" allows no override that changes the price.
	// +optional
	MaxAPIPriceDeviationPercent *Decimal `json:"maxAPIPriceDeviationPercent,omitempty"`
	// trustedCalibrationNamespaces are namespaces whose measured runs the Calibrated estimates of the
	// selected namespaces may use besides their own: a ThroughputProfile is shared by the cluster,
	// but a team calibrates only on runs of teams the platform trusts. Omitted, each namespace
	// calibrates on its own runs alone.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=63
	TrustedCalibrationNamespaces []string `json:"trustedCalibrationNamespaces,omitempty"`

	// estimateLabel Required makes the label ftcost.io/estimate required, in the namespaces the policy
	// selects, on every Pod that asks for accelerators (a limit or request of a GPU or other
	// accelerator resource in any container or init container) and on the pod templates of
	// workloads that would create such Pods: the admission policy estimate-required (config/vap)
	// refuses them without it. Optional (or omitted) requires nothing.
	// +optional
	EstimateLabel EstimateLabelRule `json:"estimateLabel,omitempty"`
	// overrun is what the operator does when a running workload released on a selected estimate
	// spends past its limit (its release's spendCap, plus overrunPercent): Warn (or omitted) sets
	// the estimate's SpendWithinCap condition False with a Warning Event and a metric; Suspend also
	// sets the workload's suspend switch, saying why in its ftcost.io/gate-message annotation.
	// +optional
	Overrun OverrunAction `json:"overrun,omitempty"`
	// overrunPercent is how far past its spend cap, in percent, a run may spend before overrun
	// applies; omitted, the cap itself (the cost of the estimate's upper GPU-hour band).
	// +optional
	OverrunPercent *Decimal `json:"overrunPercent,omitempty"`
	// budget is what the selected namespaces may commit and spend on training per calendar period,
	// in USD: docs/budgets.md.
	// +optional
	Budget *TeamBudget `json:"budget,omitempty"`
}

// EstimateLabelRule says whether Pods that ask for accelerators must name a FineTuneEstimate.
// +kubebuilder:validation:Enum=Required;Optional
type EstimateLabelRule string

const (
	// EstimateLabelRequired refuses accelerator Pods (and workloads of them) without the label.
	EstimateLabelRequired EstimateLabelRule = "Required"
	// EstimateLabelOptional requires nothing: the label opts work into the gates.
	EstimateLabelOptional EstimateLabelRule = "Optional"
)

// OverrunAction is what happens when a running workload spends past its limit.
// +kubebuilder:validation:Enum=Warn;Suspend
type OverrunAction string

const (
	// OverrunWarn: a condition, a Warning Event and a metric.
	OverrunWarn OverrunAction = "Warn"
	// OverrunSuspend: as Warn, and the operator suspends the workload.
	OverrunSuspend OverrunAction = "Suspend"
)

// CostPolicy bounds the FineTuneEstimates of the namespaces it selects; owned by cluster admins.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=fcp,categories=ftcost
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Max-Upfront",type=string,JSONPath=`.spec.maxUpfrontCost`
// +kubebuilder:printcolumn:name="Required-Policy",type=string,JSONPath=`.spec.requiredPolicy`
// +kubebuilder:printcolumn:name="Period",type=string,JSONPath=`.status.budget.current`
// +kubebuilder:printcolumn:name="Budget",type=string,JSONPath=`.status.budget.currentTotal.budget`
// +kubebuilder:printcolumn:name="Committed",type=string,JSONPath=`.status.budget.currentTotal.committed`
// +kubebuilder:printcolumn:name="Spent",type=string,JSONPath=`.status.budget.currentTotal.spent`
// +kubebuilder:printcolumn:name="Remaining",type=string,JSONPath=`.status.budget.currentTotal.remaining`
// +kubebuilder:printcolumn:name="Forecast",type=string,JSONPath=`.status.budget.currentTotal.forecast`
// +kubebuilder:printcolumn:name="Max-API-Deviation",type=string,JSONPath=`.spec.maxAPIPriceDeviationPercent`,priority=1
// +kubebuilder:printcolumn:name="Estimate-Label",type=string,JSONPath=`.spec.estimateLabel`,priority=1
// +kubebuilder:printcolumn:name="Providers",type=string,JSONPath=`.spec.allowedProviders`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type CostPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what the policy allows.
	// +required
	Spec CostPolicySpec `json:"spec"`
	// status is the budget's ledger and figures, written by the operator.
	// +optional
	Status CostPolicyStatus `json:"status,omitempty"`
}

// CostPolicyList is a list of CostPolicies.
// +kubebuilder:object:root=true
type CostPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CostPolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&CostPolicy{}, &CostPolicyList{})
}
