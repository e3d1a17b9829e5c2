package gate

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// fte is an estimate of generation gen, estimated for observed, whose Approved condition is approved
// (reason), under policy.
func fte(gen, observed int64, approved metav1.ConditionStatus, reason string, policy ftv1.Policy) *ftv1.FineTuneEstimate {
	o := &ftv1.FineTuneEstimate{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "bot", Generation: gen},
		Spec:       ftv1.FineTuneEstimateSpec{Policy: policy},
		Status: ftv1.FineTuneEstimateStatus{
			ObservedGeneration: observed,
			Pricing:            &ftv1.Pricing{Catalog: "default", Source: ftv1.PricingSourceCatalog},
			Conditions: []metav1.Condition{
				{Type: ftv1.ConditionReady, Status: metav1.ConditionTrue, Reason: ftv1.ReasonEstimated, ObservedGeneration: observed},
				{Type: ftv1.ConditionApproved, Status: approved, Reason: reason, Message: "why", ObservedGeneration: observed},
			},
		},
	}
	return o
}

func TestDecide(t *testing.T) {
	stale := "effectiveDate 2024-01-01 of provider runpod is older than maxAge 720h0m0s"
	forged := fte(1, 1, metav1.ConditionTrue, ftv1.ReasonApproved, ftv1.PolicyEnforce) // as patched by someone else
	freshNo := fte(1, 1, metav1.ConditionFalse, ftv1.ReasonOverBudget, ftv1.PolicyEnforce).Status
	planned := fte(1, 1, metav1.ConditionTrue, ftv1.ReasonApproved, ftv1.PolicyEnforce)
	planned.Status.GPUCount, planned.Status.GPUType = 2, "H100"
	readyUnknown := fte(1, 1, metav1.ConditionFalse, ftv1.ReasonNotReady, ftv1.PolicyEnforce)
	readyUnknown.Status.Conditions[0].Status = metav1.ConditionUnknown
	noConditions := fte(1, 1, metav1.ConditionTrue, ftv1.ReasonApproved, "")
	noConditions.Status.Conditions = nil
	oldApproved := fte(2, 2, metav1.ConditionTrue, ftv1.ReasonApproved, "")
	oldApproved.Status.Conditions[1].ObservedGeneration = 1

	cases := map[string]struct {
		in          Input
		want        Outcome
		reason      string
		retry       time.Duration
		msgContains string
	}{
		"no label passes":                                {in: Input{}, want: NotGated, reason: ReasonNoEstimateLabel},
		"missing estimate waits":                         {in: Input{EstimateName: "bot"}, want: Pending, reason: ReasonEstimateNotFound, retry: PendingRetryAfter, msgContains: "ml/bot does not exist"},
		"new generation not yet seen":                    {in: Input{EstimateName: "bot", Estimate: fte(2, 1, metav1.ConditionTrue, ftv1.ReasonApproved, "")}, want: Pending, reason: ReasonEstimatePending, retry: PendingRetryAfter, msgContains: "generation 2"},
		"no conditions yet":                              {in: Input{EstimateName: "bot", Estimate: noConditions}, want: Pending, reason: ReasonEstimatePending, retry: PendingRetryAfter},
		"Ready Unknown":                                  {in: Input{EstimateName: "bot", Estimate: readyUnknown}, want: Pending, reason: ReasonEstimatePending, retry: PendingRetryAfter},
		"Approved from an old generation":                {in: Input{EstimateName: "bot", Estimate: oldApproved}, want: Pending, reason: ReasonEstimatePending, retry: PendingRetryAfter},
		"approved passes":                                {in: Input{EstimateName: "bot", Estimate: fte(1, 1, metav1.ConditionTrue, ftv1.ReasonApproved, ftv1.PolicyEnforce)}, want: Approved, reason: ReasonApproved},
		"approved but stale waits":                       {in: Input{EstimateName: "bot", Estimate: fte(1, 1, metav1.ConditionTrue, ftv1.ReasonApproved, ""), StalePrices: stale}, want: Pending, reason: ReasonPricesStale, retry: StaleRetryAfter, msgContains: "2024-01-01"},
		"stale waits even when advisory":                 {in: Input{EstimateName: "bot", Estimate: fte(1, 1, metav1.ConditionFalse, ftv1.ReasonOverBudget, ftv1.PolicyAdvisory), StalePrices: stale}, want: Pending, reason: ReasonPricesStale, retry: StaleRetryAfter},
		"a forged Approved waits for the operator":       {in: Input{EstimateName: "bot", Estimate: forged, Fresh: &freshNo}, want: Pending, reason: ReasonStatusDisagrees, retry: PendingRetryAfter, msgContains: "says Approved=True (Approved), but its inputs give False (OverBudget)"},
		"within the plan passes":                         {in: Input{EstimateName: "bot", Estimate: planned, Asked: &Accelerators{GPUs: 2, GPUTypes: []string{"NVIDIA-H100-80GB-HBM3"}}}, want: Approved, reason: ReasonApproved},
		"more GPUs than planned":                         {in: Input{EstimateName: "bot", Estimate: planned, Asked: &Accelerators{GPUs: 64}}, want: Rejected, reason: ReasonSizeExceedsPlan, msgContains: "asks for 64 GPUs; FineTuneEstimate ml/bot is Approved for 2 H100 GPUs"},
		"another GPU type":                               {in: Input{EstimateName: "bot", Estimate: planned, Asked: &Accelerators{GPUs: 1, GPUTypes: []string{"nvidia-a100-80gb"}}}, want: Rejected, reason: ReasonGPUTypeMismatch, msgContains: `pins GPU type "nvidia-a100-80gb"; FineTuneEstimate ml/bot is Approved for H100`},
		"a size that cannot be read":                     {in: Input{EstimateName: "bot", Estimate: planned, Asked: &Accelerators{Unknown: "spec.trainer does not state numNodes"}}, want: Rejected, reason: ReasonSizeUnknown, msgContains: "cannot be read: spec.trainer"},
		"enforce rejects with the reason":                {in: Input{EstimateName: "bot", Estimate: fte(1, 1, metav1.ConditionFalse, ftv1.ReasonNotRecommended, ftv1.PolicyEnforce)}, want: Rejected, reason: ftv1.ReasonNotRecommended, msgContains: "FineTuneEstimate ml/bot is not Approved (NotRecommended): why"},
		"enforce rejects not ready":                      {in: Input{EstimateName: "bot", Estimate: fte(1, 1, metav1.ConditionFalse, ftv1.ReasonNotReady, ftv1.PolicyEnforce)}, want: Rejected, reason: ftv1.ReasonNotReady},
		"advisory passes with a message":                 {in: Input{EstimateName: "bot", Estimate: fte(1, 1, metav1.ConditionFalse, ftv1.ReasonOverBudget, ftv1.PolicyAdvisory)}, want: AdvisoryNotApproved, reason: ReasonAdvisoryNotApproved, msgContains: "not Approved (OverBudget): why"},
		"no policy is advisory":                          {in: Input{EstimateName: "bot", Estimate: fte(1, 1, metav1.ConditionFalse, ftv1.ReasonOverBudget, "")}, want: AdvisoryNotApproved, reason: ReasonAdvisoryNotApproved},
		"stale verdict waits after the catalog is fresh": {in: Input{EstimateName: "bot", Estimate: fte(1, 1, metav1.ConditionFalse, ftv1.ReasonPricesStale, ftv1.PolicyEnforce)}, want: Pending, reason: ReasonPricesStale, retry: StaleRetryAfter},
		"cost policy rejects even when advisory":         {in: Input{EstimateName: "bot", Estimate: fte(1, 1, metav1.ConditionFalse, ftv1.ReasonPolicyViolated, ftv1.PolicyAdvisory)}, want: Rejected, reason: ftv1.ReasonPolicyViolated},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.in.Namespace = "ml"
			if tc.in.Estimate != nil && tc.in.Fresh == nil {
				tc.in.Fresh = &tc.in.Estimate.Status // what a fresh evaluation gives, unless the case says
			}
			got := Decide(tc.in)
			if got.Outcome != tc.want || got.Reason != tc.reason || got.RetryAfter != tc.retry {
				t.Errorf("Decide = %+v, want outcome %s reason %s retry %s", got, tc.want, tc.reason, tc.retry)
			}
			if !strings.Contains(got.Message, tc.msgContains) {
				t.Errorf("message %q does not contain %q", got.Message, tc.msgContains)
			}
			// What a gate does about the verdict is the gate's to say.
			if strings.Contains(got.Message, "policy") {
				t.Errorf("message %q speaks for a gate", got.Message)
			}
		})
	}
}

