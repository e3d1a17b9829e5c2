package testenv

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/ftcost/ftcost/internal/workload"
)

// WorkloadCRDs are the CRD files of the named kinds of workload.Kinds, from each project's own Go
// module at the version its fields are read from (workload.Kind.Upstream), in the module cache
// (downloaded through the Go module proxy on first use): not copies kept in this repository.
func WorkloadCRDs(kinds ...string) ([]string, error) {
	var paths []string
	for _, name := range kinds {
		k, ok := workload.Named(name)
		if !ok || k.BuiltIn() {
			return nil, fmt.Errorf("no CRD for workload kind %s", name)
		}
		dir, err := ModuleDir(k.Upstream.Module, k.Upstream.Version)
		if err != nil {
			return nil, err
		}
		for _, f := range k.Upstream.CRDs {
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
