package controller_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/controller"
)

// The error-ratio histogram has a series per estimator from the start, at zero, so a dashboard's
// increase() counts the first run after a restart.
func TestErrorRatioSeriesExistFromTheStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	controller.NewMetrics(reg)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, f := range fams {
		if f.GetName() != "ftcost_estimate_error_ratio" {
			continue
		}
		for _, s := range f.GetMetric() {
			got[s.GetLabel()[0].GetValue()] = s.GetHistogram().GetSampleCount()
		}
	}
	for _, e := range []ftv1.Estimator{ftv1.EstimatorEmpirical, ftv1.EstimatorFLOPs, ftv1.EstimatorCalibrated, ftv1.EstimatorMeasured} {
		if n, ok := got[string(e)]; !ok || n != 0 {
			t.Errorf("estimator %s: series present %v with %d samples, want present with 0", e, ok, n)
		}
	}
}
