package controller

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/budget"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/workload"
)

// Indexes of FineTuneEstimates by the workloads their status.releases list: by workload UID (a run
// is charged to the estimate that released it, whatever its label says by then) and by kind and
// name (a workload deleted before it finished no longer freezes its estimate's plan).
const (
	ReleaseUIDIndex  = "status.releases.uid"
	ReleaseNameIndex = "status.releases.kindName"
)

// Annotations the gate writes on a workload it releases, beside gate.GateAnnotation: which estimate
// (by UID) and generation approved it, for how many GPUs and what spend. The admission policies of
// config/vap let nobody but the operator write an annotation under ftcost.io/.
const (
	ApprovedEstimateUIDAnnotation = "ftcost.io/approved-estimate-uid"
	ApprovedGenerationAnnotation  = "ftcost.io/approved-generation"
	ApprovedGPUsAnnotation        = "ftcost.io/approved-gpus"
	SpendCapAnnotation            = "ftcost.io/spend-cap"
)

// ReasonTooManyReleases: the estimate lists ftv1.MaxReleases unfinished workloads already.
const ReasonTooManyReleases = "TooManyReleases"

func releaseKindName(kind, name string) string { return kind + "/" + name }

// setupReleaseIndexes registers the two release indexes; the actuals reconciler and the gate read them.
func setupReleaseIndexes(ctx context.Context, mgr ctrl.Manager) error {
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &ftv1.FineTuneEstimate{}, ReleaseUIDIndex, func(o client.Object) []string {
		var uids []string
		for _, r := range o.(*ftv1.FineTuneEstimate).Status.Releases {
			uids = append(uids, r.UID)
		}
		return uids
	}); err != nil {
		return err
	}
	return idx.IndexField(ctx, &ftv1.FineTuneEstimate{}, ReleaseNameIndex, func(o client.Object) []string {
		var keys []string
		for _, r := range o.(*ftv1.FineTuneEstimate).Status.Releases {
			keys = append(keys, releaseKindName(r.Kind, r.Name))
		}
		return keys
	})
}

// releasedBy is the estimate in ns whose status.releases lists the workload uid; nil when none does.
func releasedBy(ctx context.Context, c client.Reader, ns string, uid string) (*ftv1.FineTuneEstimate, error) {
	list := &ftv1.FineTuneEstimateList{}
	if err := c.List(ctx, list, client.InNamespace(ns), client.MatchingFields{ReleaseUIDIndex: uid}); err != nil {
		return nil, err
	}
	if len(list.Items) == 0 {
		return nil, nil
	}
	return &list.Items[0], nil
}

// newRelease is the record of releasing u on in's estimate, with what it asked for.
func newRelease(k workload.Kind, u *unstructured.Unstructured, in gate.Input, asked gate.Accelerators, now time.Time) ftv1.Release {
	r := ftv1.Release{Kind: k.GVK.Kind, Name: u.GetName(), UID: string(u.GetUID()), Generation: in.Estimate.Generation,
		GPUs: asked.GPUs, GPUType: in.Fresh.GPUType, PricePerGPUHour: ftv1.Decimal(in.Fresh.PricePerGPUHour),
		SpendCap: ftv1.Decimal(in.SpendCap), ReleasedAt: metav1.NewTime(now.Truncate(time.Second))}
	if len(asked.GPUTypes) == 1 {
		r.GPUType = asked.GPUTypes[0]
	}
	return r
}

// recordRelease adds rel to the estimate's status.releases, unless it is listed already, with the
// estimate's resourceVersion as the lock: a release is recorded before the workload runs, and never
// on a status that changed since the gate evaluated it. full is true when the list has no room.
func recordRelease(ctx context.Context, c client.StatusClient, est *ftv1.FineTuneEstimate, rel ftv1.Release) (full bool, err error) {
	if slices.ContainsFunc(est.Status.Releases, func(r ftv1.Release) bool { return r.UID == rel.UID }) {
		return false, nil
	}
	if len(est.Status.Releases) >= ftv1.MaxReleases {
		return true, nil
	}
	prev := est.DeepCopy()
	next := est.DeepCopy()
	next.Status.Releases = append(next.Status.Releases, rel)
	return false, patchStatus(ctx, c, prev, next)
}

