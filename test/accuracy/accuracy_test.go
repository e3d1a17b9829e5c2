// Package accuracy checks the training model against published, measured fine-tuning runs
// (measurements.yaml) and keeps the table of docs/accuracy.md generated from them.
package accuracy

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"sigs.k8s.io/yaml"

	"github.com/ftcost/ftcost/engine"
)

var update = flag.Bool("update", false, "rewrite the generated table of docs/accuracy.md")

// Bands a prediction must stay within to count as accurate: the article's +/-30% on time, and +/-20%
// on memory (what decides the GPU count).
var (
	timeBand   = decimal.RequireFromString("0.30")
	memoryBand = decimal.RequireFromString("0.20")
)

type measurement struct {
	Name                  string             `json:"name"`
	Source                string             `json:"source"`
	Stack                 string             `json:"stack"`
	Model                 string             `json:"model"`
	Method                engine.Method      `json:"method"`
	GPU                   string             `json:"gpu"`
	GPUs                  int32              `json:"gpus"`
	Sharding              engine.Sharding    `json:"sharding"`
	SequenceLength        int64              `json:"sequenceLength"`
	MicroBatchSize        int32              `json:"microBatchSize"`
	GradientCheckpointing bool               `json:"gradientCheckpointing"`
	LoRARank              int32              `json:"loraRank"`
	LoRATargets           engine.LoRATargets `json:"loraTargets"`
	Precision             engine.Precision   `json:"precision"`
	TokensPerSecondPerGPU string             `json:"tokensPerSecondPerGPU"`
	PeakMemoryGiB         string             `json:"peakMemoryGiB"`
	Time                  string             `json:"time"`
	Memory                string             `json:"memory"`
	Why                   string             `json:"why"`
	Notes                 string             `json:"notes"`
}

// catalog is the built-in catalog plus the Llama 2 models at their exact parameter counts, and one
// provider pricing every GPU the measurements ran on (prices play no part here).
func catalog(t *testing.T) *engine.Catalog {
	c := engine.BuiltinCatalog()
	for name, exact := range map[string]struct {
		from   string
		params int64
	}{
		"llama-2-7b":  {"llama-7b", 6_738_415_616},
		"llama-2-13b": {"llama-13b", 13_015_864_320},
		"llama-2-70b": {"llama-70b", 68_976_648_192},
	} {
		m := c.Models[exact.from]
		m.Name, m.Parameters = name, exact.params
		c.Models[name] = m
	}
	prices := map[string]decimal.Decimal{}
	for _, g := range []string{"H100", "A100-80GB", "A100-40GB"} {
		if _, ok := c.GPUs[g]; !ok {
			t.Fatalf("built-in catalog has no GPU %s", g)
		}
		prices[g] = decimal.NewFromInt(1)
	}
	c.Providers["measured"] = engine.Provider{Name: "measured", Kind: engine.GPUHourly, DefaultGPU: "H100", GPUPrices: prices}
	return c
}

type row struct {
	m                       measurement
	r                       *engine.Result
	predTPS, timeRatio      decimal.Decimal
	predMemory, memoryRatio decimal.Decimal
}

