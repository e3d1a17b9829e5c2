package controller

import (
	"github.com/ftcost/ftcost/internal/gate"
	ftmetrics "github.com/ftcost/ftcost/internal/metrics"
)

// Metrics are what the reconcilers observe as it happens: the error of each recorded run
// (metrics.Register makes them). The per-estimate gauges are read from the cache when scraped
// (metrics.EstimateSeries).
type Metrics = ftmetrics.Runs

// The gate label values of the two gates.
const (
	gateJob   = ftmetrics.GateJob
	gateKueue = ftmetrics.GateKueue
)

// decided counts a gate's decision (ftcost_gate_decisions_total) and returns it unchanged.
func decided(gateName string, d gate.Decision) gate.Decision {
	ftmetrics.RecordGateDecision(gateName, string(d.Outcome))
	return d
}
