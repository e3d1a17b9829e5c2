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