func predict(t *testing.T, c *engine.Catalog, m measurement) row {
	ckpt := m.GradientCheckpointing
	in := engine.Input{
		Model: m.Model, Method: m.Method, Examples: 1000, TokensPerExample: m.SequenceLength,
		SequenceLength: m.SequenceLength, Provider: "measured", GPUType: m.GPU, Estimator: engine.FLOPs,
		GPUCount: m.GPUs, Sharding: m.Sharding, MicroBatchSize: m.MicroBatchSize, GradientCheckpointing: &ckpt,
		LoRARank: m.LoRARank, LoRATargets: m.LoRATargets, Precision: m.Precision,
		APICostPerRequest: ptr(decimal.RequireFromString("0.01")),
	}
	r, err := engine.Estimate(&in, c)
	if err != nil {
		t.Fatalf("%s: %v", m.Name, err)
	}
	out := row{m: m, r: r}
	tokens := decimal.NewFromInt(in.Examples * in.TokensPerExample)
	out.predTPS = tokens.DivRound(r.GPUHours.Mul(decimal.NewFromInt(3600)), 0)
	if m.TokensPerSecondPerGPU != "" {
		measured := decimal.RequireFromString(m.TokensPerSecondPerGPU)
		// Predicted time / measured time = measured throughput / predicted throughput.
		out.timeRatio = measured.DivRound(out.predTPS, 2)
	}
	out.predMemory = *r.MemoryPerGPUGiB
	if m.PeakMemoryGiB != "" {
		out.memoryRatio = out.predMemory.DivRound(decimal.RequireFromString(m.PeakMemoryGiB), 2)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func verdict(ratio, band decimal.Decimal) string {
	if ratio.Sub(decimal.NewFromInt(1)).Abs().LessThanOrEqual(band) {
		return "within"
	}
	return "outside"
}

func TestAccuracy(t *testing.T) {
	data, err := os.ReadFile("measurements.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ms []measurement
	if err := yaml.UnmarshalStrict(data, &ms); err != nil {
		t.Fatal(err)
	}
	c := catalog(t)
	var rows []row
	timeWithin, timeAll, memWithin, memAll := 0, 0, 0, 0
	for _, m := range ms {
		r := predict(t, c, m)
		rows = append(rows, r)
		if m.TokensPerSecondPerGPU != "" {
			timeAll++
			got := verdict(r.timeRatio, timeBand)
			if got == "within" {
				timeWithin++
			}
			if got != m.Time {
				t.Errorf("%s: time ratio %s is %s +/-30%%, measurements.yaml says %q", m.Name, r.timeRatio, got, m.Time)
			}
		}
		if m.PeakMemoryGiB != "" {
			memAll++
			got := verdict(r.memoryRatio, memoryBand)
			if got == "within" {
				memWithin++
			}
			if got != m.Memory {
				t.Errorf("%s: memory ratio %s is %s +/-20%%, measurements.yaml says %q", m.Name, r.memoryRatio, got, m.Memory)
			}
		}
		if (m.Time == "outside" || m.Memory == "outside") && m.Why == "" {
			t.Errorf("%s: an expected miss needs a why", m.Name)
		}
	}
	if timeAll < 12 || memAll < 7 {
		t.Errorf("%d time and %d memory measurements; the validation needs at least 12 and 7", timeAll, memAll)
	}
	t.Logf("time within +/-30%%: %d of %d; memory within +/-20%%: %d of %d", timeWithin, timeAll, memWithin, memAll)
	checkDoc(t, render(rows, timeWithin, timeAll, memWithin, memAll))
}

func render(rows []row, timeWithin, timeAll, memWithin, memAll int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Time within +/-30%%: **%d of %d**. Memory per GPU within +/-20%%: **%d of %d**.\n\n", timeWithin, timeAll, memWithin, memAll)
	b.WriteString("| run | model | method | GPUs | seq x micro-batch | ckpt | measured tok/s/GPU | predicted | time ratio | measured GiB | predicted | memory ratio |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		m := r.m
		timeCells := "| | |"
		if m.TokensPerSecondPerGPU != "" {
			timeCells = fmt.Sprintf("%s | %s | %s%s |", m.TokensPerSecondPerGPU, r.predTPS, r.timeRatio, mark(m.Time))
		}
		memCells := "| | |"
		if m.PeakMemoryGiB != "" {
			memCells = fmt.Sprintf("%s | %s | %s%s |", m.PeakMemoryGiB, r.predMemory.StringFixed(1), r.memoryRatio, mark(m.Memory))
		}
		fmt.Fprintf(&b, "| [%s](%s) | %s | %s | %d x %s, %s | %d x %d | %s | %s %s\n", m.Name, m.Source, m.Model, m.Method,
			m.GPUs, m.GPU, r.r.Sharding, m.SequenceLength, m.MicroBatchSize, yesNo(m.GradientCheckpointing), timeCells, memCells)
	}
	b.WriteString("\nRatios are predicted / measured time (measured / predicted throughput) and predicted / measured memory; ")
	b.WriteString("a ratio marked ✗ is outside its band, for the reason below.\n\n")
	for _, r := range rows {
		if r.m.Why != "" {
			fmt.Fprintf(&b, "- %s: %s\n", r.m.Name, r.m.Why)
		}
	}
	return b.String()
}

func mark(v string) string {
	if v == "outside" {
		return " ✗"
	}
	return ""
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

const (
	docPath  = "../../docs/accuracy.md"
	docBegin = "<!-- BEGIN GENERATED by test/accuracy (go test ./test/accuracy -update) -->\n"
	docEnd   = "<!-- END GENERATED -->"
)

// checkDoc fails when docs/accuracy.md's generated table differs from the one the measurements give
// now; with -update it rewrites it.
func checkDoc(t *testing.T, table string) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(doc, []byte(docBegin)), bytes.Index(doc, []byte(docEnd))
	if i < 0 || j < i {
		t.Fatalf("%s has no generated section between %q and %q", docPath, docBegin, docEnd)
	}
	current := string(doc[i+len(docBegin) : j])
	if current == table {
		return
	}
	if *update {
		out := append(append(append([]byte{}, doc[:i+len(docBegin)]...), table...), doc[j:]...)
		if err := os.WriteFile(docPath, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/accuracy.md is out of date; run go test ./test/accuracy -update\n--- want ---\n%s", table)
}

// TestCostModelMemoryTable keeps the GPU count and memory table of docs/cost-model.md ("Memory per
// GPU") equal to what the engine gives for its stated inputs: 10,000 examples of 2,048 tokens,
// micro-batch 1, the defaults, on the built-in catalog's H100.
func TestCostModelMemoryTable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/cost-model.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, model := range []string{"llama-3.2-1b", "llama-7b", "llama-3.1-8b", "llama-13b", "llama-70b", "llama-405b"} {
		row := "| " + model + " |"
		for _, method := range []engine.Method{engine.Full, engine.LoRA, engine.QLoRA} {
			in := engine.Input{Model: model, Method: method, Examples: 10_000, TokensPerExample: 2048, Provider: "runpod",
				APICostPerRequest: ptr(decimal.RequireFromString("0.005")), RequestsPerMonth: 1}
			r, err := engine.Estimate(&in, engine.BuiltinCatalog())
			if err != nil {
				t.Fatalf("%s %s: %v", model, method, err)
			}
			cell := fmt.Sprintf(" %d x %s GiB", r.GPUCount, r.MemoryPerGPUGiB.StringFixed(1))
			if r.GradientCheckpointing {
				cell += ", checkpointing"
			}
			row += cell + " |"
		}
		if !bytes.Contains(doc, []byte(row)) {
			t.Errorf("docs/cost-model.md lacks the row the engine gives:\n%s", row)
		}
	}
}
