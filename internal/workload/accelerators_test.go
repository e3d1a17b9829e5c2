package workload

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// container is a container asking for n of resource res as limits or requests.
func container(kind, res, n string) string {
	return `{"name": "c", "resources": {"` + kind + `": {"` + res + `": "` + n + `", "cpu": "4"}}}`
}

const (
	h100Selector = `nodeSelector: {nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3}`
	gkeAffinity  = `affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [
  {key: cloud.google.com/gke-accelerator, operator: In, values: [nvidia-a100-80gb]}, {key: zone, operator: In, values: [a]}]}]}}}`
)

// acceleratorCases are, per kind, a spec and what it asks for at once: pods x per-pod accelerators.
var acceleratorCases = []struct {
	kind, name, doc string
	gpus            int64
	other           map[corev1.ResourceName]int64
	types           []string
	unknown         string // a substring of Unknown
}{
	{"Job", "parallelism x template", `spec: {parallelism: 4, template: {spec: {` + h100Selector + `, containers: [` +
		container("limits", "nvidia.com/gpu", "2") + `, {name: sidecar}]}}}`, 8, nil, []string{"NVIDIA-H100-80GB-HBM3"}, ""},
	{"Job", "parallelism unset is 1; requests when no limits", `spec: {template: {spec: {containers: [` +
		container("requests", "amd.com/gpu", "1") + `]}}}`, 1, nil, nil, ""},
	{"Job", "parallelism 0", `spec: {parallelism: 0, template: {spec: {containers: [` + container("limits", "nvidia.com/gpu", "8") + `]}}}`, 0, nil, nil, ""},
	{"Job", "CPU only: no type even when pinned", `spec: {template: {spec: {` + h100Selector + `, containers: [{name: c}]}}}`, 0, nil, nil, ""},
	{"Job", "TPUs are not GPUs", `spec: {parallelism: 2, template: {spec: {containers: [` + container("limits", "google.com/tpu", "4") + `]}}}`,
		0, map[corev1.ResourceName]int64{"google.com/tpu": 8}, nil, ""},
	{"JobSet", "replicas x parallelism per replicated Job", `spec: {replicatedJobs: [
  {name: workers, replicas: 2, template: {spec: {parallelism: 3, template: {spec: {` + gkeAffinity + `, containers: [` + container("limits", "nvidia.com/gpu", "4") + `]}}}}},
  {name: driver, template: {spec: {template: {spec: {containers: [{name: cpu}]}}}}}]}`, 24, nil, []string{"nvidia-a100-80gb"}, ""},
	{"JobSet", "two GPU types", `spec: {replicatedJobs: [
  {name: a, template: {spec: {template: {spec: {` + h100Selector + `, containers: [` + container("limits", "nvidia.com/gpu", "1") + `]}}}}},
  {name: b, template: {spec: {template: {spec: {` + gkeAffinity + `, containers: [` + container("limits", "nvidia.com/gpu", "1") + `]}}}}}]}`,
		2, nil, []string{"NVIDIA-H100-80GB-HBM3", "nvidia-a100-80gb"}, ""},
	{"JobSet", "no replicatedJobs", `spec: {}`, 0, nil, nil, "spec.replicatedJobs is not readable"},
	{"TrainJob", "numNodes x resourcesPerNode", `spec: {trainer: {numNodes: 4, resourcesPerNode: {limits: {nvidia.com/gpu: 8, cpu: 16}}}}`, 32, nil, nil, ""},
	{"TrainJob", "Gaudi per node", `spec: {trainer: {numNodes: 2, resourcesPerNode: {requests: {habana.ai/gaudi: 8}}}}`,
		0, map[corev1.ResourceName]int64{"habana.ai/gaudi": 16}, nil, ""},
	{"TrainJob", "left to the runtime", `spec: {runtimeRef: {name: torch-distributed}}`, 0, nil, nil, "its runtime does"},
	{"TrainJob", "CPU only per node", `spec: {trainer: {numNodes: 2, resourcesPerNode: {limits: {cpu: 16}}}}`, 0, nil, nil, "names no GPUs"},
	{"PyTorchJob", "replicas per replica type", `spec: {pytorchReplicaSpecs: {
  Master: {replicas: 1, template: {spec: {` + h100Selector + `, containers: [` + container("limits", "nvidia.com/gpu", "8") + `]}}},
  Worker: {replicas: 3, template: {spec: {` + h100Selector + `, containers: [` + container("limits", "nvidia.com/gpu", "8") + `]}}}}}`,
		32, nil, []string{"NVIDIA-H100-80GB-HBM3"}, ""},
	{"PyTorchJob", "replicas unset is 1", `spec: {pytorchReplicaSpecs: {Worker: {template: {spec: {containers: [` + container("limits", "nvidia.com/gpu", "2") + `]}}}}}`, 2, nil, nil, ""},
	{"PyTorchJob", "no replica specs", `spec: {runPolicy: {}}`, 0, nil, nil, "spec.pytorchReplicaSpecs is not readable"},
	{"RayJob", "head plus worker groups", `spec: {rayClusterSpec: {headGroupSpec: {template: {spec: {containers: [` + container("limits", "nvidia.com/gpu", "1") + `]}}},
  workerGroupSpecs: [{groupName: a, replicas: 2, numOfHosts: 2, template: {spec: {` + gkeAffinity + `, containers: [` + container("limits", "nvidia.com/gpu", "1") + `]}}},
                     {groupName: b, minReplicas: 3, maxReplicas: 9, template: {spec: {containers: [` + container("limits", "nvidia.com/gpu", "4") + `]}}}]}}`,
		1 + 2*2*1 + 3*4, nil, []string{"nvidia-a100-80gb"}, ""},
	{"RayJob", "a cluster chosen by clusterSelector", `spec: {clusterSelector: {ray.io/cluster: shared}}`, 0, nil, nil, "clusterSelector"},
}

