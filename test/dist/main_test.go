// Package dist tests what ftcost ships: the Helm chart in dist/chart (generated from config/, linted
// and rendered with Helm's Go SDK for every value, compared with config/default, applied to a real
// API server in dry-run), dist/install.yaml, the Grafana dashboard against the metrics a running
// manager exports, and the version stamped into the binaries.
package dist

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ftcost/ftcost/internal/testenv"
)

var (
	env *testenv.Env
	ctx context.Context
)

// namespaces the chart is applied to: config's own and another, to prove the chart follows it.
var namespaces = []string{"ftcost-system", "ml-platform"}

func TestMain(m *testing.M) { testenv.Main(m, run) }

// kueueCRDs is Kueue's CRD folder in the module cache, for the version go.mod requires.
func kueueCRDs() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kueue").Output()
	if err != nil {
		return "", fmt.Errorf("locating sigs.k8s.io/kueue in the module cache: %w", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "config", "components", "crd", "bases"), nil
}

func run(suiteCtx context.Context, m *testing.M) (int, error) {
	ctx = suiteCtx
	crds, err := kueueCRDs()
	if err != nil {
		return 0, err
	}
	if env, err = testenv.StartWith(crds); err != nil {
		return 0, err
	}
	defer func() { _ = env.Stop() }()
	for _, ns := range namespaces {
		if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return 0, err
		}
	}
	return m.Run(), nil
}
