package workload

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// GPUResources are the extended resources counted as GPUs, measured and priced: NVIDIA's device
// plugin (k8s-device-plugin) and AMD's (ROCm k8s-device-plugin).
var GPUResources = []corev1.ResourceName{"nvidia.com/gpu", "amd.com/gpu"}

// OtherAccelerators are accelerator extended resources that are not GPUs of an estimate's GPU type:
// a workload asking for them is told apart (Accelerators.Other), never measured as GPU time. Names as
// their device plugins document them: Google Cloud TPUs on GKE, Intel Gaudi, AWS Neuron (Inferentia,
// Trainium), Intel GPUs (intel-device-plugins-for-kubernetes, i915 and xe drivers).
var OtherAccelerators = []corev1.ResourceName{"google.com/tpu", "habana.ai/gaudi", "aws.amazon.com/neuron",
	"gpu.intel.com/i915", "gpu.intel.com/xe"}

// GPUTypeLabels are the node labels a pod template pins its GPU type with (nodeSelector, or a
// required nodeAffinity term with operator In): NVIDIA GPU Feature Discovery's product label (e.g.
// NVIDIA-H100-80GB-HBM3) and GKE's accelerator label (e.g. nvidia-h100-80gb).
var GPUTypeLabels = []string{"nvidia.com/gpu.product", "cloud.google.com/gke-accelerator"}

// Accelerators is what a workload asks for at once: the sum over its PodSets of pods x per-pod
// limits (else requests) of each accelerator resource.
type Accelerators struct {
	// GPUs counts GPUResources; 0 when Unknown is set.
	GPUs int64
	// Other counts OtherAccelerators, by resource; nil when it asks for none.
	Other map[corev1.ResourceName]int64
	// Unknown says why the spec does not tell them ("" when it does), e.g. a TrainJob sized by its
	// runtime, which is not read.
	Unknown string
	// GPUTypes are the values of GPUTypeLabels pinned by the pod sets that ask for accelerators,
	// sorted, each once; none when no set pins one. More than one means the sets disagree or a term
	// allows several.
	GPUTypes []string
}

// Accelerators is what the workload asks for, from its PodSets.
func (k Kind) Accelerators(u *unstructured.Unstructured) Accelerators {
	sets, unknown := k.PodSets(u)
	if unknown != "" {
		return Accelerators{Unknown: unknown}
	}
	return acceleratorsOf(sets)
}

func acceleratorsOf(sets []PodSet) Accelerators {
	var a Accelerators
	for _, s := range sets {
		perPod := specAccelerators(s.Spec, GPUResources)
		a.GPUs = count(a.GPUs + count(s.Count, perPod))
		asks := perPod > 0
		for _, r := range OtherAccelerators {
			n := specAccelerators(s.Spec, []corev1.ResourceName{r})
			if n == 0 {
				continue
			}
			asks = true
			if a.Other == nil {
				a.Other = map[corev1.ResourceName]int64{}
			}
			a.Other[r] = count(a.Other[r] + count(s.Count, n))
		}
		if asks {
			for _, t := range pinnedTypes(s.Spec) {
				if !slices.Contains(a.GPUTypes, t) {
					a.GPUTypes = append(a.GPUTypes, t)
				}
			}
		}
	}
	slices.Sort(a.GPUTypes)
	return a
}

// PodGPUs is the GPUs a pod's containers ask for (limits, which extended resources require to
// equal requests; else requests). Init containers are not counted: they do not train.
func PodGPUs(spec *corev1.PodSpec) int64 {
	var n int64
	for _, c := range spec.Containers {
		for _, r := range GPUResources {
			q, ok := c.Resources.Limits[r]
			if !ok {
				q, ok = c.Resources.Requests[r]
			}
			if ok {
				n += q.Value()
			}
		}
	}
	return n
}

// specAccelerators is PodGPUs of an unstructured pod spec, over the resources named.
func specAccelerators(spec map[string]any, names []corev1.ResourceName) int64 {
	containers, _ := sliceAt(spec, "containers")
	var n int64
	for _, c := range containers {
		m, _ := c.(map[string]any)
		res, _ := mapAt(m, "resources")
		n = count(n + resourcesOf(res, names))
	}
	return n
}

// resourcesOf is the sum over names of an unstructured ResourceRequirements' limits, else
// requests; unreadable quantities count as none.
func resourcesOf(res map[string]any, names []corev1.ResourceName) int64 {
	var n int64
	for _, r := range names {
		q, ok := quantityAt(res, "limits", string(r))
		if !ok {
			q, ok = quantityAt(res, "requests", string(r))
		}
		if ok {
			n = count(n + count(q))
		}
	}
	return n
}

// pinnedTypes are the values of GPUTypeLabels in a pod spec's nodeSelector and in the In
// expressions of its required node affinity.
func pinnedTypes(spec map[string]any) []string {
	var types []string
	sel, _ := mapAt(spec, "nodeSelector")
	for _, l := range GPUTypeLabels {
		if v, ok := sel[l].(string); ok && v != "" {
			types = append(types, v)
		}
	}
	terms, _ := sliceAt(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
	for _, t := range terms {
		m, _ := t.(map[string]any)
		exprs, _ := sliceAt(m, "matchExpressions")
		for _, e := range exprs {
			em, _ := e.(map[string]any)
			key, _ := em["key"].(string)
			if em["operator"] != "In" || !slices.Contains(GPUTypeLabels, key) {
				continue
			}
			values, _ := em["values"].([]any)
			for _, v := range values {
				if s, ok := v.(string); ok && s != "" {
					types = append(types, s)
				}
			}
		}
	}
	return types
}
