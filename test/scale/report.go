package scale

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// median of the values (the mean of the middle two for an even count).
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func column(rs []Round, f func(Round) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

func cells(vs []float64, format string) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf(format, v)
	}
	return strings.Join(parts, " / ")
}

// Summary is the medians of the rounds.
type Summary struct {
	ConvergeRatio, FanOutRatio, FanOutVsCreatePatch float64
	PeakRSSMiB                                      float64
	MaxQuietWrites                                  int
}

// Summarize takes the medians of the per-round ratios.
func Summarize(rs []Round) Summary {
	s := Summary{
		ConvergeRatio:       median(column(rs, func(r Round) float64 { return r.Converge.Seconds() / r.Baseline.Seconds() })),
		FanOutRatio:         median(column(rs, func(r Round) float64 { return r.FanOut.Seconds() / r.BaselinePatch.Seconds() })),
		FanOutVsCreatePatch: median(column(rs, func(r Round) float64 { return r.FanOut.Seconds() / r.Baseline.Seconds() })),
	}
	for _, r := range rs {
		s.PeakRSSMiB = max(s.PeakRSSMiB, float64(r.PeakRSS)/(1<<20))
		s.MaxQuietWrites = max(s.MaxQuietWrites, r.RestartWrites+r.ResyncWrites+r.QuietModified)
	}
	return s
}

// Print writes the results as a Markdown table: each round's figure, then the median.
func Print(w io.Writer, cfg Config, rs []Round) {
	secs := func(f func(Round) time.Duration) []float64 {
		return column(rs, func(r Round) float64 { return f(r).Seconds() })
	}
	n := float64(cfg.N)
	rows := []struct {
		name, format string
		vs           []float64
		goal         string
	}{
		{"baseline: create + 1 status patch each (s)", "%.2f", secs(func(r Round) time.Duration { return r.Baseline }), ""},
		{"baseline: 1 status patch each (s)", "%.2f", secs(func(r Round) time.Duration { return r.BaselinePatch }), ""},
		{"1. convergence: all Ready at their generation (s)", "%.2f", secs(func(r Round) time.Duration { return r.Converge }), ""},
		{"1. convergence / baseline", "%.2f", column(rs, func(r Round) float64 { return r.Converge.Seconds() / r.Baseline.Seconds() }), "<= 1.25"},
		{"2. restart: reconciles", "%.0f", column(rs, func(r Round) float64 { return float64(r.RestartReconciles) }), fmt.Sprintf(">= N+%d", quietObjects)},
		{"2. restart: write requests (PUT, PATCH, DELETE)", "%.0f", column(rs, func(r Round) float64 { return float64(r.RestartWrites) }), "0"},
		{"2. forced resync: reconciles", "%.0f", column(rs, func(r Round) float64 { return float64(r.ResyncReconciles) }), ""},
		{"2. forced resync: write requests (PUT, PATCH, DELETE)", "%.0f", column(rs, func(r Round) float64 { return float64(r.ResyncWrites) }), "0"},
		{"2. objects changed (estimates, the Stale catalog), restart to resync", "%.0f", column(rs, func(r Round) float64 { return float64(r.QuietModified) }), "0"},
		{"3. fan-out: all on the new catalog generation (s)", "%.2f", secs(func(r Round) time.Duration { return r.FanOut }), ""},
		{"3. fan-out / patch baseline", "%.2f", column(rs, func(r Round) float64 { return r.FanOut.Seconds() / r.BaselinePatch.Seconds() }), "<= 1.25"},
		{"3. machine CPU busy: patch baseline (%)", "%.0f", column(rs, func(r Round) float64 { return 100 * r.BaselinePatchBusy }), ""},
		{"3. machine CPU busy: fan-out (%)", "%.0f", column(rs, func(r Round) float64 { return 100 * r.FanOutBusy }), ""},
		{"3. fan-out / create+patch baseline", "%.2f", column(rs, func(r Round) float64 { return r.FanOut.Seconds() / r.Baseline.Seconds() }), "<= 1.25"},
		{"4. manager peak RSS (MiB)", "%.1f", column(rs, func(r Round) float64 { return float64(r.PeakRSS) / (1 << 20) }), "< 150 at N=10,000"},
		{"5. manager CPU per estimate, convergence (us)", "%.0f", column(rs, func(r Round) float64 { return float64(r.ConvergeCPU.Microseconds()) / n }), ""},
		{"5. manager CPU per estimate, fan-out (us)", "%.0f", column(rs, func(r Round) float64 { return float64(r.FanOutCPU.Microseconds()) / n }), ""},
	}
	_, _ = fmt.Fprintf(w, "\nN=%d, %d round(s), %d client workers, manager flags: %s, environment: %s\n\n", cfg.N, len(rs), cfg.Workers,
		flags(cfg.ManagerArgs), strings.Join(cfg.ManagerEnv, " "))
	_, _ = fmt.Fprintln(w, "| measure | rounds | median | goal |")
	_, _ = fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range rows {
		_, _ = fmt.Fprintf(w, "| %s | %s | "+r.format+" | %s |\n", r.name, cells(r.vs, r.format), median(r.vs), r.goal)
	}
}

func flags(args []string) string {
	if len(args) == 0 {
		return "the defaults"
	}
	return strings.Join(args, " ")
}
