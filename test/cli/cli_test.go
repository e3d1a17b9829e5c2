package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/cli"
	"github.com/ftcost/ftcost/internal/testenv"
)

type run struct {
	code     int
	out, err string
}

// ftcost runs the CLI in-process against the test's API server, through the "envtest" context
// unless the arguments name another.
func ftcost(t *testing.T, args ...string) run {
	t.Helper()
	var out, errOut strings.Builder
	args = append(args, "--kubeconfig", kubeconfig, "--cache-dir", cacheDir)
	code := cli.Run(args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
	return run{code, out.String(), errOut.String()}
}

func fields(out string) [][]string {
	var lines [][]string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		lines = append(lines, strings.Fields(l))
	}
	return lines
}

var (
	header     = []string{"NAME", "MODEL", "METHOD", "GPU-HOURS", "UPFRONT-USD", "BREAK-EVEN", "RECOMMENDATION", "READY", "REASON", "APPROVED", "AGE"}
	age        = regexp.MustCompile(`^[0-9]+[smhd]([0-9]+[smh])?$`)
	ctxEnvtest = []string{"--context", "envtest"}
)

// withAge replaces the cells that are ages ("0s", "2m5s") by "AGE".
func withAge(lines [][]string) [][]string {
	for _, l := range lines {
		for i, c := range l {
			if age.MatchString(c) {
				l[i] = "AGE"
			}
		}
	}
	return lines
}

