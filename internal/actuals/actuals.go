// Package actuals measures finished training runs of gated workloads: the GPU time their pods used,
// its cost at the estimate's price, the estimate's error, and the throughput they achieved. It turns
// workloads and Pods into status figures with pure functions; internal/controller reads and writes.
package actuals

import (
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/estimate"
	"github.com/ftcost/ftcost/internal/workload"
)

// Measured is one finished run: the status entry and its exact GPU time.
type Measured struct {
	Run        ftv1.ActualRun
	GPUSeconds int64
	// Unmeasured says why the GPU time is unknown ("" when it was measured): no pod was left and the
	// workload's spec does not tell its GPUs. The run is recorded at 0 GPU-hours, with no error figure.
	Unmeasured string
}

// podSpan is when a pod ran: from status.startTime to the last container's finish, else until the
// workload ended (a pod still shown running when its workload finished stops being paid for then).
func podSpan(p *corev1.Pod, workloadEnd time.Time) (time.Time, time.Time, bool) {
	if p.Status.StartTime == nil {
		return time.Time{}, time.Time{}, false
	}
	var end time.Time
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil && t.FinishedAt.After(end) {
			end = t.FinishedAt.Time
		}
	}
	if end.IsZero() || end.After(workloadEnd) {
		end = workloadEnd
	}
	return p.Status.StartTime.Time, end, true
}

// Measure measures a finished run from its pods' status: each pod's GPUs x the time it ran (Source
// Pods). When no pod with GPUs is left to read (garbage-collected, TTL), it is the run's start to its end x
// FallbackGPUs (Source Workload: an upper bound for pods that ran one after another, a lower bound
// for retries beside each other); Unmeasured says why when even that is unknown.
func Measure(run workload.Run, pods []corev1.Pod) Measured {
	m := Measured{Run: ftv1.ActualRun{Kind: run.Kind, Name: run.Name, UID: string(run.UID), Outcome: run.Outcome,
		StartTime: run.Start.DeepCopy(), EndTime: ptr.To(metav1.NewTime(run.End)), Source: ftv1.UsageSourcePods}}
	counted, gpuPods := false, false
	for i := range pods {
		start, stop, ran := podSpan(&pods[i], run.End)
		if !ran {
			continue
		}
		if run.SharedPods && run.Start != nil && start.Before(run.Start.Time) {
			start = run.Start.Time
		}
		counted = true
		gpus := workload.PodGPUs(&pods[i].Spec)
		gpuPods = gpuPods || gpus > 0
		m.GPUSeconds += engine.GPUSeconds(gpus, start, stop)
	}
	// Pods without GPUs left behind alone (a RayJob's submitter, kept for its logs after the
	// cluster's pods went) say nothing of the GPUs: measure by the spec when it names some.
	if gpuPods || counted && run.FallbackGPUs == 0 && run.FallbackUnknown == "" {
		return m
	}
	m.GPUSeconds = 0
	m.Run.Source = ftv1.UsageSourceWorkload
	switch {
	case run.FallbackUnknown != "":
		m.Unmeasured = "its pods are gone and " + run.FallbackUnknown
	case run.Start == nil:
		m.Unmeasured = "its pods are gone and its status has no start time"
	default:
		m.GPUSeconds = engine.GPUSeconds(run.FallbackGPUs, run.Start.Time, run.End)
	}
	return m
}

// Counted says whether a run was counted already.
func Counted(a *ftv1.Actuals, uid string) bool {
	return a != nil && slices.Contains(a.CountedRunUIDs, uid)
}

// Price completes a measured run with its cost at the estimate's price and its error against the
// estimate's GPU-hours, and returns the run's error ratio (false when there is no estimate to
// compare with).
func Price(m *Measured, status *ftv1.FineTuneEstimateStatus) (ratio decimal.Decimal, ok bool, err error) {
	hours := engine.GPUHoursOf(m.GPUSeconds)
	m.Run.GPUHours = engine.FormatFigure(hours)
	price := decimal.Zero
	if status.PricePerGPUHour != "" {
		if price, err = decimal.NewFromString(status.PricePerGPUHour); err != nil {
			return ratio, false, fmt.Errorf("status.pricePerGPUHour: %w", err)
		}
	}
	m.Run.Cost = engine.ActualCost(m.GPUSeconds, price).String()
	if m.Unmeasured != "" {
		return ratio, false, nil
	}
	if est, perr := decimal.NewFromString(status.GPUHours); perr == nil {
		var pct string
		if ratio, pct, ok = engine.ActualVsEstimate(hours, est); ok {
			m.Run.ErrorPercent = pct
		}
	}
	return ratio, ok, nil
}

