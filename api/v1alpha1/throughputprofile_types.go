package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ThroughputProfileSpec names what was measured. The operator creates the profile, named
// MODEL.METHOD.GPUTYPE in lower case.
type ThroughputProfileSpec struct {
	// model is the base model, as in FineTuneEstimate spec.model.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Model string `json:"model"`
	// method is Full, LoRA or QLoRA.
	// +required
	Method Method `json:"method"`
	// gpuType is the GPU the runs trained on.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	GPUType string `json:"gpuType"`
}

// ProfileRun is a run whose throughput a profile holds.
type ProfileRun struct {
	// uid of the workload.
	// +required
	// +kubebuilder:validation:MaxLength=64
	UID string `json:"uid"`
	// estimate is NAMESPACE/NAME of the FineTuneEstimate that gated it.
	// +required
	// +kubebuilder:validation:MaxLength=317
	Estimate string `json:"estimate"`
	// namespace the run ran in: a Calibrated estimate reads only the runs of its own namespace and
	// of the namespaces a CostPolicy trusts (spec.trustedCalibrationNamespaces). Runs recorded
	// before namespaces were kept have none, and count for no namespace.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
	// tokensPerGPUSecond it measured.
	// +required
	// +kubebuilder:validation:MaxLength=24
	TokensPerGPUSecond string `json:"tokensPerGPUSecond"`
}

// ThroughputProfileStatus is the measured throughput: running sums, so every sample counts
// without being kept.
type ThroughputProfileStatus struct {
	// samples is how many runs were measured.
	// +optional
	Samples int64 `json:"samples,omitempty"`
	// tokensPerGPUSecond is their mean throughput per GPU.
	// +optional
	// +kubebuilder:validation:MaxLength=24
	TokensPerGPUSecond string `json:"tokensPerGPUSecond,omitempty"`
	// spreadPercent is their sample standard deviation over the mean, in percent.
	// +optional
	// +kubebuilder:validation:MaxLength=24
	SpreadPercent string `json:"spreadPercent,omitempty"`
	// sum of the measured throughputs.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Sum string `json:"sum,omitempty"`
	// sumOfSquares of the measured throughputs.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	SumOfSquares string `json:"sumOfSquares,omitempty"`
	// recentRuns are the last runs added, newest last, with their namespace: a run here is not added
	// again, and Calibrated estimates compute their throughput from these (the median of their own
	// namespace's and trusted namespaces' runs, outliers left out).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	RecentRuns []ProfileRun `json:"recentRuns,omitempty"`
}

// ThroughputProfile is training throughput measured on this cluster's finished runs of one model,
// method and GPU type; FineTuneEstimates with spec.training.estimator Calibrated use it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=tpp,categories=ftcost
// +kubebuilder:printcolumn:name="Model",type=string,JSONPath=`.spec.model`
// +kubebuilder:printcolumn:name="Method",type=string,JSONPath=`.spec.method`
// +kubebuilder:printcolumn:name="GPU",type=string,JSONPath=`.spec.gpuType`
// +kubebuilder:printcolumn:name="Samples",type=integer,JSONPath=`.status.samples`
// +kubebuilder:printcolumn:name="Tokens/GPU-s",type=string,JSONPath=`.status.tokensPerGPUSecond`
// +kubebuilder:printcolumn:name="Spread%",type=string,JSONPath=`.status.spreadPercent`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ThroughputProfile struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec names the model, method and GPU type measured.
	// +required
	Spec ThroughputProfileSpec `json:"spec"`
	// status is the measurement.
	// +optional
	Status ThroughputProfileStatus `json:"status,omitempty"`
}

// ThroughputProfileList is a list of ThroughputProfiles.
// +kubebuilder:object:root=true
type ThroughputProfileList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ThroughputProfile `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ThroughputProfile{}, &ThroughputProfileList{})
}
