package gate

import (
	"strings"
	"time"
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

// Job is what the Job gate reads from a Job.
type Job struct {
	Suspended bool
	Finished  bool
	// KueueManaged: Kueue owns spec.suspend of this Job (it has a queue name); the AdmissionCheck gates it.
	KueueManaged bool
	// Gate and GateMessage are the current values of the gate's annotations.
	Gate, GateMessage string
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

// Gated says whether the gate acts on the Job at all: it is suspended, not finished, not Kueue's, and
// not released by the gate before (a Job suspended again after its release was suspended on purpose).
func (j Job) Gated() bool {
	return j.Suspended && !j.Finished && !j.KueueManaged && j.Gate != GateReleased
}

// advisoryHeld ends the message of an Advisory "no" held by the Job gate.
const advisoryHeld = "; policy Advisory, but a plain Job runs only once its estimate is Approved"

// ForJob turns a decision into an action on a Job. The gate only ever clears spec.suspend, once: a
// running Job is never suspended again, and a Job it released is left alone afterwards. Unlike a
// Kueue check, a plain Job is released only when its estimate is Approved: under Advisory a "no" keeps
// it suspended with a Warning (NotApproved) rather than a rejection.
func ForJob(j Job, d Decision) JobAction {
	if !j.Gated() {
		return JobAction{}
	}
	if d.Outcome == Pass && d.Reason != ReasonAdvisoryNotApproved {
		return JobAction{Patch: true, Unsuspend: true, Gate: GateReleased, Message: d.Message,
			Event: &Event{Type: "Normal", Reason: EventReleased, Note: d.Message}}
	}
	if d.Reason == ReasonAdvisoryNotApproved {
		d.Message = strings.TrimSuffix(d.Message, advisoryLetsItRun) + advisoryHeld
	}
	a := JobAction{Gate: GateHeld, Message: d.Message, RequeueAfter: d.RetryAfter}
	if j.Gate == GateHeld && j.GateMessage == d.Message {
		return a // already says so; no write, no repeated event
	}
	a.Patch = true
	a.Event = &Event{Type: "Normal", Reason: EventHeld, Note: d.Message}
	switch {
	case d.Outcome == Reject:
		a.Event.Type, a.Event.Reason = "Warning", EventRejected
	case d.Reason == ReasonAdvisoryNotApproved:
		a.Event.Type, a.Event.Reason = "Warning", EventNotApproved
	}
	return a
}
