package operator

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ftcost/ftcost/internal/testenv"
)

// TestMetricsNeedAuthorizedToken scrapes the manager's default (secure) metrics endpoint as nobody,
// as a ServiceAccount without the metrics-reader role and as one bound to it.
func TestMetricsNeedAuthorizedToken(t *testing.T) {
	addr, err := testenv.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	p, err := testenv.StartProcess(managerBin, kubeconfig, filepath.Join(workDir, "metrics.log"),
		"--metrics-bind-address="+addr, "--health-probe-bind-address=0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Stop(30 * time.Second) }()

	reader, err := env.ServiceAccountToken(ctx, "scrapers", "prometheus")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := env.ServiceAccountToken(ctx, "scrapers", "stranger")
	if err != nil {
		t.Fatal(err)
	}
	// config/default names the role ftcost-metrics-reader; a cluster binds it to its scraper.
	if err := env.Client.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "prometheus-reads-ftcost"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "ftcost-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "scrapers", Name: "prometheus"}},
	}); err != nil {
		t.Fatal(err)
	}

	url := "https://" + addr + "/metrics"
	waitServing(t, p, url)
	for name, tc := range map[string]struct {
		token string
		want  []int
	}{
		"no token":                        {"", []int{http.StatusUnauthorized}},
		"a token the server never issued": {"not-a-token", []int{http.StatusUnauthorized}},
		"a token without metrics-reader":  {stranger, []int{http.StatusForbidden}},
		"a token with metrics-reader":     {reader, []int{http.StatusOK}},
	} {
		t.Run(name, func(t *testing.T) {
			code, body, err := testenv.Get(ctx, url, tc.token)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(tc.want, code) {
				t.Fatalf("GET /metrics: %d, want one of %v (%.200s)", code, tc.want, body)
			}
			if code != http.StatusOK && strings.Contains(body, "controller_runtime") {
				t.Errorf("a refused scrape still got metrics:\n%.500s", body)
			}
			// controller_runtime_reconcile_total has series only once something was reconciled.
			if code == http.StatusOK && !strings.Contains(body, "controller_runtime_") {
				t.Errorf("the authorized scrape lacks controller-runtime's metrics:\n%.500s", body)
			}
		})
	}

	// A flood of one refused token costs one TokenReview (the answer is cached) and no log line.
	posts := func() float64 {
		families, err := scrape(url, reader)
		if err != nil {
			t.Fatal(err)
		}
		n := 0.0
		for _, m := range families["rest_client_requests_total"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "method" && l.GetValue() == "POST" {
					n += m.GetCounter().GetValue()
				}
			}
		}
		return n
	}
	before := posts()
	for range 200 {
		if code, _, err := testenv.Get(ctx, url, "forged-token"); err != nil || code != http.StatusUnauthorized {
			t.Fatalf("a forged token: %d, %v; want 401", code, err)
		}
	}
	if n := posts() - before; n > 1 {
		t.Errorf("200 requests with one forged token cost %v POSTs (TokenReviews) of the manager, want at most 1", n)
	}
	logs, err := os.ReadFile(filepath.Join(workDir, "metrics.log"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(logs), "goroutine ") || strings.Contains(string(logs), "Authentication failed") {
		t.Errorf("refused tokens were logged as errors:\n%.2000s", logs)
	}

	// The estimate series follow the registry's in one exposition, in the format and encoding
	// Prometheus asks for.
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "scraped"}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, testenv.SupportBot("scraped", "support-bot")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		families, err := scrape(url, reader)
		if err != nil {
			t.Fatal(err)
		}
		_, reconciled := families["controller_runtime_reconcile_total"]
		if up := families["ftcost_estimate_upfront_cost_usd"].GetMetric(); reconciled && len(up) == 1 && up[0].GetGauge().GetValue() == 1001.25 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no controller_runtime_reconcile_total (%v) or no ftcost_estimate_upfront_cost_usd of 1001.25 for the support bot within a minute: %v",
				reconciled, families["ftcost_estimate_upfront_cost_usd"])
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Plain HTTP is not served at all.
	if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP GET /metrics answered 200")
		}
	}
}

// waitServing waits until url answers over HTTPS at all.
func waitServing(t *testing.T, p *testenv.Process, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.Exited():
			t.Fatal("the manager exited; see its log in the test's temp folder")
		default:
		}
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, _, err := testenv.Get(c, url, "")
		cancel()
		if err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not answer within a minute", url)
}

// scrape GETs url as Prometheus does (protocol buffers preferred, gzip accepted) and decodes the
// answer, which must be protocol buffers, gzipped.
func scrape(url, token string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := testenv.Insecure.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	format := expfmt.ResponseFormat(resp.Header)
	if resp.StatusCode != http.StatusOK || format.FormatType() != expfmt.TypeProtoDelim || resp.Header.Get("Content-Encoding") != "gzip" {
		return nil, fmt.Errorf("GET %s: %d, Content-Type %q, Content-Encoding %q; want 200 and gzipped protocol buffers", url,
			resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"))
	}
	body, err := gzip.NewReader(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]*dto.MetricFamily{}
	dec := expfmt.NewDecoder(body, format)
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		if out[mf.GetName()] != nil {
			return nil, fmt.Errorf("family %s twice in one exposition", mf.GetName())
		}
		out[mf.GetName()] = mf
	}
}
