package metrics

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"
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
// cache when scraped, straight into the scrape's response, one metric family at a time. Nothing is
// kept between scrapes (a deleted estimate's series are gone with it), and a scrape never holds all
// the series at once: client_golang's registry gathers every series of a scrape as protocol buffers
// before writing any, which at scale held more live heap than the informer cache (measured in
// docs/benchmarks.md, "Memory at N=10,000"). Serve it with Wrap; Gather is for tests.
type EstimateSeries struct {
	Reader client.Reader
}

// family is one metric family of the per-estimate series.
type family struct {
	name, help string
	// value is the estimate's value and the labels after name and namespace; ok is false when the
	// estimate has no such series.
	value func(*ftv1.FineTuneEstimate) (value float64, extra []*dto.LabelPair, ok bool)
}

var families = func() []family {
	fs := make([]family, 0, len(figures)+2)
	for _, f := range figures {
		fs = append(fs, family{f.name, f.help, func(e *ftv1.FineTuneEstimate) (float64, []*dto.LabelPair, bool) {
			// Metrics are floats by nature; the API never is. Empty or unparsable: no series.
			v, err := strconv.ParseFloat(f.figure(&e.Status), 64)
			return v, nil, err == nil
		}})
	}
	return append(fs,
		family{"ftcost_estimate_approved", "1 when a FineTuneEstimate's Approved condition is True, else 0.",
			func(e *ftv1.FineTuneEstimate) (float64, []*dto.LabelPair, bool) {
				if meta.IsStatusConditionTrue(e.Status.Conditions, ftv1.ConditionApproved) {
					return 1, nil, true
				}
				return 0, nil, true
			}},
		family{"ftcost_estimate_recommendation", "1 for a FineTuneEstimate's current recommendation (FineTune, API or Undetermined).",
			func(e *ftv1.FineTuneEstimate) (float64, []*dto.LabelPair, bool) {
				r := string(e.Status.Recommendation)
				return 1, []*dto.LabelPair{{Name: ptr.To("recommendation"), Value: &r}}, r != ""
			}})
}()

// metricFamily is family f of the estimates.
func (f family) metricFamily(items []ftv1.FineTuneEstimate) *dto.MetricFamily {
	mf := &dto.MetricFamily{Name: ptr.To(f.name), Help: ptr.To(f.help), Type: dto.MetricType_GAUGE.Enum()}
	for i := range items {
		e := &items[i]
		v, extra, ok := f.value(e)
		if !ok {
			continue
		}
		// Labels in name order, as client_golang writes them.
		labels := append([]*dto.LabelPair{{Name: ptr.To("name"), Value: &e.Name}, {Name: ptr.To("namespace"), Value: &e.Namespace}}, extra...)
		mf.Metric = append(mf.Metric, &dto.Metric{Label: labels, Gauge: &dto.Gauge{Value: ptr.To(v)}})
	}
	return mf
}

// list reads the estimates from the cache, read-only: the cache's objects, not copies.
func (s *EstimateSeries) list(ctx context.Context) ([]ftv1.FineTuneEstimate, error) {
	list := &ftv1.FineTuneEstimateList{}
	if err := s.Reader.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing FineTuneEstimates for their metrics: %w", err)
	}
	return list.Items, nil
}

// encode writes the families of items, one at a time, in format.
func encode(w io.Writer, format expfmt.Format, items []ftv1.FineTuneEstimate) error {
	enc := expfmt.NewEncoder(w, format)
	for _, f := range families {
		if mf := f.metricFamily(items); len(mf.Metric) > 0 {
			if err := enc.Encode(mf); err != nil {
				return err
			}
		}
	}
	return nil
}

// Gather is the estimate series as client_golang's testutil and Gatherers take them.
func (s *EstimateSeries) Gather() ([]*dto.MetricFamily, error) {
	items, err := s.list(context.Background())
	if err != nil {
		return nil, err
	}
	var out []*dto.MetricFamily
	for _, f := range families {
		if mf := f.metricFamily(items); len(mf.Metric) > 0 {
			out = append(out, mf)
		}
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out, nil
}

// Wrap serves /metrics: next (the metrics registry's handler), then the estimate series, as one
// exposition in the format next is asked for: protocol buffers when the scraper prefers them (as
// Prometheus does, and native histograms need), else the text format. OpenMetrics is not offered:
// its exposition ends with an EOF line, after which nothing may be appended. The response is
// compressed here, not by next, when the scraper accepts gzip. A scrape whose estimates cannot be
// read fails as a whole (500), as a failing collector fails it, so Prometheus' up turns 0.
func (s *EstimateSeries) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" || s.Reader == nil {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		items, err := s.list(ctx)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		format := expfmt.NewFormat(expfmt.TypeTextPlain)
		// The two formats this endpoint writes, protocol buffers first as the registry's handler offers them.
		if expfmt.NegotiateAccept(r.Header, expfmt.NewFormat(expfmt.TypeProtoDelim), expfmt.NewFormat(expfmt.TypeTextPlain)).FormatType() == expfmt.TypeProtoDelim {
			format = expfmt.NewFormat(expfmt.TypeProtoDelim)
		}
		inner := r.Clone(ctx)
		inner.Header.Set("Accept", string(format))
		inner.Header.Del("Accept-Encoding")
		body := io.Writer(w)
		if acceptsGzip(r.Header) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Add("Vary", "Accept-Encoding")
			gz := gzip.NewWriter(w)
			defer func() { _ = gz.Close() }()
			body = gz
		}
		rec := &recorder{ResponseWriter: w, body: body, status: http.StatusOK}
		next.ServeHTTP(rec, inner)
		if rec.status != http.StatusOK {
			return
		}
		// Headers are sent; an error here can only cut the exposition short.
		_ = encode(body, format, items)
	})
}

// acceptsGzip reports whether the Accept-Encoding header lists gzip without q=0.
func acceptsGzip(h http.Header) bool {
	for _, v := range h.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.ReplaceAll(params, " ", "") != "q=0" {
				return true
			}
		}
	}
	return false
}

// recorder passes next's response through body and remembers its status.
type recorder struct {
	http.ResponseWriter
	body   io.Writer
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