// TestAccelerators: what each kind asks for at once, the GPU type it pins, and why it is unknown.
func TestAccelerators(t *testing.T) {
	for _, tc := range acceleratorCases {
		t.Run(tc.kind+"/"+tc.name, func(t *testing.T) {
			got := kind(t, tc.kind).Accelerators(workload(t, tc.kind, tc.doc))
			if got.GPUs != tc.gpus || !slices.Equal(got.GPUTypes, tc.types) || len(got.Other) != len(tc.other) {
				t.Errorf("got %+v, want %d GPUs of %v, other %v", got, tc.gpus, tc.types, tc.other)
			}
			for r, n := range tc.other {
				if got.Other[r] != n {
					t.Errorf("%s: %d, want %d", r, got.Other[r], n)
				}
			}
			if (tc.unknown == "") != (got.Unknown == "") || !strings.Contains(got.Unknown, tc.unknown) {
				t.Errorf("Unknown %q, want %q", got.Unknown, tc.unknown)
			}
		})
	}
}

// TestScaleFields: each kind's scale fields are where its specs keep their counts: on the cases
// above, every number a kind's PodSets multiply is found at one of its ScaleFields, and raising
// one raises the GPUs asked for.
func TestScaleFields(t *testing.T) {
	for _, k := range Kinds {
		if len(k.ScaleFields) == 0 {
			t.Errorf("%s names no scale field", k.GVK.Kind)
		}
		for _, f := range k.ScaleFields {
			if !strings.HasPrefix(f, "spec.") {
				t.Errorf("%s: %q is not a spec field", k.GVK.Kind, f)
			}
		}
	}
	raised := map[string]int64{}
	for _, tc := range acceleratorCases {
		if tc.unknown != "" || tc.gpus == 0 {
			continue
		}
		k := kind(t, tc.kind)
		u := workload(t, tc.kind, tc.doc)
		for _, f := range k.ScaleFields {
			for _, v := range FieldValues(u.Object, f) {
				if _, ok := v.(float64); !ok {
					if _, ok := v.(int64); !ok {
						t.Errorf("%s %s: %s is %T, not a number", tc.kind, tc.name, f, v)
					}
				}
			}
			// Double every value at f: the GPUs asked for must not fall, and the first field must raise them.
			doubled := u.DeepCopy()
			n := setFieldValues(doubled.Object, f)
			if n == 0 {
				continue
			}
			if got := k.Accelerators(doubled).GPUs; got < tc.gpus {
				t.Errorf("%s %s: doubling %s lowered the GPUs from %d to %d", tc.kind, tc.name, f, tc.gpus, got)
			} else if got > tc.gpus {
				raised[tc.kind]++
			}
		}
	}
	for _, k := range Kinds {
		if raised[k.GVK.Kind] == 0 {
			t.Errorf("%s: no scale field raised the GPUs asked for", k.GVK.Kind)
		}
	}
}

// setFieldValues doubles every number at the dotted path f and says how many it doubled.
func setFieldValues(obj map[string]any, f string) int {
	n := 0
	var walk func(v any, steps []string)
	walk = func(v any, steps []string) {
		m, ok := v.(map[string]any)
		if !ok || len(steps) == 0 {
			return
		}
		step, each := strings.CutSuffix(steps[0], "[*]")
		var children []string
		if step == "*" {
			children = sortedKeys(m)
		} else {
			children = []string{step}
		}
		for _, c := range children {
			if len(steps) == 1 && !each {
				switch x := m[c].(type) {
				case float64:
					m[c], n = 2*x, n+1
				case int64:
					m[c], n = 2*x, n+1
				}
				continue
			}
			if each {
				items, _ := m[c].([]any)
				for _, it := range items {
					walk(it, steps[1:])
				}
				continue
			}
			walk(m[c], steps[1:])
		}
	}
	walk(obj, strings.Split(f, "."))
	return n
}
