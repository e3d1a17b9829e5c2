package apiserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// printedEstimate creates an estimate in ns with the status of the Fine-Tuning Economics article's example 1, Approved and Ready.
func printedEstimate(t *testing.T, ns, name string) {
	t.Helper()
	fte := validEstimate(ns, name)
	if err := env.Client.Create(ctx, fte); err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	cond := func(typ, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: reason, Message: reason,
			ObservedGeneration: 1, LastTransitionTime: now}
	}
	fte.Status = ftv1.FineTuneEstimateStatus{
		ObservedGeneration: 1, Recommendation: ftv1.RecommendationFineTune, Estimator: ftv1.EstimatorEmpirical,
		GPUType: "H100", GPUCount: 1, GPUHours: "0.5", MemoryPerGPUGiB: "39.8", Currency: "USD", TrainingCost: "1.25",
		UpfrontCost: "1001.25", APIMonthlyCost: "50.00", MonthlySavings: "50.00", BreakEvenMonths: "20.0",
		NetSavings: "798.75", ROIPercent: "79.8", NetPresentValue: "798.75", HorizonMonths: 36,
		Conditions: []metav1.Condition{
			cond(ftv1.ConditionReady, ftv1.ReasonEstimated),
			cond(ftv1.ConditionFineTuneRecommended, ftv1.ReasonFineTunePaysOff),
			cond(ftv1.ConditionWithinBudget, ftv1.ReasonWithinBudget),
			cond(ftv1.ConditionApproved, ftv1.ReasonApproved),
		},
	}
	if err := env.Client.Status().Update(ctx, fte); err != nil {
		t.Fatal(err)
	}
}

type column struct {
	Name     string
	Priority int32
}

func TestPrinterColumns(t *testing.T) {
	ns := newNamespace(t, "printer")
	printedEstimate(t, ns, "support-bot")

	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cs.CoreV1().RESTClient().Get().
		AbsPath("/apis", ftv1.GroupVersion.Group, ftv1.GroupVersion.Version, "namespaces", ns, "finetuneestimates").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").
		DoRaw(ctx)
	if err != nil {
		t.Fatalf("GET as Table: %v", err)
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatalf("decoding the Table: %v\n%s", err, raw)
	}

	var cols []column
	for _, c := range table.ColumnDefinitions {
		cols = append(cols, column{c.Name, c.Priority})
	}
	// Ready and its reason by default (a failing estimate says why), money columns name the currency.
	want := []column{
		{"Name", 0}, {"Model", 0}, {"Method", 0}, {"GPU-Hours", 0}, {"Upfront-USD", 0},
		{"Break-Even", 0}, {"Recommendation", 0}, {"Ready", 0}, {"Reason", 0}, {"Approved", 0}, {"Age", 0},
		{"Provider", 1}, {"GPUs", 1}, {"Mem/GPU", 1}, {"API/Month-USD", 1}, {"Net-Savings-USD", 1}, {"ROI%", 1},
	}
	if diff := cmp.Diff(want, cols); diff != "" {
		t.Fatalf("columns (-want +got):\n%s", diff)
	}

	if len(table.Rows) != 1 {
		t.Fatalf("want one row, got %d", len(table.Rows))
	}
	var cells []string
	for _, c := range table.Rows[0].Cells {
		cells = append(cells, fmt.Sprint(c))
	}
	wantCells := []string{"support-bot", "llama-13b", "LoRA", "0.5", "1001.25", "20.0", "FineTune", "True", "Estimated", "True",
		"AGE", "runpod", "1", "39.8", "50.00", "798.75", "79.8"}
	if len(cells) == len(wantCells) {
		if cells[10] == "" || !strings.HasSuffix(cells[10], "s") && !strings.HasSuffix(cells[10], "m") {
			t.Errorf("Age cell %q is not a duration", cells[10])
		}
		cells[10] = "AGE"
	}
	if diff := cmp.Diff(wantCells, cells); diff != "" {
		t.Errorf("row cells (-want +got):\n%s", diff)
	}

	t.Run("failing reason", func(t *testing.T) { testFailingReason(t, cs) })
	t.Run("kubectl", func(t *testing.T) { testKubectl(t, ns) })
}

