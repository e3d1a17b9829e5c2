package metrics

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/scheme"
)

// TestEstimateSeries: each estimate's figures are read from its status at scrape time: absent
// figures have no series, the recommendation is one series, approval is 0 or 1, and an estimate that
// is gone has none.
func TestEstimateSeries(t *testing.T) {
	approved := []metav1.Condition{{Type: ftv1.ConditionApproved, Status: metav1.ConditionTrue, Reason: "Approved"}}
	paysBack := &ftv1.FineTuneEstimate{ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "support-bot"},
		Status: ftv1.FineTuneEstimateStatus{Recommendation: ftv1.RecommendationFineTune, UpfrontCost: "1001.25", BreakEvenMonths: "20.0",
			NetSavings: "798.75", NetPresentValue: "558.07", APIMonthlyCost: "50.00", ServingMonthlyCost: "0.00",
			Actuals: &ftv1.Actuals{Spend: "3.09"}, Conditions: approved}}
	never := &ftv1.FineTuneEstimate{ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "low-traffic"},
		Status: ftv1.FineTuneEstimateStatus{Recommendation: ftv1.RecommendationAPI, UpfrontCost: "2001.25", NetSavings: "-1990.45",
			NetPresentValue: "-1991.00", APIMonthlyCost: "0.30", ServingMonthlyCost: "0.00"}}
	fresh := &ftv1.FineTuneEstimate{ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "fresh"}} // not reconciled yet
	c := fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(paysBack, never, fresh).Build()
	reg := &EstimateSeries{Reader: c}
	want := `
# HELP ftcost_estimate_actual_spend_usd What the finished runs gated by a FineTuneEstimate cost, in USD (status.actuals.spend).
# TYPE ftcost_estimate_actual_spend_usd gauge
ftcost_estimate_actual_spend_usd{name="support-bot",namespace="ml"} 3.09
# HELP ftcost_estimate_approved 1 when a FineTuneEstimate's Approved condition is True, else 0.
# TYPE ftcost_estimate_approved gauge
ftcost_estimate_approved{name="fresh",namespace="ml"} 0
ftcost_estimate_approved{name="low-traffic",namespace="ml"} 0
ftcost_estimate_approved{name="support-bot",namespace="ml"} 1
# HELP ftcost_estimate_break_even_months Months until a FineTuneEstimate's cumulative savings cover its upfront cost; absent when it never pays back.
# TYPE ftcost_estimate_break_even_months gauge
ftcost_estimate_break_even_months{name="support-bot",namespace="ml"} 20
# HELP ftcost_estimate_recommendation 1 for a FineTuneEstimate's current recommendation (FineTune, API or Undetermined).
# TYPE ftcost_estimate_recommendation gauge
ftcost_estimate_recommendation{name="low-traffic",namespace="ml",recommendation="API"} 1
ftcost_estimate_recommendation{name="support-bot",namespace="ml",recommendation="FineTune"} 1
# HELP ftcost_estimate_upfront_cost_usd Upfront cost (training plus one-time costs) of a FineTuneEstimate, in USD.
# TYPE ftcost_estimate_upfront_cost_usd gauge
ftcost_estimate_upfront_cost_usd{name="low-traffic",namespace="ml"} 2001.25
ftcost_estimate_upfront_cost_usd{name="support-bot",namespace="ml"} 1001.25
`
	names := []string{"ftcost_estimate_actual_spend_usd", "ftcost_estimate_approved", "ftcost_estimate_break_even_months",
		"ftcost_estimate_recommendation", "ftcost_estimate_upfront_cost_usd"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "ftcost_estimate_net_present_value_usd", "ftcost_estimate_net_savings_usd",
		"ftcost_estimate_api_monthly_cost_usd", "ftcost_estimate_serving_monthly_cost_usd"); err != nil || n != 8 {
		t.Errorf("money series: %d, %v; want 4 figures x 2 estimates", n, err)
	}

	// The verdict flips and an estimate goes: the next scrape says so, with nothing to forget.
	never.Status.Recommendation = ftv1.RecommendationFineTune
	if err := c.Update(t.Context(), never); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(t.Context(), paysBack); err != nil {
		t.Fatal(err)
	}
	want = `
# HELP ftcost_estimate_recommendation 1 for a FineTuneEstimate's current recommendation (FineTune, API or Undetermined).
# TYPE ftcost_estimate_recommendation gauge
ftcost_estimate_recommendation{name="low-traffic",namespace="ml",recommendation="FineTune"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "ftcost_estimate_recommendation"); err != nil {
		t.Error(err)
	}
}

// Wrap serves the registry's metrics and the estimate series as one exposition: protocol buffers
// when the scraper prefers them, else text; gzipped when accepted. It leaves other paths and
// refused requests alone, and fails the scrape when the estimates cannot be read.
func TestWrapServesOneExposition(t *testing.T) {
	est := &ftv1.FineTuneEstimate{ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: `quote"d`},
		Status: ftv1.FineTuneEstimateStatus{Recommendation: ftv1.RecommendationAPI, UpfrontCost: "12.5"}}
	reg := prometheus.NewPedanticRegistry()
	reconciles := prometheus.NewCounter(prometheus.CounterOpts{Name: "reconciles_total", Help: "Reconciles."})
	reg.MustRegister(reconciles)
	reconciles.Add(3)
	series := &EstimateSeries{Reader: fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(est).Build()}
	h := series.Wrap(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	const protobuf = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3"
	for _, tc := range []struct {
		accept string
		gzip   bool
		want   expfmt.FormatType
	}{
		{"", false, expfmt.TypeTextPlain},
		{"", true, expfmt.TypeTextPlain},
		{protobuf, true, expfmt.TypeProtoDelim},
		{protobuf, false, expfmt.TypeProtoDelim},
		{"application/openmetrics-text;version=1.0.0", true, expfmt.TypeTextPlain},
	} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept", tc.accept)
		if tc.gzip {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		format := expfmt.ResponseFormat(rec.Header())
		if rec.Code != http.StatusOK || format.FormatType() != tc.want || (rec.Header().Get("Content-Encoding") == "gzip") != tc.gzip {
			t.Fatalf("Accept %q, gzip %v: %d, Content-Type %q, Content-Encoding %q; want 200, %v", tc.accept, tc.gzip,
				rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Encoding"), tc.want)
		}
		var body io.Reader = rec.Body
		if tc.gzip {
			zr, err := gzip.NewReader(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			body = zr
		}
		got := map[string]*dto.MetricFamily{}
		dec := expfmt.NewDecoder(body, format)
		for {
			mf := &dto.MetricFamily{}
			if err := dec.Decode(mf); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("Accept %q, gzip %v: the exposition does not decode: %v", tc.accept, tc.gzip, err)
			}
			if got[mf.GetName()] != nil {
				t.Errorf("Accept %q: family %s twice", tc.accept, mf.GetName())
			}
			got[mf.GetName()] = mf
		}
		if v := got["reconciles_total"].GetMetric()[0].GetCounter().GetValue(); v != 3 {
			t.Errorf("Accept %q: reconciles_total = %v, want 3", tc.accept, v)
		}
		up := got["ftcost_estimate_upfront_cost_usd"].GetMetric()
		if len(up) != 1 || up[0].GetGauge().GetValue() != 12.5 || up[0].GetLabel()[0].GetValue() != `quote"d` {
			t.Errorf("Accept %q: upfront cost series %v, want one, 12.5, for the estimate named quote\"d", tc.accept, up)
		}
		if rec := got["ftcost_estimate_recommendation"].GetMetric(); len(rec) != 1 || rec[0].GetLabel()[2].GetValue() != "API" {
			t.Errorf("Accept %q: recommendation series %v, want one labelled API", tc.accept, rec)
		}
	}

	// Another path is next's alone.
	req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	rec := httptest.NewRecorder()
	series.Wrap(http.NotFoundHandler()).ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "ftcost_estimate") {
		t.Errorf("/healthz: %d %q, want next's 404 without estimate series", rec.Code, rec.Body.String())
	}
	// A refused scrape gets no series either.
	refuse := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "Forbidden", http.StatusForbidden) })
	rec = httptest.NewRecorder()
	series.Wrap(refuse).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusForbidden || strings.Contains(rec.Body.String(), "ftcost_estimate") {
		t.Errorf("refused scrape: %d %q, want 403 without estimate series", rec.Code, rec.Body.String())
	}
	// Estimates that cannot be read fail the whole scrape, so the scraper's up turns 0.
	broken := &EstimateSeries{Reader: fake.NewClientBuilder().WithScheme(scheme.New()).WithInterceptorFuncs(interceptor.Funcs{
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
			return errors.New("cache not started")
		}}).Build()}
	rec = httptest.NewRecorder()
	broken.Wrap(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "reconciles_total") ||
		!strings.Contains(rec.Body.String(), "cache not started") {
		t.Errorf("unreadable estimates: %d %q, want 500 naming the error and no metrics", rec.Code, rec.Body.String())
	}
}
