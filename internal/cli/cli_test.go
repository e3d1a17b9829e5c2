package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
	"github.com/ftcost/ftcost/internal/estimate"
	"github.com/ftcost/ftcost/internal/validate"
)

type run struct {
	code     int
	out, err string
	warnings []string // stderr's unpriced-serving warnings, kept out of err
}

// ftcost runs the command in-process with stdin.
func ftcost(t testing.TB, stdin string, args ...string) run {
	t.Helper()
	var out, errOut strings.Builder
	code := Run(args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut})
	r := run{code: code, out: out.String()}
	var rest strings.Builder
	for _, line := range strings.SplitAfter(errOut.String(), "\n") {
		if strings.HasPrefix(line, "warning: ") && strings.Contains(line, estimate.ServingUnpricedNote) {
			r.warnings = append(r.warnings, strings.TrimSuffix(line, "\n"))
		} else {
			rest.WriteString(line)
		}
	}
	r.err = rest.String()
	return r
}

// TestServingUnpricedWarning: an estimate that says nothing of serving is warned about; one that
// prices serving, even at nothing, is not.
func TestServingUnpricedWarning(t *testing.T) {
	r := ftcost(t, "", "estimate", "-f", td("article-example-1.yaml"))
	want := "warning: ml/support-bot: " + estimate.ServingUnpricedNote
	if r.code != ExitOK || len(r.warnings) != 1 || r.warnings[0] != want {
		t.Errorf("exit %d, warnings %q; want %q", r.code, r.warnings, want)
	}
	r = ftcost(t, "", "estimate", "-f", filepath.Join("..", "..", "config", "samples", "contract-classifier-monthly.yaml"),
		"-f", filepath.Join("..", "..", "config", "samples", "code-assistant.yaml"))
	if r.code != ExitOK || len(r.warnings) != 0 || r.err != "" {
		t.Errorf("exit %d, warnings %q, stderr %q; want none for samples that price serving", r.code, r.warnings, r.err)
	}
}

func td(name string) string { return filepath.Join("testdata", name) }

// list is a v1 List of FineTuneEstimates as -o json and -o yaml print it.
type list struct {
	APIVersion string                  `json:"apiVersion"`
	Kind       string                  `json:"kind"`
	Metadata   metav1.ListMeta         `json:"metadata"`
	Items      []ftv1.FineTuneEstimate `json:"items"`
}

func decodeList(t *testing.T, r run, unmarshal func([]byte, any) error) []ftv1.FineTuneEstimate {
	t.Helper()
	var l list
	if err := unmarshal([]byte(r.out), &l); err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, r.out)
	}
	if l.APIVersion != "v1" || l.Kind != "List" {
		t.Fatalf("got apiVersion %q kind %q, want a v1 List", l.APIVersion, l.Kind)
	}
	return l.Items
}

func condition(t *testing.T, fte *ftv1.FineTuneEstimate, typ string) *metav1.Condition {
	t.Helper()
	c := meta.FindStatusCondition(fte.Status.Conditions, typ)
	if c == nil {
		t.Fatalf("%s: no %s condition in %+v", fte.Name, typ, fte.Status.Conditions)
	}
	return c
}

