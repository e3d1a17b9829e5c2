package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// MaxReleases is how many released, unfinished workloads status.releases holds. The gate releases
// no further workload on an estimate whose list is full.
const MaxReleases = 32

// Release is a workload the gate let run on an estimate, and what it was approved for: recorded by
// the operator when it clears the workload's suspend switch, kept until the run is recorded in
// status.actuals. The run is charged to this estimate by the workload's UID, whatever its labels say
// later, and while any release is listed the estimate's spec cannot change (the admission policy
// ftcost-plan-freeze).
type Release struct {
	// kind is the workload's kind: Job, JobSet, TrainJob, PyTorchJob or RayJob.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Kind string `json:"kind"`
	// name is the workload's name, in the estimate's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// uid is the workload's metadata.uid.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	UID string `json:"uid"`
	// generation is the estimate's metadata.generation whose Approved verdict released the workload.
	// +required
	// +kubebuilder:validation:Minimum=1
	Generation int64 `json:"generation"`
	// gpus is the accelerators the workload asked for when it was released (pods x per-pod requests),
	// at most the estimate's status.gpuCount.
	// +required
	// +kubebuilder:validation:Minimum=0
	GPUs int64 `json:"gpus"`
	// gpuType is the GPU type the workload pins, if any; else the estimate's.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	GPUType string `json:"gpuType,omitempty"`
	// pricePerGPUHour is the estimate's price at release, USD.
	// +optional
	PricePerGPUHour Decimal `json:"pricePerGPUHour,omitempty"`
	// spendCap is the most the run was approved to spend, USD: the training cost at the upper end of
	// the estimate's GPU-hour band (status.gpuHoursHigh x pricePerGPUHour).
	// +optional
	SpendCap Decimal `json:"spendCap,omitempty"`
	// releasedAt is when the gate cleared the workload's suspend switch.
	// +required
	ReleasedAt metav1.Time `json:"releasedAt"`
	// accruedGPUHours is the GPU time the workload's pods have used so far (each pod's GPUs x the
	// time since its start, to its containers' finish or accruedAt), written by the operator at most
	// once a spend interval (--spend-interval, 1m) while the workload runs.
	// +optional
	AccruedGPUHours Decimal `json:"accruedGPUHours,omitempty"`
	// accruedCost is accruedGPUHours at pricePerGPUHour, USD, to the cent.
	// +optional
	AccruedCost Decimal `json:"accruedCost,omitempty"`
	// accruedAt is when accruedGPUHours and accruedCost were measured.
	// +optional
	AccruedAt *metav1.Time `json:"accruedAt,omitempty"`
	// overrunLimit is the most the run may spend before its overrun applies, USD: spendCap plus the
	// overrunPercent of the CostPolicies that select the estimate's namespace (the smallest of them).
	// +optional
	OverrunLimit Decimal `json:"overrunLimit,omitempty"`
	// overCapAt is when accruedCost first passed overrunLimit; set once.
	// +optional
	OverCapAt *metav1.Time `json:"overCapAt,omitempty"`
}
