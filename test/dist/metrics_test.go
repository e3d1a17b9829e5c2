package dist

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/manager"
	"github.com/ftcost/ftcost/internal/testenv"
)

// scrape GETs the manager's /metrics and parses the text exposition.
func scrape(url string) ([]*dto.MetricFamily, error) {
	resp, err := http.Get(url) //nolint:gosec,noctx // the test's own manager on localhost
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, err
	}
	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, f := range byName {
		out = append(out, f)
	}
	return out, nil
}

// series returns the value of the series of family name whose labels include want; nil when absent.
func series(families []*dto.MetricFamily, name string, want map[string]string) *float64 {
	m := metric(families, name, want)
	switch {
	case m.GetGauge() != nil:
		return ptr.To(m.GetGauge().GetValue())
	case m.GetCounter() != nil:
		return ptr.To(m.GetCounter().GetValue())
	}
	return nil
}

// observations is how many values the histogram's series with the wanted labels have observed.
func observations(families []*dto.MetricFamily, name string, want map[string]string) uint64 {
	var n uint64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, want) {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// metric is the first series of the named family with the wanted labels, or nil.
func metric(families []*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, want) {
				return m
			}
		}
	}
	return nil
}

// exported are the names a Prometheus scrape of families shows (histograms as _bucket, _sum, _count).
func exported(families []*dto.MetricFamily) map[string]bool {
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+s] = true
			}
		}
	}
	return names
}

// metricName matches the metric names a dashboard query can name: ours and controller-runtime's.
var metricName = regexp.MustCompile(`\b(ftcost|controller_runtime|workqueue|rest_client|leader_election|certwatcher)_[a-zA-Z0-9_]+\b`)

// queries returns every PromQL expression of the dashboard: panel targets and template variables.
func queries(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "grafana", "ftcost-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("config/grafana/ftcost-dashboard.json: %v", err)
	}
	if d.UID == "" || len(d.Panels) == 0 {
		t.Fatal("the dashboard has no uid or no panels")
	}
	out := map[string]string{}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for i, tg := range p.Targets {
			out[p.Title+"#"+string(rune('A'+i))] = tg.Expr
		}
	}
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			out["variable "+v.Name], _ = q["query"].(string)
		}
	}
	return out
}