// Add folds a priced run into the totals: runs, GPU-hours and spend are sums of the runs' rounded
// figures; the last MaxActualRuns runs are kept in full and the last MaxCountedRunUIDs UIDs.
func Add(a *ftv1.Actuals, run ftv1.ActualRun, estimatedHours string) (*ftv1.Actuals, error) {
	next := &ftv1.Actuals{GPUHours: "0", Spend: "0.00"}
	if a != nil {
		next = a.DeepCopy()
	}
	hours, err := sum(next.GPUHours, run.GPUHours)
	if err != nil {
		return nil, err
	}
	spend, err := sum(next.Spend, run.Cost)
	if err != nil {
		return nil, err
	}
	next.Runs++
	next.GPUHours = engine.FormatFigure(hours)
	next.Spend = engine.Cents(spend).String()
	next.ActualToEstimatedRatio = ""
	if est, err := decimal.NewFromString(estimatedHours); err == nil {
		if ratio, _, ok := engine.ActualVsEstimate(hours, est); ok {
			next.ActualToEstimatedRatio = ratio.String()
		}
	}
	next.LastRuns = lastN(append(next.LastRuns, run), ftv1.MaxActualRuns)
	next.CountedRunUIDs = lastN(append(next.CountedRunUIDs, run.UID), ftv1.MaxCountedRunUIDs)
	return next, nil
}

func sum(a, b string) (decimal.Decimal, error) {
	x, err := decimal.NewFromString(a)
	if err != nil {
		return x, err
	}
	y, err := decimal.NewFromString(b)
	return x.Add(y), err
}

func lastN[T any](s []T, n int) []T {
	if len(s) > n {
		return slices.Clone(s[len(s)-n:])
	}
	return s
}

// OutsideBand says whether a run's GPU-hours fall outside the estimate's band.
func OutsideBand(run ftv1.ActualRun, status *ftv1.FineTuneEstimateStatus) bool {
	hours, err := decimal.NewFromString(run.GPUHours)
	if err != nil {
		return false
	}
	if low, err := decimal.NewFromString(status.GPUHoursLow); err == nil && hours.LessThan(low) {
		return true
	}
	if high, err := decimal.NewFromString(status.GPUHoursHigh); err == nil && hours.GreaterThan(high) {
		return true
	}
	return false
}

// Tokens is the training tokens a run of the estimate processes (engine.TrainingTokens); 0 when the
// spec does not state its tokens or cannot be read.
func Tokens(spec *ftv1.FineTuneEstimateSpec) decimal.Decimal {
	in, err := estimate.Input(spec)
	if err != nil || in.TokensPerExample < 1 {
		return decimal.Zero
	}
	return engine.TrainingTokens(in)
}

// AddToProfile adds a run of namespace to a profile, unless it holds the run already; it says
// whether the profile changed, and outlier says why the run is left out of its namespace's
// calibration ("" when it is not): more than engine.OutlierFactor from the median of the namespace's
// runs.
func AddToProfile(p *ftv1.ThroughputProfile, uid, estimate, namespace string, tps decimal.Decimal) (changed bool, outlier string, err error) {
	for _, r := range p.Status.RecentRuns {
		if r.UID == uid {
			return false, "", nil
		}
	}
	st := engine.ThroughputStats{Samples: p.Status.Samples, Sum: decimal.Zero, SumSquares: decimal.Zero}
	if p.Status.Sum != "" {
		if st.Sum, err = decimal.NewFromString(p.Status.Sum); err != nil {
			return false, "", err
		}
	}
	if p.Status.SumOfSquares != "" {
		if st.SumSquares, err = decimal.NewFromString(p.Status.SumOfSquares); err != nil {
			return false, "", err
		}
	}
	st = st.Add(tps)
	p.Status.Samples, p.Status.Sum, p.Status.SumOfSquares = st.Samples, st.Sum.String(), st.SumSquares.String()
	p.Status.TokensPerGPUSecond = st.Mean().String()
	p.Status.SpreadPercent = st.SpreadPercent().String()
	p.Status.RecentRuns = lastN(append(p.Status.RecentRuns, ftv1.ProfileRun{UID: uid, Estimate: estimate, Namespace: namespace,
		TokensPerGPUSecond: tps.String()}), ftv1.MaxProfileRuns)
	var own []decimal.Decimal
	for _, r := range p.Status.RecentRuns {
		if x, err := decimal.NewFromString(r.TokensPerGPUSecond); err == nil && r.Namespace == namespace {
			own = append(own, x)
		}
	}
	robust := engine.Robust(own)
	if slices.Contains(robust.Rejected, len(own)-1) {
		outlier = fmt.Sprintf("run %s measured %s tokens per GPU-second, more than %sx from the median %s of namespace %s's %d runs: left out of calibration",
			uid, tps, engine.OutlierFactor, engine.Robust(own[:len(own)-1]).Median, namespace, len(own)-1)
	}
	return true, outlier, nil
}
