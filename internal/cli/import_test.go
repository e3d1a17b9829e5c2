package cli

import (
	"fmt"
	"github.com/ftcost/ftcost/engine"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/catalog"
	"github.com/ftcost/ftcost/internal/validate"
)

func tdImport(name string) string { return filepath.Join("testdata", "import", name) }

// checkImported checks that out is one PriceCatalog that the CRD (schema and CEL) and
// catalog.Validate accept, and returns it.
func checkImported(t *testing.T, out string) *ftv1.PriceCatalog {
	t.Helper()
	js, err := yaml.YAMLToJSONStrict([]byte(out))
	if err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, out)
	}
	obj, err := decodeDocument(js)
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.Default()
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Validate(obj); err != nil {
		t.Fatalf("imported catalog does not validate: %v\n%s", err, out)
	}
	pc := &ftv1.PriceCatalog{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, pc); err != nil {
		t.Fatal(err)
	}
	if errs := catalog.Validate(pc); len(errs) > 0 {
		t.Fatalf("ValidateCatalog: %v", errs)
	}
	for _, p := range pc.Spec.Providers {
		if p.Source == "" || p.EffectiveDate == "" {
			t.Errorf("provider %s has no provenance", p.Name)
		}
	}
	for _, a := range pc.Spec.APIModels {
		if a.Source == "" || a.EffectiveDate == "" {
			t.Errorf("API model %s has no provenance", a.Name)
		}
	}
	for _, g := range pc.Spec.GPUs {
		if g.Source == "" || g.EffectiveDate == "" {
			t.Errorf("GPU %s has no provenance", g.Name)
		}
	}
	return pc
}

