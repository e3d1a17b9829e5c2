package gating

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ftcost/ftcost/internal/testenv"
)

// TestCIGateScript runs hack/ci-gate.sh with a built ftcost on an approved overlay (rendered by
// kubectl kustomize), an estimate the API beats, and invalid input: exit 0, 1 and 2, and the job
// summary is written.
func TestCIGateScript(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not on PATH")
	}
	root := testenv.RepoRoot()
	bin := filepath.Join(t.TempDir(), "ftcost")
	build := exec.Command("go", "build", "-o", bin, "./cmd/ftcost")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cases := map[string]struct {
		args []string
		want int
	}{
		"approved kustomize overlay": {[]string{"config/gitops/flux/estimates"}, 0},
		"approved with a catalog":    {[]string{"--catalog", "config/catalog/default.yaml", "config/gitops/argocd/app/estimate.yaml"}, 0},
		"the API is cheaper":         {[]string{"internal/cli/testdata/api-cheaper.yaml"}, 1},
		"over budget":                {[]string{"internal/cli/testdata/over-budget.yaml"}, 1},
		"invalid input":              {[]string{"internal/cli/testdata/invalid.yaml"}, 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			summary := filepath.Join(t.TempDir(), "summary.md")
			cmd := exec.Command("bash", append([]string{"hack/ci-gate.sh"}, tc.args...)...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "FTCOST="+bin, "GITHUB_STEP_SUMMARY="+summary)
			out, err := cmd.CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.want {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.want, out)
			}
			if b, err := os.ReadFile(summary); err != nil || len(b) == 0 {
				t.Errorf("no job summary written: %v", err)
			}
		})
	}
}
