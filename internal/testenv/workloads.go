package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

// WaitUntilAdmitted dry-runs the creation of each object until admission stops refusing its kind
// as unavailable. A MutatingAdmissionPolicy reads a custom kind through a type converter that learns
// the CRD's schema some time after the CRD is Established; until then the API server answers its
// writes 503 ServiceUnavailable ("There can be a delay between when CustomResourceDefinitions are
// created and when they are available"). Any other answer, a refusal included, means the kind is
// admitted.
func WaitUntilAdmitted(ctx context.Context, c client.Client, objs ...*unstructured.Unstructured) error {
	for _, o := range objs {
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			return !apierrors.IsServiceUnavailable(c.Create(ctx, o.DeepCopy(), client.DryRunAll)), nil
		})
		if err != nil {
			return fmt.Errorf("%s is not admitted within a minute of its CRD: %w", o.GroupVersionKind().Kind, err)
		}
	}
	return nil
}
