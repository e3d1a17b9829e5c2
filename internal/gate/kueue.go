package gate

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"
)

// maxCheckMessage is the schema's maxLength of an AdmissionCheckState message.
const maxCheckMessage = 32768

// advisoryRuns ends the message of an AdvisoryNotApproved decision on a Kueue check.
const advisoryRuns = "; policy Advisory lets it run"

// CheckState turns a decision into the state of ftcost's AdmissionCheck on a Workload: Approved and
// NotGated are Ready, AdvisoryNotApproved is Ready with the estimate's "no" in the message, Pending is
// Retry with a requeue delay, Rejected is Rejected. It returns the current state unchanged, and false,
// when nothing would change or when the check must not move: a Rejected check is final (Kueue has
// deactivated the Workload), and a Ready check on an admitted Workload stays Ready, because moving it
// would evict running work.
func CheckState(cur kueue.AdmissionCheckState, admitted bool, d Decision, now time.Time) (kueue.AdmissionCheckState, bool) {
	if cur.State == kueue.CheckStateRejected || (cur.State == kueue.CheckStateReady && admitted) {
		return cur, false
	}
	next := kueue.AdmissionCheckState{Name: cur.Name, Message: d.Message, RetryCount: cur.RetryCount}
	switch d.Outcome {
	case Approved, NotGated:
		next.State = kueue.CheckStateReady
	case AdvisoryNotApproved:
		next.State, next.Message = kueue.CheckStateReady, d.Message+advisoryRuns
	case Rejected:
		next.State, next.Message = kueue.CheckStateRejected, d.Message+enforced(d)
	default:
		next.State = kueue.CheckStateRetry
		next.RequeueAfterSeconds = ptr.To(int32(d.RetryAfter / time.Second))
	}
	if len(next.Message) > maxCheckMessage {
		next.Message = next.Message[:maxCheckMessage]
	}
	if next.State == cur.State && next.Message == cur.Message && ptr.Equal(next.RequeueAfterSeconds, cur.RequeueAfterSeconds) {
		return cur, false
	}
	next.LastTransitionTime = cur.LastTransitionTime
	if next.State != cur.State || cur.LastTransitionTime.IsZero() {
		next.LastTransitionTime = metav1.NewTime(now.Truncate(time.Second))
	}
	return next, true
}
