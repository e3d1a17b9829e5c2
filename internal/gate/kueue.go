package gate

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"
)

// maxCheckMessage is the schema's maxLength of an AdmissionCheckState message.
const maxCheckMessage = 32768

// CheckState turns a decision into the state of ftcost's AdmissionCheck on a Workload: Pass is Ready,
// Wait is Retry with a requeue delay, Reject is Rejected. It returns the current state unchanged, and
// false, when nothing would change or when the check must not move: a Rejected check is final (Kueue
// has deactivated the Workload), and a Ready check on an admitted Workload stays Ready, because moving
// it would evict running work.
func CheckState(cur kueue.AdmissionCheckState, admitted bool, d Decision, now time.Time) (kueue.AdmissionCheckState, bool) {
	if cur.State == kueue.CheckStateRejected || (cur.State == kueue.CheckStateReady && admitted) {
		return cur, false
	}
	next := kueue.AdmissionCheckState{Name: cur.Name, Message: d.Message, RetryCount: cur.RetryCount}
	if len(next.Message) > maxCheckMessage {
		next.Message = next.Message[:maxCheckMessage]
	}
	switch d.Outcome {
	case Pass:
		next.State = kueue.CheckStateReady
	case Reject:
		next.State = kueue.CheckStateRejected
	default:
		next.State = kueue.CheckStateRetry
		secs := int32(d.RetryAfter / time.Second)
		next.RequeueAfterSeconds = &secs
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