// TestDashboardQueriesExportedMetrics runs the manager on the API server, lets it estimate the article's
// support bot and gate a Job on it, and checks (1) the figures a dashboard needs are exported with
// the estimate's values and (2) every query of config/grafana's dashboard names only metrics the
// manager's /metrics exports (scraped over plain HTTP, as text).
func TestDashboardQueriesExportedMetrics(t *testing.T) {
	g := NewWithT(t)
	addr, err := testenv.FreeAddr()
	g.Expect(err).NotTo(HaveOccurred())
	mgr, err := manager.New(ctx, env.Config, manager.Options{MetricsAddr: addr, ProbeAddr: "0", QPS: 50, Burst: 100, Concurrency: 2, EnableJobGate: true})
	g.Expect(err).NotTo(HaveOccurred())
	stop, err := testenv.RunManager(ctx, mgr)
	g.Expect(err).NotTo(HaveOccurred())
	defer stop()

	const ns = "metrics"
	g.Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	// A monthly budget of 100.00 USD for the namespace: the gate commits the Job's spend cap to it,
	// and its actual cost replaces the commitment when it finishes.
	policy := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "metrics-budget"}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: ns}},
		Budget:            &ftv1.TeamBudget{Amount: "100.00"}}}
	g.Expect(env.Client.Create(ctx, policy)).To(Succeed())
	defer func() { _ = env.Client.Delete(ctx, policy) }()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "catalog", "default.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	for _, u := range decodeAll(t, b) {
		g.Expect(env.Client.Create(ctx, u)).To(Succeed())
	}
	g.Expect(env.Client.Create(ctx, testenv.SupportBot(ns, "support-bot"))).To(Succeed())
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "train", Labels: map[string]string{gate.EstimateLabel: "support-bot"}},
		Spec: batchv1.JobSpec{Suspend: ptr.To(true), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: "train", Image: "trainer:v1", Resources: corev1.ResourceRequirements{
				Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}}}},
		}}},
	}
	g.Expect(env.Client.Create(ctx, job)).To(Succeed())
	// Once the gate lets it go, the Job "runs" for half an hour on its one GPU (envtest has no Job
	// controller: the test writes its status; no pod is left, so the Job's own times are measured).
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(job), job)).To(Succeed())
		g.Expect(job.Spec.Suspend).To(HaveValue(BeFalse()))
	}).WithTimeout(30 * time.Second).Should(Succeed())
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	end := metav1.NewTime(start.Add(30 * time.Minute))
	job.Status = batchv1.JobStatus{StartTime: &metav1.Time{Time: start}, CompletionTime: &end, Succeeded: 1,
		Conditions: []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: end},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: end}}}
	g.Expect(env.Client.Status().Update(ctx, job)).To(Succeed())

	est := map[string]string{"namespace": ns, "name": "support-bot"}
	var names map[string]bool
	g.Eventually(func(g Gomega) {
		fams, err := scrape("http://" + addr + "/metrics")
		g.Expect(err).NotTo(HaveOccurred())
		for metric, want := range map[string]float64{
			"ftcost_estimate_upfront_cost_usd":     1001.25,
			"ftcost_estimate_break_even_months":    20,
			"ftcost_estimate_net_savings_usd":      798.75,
			"ftcost_estimate_api_monthly_cost_usd": 50,
			"ftcost_estimate_approved":             1,
		} {
			g.Expect(series(fams, metric, est)).To(Equal(ptr.To(want)), metric)
		}
		g.Expect(series(fams, "ftcost_estimate_net_present_value_usd", est)).NotTo(BeNil())
		g.Expect(series(fams, "ftcost_estimate_serving_monthly_cost_usd", est)).NotTo(BeNil())
		g.Expect(series(fams, "ftcost_estimate_recommendation", map[string]string{"namespace": ns, "name": "support-bot", "recommendation": "FineTune"})).To(Equal(ptr.To(1.0)))
		g.Expect(series(fams, "ftcost_gate_decisions_total", map[string]string{"gate": "job", "outcome": string(gate.Approved)})).To(HaveValue(BeNumerically(">=", 1)))
		g.Expect(series(fams, "ftcost_catalog_stale", map[string]string{"catalog": "default"})).To(Equal(ptr.To(0.0)))
		g.Expect(series(fams, "ftcost_catalog_oldest_price_age_seconds", map[string]string{"catalog": "default"})).To(HaveValue(BeNumerically(">", 0)))
		g.Expect(series(fams, "ftcost_build_info", nil)).To(Equal(ptr.To(1.0)))
		// 0.5 GPU-hours at runpod's 2.50 against an estimate of 0.5: spend 1.25, a ratio of 1.
		g.Expect(series(fams, "ftcost_estimate_actual_spend_usd", est)).To(Equal(ptr.To(1.25)))
		g.Expect(observations(fams, "ftcost_estimate_error_ratio", nil)).To(BeEquivalentTo(1))
		// The budget's current period: the run's 1.25 spent, nothing committed, for the namespace and
		// for the policy's total (namespace "").
		for _, scope := range []string{ns, ""} {
			labels := map[string]string{"costpolicy": policy.Name, "namespace": scope, "period": time.Now().UTC().Format("2006-01")}
			for metric, want := range map[string]float64{
				"ftcost_budget_usd":           100,
				"ftcost_budget_committed_usd": 0,
				"ftcost_budget_spent_usd":     1.25,
				"ftcost_budget_remaining_usd": 98.75,
				"ftcost_budget_forecast_usd":  1.25,
			} {
				g.Expect(series(fams, metric, labels)).To(Equal(ptr.To(want)), "%s%v", metric, labels)
			}
		}
		names = exported(fams)
	}).WithTimeout(30 * time.Second).Should(Succeed())

	for where, expr := range queries(t) {
		found := metricName.FindAllString(expr, -1)
		if len(found) == 0 {
			t.Errorf("%s: %q names no metric of the operator", where, expr)
		}
		for _, name := range found {
			if !names[name] {
				t.Errorf("%s: %q names %s, which the manager does not export", where, expr, name)
			}
		}
	}
	// The dashboard covers what the issue asks for.
	all := ""
	for _, expr := range queries(t) {
		all += expr + "\n"
	}
	for _, name := range []string{"ftcost_estimate_upfront_cost_usd", "ftcost_estimate_break_even_months", "ftcost_estimate_recommendation",
		"ftcost_estimate_approved", "ftcost_gate_decisions_total", "controller_runtime_reconcile_errors_total",
		"controller_runtime_reconcile_time_seconds_bucket", "ftcost_catalog_stale",
		"ftcost_estimate_actual_spend_usd", "ftcost_estimate_error_ratio_bucket",
		"ftcost_budget_usd", "ftcost_budget_committed_usd", "ftcost_budget_spent_usd", "ftcost_budget_remaining_usd",
		"ftcost_budget_forecast_usd"} {
		if !strings.Contains(all, name) {
			t.Errorf("no panel shows %s", name)
		}
	}
}
