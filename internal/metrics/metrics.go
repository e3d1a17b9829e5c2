// Package metrics holds the operator's own metrics: gate decisions by outcome, each estimate's figures,
// the staleness of each PriceCatalog and the build. They live in controller-runtime's registry, which
// the manager's metrics endpoint serves; the histogram of recorded runs' errors is controller.Metrics.
package metrics

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ftcost/ftcost/internal/version"
)

// Gates, the values of the gate label of ftcost_gate_decisions_total.
const (
	// GateJob is the Job gate (suspended Jobs labelled ftcost.io/estimate).
	GateJob = "job"
	// GateKueue is the Kueue AdmissionCheck ftcost.io/cost-gate.
	GateKueue = "kueue"
)

var (
	gateDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ftcost_gate_decisions_total",
		Help: "Decisions of the cost gates on a Job or Workload, by gate (job, kueue) and outcome (Pass, Wait, Reject).",
	}, []string{"gate", "outcome"})

	buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ftcost_build_info",
		Help: "Always 1; the labels say which build of the manager is running.",
	}, []string{"version", "revision", "goversion"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(gateDecisions, buildInfo)
	buildInfo.WithLabelValues(version.Get(), version.Revision(), runtime.Version()).Set(1)
}

// RecordGateDecision counts one decision of a gate (GateJob or GateKueue); outcome is the
// gate.Outcome as a string.
func RecordGateDecision(gate, outcome string) {
	gateDecisions.WithLabelValues(gate, outcome).Inc()
}