// commitRelease commits rel to the budgets of its namespace (ahead: what older held workloads wait
// for; nil for none) and records it on the estimate, in that order, before the workload may run. A
// non-nil decision says why it must wait instead: a budget refused it, or the estimate's list of
// releases is full (its budget commitments are then taken back).
func commitRelease(ctx context.Context, c client.Client, in gate.Input, rel ftv1.Release, ahead aheadFunc) (*gate.Decision, error) {
	held, err := commitBudgets(ctx, c, budgetRequest(rel, in, rel.ReleasedAt.Time), ahead)
	if held != nil || err != nil {
		return held, err
	}
	full, err := recordRelease(ctx, c, in.Estimate, rel)
	if err != nil || !full {
		return nil, err
	}
	if err := uncommitBudgetsIn(ctx, c, in.Namespace, rel.UID); err != nil {
		return nil, err
	}
	return &gate.Decision{Outcome: gate.Pending, Reason: ReasonTooManyReleases, RetryAfter: gate.PendingRetryAfter,
		Message: fmt.Sprintf("FineTuneEstimate %s/%s has %d released workloads still running, the most it records: wait for one to finish",
			in.Namespace, in.EstimateName, ftv1.MaxReleases)}, nil
}

// releaseAnnotations are what the gate writes on a workload it releases.
func releaseAnnotations(rel ftv1.Release, est *ftv1.FineTuneEstimate) map[string]string {
	return map[string]string{
		ApprovedEstimateUIDAnnotation: string(est.UID),
		ApprovedGenerationAnnotation:  strconv.FormatInt(rel.Generation, 10),
		ApprovedGPUsAnnotation:        strconv.FormatInt(rel.GPUs, 10),
		SpendCapAnnotation:            string(rel.SpendCap),
	}
}

// withoutRelease is releases less the workload uid's.
func withoutRelease(releases []ftv1.Release, uid string) []ftv1.Release {
	return slices.DeleteFunc(slices.Clone(releases), func(r ftv1.Release) bool { return r.UID == uid })
}

// forgetDeleted drops the releases of a workload of kind deleted before it finished (its name in ns
// no longer exists), so its estimate's plan is no longer frozen for it.
func forgetDeleted(ctx context.Context, c client.Client, kind, ns, name string) error {
	list := &ftv1.FineTuneEstimateList{}
	if err := c.List(ctx, list, client.InNamespace(ns), client.MatchingFields{ReleaseNameIndex: releaseKindName(kind, name)}); err != nil {
		return err
	}
	for i := range list.Items {
		est := &list.Items[i]
		// What a deleted run had accrued is what it cost its budgets.
		for _, rel := range est.Status.Releases {
			if rel.Kind != kind || rel.Name != name {
				continue
			}
			f := budget.Finish{Namespace: ns, Estimate: est.Name, Kind: kind, Name: name, UID: rel.UID, At: time.Now(), Started: rel.ReleasedAt.Time}
			f.Actual, _ = engine.ParseMoney(string(rel.AccruedCost))
			if err := trueUpBudgets(ctx, c, f); err != nil {
				return err
			}
		}
		next := est.DeepCopy()
		next.Status.Releases = slices.DeleteFunc(slices.Clone(est.Status.Releases), func(r ftv1.Release) bool {
			return r.Kind == kind && r.Name == name
		})
		if err := patchStatus(ctx, c, est, next); err != nil {
			return fmt.Errorf("forgetting the release of %s %s on %s: %w", kind, name, est.Name, err)
		}
	}
	return nil
}
