package cli

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ftcost/ftcost/internal/cli"
	"github.com/ftcost/ftcost/internal/testenv"
)

// complete runs cobra's completion request, as the shell scripts of `ftcost completion` do, and
// returns the candidates (without the directive line).
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	var out, errOut strings.Builder
	full := []string{"__complete", args[0]}
	if slices.Contains([]string{"get", "chart", "explain", "report"}, args[0]) { // the commands with kubectl's flags
		full = append(full, "--kubeconfig", kubeconfig, "--cache-dir", cacheDir, "--context", "envtest")
	}
	full = append(full, args[1:]...)
	if code := cli.Run(full, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}); code != 0 {
		t.Fatalf("__complete %v: exit %d: %s", args, code, errOut.String())
	}
	return candidates(out.String())
}

func candidates(out string) []string {
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l != "" && !strings.HasPrefix(l, ":") {
			got = append(got, strings.SplitN(l, "\t", 2)[0])
		}
	}
	return got
}

// TestCompletion: estimate names from the cluster (the context's namespace, -n, -A, fte/ prefixes),
// namespaces for -n, and the values of -o and --format, by running the completion command.
func TestCompletion(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want []string
	}{
		"get names, the context's namespace": {[]string{"get", ""}, []string{"low-traffic", "support-bot"}},
		"get names with a prefix":            {[]string{"get", "sup"}, []string{"support-bot"}},
		"get names, -n":                      {[]string{"get", "-n", "team-b", ""}, []string{"premium-bot"}},
		"get names, -A":                      {[]string{"get", "-A", ""}, []string{"low-traffic", "premium-bot", "support-bot"}},
		"get leaves out names given":         {[]string{"get", "support-bot", ""}, []string{"low-traffic"}},
		"explain fte/NAME":                   {[]string{"explain", "fte/"}, []string{"fte/low-traffic", "fte/support-bot"}},
		"chart takes one name":               {[]string{"chart", "support-bot", ""}, nil},
		"namespaces":                         {[]string{"get", "-n", "team-"}, []string{"team-a", "team-b"}},
		"-o values":                          {[]string{"get", "-o", "w"}, []string{"wide"}},
		"-o of estimate":                     {[]string{"estimate", "-o", "y"}, []string{"yaml"}},
		"--format of chart":                  {[]string{"chart", "--format", ""}, []string{"svg", "png"}},
		"-o of report":                       {[]string{"report", "-o", ""}, []string{"table", "csv"}},
		"--format of catalog import":         {[]string{"catalog", "import", "--format", ""}, []string{"litellm", "skypilot", "opencost"}},
	} {
		t.Run(name, func(t *testing.T) {
			if got := complete(t, tc.args...); !slices.Equal(got, tc.want) {
				t.Errorf("completing %q: %q, want %q", tc.args, got, tc.want)
			}
		})
	}
}

// TestKubectlPluginCompletion runs the binary as kubectl does to complete "kubectl ftcost ...": named
// kubectl_complete-ftcost (as `make plugin` installs it), with the words after the plugin's name.
func TestKubectlPluginCompletion(t *testing.T) {
	bin := filepath.Join(t.TempDir(), cli.CompletePluginName)
	build := exec.Command("go", "build", "-o", bin, "./cmd/ftcost")
	build.Dir = testenv.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for args, want := range map[string][]string{
		"":                         {"catalog", "chart", "completion", "estimate", "explain", "get", "help", "rent-vs-buy", "report", "version"},
		"get --context envtest su": {"support-bot"},
	} {
		full := strings.Fields(args)
		if args == "" {
			full = []string{""}
		} else {
			full = append(full[:len(full)-1], "--kubeconfig", kubeconfig, full[len(full)-1])
		}
		out, err := exec.Command(bin, full...).Output()
		if err != nil {
			t.Fatalf("%s %q: %v", cli.CompletePluginName, args, err)
		}
		if got := candidates(string(out)); !slices.Equal(got, want) {
			t.Errorf("kubectl ftcost %s<TAB>: %q, want %q", args, got, want)
		}
	}
}

// TestVersionFlag: --version prints the version, as `ftcost version` does on its first line.
func TestVersionFlag(t *testing.T) {
	var out, v strings.Builder
	if code := cli.Run([]string{"--version"}, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &out}); code != 0 {
		t.Fatalf("--version: exit %d: %s", code, out.String())
	}
	cli.Run([]string{"version"}, cli.Streams{In: strings.NewReader(""), Out: &v, Err: &v})
	if first, _, _ := strings.Cut(v.String(), "\n"); out.String() != first+"\n" || !strings.HasPrefix(first, "ftcost ") {
		t.Errorf("--version printed %q; ftcost version's first line is %q", out.String(), first)
	}
}