func TestImport(t *testing.T) {
	tests := map[string]struct {
		args    []string
		stdin   string
		code    int
		stderr  []string // each must appear in stderr
		check   func(t *testing.T, pc *ftv1.PriceCatalog)
		noCheck bool
	}{
		"skypilot": {
			args: []string{"--format", "skypilot", tdImport("aws/vms.csv")},
			stderr: []string{
				"vms.csv: SpotPrice is empty in 1 rows: no spot price from them",
				`vms.csv: line 8: p3.2xlarge: SpotPrice: "abc" is not a number; no Spot price from this row`,
				"warning: " + tdImport("aws/vms.csv") + ": GPU A10G left out",
				"imported 4, skipped 3\n",
			},
			check: func(t *testing.T, pc *ftv1.PriceCatalog) {
				if pc.Name != "imported" || len(pc.Spec.Providers) != 2 || pc.Spec.Providers[0].Name != "aws-on-demand" ||
					pc.Spec.Providers[1].Name != "aws-spot" || pc.Spec.Providers[1].Market != ftv1.MarketSpot {
					t.Errorf("providers %+v", pc.Spec.Providers)
				}
				if p := pc.Spec.Providers[0]; p.Source != "vms.csv" || p.EffectiveDate != "2026-11-01" {
					t.Errorf("provenance %+v", p.Provenance)
				}
			},
		},
		"skypilot, named": {
			args:   []string{"--format", "skypilot", tdImport("aws/vms.csv"), "--provider", "amazon", "--name", "aws-prices", "--source", "https://github.com/skypilot-org/skypilot-catalog", "--region", "us-west-2"},
			stderr: []string{"imported 1, skipped 6\n"},
			check: func(t *testing.T, pc *ftv1.PriceCatalog) {
				if pc.Name != "aws-prices" || pc.Spec.Providers[0].Name != "amazon-on-demand" || pc.Spec.Providers[0].Source != "https://github.com/skypilot-org/skypilot-catalog" {
					t.Errorf("catalog %s providers %+v", pc.Name, pc.Spec.Providers)
				}
				if got := pc.Spec.Providers[1].GPUPrices[0].PricePerGPUHour; got != "4.4" {
					t.Errorf("us-west-2 spot H100 %s, want 4.4", got)
				}
			},
		},
		"litellm": {
			args: []string{"--format", "litellm", tdImport("model_prices_and_context_window.json")},
			stderr: []string{
				`model_prices_and_context_window.json: line 28: "ollama/llama3": input_cost_per_token: 0.0 is zero; skipped`,
				"imported 2, skipped 2\n",
			},
			check: func(t *testing.T, pc *ftv1.PriceCatalog) {
				if len(pc.Spec.APIModels) != 2 || pc.Spec.APIModels[1].Name != "gpt-4o-mini" || pc.Spec.APIModels[1].InputPricePerMillionTokens != "0.15" {
					t.Errorf("API models %+v", pc.Spec.APIModels)
				}
			},
		},
		"litellm from stdin, merged with the built-in catalog": {
			args:   []string{"--format", "litellm", "-", "--merge-builtin", "--source", "litellm"},
			stdin:  `{"claude-sonnet": {"input_cost_per_token": 3.3e-06, "output_cost_per_token": 1.65e-05, "mode": "chat"}}`,
			stderr: []string{"<stdin> replaces the built-in API model claude-sonnet", "imported 1, skipped 0\n"},
			check: func(t *testing.T, pc *ftv1.PriceCatalog) {
				builtin := engine.BuiltinCatalog()
				if len(pc.Spec.Models) != len(builtin.Models) || len(pc.Spec.Providers) != len(builtin.Providers) {
					t.Errorf("built-in entries missing: %d models, %d providers", len(pc.Spec.Models), len(pc.Spec.Providers))
				}
				for _, a := range pc.Spec.APIModels {
					if a.Name == "claude-sonnet" && (a.InputPricePerMillionTokens != "3.3" || a.OutputPricePerMillionTokens != "16.5" || a.Source != "litellm") {
						t.Errorf("claude-sonnet %+v", a)
					}
				}
			},
		},
		"opencost": {
			args:   []string{"--format", "opencost", tdImport("default.json"), "--provider", "on-prem", "--gpu-type", "H100"},
			stderr: []string{"imported 2, skipped 0\n"},
			check: func(t *testing.T, pc *ftv1.PriceCatalog) {
				if pc.Spec.Providers[0].Name != "on-prem-on-demand" || pc.Spec.Providers[0].GPUPrices[0].PricePerGPUHour != "1.1" ||
					pc.Spec.Providers[1].GPUPrices[0].PricePerGPUHour != "0.4425" {
					t.Errorf("providers %+v", pc.Spec.Providers)
				}
			},
		},
		"unknown format":       {args: []string{"--format", "csv", tdImport("aws/vms.csv")}, code: ExitInput, stderr: []string{`unknown format "csv"`}, noCheck: true},
		"no format":            {args: []string{tdImport("aws/vms.csv")}, code: ExitInput, stderr: []string{`"format" not set`}, noCheck: true},
		"unreadable file":      {args: []string{"--format", "skypilot", tdImport("missing.csv")}, code: ExitInput, stderr: []string{"no such file"}, noCheck: true},
		"wrong format":         {args: []string{"--format", "skypilot", tdImport("default.json")}, code: ExitInput, stderr: []string{"not a SkyPilot vms.csv"}, noCheck: true},
		"nothing importable":   {args: []string{"--format", "litellm", "-"}, stdin: `{"e": {"mode": "embedding"}}`, code: ExitInput, stderr: []string{"nothing importable", "imported 0, skipped 1"}, noCheck: true},
		"bad effective date":   {args: []string{"--format", "litellm", "--effective-date", "1/11/2026", tdImport("model_prices_and_context_window.json")}, code: ExitInput, stderr: []string{"--effective-date"}, noCheck: true},
		"opencost no gpu":      {args: []string{"--format", "opencost", tdImport("default.json")}, code: ExitInput, stderr: []string{"--gpu-type is required"}, noCheck: true},
		"bad --gpu-tflops":     {args: []string{"--format", "skypilot", tdImport("aws/vms.csv"), "--gpu-tflops", "A10G=-1"}, code: ExitInput, stderr: []string{"--gpu-tflops A10G=-1"}, noCheck: true},
		"invalid catalog name": {args: []string{"--format", "opencost", tdImport("default.json"), "--gpu-type", "H100", "--name", "Not_A_Name"}, code: ExitInput, stderr: []string{"would not validate", "metadata.name"}, noCheck: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"catalog", "import"}, tc.args...)
			if !hasFlag(tc.args, "--effective-date") {
				args = append(args, "--effective-date", "2026-11-01")
			}
			r := ftcost(t, tc.stdin, args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, tc.code, r.err)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(r.err, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.err)
				}
			}
			if tc.noCheck {
				if r.out != "" {
					t.Errorf("stdout on failure:\n%s", r.out)
				}
				return
			}
			pc := checkImported(t, r.out)
			if tc.check != nil {
				tc.check(t, pc)
			}
		})
	}
}

func TestImportTooManyAPIModels(t *testing.T) {
	var b strings.Builder
	b.WriteString("{\n")
	for i := range maxAPIModels + 1 {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `"model-%d": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "litellm_provider": "p%d", "mode": "chat"}`, i, i%2)
	}
	b.WriteString("\n}\n")
	// All of them, in as many catalogs as the CRD's limit needs, said once; the exit code agrees.
	r := ftcost(t, b.String(), "catalog", "import", "--format", "litellm", "-")
	if r.code != ExitOK || strings.Count(r.err, "\n") != 2 ||
		!strings.Contains(r.err, "1025 API models are more than one PriceCatalog holds (1024): writing 2 catalogs, imported-1 to imported-2") ||
		!strings.Contains(r.err, "imported 1025, skipped 0") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.err)
	}
	docs := strings.Split(strings.SplitN(r.out, "\n", 2)[1], "---\n")
	total := 0
	for i, doc := range docs {
		pc := checkImported(t, doc)
		if want := fmt.Sprintf("imported-%d", i+1); pc.Name != want {
			t.Errorf("catalog %d is named %q, want %q", i, pc.Name, want)
		}
		total += len(pc.Spec.APIModels)
	}
	if len(docs) != 2 || total != maxAPIModels+1 {
		t.Errorf("%d catalogs with %d API models, want 2 with %d", len(docs), total, maxAPIModels+1)
	}
	r = ftcost(t, b.String(), "catalog", "import", "--format", "litellm", "-", "--provider", "p1")
	if r.code != ExitOK || !strings.Contains(r.err, "imported 512, skipped 513") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.err)
	}
}

func hasFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag {
			return true
		}
	}
	return false
}

// TestImportThenEstimate imports a small SkyPilot file into the catalog "default" (merged with the
// built-in one for models and API prices), then estimates the Fine-Tuning Economics article's example at the imported AWS
// prices: training cost = GPU-hours x imported price per GPU-hour, rounded to the cent.
func TestImportThenEstimate(t *testing.T) {
	dir := t.TempDir()
	catalog := filepath.Join(dir, "aws.yaml")
	r := ftcost(t, "", "catalog", "import", "--format", "skypilot", tdImport("aws/vms.csv"),
		"--merge-builtin", "--name", "default", "--effective-date", "2026-11-01", "-o", catalog)
	if r.code != ExitOK || r.out != "" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.out, r.err)
	}
	if !strings.Contains(r.err, "replaces the built-in provider aws-on-demand") || !strings.HasSuffix(r.err, "imported 4, skipped 3\n") {
		t.Errorf("stderr:\n%s", r.err)
	}
	b, err := os.ReadFile(catalog)
	if err != nil {
		t.Fatal(err)
	}
	pc := checkImported(t, string(b))
	for _, p := range pc.Spec.Providers {
		if p.Name == "aws-on-demand" && p.DefaultGPU != "H100" {
			t.Errorf("aws-on-demand defaultGPU %q, want the built-in H100 kept", p.DefaultGPU)
		}
	}

	_, items := estimateJSON(t, "-f", tdImport("article-example-1-aws.yaml"), "--catalog", catalog)
	want := map[string]string{"support-bot-aws": "12.29", "support-bot-aws-spot": "4.4"} // 98.32 / 8 and 35.2 / 8
	if len(items) != len(want) {
		t.Fatalf("%d items", len(items))
	}
	for _, fte := range items {
		st := fte.Status
		if st.Pricing.Source != ftv1.PricingSourceCatalog || st.Pricing.Catalog != "default" {
			t.Errorf("%s: pricing %+v", fte.Name, st.Pricing)
		}
		if st.GPUType != "H100" || !decimal.RequireFromString(st.PricePerGPUHour).Equal(decimal.RequireFromString(want[fte.Name])) {
			t.Errorf("%s: %s at %s, want H100 at %s", fte.Name, st.GPUType, st.PricePerGPUHour, want[fte.Name])
		}
		hours := decimal.RequireFromString(st.GPUHours)
		cost := hours.Mul(decimal.RequireFromString(want[fte.Name])).Round(2).StringFixed(2)
		if st.TrainingCost != cost {
			t.Errorf("%s: training cost %s, want %s GPU-hours x %s = %s", fte.Name, st.TrainingCost, st.GPUHours, want[fte.Name], cost)
		}
	}
	if got := items[0].Status.TrainingCost; got != "6.15" { // 0.5 x 12.29 = 6.145, half away from zero
		t.Errorf("on-demand training cost %s, want 6.15", got)
	}
}

// TestImportGPUMemory: --gpu-memory describes a GPU whose memory the file lacks (a RunPod-like row
// without GpuInfo); a value that is no whole number of GiB is refused naming the flag.
func TestImportGPUMemory(t *testing.T) {
	csv := "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region\n1x_V100,V100,1.0,8.0,61.0,,0.5,,us\n"
	r := ftcost(t, csv, "catalog", "import", "--format", "skypilot", "-", "--provider", "runpod")
	if r.code != ExitInput || !strings.Contains(r.err, "--gpu-memory V100=GIB --gpu-tflops V100=TFLOPS") {
		t.Errorf("without the figures: exit %d, stderr:\n%s", r.code, r.err)
	}
	r = ftcost(t, csv, "catalog", "import", "--format", "skypilot", "-", "--provider", "runpod", "--gpu-memory", "V100=16", "--gpu-tflops", "V100=125")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.err)
	}
	pc := checkImported(t, r.out)
	if len(pc.Spec.GPUs) != 1 || pc.Spec.GPUs[0].MemoryGiB != 16 || !strings.Contains(pc.Spec.GPUs[0].Source, "--gpu-memory") {
		t.Errorf("GPUs %+v: want V100 with 16 GiB from --gpu-memory", pc.Spec.GPUs)
	}
	r = ftcost(t, csv, "catalog", "import", "--format", "skypilot", "-", "--provider", "runpod", "--gpu-memory", "V100=lots")
	if r.code != ExitInput || !strings.Contains(r.err, "--gpu-memory V100=lots") {
		t.Errorf("bad --gpu-memory: exit %d, stderr:\n%s", r.code, r.err)
	}
}
