package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// fields splits output into lines of whitespace-separated words.
func fields(out string) [][]string {
	var lines [][]string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		lines = append(lines, strings.Fields(l))
	}
	return lines
}

// TestOutputFormats checks kubectl get's output formats on estimates read from files: the default
// table has the CRD's priority-0 printer columns less AGE, wide adds the priority-1 ones.
func TestOutputFormats(t *testing.T) {
	files := []string{"-f", td("article-example-1.yaml"), "-f", td("api-cheaper.yaml")}
	for name, tc := range map[string]struct {
		args []string
		want [][]string // nil: compare raw instead
		raw  string
	}{
		"default": {args: nil, want: [][]string{
			{"NAMESPACE", "NAME", "MODEL", "METHOD", "GPU-HOURS", "UPFRONT-USD", "BREAK-EVEN", "RECOMMENDATION", "READY", "REASON", "APPROVED"},
			{"ml", "support-bot", "llama-13b", "LoRA", "0.5", "1001.25", "20.0", "FineTune", "True", "Estimated", "True"},
			{"default", "low-traffic", "llama-13b", "LoRA", "0.5", "1001.25", "API", "True", "Estimated", "False"},
		}},
		"table is the default": {args: []string{"-o", "table"}, want: [][]string{
			{"NAMESPACE", "NAME", "MODEL", "METHOD", "GPU-HOURS", "UPFRONT-USD", "BREAK-EVEN", "RECOMMENDATION", "READY", "REASON", "APPROVED"},
			{"ml", "support-bot", "llama-13b", "LoRA", "0.5", "1001.25", "20.0", "FineTune", "True", "Estimated", "True"},
			{"default", "low-traffic", "llama-13b", "LoRA", "0.5", "1001.25", "API", "True", "Estimated", "False"},
		}},
		"wide": {args: []string{"-o", "wide"}, want: [][]string{
			{"NAMESPACE", "NAME", "MODEL", "METHOD", "GPU-HOURS", "UPFRONT-USD", "BREAK-EVEN", "RECOMMENDATION", "READY", "REASON", "APPROVED",
				"PROVIDER", "GPUS", "MEM/GPU", "API/MONTH-USD", "NET-SAVINGS-USD", "ROI%"},
			{"ml", "support-bot", "llama-13b", "LoRA", "0.5", "1001.25", "20.0", "FineTune", "True", "Estimated", "True", "runpod", "1", "43.0", "50.00", "798.75", "79.8"},
			{"default", "low-traffic", "llama-13b", "LoRA", "0.5", "1001.25", "API", "True", "Estimated", "False", "runpod", "1", "43.0", "0.50", "-983.25", "-98.2"},
		}},
		"no headers": {args: []string{"--no-headers"}, want: [][]string{
			{"ml", "support-bot", "llama-13b", "LoRA", "0.5", "1001.25", "20.0", "FineTune", "True", "Estimated", "True"},
			{"default", "low-traffic", "llama-13b", "LoRA", "0.5", "1001.25", "API", "True", "Estimated", "False"},
		}},
		"name": {args: []string{"-o", "name"},
			raw: "finetuneestimate.ftcost.io/support-bot\nfinetuneestimate.ftcost.io/low-traffic\n"},
		"jsonpath over the List": {args: []string{"-o", `jsonpath={range .items[*]}{.metadata.name}={.status.breakEvenMonths}{"\n"}{end}`},
			raw: "support-bot=20.0\nlow-traffic=\n"},
		"custom-columns": {args: []string{"-o", "custom-columns=NAME:.metadata.name,Break-even:status.breakEvenMonths,Ready:{.status.conditions[?(@.type==\"Ready\")].status}"},
			raw: "NAME          Break-even   Ready\nsupport-bot   20.0         True\nlow-traffic   <none>       True\n"},
		"custom-columns without headers": {args: []string{"-o", "custom-columns=N:.metadata.namespace,X:.spec.model", "--no-headers"},
			raw: "ml        llama-13b\ndefault   llama-13b\n"},
		"go-template": {args: []string{"-o", `go-template={{range .items}}{{.status.upfrontCost}} {{end}}`},
			raw: "1001.25 1001.25 "},
	} {
		t.Run(name, func(t *testing.T) {
			r := ftcost(t, "", append(append([]string{"estimate"}, files...), tc.args...)...)
			if r.code != ExitOK || r.err != "" {
				t.Fatalf("exit %d: %s", r.code, r.err)
			}
			if tc.want != nil {
				if d := cmp.Diff(tc.want, fields(r.out)); d != "" {
					t.Errorf("(-want +got):\n%s\n%s", d, r.out)
				}
				return
			}
			if d := cmp.Diff(tc.raw, r.out); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestOutputFormatErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		output string
		want   string
	}{
		"unknown format":          {"xml", `unable to match a printer suitable for the output format "xml"`},
		"custom-columns, no spec": {"custom-columns", "no custom columns given"},
		"custom-columns, no path": {"custom-columns=NAME", "expected <header>:<json-path-expr>"},
		"bad jsonpath":            {"jsonpath={.items[", "error parsing jsonpath"},
	} {
		t.Run(name, func(t *testing.T) {
			r := ftcost(t, "", "estimate", "-f", td("article-example-1.yaml"), "-o", tc.output)
			if r.code != ExitInput || !strings.Contains(r.err, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.err, ExitInput, tc.want)
			}
			if r.out != "" {
				t.Errorf("printed %q before failing", r.out)
			}
		})
	}
}

// TestListRenderingMatchesPrinters checks that estimate's parallel -o json|yaml rendering prints
// exactly what cli-runtime's printers print for the same List, as kubectl get does.
func TestListRenderingMatchesPrinters(t *testing.T) {
	files := []string{"-f", td("article-example-1.yaml"), "-f", td("api-cheaper.yaml"), "-f", td("unknown-model.yaml")}
	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			r := ftcost(t, "", append([]string{"estimate", "-o", format}, files...)...)
			if r.code != ExitInput { // unknown-model.yaml is not Ready
				t.Fatalf("exit %d: %s", r.code, r.err)
			}
			// Print the same objects again through the printer, from what was printed.
			var l unstructured.UnstructuredList
			if err := yaml.Unmarshal([]byte(r.out), &l.Object); err != nil {
				t.Fatal(err)
			}
			var objs []*unstructured.Unstructured
			for _, item := range l.Object["items"].([]any) {
				objs = append(objs, &unstructured.Unstructured{Object: item.(map[string]any)})
			}
			if len(objs) != 3 {
				t.Fatalf("got %d items, want 3", len(objs))
			}
			pf := newPrintFlags()
			*pf.OutputFormat = format
			p, err := pf.check()
			if err != nil {
				t.Fatal(err)
			}
			var want strings.Builder
			if err := p.printObjects(&want, objs, false); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want.String(), r.out); d != "" {
				t.Errorf("estimate -o %s differs from cli-runtime's printer (-printer +estimate):\n%s", format, d)
			}
		})
	}
}