// checkExample1 checks worked example 1 of the Fine-Tuning Economics article in full.
func checkExample1(t *testing.T, items []ftv1.FineTuneEstimate) {
	t.Helper()
	if len(items) != 1 {
		t.Fatalf("got %d items, want 1", len(items))
	}
	fte := &items[0]
	if fte.APIVersion != "ftcost.io/v1alpha1" || fte.Kind != "FineTuneEstimate" {
		t.Errorf("item type %s %s", fte.APIVersion, fte.Kind)
	}
	if fte.Name != "support-bot" || fte.Namespace != "ml" || fte.Generation != 1 {
		t.Errorf("metadata %+v", fte.ObjectMeta)
	}
	if fte.Spec.Model != "llama-13b" || fte.Spec.Method != ftv1.MethodLoRA || fte.Spec.Usage.RequestsPerMonth != 10000 {
		t.Errorf("spec %+v", fte.Spec)
	}
	st := fte.Status
	got := map[string]string{
		"upfrontCost": st.UpfrontCost, "breakEvenMonths": st.BreakEvenMonths, "recommendation": string(st.Recommendation),
		"trainingCost": st.TrainingCost, "oneTimeCost": st.OneTimeCost, "apiMonthlyCost": st.APIMonthlyCost,
		"gpuHours": st.GPUHours, "netSavings": st.NetSavings, "roiPercent": st.ROIPercent, "currency": st.Currency,
		"pricing.source": string(st.Pricing.Source),
	}
	want := map[string]string{
		"upfrontCost": "1001.25", "breakEvenMonths": "20.0", "recommendation": "FineTune",
		"trainingCost": "1.25", "oneTimeCost": "1000.00", "apiMonthlyCost": "50.00",
		"gpuHours": "0.5", "netSavings": "798.75", "roiPercent": "79.8", "currency": "USD",
		"pricing.source": "Builtin",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("status (-want +got):\n%s", d)
	}
	for _, typ := range []string{ftv1.ConditionReady, ftv1.ConditionFineTuneRecommended, ftv1.ConditionWithinBudget, ftv1.ConditionApproved} {
		if c := condition(t, fte, typ); c.Status != metav1.ConditionTrue || c.ObservedGeneration != 1 {
			t.Errorf("%s = %s (%s), observedGeneration %d", typ, c.Status, c.Reason, c.ObservedGeneration)
		}
	}
}