// testFailingReason: an estimate that failed shows Ready False and the reason in the default columns.
func testFailingReason(t *testing.T, cs *kubernetes.Clientset) {
	ns := newNamespace(t, "printer-failing")
	fte := validEstimate(ns, "no-catalog")
	if err := env.Client.Create(ctx, fte); err != nil {
		t.Fatal(err)
	}
	fte.Status = ftv1.FineTuneEstimateStatus{ObservedGeneration: 1, Conditions: []metav1.Condition{{Type: ftv1.ConditionReady,
		Status: metav1.ConditionFalse, Reason: ftv1.ReasonCatalogNotFound, Message: "no PriceCatalog", ObservedGeneration: 1, LastTransitionTime: metav1.Now()}}}
	if err := env.Client.Status().Update(ctx, fte); err != nil {
		t.Fatal(err)
	}
	raw, err := cs.CoreV1().RESTClient().Get().
		AbsPath("/apis", ftv1.GroupVersion.Group, ftv1.GroupVersion.Version, "namespaces", ns, "finetuneestimates").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil || len(table.Rows) != 1 {
		t.Fatalf("decoding the Table (%v): %s", err, raw)
	}
	got := map[string]string{}
	for i, c := range table.ColumnDefinitions {
		if c.Priority == 0 {
			got[c.Name] = fmt.Sprint(table.Rows[0].Cells[i])
		}
	}
	if got["Ready"] != "False" || got["Reason"] != ftv1.ReasonCatalogNotFound {
		t.Errorf("default columns of a failed estimate %v: want Ready False and Reason %s", got, ftv1.ReasonCatalogNotFound)
	}
}

