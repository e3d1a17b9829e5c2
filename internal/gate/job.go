package gate

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ftcost/ftcost/internal/workload"
)

// Annotations the Job gate writes on a gated Job.
const (
	// GateAnnotation is "Held" while the gate keeps the Job suspended and "Released" once it cleared
	// spec.suspend. A Released Job is never touched again, even if someone suspends it later.
	GateAnnotation = "ftcost.io/gate"
	// GateMessageAnnotation says why, naming the estimate and its verdict.
	GateMessageAnnotation = "ftcost.io/gate-message"

	GateHeld     = "Held"
	GateReleased = "Released"
)

// Event reasons of the Job gate.
const (
	EventReleased    = "Released"
	EventHeld        = "Held"
	EventNotApproved = "NotApproved"
	EventRejected    = "Rejected"
)

// Job is what the suspend gate reads from a workload of any of workload.Kinds (a batch/v1 Job, a
// JobSet, a TrainJob, ...).
type Job struct {
	Suspended bool
	// Started: the workload has run, or finished, by its kind's rule (workload.Kind.Started).
	Started bool
	// KueueManaged: Kueue owns spec.suspend of this Job (it has a queue name); the AdmissionCheck gates it.
	KueueManaged bool
	// Gate and GateMessage are the current values of the gate's annotations.
	Gate, GateMessage string
}

// FactsOf reads what the gate needs from a workload of kind k; kueueManaged says whether Kueue owns
// its suspend switch.
func FactsOf(k workload.Kind, u *unstructured.Unstructured, kueueManaged bool) Job {
	return Job{
		Suspended:    k.Suspended(u),
		Started:      k.Started(u),
		KueueManaged: kueueManaged,
		Gate:         u.GetAnnotations()[GateAnnotation],
		GateMessage:  u.GetAnnotations()[GateMessageAnnotation],
	}
}

// Event is an event to record on the Job.
type Event struct {
	Type, Reason, Note string
}

// JobAction is what the Job gate does to a Job. The zero value leaves it alone.
type JobAction struct {
	// Patch: write Gate/GateMessage (and clear spec.suspend when Unsuspend).
	Patch     bool
	Unsuspend bool
	Gate      string
	Message   string
	Event     *Event
	// RequeueAfter is when to look again at a held Job.
	RequeueAfter time.Duration
}

// Gated says whether the gate acts on the Job at all: it is suspended, has not run, is not Kueue's, and
// not released by the gate before (a Job suspended again after its release was suspended on purpose).
func (j Job) Gated() bool {
	return j.Suspended && !j.Started && !j.KueueManaged && j.Gate != GateReleased
}

// advisoryHeld ends the message of an AdvisoryNotApproved decision on a plain Job.
const advisoryHeld = "; policy Advisory, but a plain Job runs only once its estimate is Approved"

// ForJob turns a decision into an action on a Job. The gate only ever clears spec.suspend, once: a
// running Job is never suspended again, and a Job it released is left alone afterwards. Unlike a
// Kueue check, a plain Job is released only when its estimate is Approved: under Advisory a "no" keeps
// it suspended with a Warning (NotApproved) rather than a rejection.
func ForJob(j Job, d Decision) JobAction {
	if !j.Gated() {
		return JobAction{}
	}
	var a JobAction
	switch d.Outcome {
	case NotGated:
		return JobAction{} // the Job names no estimate: not the gate's to release or hold
	case Approved:
		return JobAction{Patch: true, Unsuspend: true, Gate: GateReleased, Message: d.Message,
			Event: &Event{Type: corev1.EventTypeNormal, Reason: EventReleased, Note: d.Message}}
	case Rejected:
		a = JobAction{Gate: GateHeld, Message: d.Message + enforced(d),
			Event: &Event{Type: corev1.EventTypeWarning, Reason: EventRejected}}
	case AdvisoryNotApproved:
		a = JobAction{Gate: GateHeld, Message: d.Message + advisoryHeld,
			Event: &Event{Type: corev1.EventTypeWarning, Reason: EventNotApproved}}
	default: // Pending
		a = JobAction{Gate: GateHeld, Message: d.Message, RequeueAfter: d.RetryAfter,
			Event: &Event{Type: corev1.EventTypeNormal, Reason: EventHeld}}
	}
	if j.Gate == GateHeld && j.GateMessage == a.Message {
		a.Event = nil
		return a // already says so; no write, no repeated event
	}
	a.Patch = true
	a.Event.Note = a.Message
	return a
}