func TestArticleExample1(t *testing.T) {
	t.Run("table", func(t *testing.T) {
		r := ftcost(t, "", "estimate", "-f", td("article-example-1.yaml"), "-o", "wide")
		if r.code != ExitOK || r.err != "" {
			t.Fatalf("exit %d: %s", r.code, r.err)
		}
		lines := strings.Split(strings.TrimSpace(r.out), "\n")
		if len(lines) != 2 {
			t.Fatalf("want a header and one row:\n%s", r.out)
		}
		wideColumns := []string{"NAMESPACE", "NAME", "MODEL", "METHOD", "GPU-HOURS", "UPFRONT-USD", "BREAK-EVEN",
			"RECOMMENDATION", "READY", "REASON", "APPROVED", "PROVIDER", "GPUS", "MEM/GPU", "API/MONTH-USD", "NET-SAVINGS-USD", "ROI%"}
		if got, want := strings.Fields(lines[0]), wideColumns; !cmp.Equal(got, want) {
			t.Errorf("header %v, want %v", got, want)
		}
		want := []string{"ml", "support-bot", "llama-13b", "LoRA", "0.5", "1001.25", "20.0", "FineTune", "True", "Estimated", "True", "runpod", "1", "43.0", "50.00", "798.75", "79.8"}
		if got := strings.Fields(lines[1]); !cmp.Equal(got, want) {
			t.Errorf("row %v\nwant %v", got, want)
		}
	})
	t.Run("json", func(t *testing.T) {
		r := ftcost(t, "", "estimate", "-f", td("article-example-1.yaml"), "-o", "json")
		if r.code != ExitOK {
			t.Fatalf("exit %d: %s", r.code, r.err)
		}
		checkExample1(t, decodeList(t, r, json.Unmarshal))
		// Every status field the operator writes is there, not only the ones checked above.
		var raw map[string]any
		_ = json.Unmarshal([]byte(r.out), &raw)
		status := raw["items"].([]any)[0].(map[string]any)["status"].(map[string]any)
		for _, f := range []string{"observedGeneration", "estimator", "gpuType", "gpuCount", "gpuHoursLow", "gpuHoursHigh",
			"wallClockHours", "memoryPerGPUGiB", "pricePerGPUHour", "servingMonthlyCost", "monthlySavings", "netPresentValue",
			"horizonMonths", "pricing", "conditions"} {
			if _, ok := status[f]; !ok {
				t.Errorf("status.%s missing", f)
			}
		}
	})
	t.Run("yaml", func(t *testing.T) {
		r := ftcost(t, "", "estimate", "-f", td("article-example-1.yaml"), "-o", "yaml")
		if r.code != ExitOK {
			t.Fatalf("exit %d: %s", r.code, r.err)
		}
		checkExample1(t, decodeList(t, r, func(b []byte, v any) error { return yaml.UnmarshalStrict(b, v) }))
	})
	t.Run("stdin", func(t *testing.T) {
		b, err := os.ReadFile(td("article-example-1.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		r := ftcost(t, string(b), "estimate", "-f", "-", "-o", "json")
		if r.code != ExitOK {
			t.Fatalf("exit %d: %s", r.code, r.err)
		}
		checkExample1(t, decodeList(t, r, json.Unmarshal))
	})
	t.Run("json input and a v1 List round trip", func(t *testing.T) {
		first := ftcost(t, "", "estimate", "-f", td("article-example-1.yaml"), "-o", "json")
		r := ftcost(t, first.out, "estimate", "-f", "-", "-o", "json")
		if r.code != ExitOK {
			t.Fatalf("exit %d: %s", r.code, r.err)
		}
		checkExample1(t, decodeList(t, r, json.Unmarshal))
	})
}

func TestFailOn(t *testing.T) {
	for name, tc := range map[string]struct {
		file     string
		args     []string
		wantCode int
		wantErr  []string
	}{
		"api, fine-tune pays off":  {"article-example-1.yaml", []string{"--fail-on", "api"}, ExitOK, nil},
		"api, API cheaper":         {"api-cheaper.yaml", []string{"--fail-on", "api"}, ExitGate, []string{"fail-on api: default/low-traffic: recommendation is API: APICheaper"}},
		"no gate, API cheaper":     {"api-cheaper.yaml", nil, ExitOK, nil},
		"budget, over budget":      {"over-budget.yaml", []string{"--fail-on", "budget"}, ExitGate, []string{"fail-on budget: ml/tight-budget: WithinBudget is False: BudgetExceeded: Upfront cost 1001.25 USD exceeds the budget of 500"}},
		"budget, no budget set":    {"article-example-1.yaml", []string{"--fail-on", "budget"}, ExitOK, nil},
		"api, over budget":         {"over-budget.yaml", []string{"--fail-on", "api"}, ExitOK, nil},
		"not-approved, over":       {"over-budget.yaml", []string{"--fail-on", "not-approved"}, ExitGate, []string{"fail-on not-approved: ml/tight-budget: Approved is False: OverBudget"}},
		"not-approved, approved":   {"article-example-1.yaml", []string{"--fail-on", "not-approved"}, ExitOK, nil},
		"comma-separated":          {"over-budget.yaml", []string{"--fail-on", "api,budget"}, ExitGate, []string{"fail-on budget: ml/tight-budget"}},
		"repeated":                 {"api-cheaper.yaml", []string{"--fail-on", "budget", "--fail-on", "api"}, ExitGate, []string{"fail-on api: default/low-traffic"}},
		"not ready beats the gate": {"unknown-model.yaml", []string{"--fail-on", "api"}, ExitInput, []string{"fail-on api: default/mystery: recommendation is Undetermined", "ModelNotFound"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := ftcost(t, "", append([]string{"estimate", "-f", td(tc.file)}, tc.args...)...)
			if r.code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, tc.wantCode, r.err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(r.err, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, r.err)
				}
			}
			if tc.wantErr == nil && r.err != "" {
				t.Errorf("unexpected stderr:\n%s", r.err)
			}
			if !strings.Contains(r.out, "NAMESPACE") {
				t.Errorf("results not printed:\n%s", r.out)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		args    []string
		wantErr []string
		wantOut []string // the valid estimates are still printed
	}{
		"schema violation": {[]string{"-f", td("invalid.yaml")},
			[]string{filepath.Join("testdata", "invalid.yaml") + `: document 2: FineTuneEstimate.ftcost.io "bad-method" is invalid: [spec.method: Unsupported value: "Foo": supported values: "Full", "LoRA", "QLoRA"`},
			[]string{"good"}},
		"unknown field, unknown kind, missing name, YAML syntax": {[]string{"-f", td("bad-mixed.yaml")},
			[]string{
				`bad-mixed.yaml: document 2: FineTuneEstimate in version "v1alpha1" cannot be handled as a FineTuneEstimate: strict decoding error: unknown field "spec.training.gpu"`,
				`bad-mixed.yaml: document 3: no matches for kind "Deployment" in version "apps/v1"`,
				`bad-mixed.yaml: document 4: FineTuneEstimate.ftcost.io "" is invalid: [metadata.name: Required value: name or generateName is required`,
				`bad-mixed.yaml: document 5: yaml: line 3:`,
			},
			[]string{"fine"}},
		"duplicate field in JSON": {[]string{"-f", td("duplicate.json"), "-f", td("article-example-1.yaml")},
			[]string{`duplicate.json: document 1: strict decoding error: duplicate field "spec.model"`}, []string{"support-bot"}},
		"unreadable file": {[]string{"-f", td("no-such-file.yaml"), "-f", td("article-example-1.yaml")},
			[]string{"no-such-file.yaml: no such file or directory"}, []string{"support-bot"}},
		"unknown model": {[]string{"-f", td("unknown-model.yaml")},
			[]string{`default/mystery is not Ready: ModelNotFound: spec.model: model "llama-99b" is not in price catalog "builtin"`},
			[]string{"Undetermined", "mystery"}},
		"missing catalog": {[]string{"-f", td("premium-ref.yaml")},
			[]string{`ml/premium-bot is not Ready: CatalogNotFound: spec.priceCatalogRef: PriceCatalog "premium" not found`},
			[]string{"premium-bot", "Undetermined"}},
		"estimate in a --catalog file": {[]string{"-f", td("article-example-1.yaml"), "--catalog", td("api-cheaper.yaml")},
			[]string{`FineTuneEstimate "low-traffic": --catalog files hold PriceCatalogs only`}, []string{"support-bot"}},
		"catalog defined twice": {[]string{"-f", td("premium-catalog.yaml"), "-f", td("premium-catalog.yaml"), "-f", td("premium-ref.yaml")},
			[]string{`PriceCatalog "premium" is already defined in ` + filepath.Join("testdata", "premium-catalog.yaml") + `: document 1`}, []string{"premium-bot"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := ftcost(t, "", append([]string{"estimate"}, tc.args...)...)
			if r.code != ExitInput {
				t.Errorf("exit %d, want %d", r.code, ExitInput)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(r.err, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, r.err)
				}
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(r.out, w) {
					t.Errorf("stdout does not contain %q:\n%s", w, r.out)
				}
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"no file":         {"estimate"},
		"unknown output":  {"estimate", "-f", td("article-example-1.yaml"), "-o", "xml"},
		"unknown gate":    {"estimate", "-f", td("article-example-1.yaml"), "--fail-on", "cost"},
		"unknown flag":    {"estimate", "--frobnicate"},
		"unknown command": {"estimat"},
		"stdin twice":     {"estimate", "-f", "-", "-f", "-"},
	} {
		t.Run(name, func(t *testing.T) {
			if r := ftcost(t, "", args...); r.code != ExitInput || r.err == "" {
				t.Errorf("exit %d, stderr %q; want %d and a message", r.code, r.err, ExitInput)
			}
		})
	}
}

func estimateJSON(t *testing.T, args ...string) (run, []ftv1.FineTuneEstimate) {
	t.Helper()
	r := ftcost(t, "", append([]string{"estimate", "-o", "json"}, args...)...)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	return r, decodeList(t, r, json.Unmarshal)
}

func TestCatalogs(t *testing.T) {
	t.Run("default catalog in the same file", func(t *testing.T) {
		_, items := estimateJSON(t, "-f", td("catalog-inline.yaml"))
		st := items[0].Status
		// 0.5 GPU-hours at 4.98 instead of 2.49.
		if st.PricePerGPUHour != "4.98" || st.TrainingCost != "2.49" || st.UpfrontCost != "1002.49" {
			t.Errorf("price %s training %s upfront %s", st.PricePerGPUHour, st.TrainingCost, st.UpfrontCost)
		}
		if want := (ftv1.Pricing{Catalog: "default", CatalogGeneration: 1, Source: ftv1.PricingSourceCatalog}); *st.Pricing != want {
			t.Errorf("pricing %+v, want %+v", *st.Pricing, want)
		}
	})
	t.Run("--catalog", func(t *testing.T) {
		_, items := estimateJSON(t, "-f", td("premium-ref.yaml"), "--catalog", td("premium-catalog.yaml"))
		st := items[0].Status
		if st.PricePerGPUHour != "10.00" || st.TrainingCost != "5.00" || st.Pricing.Catalog != "premium" {
			t.Errorf("price %s training %s pricing %+v", st.PricePerGPUHour, st.TrainingCost, st.Pricing)
		}
	})
	t.Run("--catalog wins over -f", func(t *testing.T) {
		dir := t.TempDir()
		b, _ := os.ReadFile(td("premium-catalog.yaml"))
		cheaper := strings.Replace(string(b), `pricePerGPUHour: "10"`, `pricePerGPUHour: "1"`, 1)
		if err := os.WriteFile(filepath.Join(dir, "cheaper.yaml"), []byte(cheaper), 0o600); err != nil {
			t.Fatal(err)
		}
		_, items := estimateJSON(t, "-f", td("premium-catalog.yaml"), "-f", td("premium-ref.yaml"), "--catalog", filepath.Join(dir, "cheaper.yaml"))
		if st := items[0].Status; st.PricePerGPUHour != "1.00" {
			t.Errorf("price %s, want the --catalog file's 1.00", st.PricePerGPUHour)
		}
	})
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		for _, f := range []string{"premium-catalog.yaml", "premium-ref.yaml"} {
			b, _ := os.ReadFile(td(f))
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources: [premium-ref.yaml]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, items := estimateJSON(t, "-f", dir)
		if len(items) != 1 || items[0].Status.Pricing.Catalog != "premium" {
			t.Errorf("items %+v", items)
		}
	})
	t.Run("no default catalog means the built-in one", func(t *testing.T) {
		_, items := estimateJSON(t, "-f", td("article-example-1.yaml"), "--catalog", td("premium-catalog.yaml"))
		if p := items[0].Status.Pricing; p.Source != ftv1.PricingSourceBuiltin || p.Catalog != engine.BuiltinCatalogName {
			t.Errorf("pricing %+v", p)
		}
	})
}

// TestCatalogCommand checks that ftcost catalog prints a PriceCatalog the API server accepts and that
// carries exactly the built-in prices.
func TestCatalogCommand(t *testing.T) {
	r := ftcost(t, "", "catalog")
	if r.code != ExitOK || r.err != "" {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	var obj map[string]any
	if err := yaml.UnmarshalStrict([]byte(r.out), &obj); err != nil {
		t.Fatal(err)
	}
	// Round trip through JSON for the server's number types.
	js, _ := json.Marshal(obj)
	obj = nil
	if err := json.Unmarshal(js, &obj); err != nil {
		t.Fatal(err)
	}
	if _, ok := obj["status"]; ok {
		t.Error("status printed")
	}
	v, err := validate.Default()
	if err != nil {
		t.Fatal(err)
	}
	obj, err = decodeDocument(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Validate(obj); err != nil {
		t.Fatalf("ftcost catalog does not validate: %v", err)
	}
	pc := &ftv1.PriceCatalog{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, pc); err != nil {
		t.Fatal(err)
	}
	if pc.Name != ftv1.DefaultCatalogName {
		t.Errorf("name %q", pc.Name)
	}
	got, err := catalog.ToEngine(pc)
	if err != nil {
		t.Fatal(err)
	}
	want := engine.BuiltinCatalog()
	opts := cmp.Options{
		cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) }),
		cmpopts.IgnoreFields(engine.Catalog{}, "Name", "Generation"),
		cmpopts.EquateEmpty(),
	}
	if d := cmp.Diff(want, got, opts); d != "" {
		t.Errorf("prices differ from engine.BuiltinCatalog() (-want +got):\n%s", d)
	}

	// The printed catalog used as "default" gives the same figures as the built-in one.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "default.yaml"), []byte(r.out), 0o600); err != nil {
		t.Fatal(err)
	}
	_, items := estimateJSON(t, "-f", td("article-example-1.yaml"), "--catalog", filepath.Join(dir, "default.yaml"))
	if st := items[0].Status; st.UpfrontCost != "1001.25" || st.Pricing.Source != ftv1.PricingSourceCatalog {
		t.Errorf("upfront %s pricing %+v", st.UpfrontCost, st.Pricing)
	}

	j := ftcost(t, "", "catalog", "-o", "json")
	if j.code != ExitOK || !json.Valid([]byte(j.out)) {
		t.Errorf("catalog -o json: exit %d, valid %v", j.code, json.Valid([]byte(j.out)))
	}
}

func TestVersion(t *testing.T) {
	r := ftcost(t, "", "version")
	if r.code != ExitOK || !strings.HasPrefix(r.out, "ftcost ") || !strings.Contains(r.out, "ftcost.io/v1alpha1") {
		t.Errorf("exit %d: %q", r.code, r.out)
	}
}

// TestMany checks order and results over many documents evaluated in parallel.
func TestMany(t *testing.T) {
	path := writeEstimates(t, 500)
	r := ftcost(t, "", "estimate", "-f", path, "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	items := decodeList(t, r, json.Unmarshal)
	if len(items) != 500 {
		t.Fatalf("%d items", len(items))
	}
	for i, it := range items {
		if want := "fte-" + strconv.Itoa(i); it.Name != want {
			t.Fatalf("item %d is %s, want %s", i, it.Name, want)
		}
		if c := condition(t, &items[i], ftv1.ConditionReady); c.Status != metav1.ConditionTrue {
			t.Errorf("%s not Ready: %s", it.Name, c.Message)
		}
	}
}

// TestExplainGradientAccumulation: explain says when the memory counts the activations or the
// gradients at the peak rather than both (no accumulation on a stack that frees its gradients each
// step), and the CLI reads the fields from a file.
func TestExplainGradientAccumulation(t *testing.T) {
	sample, err := os.ReadFile(td("article-example-1.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	note := "no gradient accumulation: the peak holds the activations or the gradients"
	one := strings.Replace(string(sample), "    provider: runpod\n", "    provider: runpod\n    framework: HuggingFace\n    gradientAccumulationSteps: 1\n", 1)
	for name, c := range map[string]struct {
		in   string
		want bool
	}{"stated 1": {one, true}, "not stated": {string(sample), false}} {
		r := ftcost(t, c.in, "explain", "-f", "-")
		if r.code != ExitOK {
			t.Fatalf("%s: exit %d: %s", name, r.code, r.err)
		}
		if got := strings.Contains(r.out, note); got != c.want {
			t.Errorf("%s: explain says %q: %v, want %v:\n%s", name, note, got, c.want, r.out)
		}
	}
	if r := ftcost(t, one, "explain", "-f", "-"); !strings.Contains(r.out, "gradients 0.0") {
		t.Errorf("LoRA without accumulation: the adapters' gradients are not alive at the peak:\n%s", r.out)
	}
}
