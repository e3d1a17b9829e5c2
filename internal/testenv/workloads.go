package testenv

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
)

// WorkloadModule is a workload project's Go module and the CRD files in it that the suspend gate's
// tests install.
type WorkloadModule struct {
	Module, Version string
	CRDs            []string
}

// WorkloadModules name, by module version, where the CRDs of the kinds of gate.Kinds come from:
// each project's own module, from the module cache (downloaded through the Go module proxy on first
// use), not copies kept in this repository. batch/v1 Job is built in.
var WorkloadModules = map[string]WorkloadModule{
	"JobSet":     {"sigs.k8s.io/jobset", "v0.11.0", []string{"config/components/crd/bases/jobset.x-k8s.io_jobsets.yaml"}},
	"TrainJob":   {"github.com/kubeflow/trainer/v2", "v2.0.0", []string{"manifests/base/crds/trainer.kubeflow.org_trainjobs.yaml"}},
	"PyTorchJob": {"github.com/kubeflow/training-operator", "v1.8.1", []string{"manifests/base/crds/kubeflow.org_pytorchjobs.yaml"}},
	"RayJob":     {"github.com/ray-project/kuberay/ray-operator", "v1.5.0", []string{"config/crd/bases/ray.io_rayjobs.yaml"}},
}

// WorkloadCRDs are the CRD files of the named kinds (keys of WorkloadModules).
func WorkloadCRDs(kinds ...string) ([]string, error) {
	var paths []string
	for _, kind := range kinds {
		m, ok := WorkloadModules[kind]
		if !ok {
			return nil, fmt.Errorf("no module for workload kind %s", kind)
		}
		dir, err := ModuleDir(m.Module, m.Version)
		if err != nil {
			return nil, err
		}
		for _, f := range m.CRDs {
			paths = append(paths, filepath.Join(dir, f))
		}
	}
	return paths, nil
}

// ModuleDir is the folder of module@version in the module cache, downloading it when needed
// (`go mod download -json`, which leaves go.mod and go.sum alone).
func ModuleDir(module, version string) (string, error) {
	out, err := exec.Command("go", "mod", "download", "-json", module+"@"+version).Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil || info.Error != "" || err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %v %s %v", module, version, err, info.Error, jerr)
	}
	return info.Dir, nil
}
