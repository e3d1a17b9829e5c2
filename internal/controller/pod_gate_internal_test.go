package controller

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/ftcost/ftcost/internal/gate"
)

// podAsked reads one Pod as the registry reads a pod set: every accelerator of its containers
// (limit, else request) counts against the plan's GPUs, init containers do not train, and the GPU
// type it pins is read from its node selector or required affinity.
func TestPodAsked(t *testing.T) {
	res := func(kind string, pairs ...string) corev1.ResourceRequirements {
		l := corev1.ResourceList{}
		for i := 0; i < len(pairs); i += 2 {
			l[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
		}
		if kind == "limits" {
			return corev1.ResourceRequirements{Limits: l}
		}
		return corev1.ResourceRequirements{Requests: l}
	}
	c := func(r corev1.ResourceRequirements) corev1.Container {
		return corev1.Container{Name: "c", Image: "x", Resources: r}
	}
	cases := map[string]struct {
		spec corev1.PodSpec
		want gate.Accelerators
	}{
		"no accelerators": {corev1.PodSpec{Containers: []corev1.Container{c(res("limits", "cpu", "4"))}}, gate.Accelerators{}},
		"GPU limits over two containers": {corev1.PodSpec{Containers: []corev1.Container{c(res("limits", "nvidia.com/gpu", "4")),
			c(res("limits", "nvidia.com/gpu", "2"))}}, gate.Accelerators{GPUs: 6}},
		"a request without a limit": {corev1.PodSpec{Containers: []corev1.Container{c(res("requests", "amd.com/gpu", "8"))}}, gate.Accelerators{GPUs: 8}},
		"other accelerators count too": {corev1.PodSpec{Containers: []corev1.Container{c(res("limits", "google.com/tpu", "4", "nvidia.com/gpu", "1"))}},
			gate.Accelerators{GPUs: 5}},
		"init containers do not train": {corev1.PodSpec{InitContainers: []corev1.Container{c(res("limits", "nvidia.com/gpu", "8"))},
			Containers: []corev1.Container{c(res("limits", "nvidia.com/gpu", "1"))}}, gate.Accelerators{GPUs: 1}},
		"the GPU type pinned by node selector": {corev1.PodSpec{NodeSelector: map[string]string{"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"},
			Containers: []corev1.Container{c(res("limits", "nvidia.com/gpu", "1"))}}, gate.Accelerators{GPUs: 1, GPUTypes: []string{"NVIDIA-A100-SXM4-80GB"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := podAsked(&corev1.Pod{Spec: tc.spec})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("podAsked (-want +got):\n%s", diff)
			}
		})
	}
}
