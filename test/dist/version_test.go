package dist

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ftcost/ftcost/internal/testenv"
)

// TestVersionStamp builds both binaries with the Makefile's -ldflags and checks that each reports
// the version: `ftcost version`, and the manager's first log line.
func TestVersionStamp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	root := testenv.RepoRoot()
	const v = "v9.8.7-stamp"
	out, err := exec.Command("make", "-s", "-C", root, "--no-print-directory", "print-ldflags", "VERSION="+v).Output()
	if err != nil {
		t.Fatalf("make print-ldflags: %v", err)
	}
	ldflags := strings.TrimSpace(string(out))
	dir := t.TempDir()
	build := exec.Command("go", "build", "-ldflags", ldflags, "-o", dir+string(os.PathSeparator), "./cmd/manager", "./cmd/ftcost")
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -ldflags %q: %v\n%s", ldflags, err, b)
	}

	b, err := exec.Command(filepath.Join(dir, "ftcost"), "version").CombinedOutput()
	if err != nil || !strings.Contains(string(b), "ftcost "+v+"\n") {
		t.Errorf("ftcost version: %v\n%s\nwant the line %q", err, b, "ftcost "+v)
	}

	// No cluster to talk to: the manager logs its version, then fails to find a kubeconfig.
	mgr := exec.Command(filepath.Join(dir, "manager"))
	mgr.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(dir, "none"), "KUBERNETES_SERVICE_HOST=", "HOME="+dir)
	b, _ = mgr.CombinedOutput()
	if !strings.Contains(string(b), `"version":"`+v+`"`) {
		t.Errorf("the manager's log does not name version %s:\n%s", v, b)
	}
}
