package metrics

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// estimateFigure is a per-estimate gauge read from a status string.
type estimateFigure struct {
	name, help string
	figure     func(*ftv1.FineTuneEstimateStatus) string
}

var figures = []estimateFigure{
	{"ftcost_estimate_upfront_cost_usd",
		"Upfront cost (training plus one-time costs) of a FineTuneEstimate, in USD.",
		func(s *ftv1.FineTuneEstimateStatus) string { return s.UpfrontCost }},
	{"ftcost_estimate_break_even_months",
		"Months until a FineTuneEstimate's cumulative savings cover its upfront cost; absent when it never pays back.",
		func(s *ftv1.FineTuneEstimateStatus) string { return s.BreakEvenMonths }},
	{"ftcost_estimate_net_savings_usd",
		"Cumulative savings of a FineTuneEstimate over its horizon minus the upfront cost, undiscounted, in USD.",
		func(s *ftv1.FineTuneEstimateStatus) string { return s.NetSavings }},
	{"ftcost_estimate_net_present_value_usd",
		"Net present value of fine-tuning over the horizon of a FineTuneEstimate, in USD.",
		func(s *ftv1.FineTuneEstimateStatus) string { return s.NetPresentValue }},
	{"ftcost_estimate_api_monthly_cost_usd",
		"First-month API cost of a FineTuneEstimate, in USD.",
		func(s *ftv1.FineTuneEstimateStatus) string { return s.APIMonthlyCost }},
	{"ftcost_estimate_serving_monthly_cost_usd",
		"First-month cost of serving the fine-tuned model of a FineTuneEstimate, in USD.",
		func(s *ftv1.FineTuneEstimateStatus) string { return s.ServingMonthlyCost }},
	{"ftcost_estimate_actual_spend_usd",
		"What the finished runs gated by a FineTuneEstimate cost, in USD (status.actuals.spend).",
		func(s *ftv1.FineTuneEstimateStatus) string {
			if s.Actuals == nil {
				return ""
			}
			return s.Actuals.Spend
		}},
}

// EstimateSeries writes each FineTuneEstimate's figures, read from its status in the manager's
// cache when scraped, in Prometheus' text format straight into the scrape's response. Nothing is
// kept between scrapes (a deleted estimate's series are gone with it), and nothing is built per
// series: client_golang's registry gathers every series of a scrape into protocol buffers before
// writing any, and for 10,000 estimates that was 40 MB of live heap for each scrape, twice the
// informer cache (docs/benchmarks.md). Serve it with Wrap; Gather is for tests.
type EstimateSeries struct {
	Reader client.Reader
}

// family is one metric family of the per-estimate series.
type family struct {
	name, help string
	// value is the estimate's value and extra labels (`,label="value"` pairs that sort after name
	// and namespace, escaped); ok is false when the estimate has no such series.
	value func(*ftv1.FineTuneEstimate) (value float64, extra string, ok bool)
}

func families() []family {
	fs := make([]family, 0, len(figures)+2)
	for _, f := range figures {
		fs = append(fs, family{f.name, f.help, func(e *ftv1.FineTuneEstimate) (float64, string, bool) {
			// Metrics are floats by nature; the API never is. Empty or unparsable: no series.
			v, err := strconv.ParseFloat(f.figure(&e.Status), 64)
			return v, "", err == nil
		}})
	}
	return append(fs,
		family{"ftcost_estimate_approved", "1 when a FineTuneEstimate's Approved condition is True, else 0.",
			func(e *ftv1.FineTuneEstimate) (float64, string, bool) {
				if meta.IsStatusConditionTrue(e.Status.Conditions, ftv1.ConditionApproved) {
					return 1, "", true
				}
				return 0, "", true
			}},
		family{"ftcost_estimate_recommendation", "1 for a FineTuneEstimate's current recommendation (FineTune, API or Undetermined).",
			func(e *ftv1.FineTuneEstimate) (float64, string, bool) {
				r := e.Status.Recommendation
				return 1, `,recommendation="` + labelValue(string(r)) + `"`, r != ""
			}})
}

// WriteText writes the series of every estimate in the cache, family by family, in the text
// exposition format (version 0.0.4).
func (s *EstimateSeries) WriteText(ctx context.Context, w io.Writer) error {
	list := &ftv1.FineTuneEstimateList{}
	// Read-only: the cache's objects themselves, not 10,000 copies a scrape.
	if err := s.Reader.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	var line []byte
	for _, f := range families() {
		_, _ = fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s gauge\n", f.name, f.help, f.name)
		for i := range list.Items {
			e := &list.Items[i]
			v, extra, ok := f.value(e)
			if !ok {
				continue
			}
			line = append(line[:0], f.name...)
			// Labels in name order, as client_golang writes them.
			line = append(line, `{name="`...)
			line = append(line, labelValue(e.Name)...)
			line = append(line, `",namespace="`...)
			line = append(line, labelValue(e.Namespace)...)
			line = append(line, '"')
			line = append(line, extra...)
			line = append(line, "} "...)
			line = strconv.AppendFloat(line, v, 'g', -1, 64)
			line = append(line, '\n')
			_, _ = bw.Write(line)
		}
	}
	return bw.Flush()
}

// labelValue escapes a label value for the text format: backslash, double quote and line feed.
func labelValue(v string) string {
	if !strings.ContainsAny(v, "\\\"\n") {
		return v
	}
	return labelEscaper.Replace(v)
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// Gather parses what WriteText writes: the series as client_golang's testutil and Gatherers take
// them.
func (s *EstimateSeries) Gather() ([]*dto.MetricFamily, error) {
	var b bytes.Buffer
	if err := s.WriteText(context.Background(), &b); err != nil {
		return nil, err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := parser.TextToMetricFamilies(&b)
	if err != nil {
		return nil, err
	}
	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		if len(byName[name].GetMetric()) > 0 {
			out = append(out, byName[name])
		}
	}
	return out, nil
}

// Wrap serves next (the metrics registry's handler) at /metrics in the text format, then the
// estimate series. The text format is asked of next whatever the scraper accepts, and uncompressed,
// so the two parts are one exposition; Prometheus reads the text format from any target.
func (s *EstimateSeries) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" || s.Reader == nil {
			next.ServeHTTP(w, r)
			return
		}
		r = r.Clone(r.Context())
		r.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
		r.Header.Del("Accept-Encoding")
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if rec.status != http.StatusOK {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := s.WriteText(ctx, w); err != nil {
			// The registry's part is out already; say why the rest is missing the way the text format
			// allows, as a comment.
			_, _ = fmt.Fprintf(w, "# ftcost estimate series: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