// testKubectl checks what people see: kubectl's own rendering of the columns, the category and the
// short names, against the test's API server.
func testKubectl(t *testing.T, ns string) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not on PATH")
	}
	user, err := env.Env.AddUser(envtest.User{Name: "printer-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		args = append([]string{"--kubeconfig", path, "--cache-dir", filepath.Join(dir, "cache"), "--request-timeout", "20s"}, args...)
		cmd := exec.CommandContext(ctx, kubectl, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args[6:], " "), err, stderr.String())
		}
		t.Logf("kubectl %s (%s):\n%s", strings.Join(args[6:], " "), time.Since(start).Round(time.Millisecond), stdout.String())
		return stdout.String()
	}
	// fields splits kubectl's table output into lines of whitespace-separated words.
	fields := func(out string) [][]string {
		var lines [][]string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			lines = append(lines, strings.Fields(l))
		}
		return lines
	}

	catalog := &ftv1.PriceCatalog{ObjectMeta: metav1.ObjectMeta{Name: "printer-catalog"},
		Spec: ftv1.PriceCatalogSpec{APIModels: []ftv1.CatalogAPIModel{{Name: "claude-sonnet", InputPricePerMillionTokens: "3", OutputPricePerMillionTokens: "15"}}}}
	if err := env.Client.Create(ctx, catalog); err != nil {
		t.Fatal(err)
	}
	deleteAtCleanup(t, catalog)

	t.Run("get fte", func(t *testing.T) {
		lines := fields(run("get", "fte", "-n", ns))
		want := [][]string{
			{"NAME", "MODEL", "METHOD", "GPU-HOURS", "UPFRONT-USD", "BREAK-EVEN", "RECOMMENDATION", "READY", "REASON", "APPROVED", "AGE"},
			{"support-bot", "llama-13b", "LoRA", "0.5", "1001.25", "20.0", "FineTune", "True", "Estimated", "True", "AGE"},
		}
		if len(lines) == 2 && len(lines[1]) == 11 {
			lines[1][10] = "AGE"
		}
		if diff := cmp.Diff(want, lines); diff != "" {
			t.Errorf("kubectl get fte (-want +got):\n%s", diff)
		}
	})
	t.Run("get fte -o wide", func(t *testing.T) {
		lines := fields(run("get", "finetuneestimates", "-n", ns, "-o", "wide"))
		want := [][]string{
			{"NAME", "MODEL", "METHOD", "GPU-HOURS", "UPFRONT-USD", "BREAK-EVEN", "RECOMMENDATION", "READY", "REASON", "APPROVED", "AGE",
				"PROVIDER", "GPUS", "MEM/GPU", "API/MONTH-USD", "NET-SAVINGS-USD", "ROI%"},
			{"support-bot", "llama-13b", "LoRA", "0.5", "1001.25", "20.0", "FineTune", "True", "Estimated", "True", "AGE",
				"runpod", "1", "39.8", "50.00", "798.75", "79.8"},
		}
		if len(lines) == 2 && len(lines[1]) == 17 {
			lines[1][10] = "AGE"
		}
		if diff := cmp.Diff(want, lines); diff != "" {
			t.Errorf("kubectl get fte -o wide (-want +got):\n%s", diff)
		}
	})
	t.Run("short names", func(t *testing.T) {
		if out := run("get", "fte", "support-bot", "-n", ns, "-o", "name"); strings.TrimSpace(out) != "finetuneestimate.ftcost.io/support-bot" {
			t.Errorf("kubectl get fte support-bot -o name = %q", out)
		}
		if out := run("get", "pcat", "printer-catalog", "-o", "name"); strings.TrimSpace(out) != "pricecatalog.ftcost.io/printer-catalog" {
			t.Errorf("kubectl get pcat printer-catalog -o name = %q", out)
		}
	})
	t.Run("category ftcost", func(t *testing.T) {
		out := run("get", "ftcost", "-n", ns, "-o", "name")
		for _, want := range []string{"finetuneestimate.ftcost.io/support-bot", "pricecatalog.ftcost.io/printer-catalog"} {
			if !strings.Contains(out, want) {
				t.Errorf("kubectl get ftcost does not list %s:\n%s", want, out)
			}
		}
	})
}

// `kubectl get costpolicy` shows the current period's budget figures as columns, read from
// status.budget as the operator writes it.
func TestCostPolicyBudgetColumns(t *testing.T) {
	p := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "printer-budget"}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{}, Budget: &ftv1.TeamBudget{Amount: "5000"}}}
	if err := env.Client.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, p) })
	p.Status.Budget = &ftv1.BudgetStatus{Current: "2026-12", CurrentTotal: &ftv1.BudgetFigures{Budget: "5000.00", Committed: "1200.00",
		Spent: "2300.50", Remaining: "1499.50", Forecast: "4100.00", UsedPercent: "70.0"}}
	if err := env.Client.Status().Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/apis", ftv1.GroupVersion.Group, ftv1.GroupVersion.Version, "costpolicies", p.Name).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil || len(table.Rows) != 1 {
		t.Fatalf("decoding the Table (%v): %s", err, raw)
	}
	got := map[string]string{}
	var names []string
	for i, c := range table.ColumnDefinitions {
		if c.Priority == 0 {
			names = append(names, c.Name)
			got[c.Name] = fmt.Sprint(table.Rows[0].Cells[i])
		}
	}
	want := []string{"Name", "Max-Upfront", "Required-Policy", "Period", "Budget", "Committed", "Spent", "Remaining", "Forecast", "Age"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("columns (-want +got):\n%s", diff)
	}
	for col, v := range map[string]string{"Period": "2026-12", "Budget": "5000.00", "Committed": "1200.00", "Spent": "2300.50",
		"Remaining": "1499.50", "Forecast": "4100.00"} {
		if got[col] != v {
			t.Errorf("column %s = %q, want %q", col, got[col], v)
		}
	}
}
