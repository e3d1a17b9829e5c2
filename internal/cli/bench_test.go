package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// write10k writes n FineTuneEstimates, varied in model, method, size and traffic, to one file.
func writeEstimates(tb testing.TB, n int) string {
	tb.Helper()
	models := []string{"llama-7b", "llama-13b", "llama-70b", "llama-405b"}
	methods := []string{"Full", "LoRA", "QLoRA"}
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `---
apiVersion: ftcost.io/v1alpha1
kind: FineTuneEstimate
metadata:
  name: fte-%d
  namespace: team-%d
spec:
  model: %s
  method: %s
  dataset:
    examples: %d
    tokensPerExample: 1000
  training:
    provider: runpod
  oneTimeCosts:
    dataLabeling: "1000"
  api:
    model: claude-sonnet
  usage:
    requestsPerMonth: %d
    inputTokensPerRequest: 1000
    outputTokensPerRequest: 300
    monthlyGrowthPercent: "2"
  budget:
    maxUpfrontCost: "5000"
`, i, i%10, models[i%len(models)], methods[i%len(methods)], 1000+i, 10000+i)
	}
	path := filepath.Join(tb.TempDir(), "10k.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkEstimate10k runs the whole estimate command over 10,000 documents of one file.
func BenchmarkEstimate10k(b *testing.B) {
	path := writeEstimates(b, 10000)
	b.ResetTimer()
	for range b.N {
		errOut := &strings.Builder{}
		if code := Run([]string{"estimate", "-f", path, "-o", "json"}, Streams{In: strings.NewReader(""), Out: io.Discard, Err: errOut}); code != ExitOK {
			b.Fatalf("exit %d: %s", code, errOut)
		}
	}
}
