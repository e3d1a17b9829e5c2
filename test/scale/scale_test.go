package scale

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	ftmanager "github.com/ftcost/ftcost/internal/manager"
)

// run returns the rounds and the configuration they ran with (the manager's environment included).
func run(t *testing.T, cfg Config) (Config, []Round) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, err := Setup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = h.Stop() }()
	rounds, err := h.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return h.Config(), rounds
}

// TestSmoke runs the whole benchmark on a few estimates and checks what does not depend on timing:
// every phase completes, and a restart and a forced resync write nothing, with a Stale catalog and
// Enforce estimates priced by it, estimates over budget with actuals over budget too, Calibrated estimates and a CostPolicy they all break (quietStates).
func TestSmoke(t *testing.T) {
	cfg := Config{N: 20, Rounds: 1, Workers: 4, SyncPeriod: 2 * time.Second, Dir: smokeDir(t), Log: testWriter{t}}
	cfg, rounds := run(t, cfg)
	r := rounds[0]
	if r.RestartReconciles < cfg.N+quietObjects {
		t.Errorf("the restarted manager reconciled %d estimates, want all %d", r.RestartReconciles, cfg.N+quietObjects)
	}
	if r.RestartWrites != 0 || r.ResyncWrites != 0 || r.QuietModified != 0 {
		t.Errorf("converged objects were written again: %d write requests on restart, %d on resync, %d objects changed",
			r.RestartWrites, r.ResyncWrites, r.QuietModified)
	}
	// The Deployment's memory request reaches the manager's Go runtime as its soft memory limit.
	var request float64
	for _, e := range cfg.ManagerEnv {
		if v, ok := strings.CutPrefix(e, ftmanager.MemoryRequestEnv+"="); ok {
			request, _ = strconv.ParseFloat(v, 64)
		}
	}
	if request <= 0 || r.SoftMemoryLimit != request {
		t.Errorf("the manager's soft memory limit is %.0f bytes, want its memory request %.0f", r.SoftMemoryLimit, request)
	}
	if r.PeakRSS <= 0 || r.ConvergeCPU <= 0 {
		t.Errorf("no peak RSS (%d) or CPU time (%v) read for the manager process", r.PeakRSS, r.ConvergeCPU)
	}
	var b strings.Builder
	Print(&b, cfg, rounds)
	t.Log(b.String())
}

// TestBench is `make bench`: N (default 1000) estimates, ROUNDS (default 5) rounds, the manager's
// default flags plus FLAGS; the table goes to stdout and the CPU profile to BENCH_DIR.
func TestBench(t *testing.T) {
	if os.Getenv("FTCOST_BENCH") == "" {
		t.Skip("run by make bench (FTCOST_BENCH=1)")
	}
	cfg := Config{N: envInt("N", 1000), Rounds: envInt("ROUNDS", 5), Workers: 16, SyncPeriod: 10 * time.Second,
		ManagerArgs: strings.Fields(os.Getenv("FLAGS")), ManagerEnv: strings.Fields(os.Getenv("MANAGER_ENV")), Profile: true, Dir: os.Getenv("BENCH_DIR"), Log: os.Stdout}
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, rounds := run(t, cfg)
	Print(os.Stdout, cfg, rounds)
	s := Summarize(rounds)
	t.Logf("median convergence ratio %.2f, fan-out ratio %.2f, quiet writes %d, peak RSS %.1f MiB",
		s.ConvergeRatio, s.FanOutRatio, s.MaxQuietWrites, s.PeakRSSMiB)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// smokeDir is BENCH_DIR when set (to keep the manager logs), else a temporary folder.
func smokeDir(t *testing.T) string {
	if d := os.Getenv("BENCH_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}