func TestCatalogToCheck(t *testing.T) {
	cases := map[string]struct {
		pricing *ftv1.Pricing
		want    string
	}{
		"not priced": {nil, ""},
		"builtin":    {&ftv1.Pricing{Catalog: "builtin", Source: ftv1.PricingSourceBuiltin}, ""},
		"catalog":    {&ftv1.Pricing{Catalog: "premium", Source: ftv1.PricingSourceCatalog}, "premium"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := CatalogToCheck(&ftv1.FineTuneEstimate{Status: ftv1.FineTuneEstimateStatus{Pricing: tc.pricing}}); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckState(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	earlier := metav1.NewTime(now.Add(-time.Hour))
	approved := Decision{Outcome: Approved, Reason: ReasonApproved, Message: "ok"}
	notGated := Decision{Outcome: NotGated, Reason: ReasonNoEstimateLabel, Message: "no label"}
	advisory := Decision{Outcome: AdvisoryNotApproved, Reason: ReasonAdvisoryNotApproved, Message: "not approved"}
	pending := Decision{Outcome: Pending, Reason: ReasonEstimatePending, Message: "pending", RetryAfter: PendingRetryAfter}
	rejected := Decision{Outcome: Rejected, Reason: ftv1.ReasonOverBudget, Message: "no"}
	st := func(s kueue.CheckState, msg string, after *int32, at metav1.Time) kueue.AdmissionCheckState {
		return kueue.AdmissionCheckState{Name: "cost", State: s, Message: msg, RequeueAfterSeconds: after, LastTransitionTime: at}
	}
	cases := map[string]struct {
		cur      kueue.AdmissionCheckState
		admitted bool
		d        Decision
		want     kueue.AdmissionCheckState
		changed  bool
	}{
		"approved: pending to ready":        {st(kueue.CheckStatePending, "", nil, earlier), false, approved, st(kueue.CheckStateReady, "ok", nil, metav1.NewTime(now)), true},
		"not gated is ready":                {st(kueue.CheckStatePending, "", nil, earlier), false, notGated, st(kueue.CheckStateReady, "no label", nil, metav1.NewTime(now)), true},
		"advisory no is ready and says so":  {st(kueue.CheckStatePending, "", nil, earlier), false, advisory, st(kueue.CheckStateReady, "not approved; policy Advisory lets it run", nil, metav1.NewTime(now)), true},
		"pending to retry with delay":       {st(kueue.CheckStatePending, "", nil, earlier), false, pending, st(kueue.CheckStateRetry, "pending", ptr.To[int32](15), metav1.NewTime(now)), true},
		"pending to rejected under Enforce": {st(kueue.CheckStatePending, "", nil, earlier), false, rejected, st(kueue.CheckStateRejected, "no; policy Enforce", nil, metav1.NewTime(now)), true},
		"rejected by a cost policy says so": {st(kueue.CheckStatePending, "", nil, earlier), false, Decision{Outcome: Rejected, Reason: ftv1.ReasonPolicyViolated, Message: "no"},
			st(kueue.CheckStateRejected, "no; a CostPolicy is enforced whatever spec.policy", nil, metav1.NewTime(now)), true},
		"retry to ready":                          {st(kueue.CheckStateRetry, "pending", ptr.To[int32](15), earlier), false, approved, st(kueue.CheckStateReady, "ok", nil, metav1.NewTime(now)), true},
		"unchanged retry":                         {st(kueue.CheckStateRetry, "pending", ptr.To[int32](15), earlier), false, pending, st(kueue.CheckStateRetry, "pending", ptr.To[int32](15), earlier), false},
		"unchanged advisory":                      {st(kueue.CheckStateReady, "not approved; policy Advisory lets it run", nil, earlier), false, advisory, st(kueue.CheckStateReady, "not approved; policy Advisory lets it run", nil, earlier), false},
		"new message keeps the time":              {st(kueue.CheckStateReady, "old", nil, earlier), false, approved, st(kueue.CheckStateReady, "ok", nil, earlier), true},
		"rejected is final":                       {st(kueue.CheckStateRejected, "no", nil, earlier), false, approved, st(kueue.CheckStateRejected, "no", nil, earlier), false},
		"admitted ready stays ready":              {st(kueue.CheckStateReady, "ok", nil, earlier), true, rejected, st(kueue.CheckStateReady, "ok", nil, earlier), false},
		"ready before admission can be withdrawn": {st(kueue.CheckStateReady, "ok", nil, earlier), false, rejected, st(kueue.CheckStateRejected, "no; policy Enforce", nil, metav1.NewTime(now)), true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, changed := CheckState(tc.cur, tc.admitted, tc.d, now)
			if changed != tc.changed {
				t.Errorf("changed = %v, want %v", changed, tc.changed)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
		})
	}
}

func TestForJob(t *testing.T) {
	approved := Decision{Outcome: Approved, Reason: ReasonApproved, Message: "approved"}
	notGated := Decision{Outcome: NotGated, Reason: ReasonNoEstimateLabel, Message: "no label"}
	advisory := Decision{Outcome: AdvisoryNotApproved, Reason: ReasonAdvisoryNotApproved, Message: "not approved"}
	pending := Decision{Outcome: Pending, Reason: ReasonEstimatePending, Message: "pending", RetryAfter: PendingRetryAfter}
	rejected := Decision{Outcome: Rejected, Reason: ftv1.ReasonOverBudget, Message: "over budget"}
	const advisoryMsg = "not approved; policy Advisory, but a plain Job runs only once its estimate is Approved"
	suspended := Job{Suspended: true}
	cases := map[string]struct {
		job  Job
		d    Decision
		want JobAction
	}{
		"approved unsuspends": {suspended, approved, JobAction{Patch: true, Unsuspend: true, Gate: GateReleased, Message: "approved",
			Event: &Event{corev1.EventTypeNormal, EventReleased, "approved"}}},
		"advisory no holds with a warning": {suspended, advisory, JobAction{Patch: true, Gate: GateHeld, Message: advisoryMsg,
			Event: &Event{corev1.EventTypeWarning, EventNotApproved, advisoryMsg}}},
		"advisory no already said: no write, no event": {Job{Suspended: true, Gate: GateHeld, GateMessage: advisoryMsg}, advisory,
			JobAction{Gate: GateHeld, Message: advisoryMsg}},
		"pending holds and requeues": {suspended, pending, JobAction{Patch: true, Gate: GateHeld, Message: "pending", RequeueAfter: PendingRetryAfter,
			Event: &Event{corev1.EventTypeNormal, EventHeld, "pending"}}},
		"already held for the same reason: no write, no event": {Job{Suspended: true, Gate: GateHeld, GateMessage: "pending"}, pending,
			JobAction{Gate: GateHeld, Message: "pending", RequeueAfter: PendingRetryAfter}},
		"rejected holds with a warning": {Job{Suspended: true, Gate: GateHeld, GateMessage: "pending"}, rejected, JobAction{Patch: true, Gate: GateHeld, Message: "over budget; policy Enforce",
			Event: &Event{corev1.EventTypeWarning, EventRejected, "over budget; policy Enforce"}}},
		"held then approved unsuspends": {Job{Suspended: true, Gate: GateHeld, GateMessage: "over budget; policy Enforce"}, approved, JobAction{Patch: true, Unsuspend: true, Gate: GateReleased, Message: "approved",
			Event: &Event{corev1.EventTypeNormal, EventReleased, "approved"}}},
		"not gated is left alone":             {suspended, notGated, JobAction{}},
		"running job is never touched":        {Job{}, rejected, JobAction{}},
		"a job that has run is never touched": {Job{Suspended: true, Started: true}, approved, JobAction{}},
		"kueue owns suspend":                  {Job{Suspended: true, KueueManaged: true}, approved, JobAction{}},
		"re-suspended after release is left":  {Job{Suspended: true, Gate: GateReleased}, approved, JobAction{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ForJob(tc.job, tc.d)); diff != "" {
				t.Errorf("action (-want +got):\n%s", diff)
			}
		})
	}
}
