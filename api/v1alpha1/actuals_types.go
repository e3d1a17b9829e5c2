package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// EstimatorCalibrated divides the job's training tokens by the throughput measured on this cluster's
// own finished runs of the same model, method and GPU type (a ThroughputProfile); with too few runs
// measured it falls back to FLOPs and status.calibration says so.
const EstimatorCalibrated Estimator = "Calibrated"

// RunOutcome is how a recorded run ended.
// +kubebuilder:validation:Enum=Succeeded;Failed
type RunOutcome string

// Run outcomes.
const (
	RunSucceeded RunOutcome = "Succeeded"
	RunFailed    RunOutcome = "Failed"
)

// UsageSource says where a run's GPU time was read from.
// +kubebuilder:validation:Enum=Pods;Workload
type UsageSource string

// Usage sources.
const (
	// UsageSourcePods: each pod's GPUs x the time it ran, from the pods' status.
	UsageSourcePods UsageSource = "Pods"
	// UsageSourceWorkload: the pods were gone; the workload's start to completion x parallelism x GPUs per pod.
	UsageSourceWorkload UsageSource = "Workload"
)

// Bounds of status.actuals.
const (
	// MaxActualRuns is how many runs status.actuals.runs keeps in full, the most recent.
	MaxActualRuns = 10
	// MaxCountedRunUIDs is how many run UIDs status.actuals.countedRunUIDs keeps, the most recent.
	MaxCountedRunUIDs = 100
	// MaxProfileRuns is how many runs a ThroughputProfile's status.recentRuns keeps, the most recent.
	MaxProfileRuns = 100
)

// ActualRun is one finished run of a gated workload.
type ActualRun struct {
	// kind of the workload, for example Job.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Kind string `json:"kind"`
	// name of the workload.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// uid of the workload: a run is counted once by it.
	// +required
	// +kubebuilder:validation:MaxLength=64
	UID string `json:"uid"`
	// outcome is Succeeded or Failed; failed runs are counted, the GPUs were paid for.
	// +required
	Outcome RunOutcome `json:"outcome"`
	// startTime is when the workload started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// endTime is when it completed or failed.
	// +optional
	EndTime *metav1.Time `json:"endTime,omitempty"`
	// gpuHours the run used.
	// +required
	// +kubebuilder:validation:MaxLength=24
	GPUHours string `json:"gpuHours"`
	// cost is gpuHours at the estimate's status.pricePerGPUHour, rounded to the cent.
	// +required
	// +kubebuilder:validation:MaxLength=24
	Cost string `json:"cost"`
	// source is Pods or Workload: where the GPU time was read from.
	// +required
	Source UsageSource `json:"source"`
	// errorPercent is (gpuHours - estimated) / estimated x 100, signed, "+24".
	// +optional
	// +kubebuilder:validation:MaxLength=24
	ErrorPercent string `json:"errorPercent,omitempty"`
	// tokensPerGPUSecond is the throughput the run measured, when it succeeded and the spec states
	// its tokens; it was added to throughputProfile.
	// +optional
	// +kubebuilder:validation:MaxLength=24
	TokensPerGPUSecond string `json:"tokensPerGPUSecond,omitempty"`
	// throughputProfile is the ThroughputProfile the run's throughput was added to.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ThroughputProfile string `json:"throughputProfile,omitempty"`
}

// Actuals is what the estimate's gated workloads actually used and cost.
type Actuals struct {
	// runs is how many finished runs were counted, all of them.
	// +required
	// +kubebuilder:validation:Minimum=0
	Runs int32 `json:"runs"`
	// gpuHours is the GPU-hours of every counted run.
	// +required
	// +kubebuilder:validation:MaxLength=24
	GPUHours string `json:"gpuHours"`
	// spend is the cost of every counted run, in USD: the sum of their rounded costs.
	// +required
	// +kubebuilder:validation:MaxLength=24
	Spend string `json:"spend"`
	// actualToEstimatedRatio is gpuHours over the status.gpuHours estimated for one run.
	// +optional
	// +kubebuilder:validation:MaxLength=24
	ActualToEstimatedRatio string `json:"actualToEstimatedRatio,omitempty"`
	// lastRuns are the most recent counted runs in full, newest last.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10
	LastRuns []ActualRun `json:"lastRuns,omitempty"`
	// countedRunUIDs are the UIDs of the most recent counted runs, newest last: a run whose UID is
	// here is not counted again.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=64
	CountedRunUIDs []string `json:"countedRunUIDs,omitempty"`
}

// CalibrationStatus says what the Calibrated estimator found.
type CalibrationStatus struct {
	// throughputProfile is the ThroughputProfile read.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ThroughputProfile string `json:"throughputProfile,omitempty"`
	// samples is how many measured runs it holds.
	// +optional
	Samples int64 `json:"samples,omitempty"`
	// message says whether the measured throughput was used, or why the FLOPs model was.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
}

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
