package operator

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
		"no token": {"", []int{http.StatusUnauthorized}},
		// The TokenReview reports an error for a malformed token, which controller-runtime's filter
		// answers with 500 rather than 401; either way nothing is served.
		"a token the server never issued": {"not-a-token", []int{http.StatusUnauthorized, http.StatusInternalServerError}},
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
			if code == http.StatusOK && !strings.Contains(body, "controller_runtime_reconcile_total") {
				t.Errorf("the authorized scrape lacks controller-runtime's metrics:\n%.500s", body)
			}
		})
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
