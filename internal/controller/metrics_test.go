package controller_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/controller"
)

// The recommendation series of an estimate follows its verdict: one series at a time, none once the
// estimate is forgotten, and another estimate's series untouched.
func TestRecommendationSeriesFollowTheVerdict(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := controller.NewMetrics(reg)
	a, b := types.NamespacedName{Namespace: "ml", Name: "a"}, types.NamespacedName{Namespace: "ml", Name: "b"}
	series := func() map[string]string {
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, f := range fams {
			if f.GetName() != "ftcost_estimate_recommendation" {
				continue
			}
			for _, s := range f.GetMetric() {
				l := map[string]string{}
				for _, p := range s.GetLabel() {
					l[p.GetName()] = p.GetValue()
				}
				if s.GetGauge().GetValue() != 1 {
					t.Errorf("%v = %v, want 1", l, s.GetGauge().GetValue())
				}
				out[l["name"]] += l["recommendation"]
			}
		}
		return out
	}
	steps := []struct {
		do   func()
		want map[string]string
	}{
		{func() { m.Observe(a, &ftv1.FineTuneEstimateStatus{Recommendation: ftv1.RecommendationFineTune}) }, map[string]string{"a": "FineTune"}},
		{func() { m.Observe(b, &ftv1.FineTuneEstimateStatus{Recommendation: ftv1.RecommendationFineTune}) }, map[string]string{"a": "FineTune", "b": "FineTune"}},
		{func() { m.Observe(a, &ftv1.FineTuneEstimateStatus{Recommendation: ftv1.RecommendationAPI}) }, map[string]string{"a": "API", "b": "FineTune"}},
		{func() { m.Observe(a, &ftv1.FineTuneEstimateStatus{Recommendation: ftv1.RecommendationUndetermined}) }, map[string]string{"a": "Undetermined", "b": "FineTune"}},
		{func() { m.Observe(a, &ftv1.FineTuneEstimateStatus{}) }, map[string]string{"b": "FineTune"}},
		{func() { m.Observe(a, &ftv1.FineTuneEstimateStatus{Recommendation: ftv1.RecommendationAPI}) }, map[string]string{"a": "API", "b": "FineTune"}},
		{func() { m.Forget(a) }, map[string]string{"b": "FineTune"}},
	}
	for i, s := range steps {
		s.do()
		got := series()
		if len(got) != len(s.want) {
			t.Fatalf("step %d: series %v, want %v", i, got, s.want)
		}
		for k, v := range s.want {
			if got[k] != v {
				t.Fatalf("step %d: series %v, want %v", i, got, s.want)
			}
		}
	}
}

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