func TestGet(t *testing.T) {
	for name, tc := range map[string]struct {
		args   []string
		want   [][]string // compared word by word, AGE cells normalised
		raw    string     // compared exactly when want is nil
		code   int
		stderr string
	}{
		"the context's namespace": {args: []string{"get"}, want: [][]string{header,
			{"low-traffic", "llama-13b", "LoRA", "0.5", "1001.25", "API", "True", "Estimated", "False", "AGE"},
			{"support-bot", "llama-13b", "LoRA", "0.5", "1001.25", "20.0", "FineTune", "True", "Estimated", "True", "AGE"}}},
		"-n": {args: []string{"get", "-n", "team-b"}, want: [][]string{header,
			{"premium-bot", "llama-13b", "LoRA", "0.5", "1002.49", "20.0", "FineTune", "True", "Estimated", "True", "AGE"}}},
		"-A": {args: []string{"get", "-A"}, want: [][]string{append([]string{"NAMESPACE"}, header...),
			{"team-a", "low-traffic", "llama-13b", "LoRA", "0.5", "1001.25", "API", "True", "Estimated", "False", "AGE"},
			{"team-a", "support-bot", "llama-13b", "LoRA", "0.5", "1001.25", "20.0", "FineTune", "True", "Estimated", "True", "AGE"},
			{"team-b", "premium-bot", "llama-13b", "LoRA", "0.5", "1002.49", "20.0", "FineTune", "True", "Estimated", "True", "AGE"}}},
		"-o wide by name": {args: []string{"get", "support-bot", "-o", "wide"}, want: [][]string{
			append(append([]string{}, header...), "PROVIDER", "GPUS", "MEM/GPU", "API/MONTH-USD", "NET-SAVINGS-USD", "ROI%"),
			{"support-bot", "llama-13b", "LoRA", "0.5", "1001.25", "20.0", "FineTune", "True", "Estimated", "True", "AGE", "runpod", "1", "43.0", "50.00", "798.75", "79.8"}}},
		"--no-headers -A": {args: []string{"get", "-A", "--no-headers"}, want: [][]string{
			{"team-a", "low-traffic", "llama-13b", "LoRA", "0.5", "1001.25", "API", "True", "Estimated", "False", "AGE"},
			{"team-a", "support-bot", "llama-13b", "LoRA", "0.5", "1001.25", "20.0", "FineTune", "True", "Estimated", "True", "AGE"},
			{"team-b", "premium-bot", "llama-13b", "LoRA", "0.5", "1002.49", "20.0", "FineTune", "True", "Estimated", "True", "AGE"}}},
		"-l": {args: []string{"get", "-A", "-l", "tier=premium", "-o", "name"}, raw: "finetuneestimate.ftcost.io/premium-bot\n"},
		"-o name -A": {args: []string{"get", "-A", "-o", "name"},
			raw: "finetuneestimate.ftcost.io/low-traffic\nfinetuneestimate.ftcost.io/support-bot\nfinetuneestimate.ftcost.io/premium-bot\n"},
		"jsonpath, one named object": {args: []string{"get", "support-bot", "-o", "jsonpath={.status.breakEvenMonths}"}, raw: "20.0"},
		"jsonpath, fte/NAME":         {args: []string{"get", "fte/premium-bot", "-n", "team-b", "-o", "jsonpath={.status.pricing.catalog}"}, raw: "premium"},
		"jsonpath over a list": {args: []string{"get", "-A", "-o", `jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}:{.status.recommendation}{"\n"}{end}`},
			raw: "team-a/low-traffic:API\nteam-a/support-bot:FineTune\nteam-b/premium-bot:FineTune\n"},
		"custom-columns": {args: []string{"get", "-o", `custom-columns=NAME:.metadata.name,APPROVED:.status.conditions[?(@.type=="Approved")].status,BE:.status.breakEvenMonths`},
			raw: "NAME          APPROVED   BE\nlow-traffic   False      <none>\nsupport-bot   True       20.0\n"},
		"custom-columns --no-headers": {args: []string{"get", "-A", "--no-headers", "-o", "custom-columns=N:.metadata.name"},
			raw: "low-traffic\nsupport-bot\npremium-bot\n"},
		"-o yaml, one object": {args: []string{"get", "support-bot", "-o", "jsonpath={.kind} {.apiVersion}"}, raw: "FineTuneEstimate ftcost.io/v1alpha1"},
		"empty namespace":     {args: []string{"get", "-n", "default"}, raw: "", stderr: "No resources found in default namespace.\n"},
		"not found": {args: []string{"get", "nope"}, raw: "", code: cli.ExitInput,
			stderr: `Error from server (NotFound): finetuneestimates.ftcost.io "nope" not found`},
		"not an ftcost resource": {args: []string{"get", "namespaces/team-a"}, raw: "", code: cli.ExitInput, stderr: "is not an ftcost resource"},
		"bad output":             {args: []string{"get", "-o", "xml"}, raw: "", code: cli.ExitInput, stderr: `unable to match a printer suitable for the output format "xml"`},
	} {
		t.Run(name, func(t *testing.T) {
			r := ftcost(t, append(tc.args, ctxEnvtest...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", r.code, tc.code, r.err)
			}
			if tc.stderr != "" && !strings.Contains(r.err, tc.stderr) {
				t.Errorf("stderr %q does not contain %q", r.err, tc.stderr)
			}
			if tc.stderr == "" && r.err != "" {
				t.Errorf("stderr: %s", r.err)
			}
			if tc.want != nil {
				if d := cmp.Diff(tc.want, withAge(fields(r.out))); d != "" {
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

// TestContext checks that --context decides which cluster is asked: the kubeconfig's current context
// points at a port where nothing listens.
func TestContext(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		code int
	}{
		"current context, unreachable": {[]string{"get"}, cli.ExitInput},
		"--context envtest":            {[]string{"get", "--context", "envtest"}, cli.ExitOK},
		"explain, current context":     {[]string{"explain", "support-bot", "-n", "team-a"}, cli.ExitInput},
		"explain --context envtest":    {[]string{"explain", "support-bot", "--context", "envtest"}, cli.ExitOK},
		"unknown context":              {[]string{"get", "--context", "nope"}, cli.ExitInput},
	} {
		t.Run(name, func(t *testing.T) {
			r := ftcost(t, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stdout %q stderr %q", r.code, tc.code, r.out, r.err)
			}
			if tc.code != cli.ExitOK && !strings.Contains(r.err, "127.0.0.1:1") && !strings.Contains(r.err, "context was not found for specified context: nope") {
				t.Errorf("stderr does not say which cluster failed: %q", r.err)
			}
		})
	}
}

func TestExplainAndChartFromTheCluster(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want []string
	}{
		"explain, built-in prices": {[]string{"explain", "fte/support-bot"}, []string{
			"FineTuneEstimate team-a/support-bot, from the cluster",
			`Prices: the built-in catalog "builtin"`,
			"GPU-hours = 0.0001 H100-hours per example x 10000 examples x 2 scale factor x 0.25 (LoRA) = 0.5",
			"training cost = 0.5 GPU-hours x 2.49 = 1.245, to the cent 1.25",
			"6. Break-even: month 20.0",
		}},
		"explain, the catalog the status names": {[]string{"explain", "premium-bot", "-n", "team-b"}, []string{
			`Prices: PriceCatalog "premium", generation 1`,
			"training cost = 0.5 GPU-hours x 4.98 = 2.49, to the cent 2.49",
			"upfront cost = training 2.49 + one-time 1000.00 = 1002.49",
			"over 24 months",
		}},
		"chart":             {[]string{"chart", "fte/premium-bot", "-n", "team-b"}, []string{"<svg", "break-even: month 20.0"}},
		"chart, never pays": {[]string{"chart", "low-traffic"}, []string{"<svg", "the fine-tune never pays for itself"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := ftcost(t, append(tc.args, ctxEnvtest...)...)
			if r.code != cli.ExitOK || r.err != "" {
				t.Fatalf("exit %d: %s", r.code, r.err)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.out, w) {
					t.Errorf("output does not contain %q:\n%.3000s", w, r.out)
				}
			}
		})
	}
	t.Run("unknown name", func(t *testing.T) {
		r := ftcost(t, "chart", "low", "--context", "envtest")
		if r.code != cli.ExitInput || !strings.Contains(r.err, `"low" not found`) {
			t.Errorf("exit %d: %s", r.code, r.err)
		}
	})
}

// TestStaleStatus changes the catalog an estimate's status names: explain recomputes with the new
// prices and warns that the stored status no longer matches them.
func TestStaleStatus(t *testing.T) {
	ctx := context.Background()
	pc := &ftv1.PriceCatalog{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "premium"}, pc); err != nil {
		t.Fatal(err)
	}
	orig := pc.DeepCopy()
	for i := range pc.Spec.Providers {
		if pc.Spec.Providers[i].Name == "runpod" {
			for j := range pc.Spec.Providers[i].GPUPrices {
				pc.Spec.Providers[i].GPUPrices[j].PricePerGPUHour = "9.96"
			}
		}
	}
	if err := env.Client.Update(ctx, pc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pc := &ftv1.PriceCatalog{}
		_ = env.Client.Get(ctx, client.ObjectKey{Name: "premium"}, pc)
		pc.Spec = orig.Spec
		_ = env.Client.Update(ctx, pc)
	})
	r := ftcost(t, "explain", "premium-bot", "-n", "team-b", "--context", "envtest")
	if r.code != cli.ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	for _, w := range []string{
		`warning: team-b/premium-bot: PriceCatalog "premium" was at generation 1 for the status and is at generation 2 now`,
		`warning: team-b/premium-bot: status.upfrontCost is "1002.49" but a fresh estimate gives "1004.98"`,
	} {
		if !strings.Contains(r.err, w) {
			t.Errorf("stderr does not contain %q:\n%s", w, r.err)
		}
	}
	if !strings.Contains(r.out, "training cost = 0.5 GPU-hours x 9.96") {
		t.Errorf("explain does not use the catalog's current price:\n%.1500s", r.out)
	}
}

// TestKubectlPlugin installs the binary as kubectl-ftcost on PATH and runs it through kubectl.
func TestKubectlPlugin(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not on PATH")
	}
	bin := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, cli.PluginName), "./cmd/ftcost")
	build.Dir = testenv.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"get -A":      {[]string{"ftcost", "get", "-A", "-o", "name"}, "finetuneestimate.ftcost.io/premium-bot\n"},
		"get -n":      {[]string{"ftcost", "get", "-n", "team-b", "--no-headers", "-o", "custom-columns=N:.metadata.name"}, "premium-bot\n"},
		"explain":     {[]string{"ftcost", "explain", "fte/support-bot"}, "6. Break-even: month 20.0"},
		"chart":       {[]string{"ftcost", "chart", "fte/support-bot"}, "break-even: month 20.0"},
		"help's name": {[]string{"ftcost", "--help"}, "kubectl ftcost [command]"},
	} {
		t.Run(name, func(t *testing.T) {
			args := append(tc.args, "--kubeconfig", kubeconfig, "--context", "envtest", "--cache-dir", cacheDir)
			if name == "help's name" {
				args = tc.args
			}
			cmd := exec.CommandContext(ctx, kubectl, args...)
			cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.want) {
				t.Errorf("kubectl %s: output does not contain %q:\n%.2000s", strings.Join(tc.args, " "), tc.want, stdout.String())
			}
		})
	}
}
