package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftcost/ftcost/internal/testenv"
)

// TestFailsEarlyWhenAnAddressIsTaken: with the metrics address held by another program (as a
// second `make demo` would), the runner exits non-zero within seconds, before starting the control
// plane, naming the flag, the address and how to pass another (hack/demo.sh shows this error).
func TestFailsEarlyWhenAnAddressIsTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	dir := t.TempDir()
	bin := filepath.Join(dir, "ftcost-local")
	build := exec.Command("go", "build", "-o", bin, "./cmd/local")
	build.Dir = testenv.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(testenv.RepoRoot(), "bin", "controlplane")
	}
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		t.Skipf("no control plane in %s (make controlplane)", assets)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--assets-dir", assets, "--local-dir", dir, "--metrics-bind-address="+l.Addr().String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	if err == nil || cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1; stderr:\n%s", err, stderr.String())
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v to fail; want it before the control plane starts", took)
	}
	for _, want := range []string{"--metrics-bind-address=" + l.Addr().String() + " cannot be used", "ARGS=--metrics-bind-address="} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}
