// Package accuracy checks the training model against published, measured fine-tuning runs
// (measurements.yaml) and keeps the table of docs/accuracy.md generated from them.
package accuracy

import (
	"bytes"
	"errors"
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
	Name                  string               `json:"name"`
	Source                string               `json:"source"`
	Stack                 string               `json:"stack"`
	Framework             engine.Framework     `json:"framework"`
	Model                 string               `json:"model"`
	Method                engine.Method        `json:"method"`
	GPU                   string               `json:"gpu"`
	GPUs                  int32                `json:"gpus"`
	Sharding              engine.Sharding      `json:"sharding"`
	SequenceLength        int64                `json:"sequenceLength"`
	MicroBatchSize        int32                `json:"microBatchSize"`
	Checkpointing         engine.Checkpointing `json:"checkpointing"`
	LoRARank              int32                `json:"loraRank"`
	LoRATargets           engine.LoRATargets   `json:"loraTargets"`
	Precision             engine.Precision     `json:"precision"`
	LossPrecision         engine.LossPrecision `json:"lossPrecision"`
	Accumulation          int32                `json:"gradientAccumulationSteps"`
	TokensPerSecondPerGPU string               `json:"tokensPerSecondPerGPU"`
	PeakMemoryGiB         string               `json:"peakMemoryGiB"`
	MemoryMeasuredAs      string               `json:"memoryMeasuredAs"`
	Time                  string               `json:"time"`
	Memory                string               `json:"memory"`
	Why                   string               `json:"why"`
	Notes                 string               `json:"notes"`
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
	// Qwen (1)'s published configurations; the parameters are what the architecture gives (untied
	// embeddings and head, biased qkv).
	c.Models["qwen-7b"] = engine.Model{Name: "qwen-7b", Parameters: 7_721_324_544, Architecture: &engine.Architecture{
		Layers: 32, HiddenSize: 4096, IntermediateSize: 11008, AttentionHeads: 32, KVHeads: 32, VocabSize: 151936,
		Source: "https://huggingface.co/Qwen/Qwen-7B/blob/main/config.json"}}
	c.Models["qwen-14b"] = engine.Model{Name: "qwen-14b", Parameters: 14_167_290_880, Architecture: &engine.Architecture{
		Layers: 40, HiddenSize: 5120, IntermediateSize: 13696, AttentionHeads: 40, KVHeads: 40, VocabSize: 152064,
		Source: "https://huggingface.co/Qwen/Qwen-14B/blob/main/config.json"}}
	// Two GPUs the measurements ran on that the catalog does not price (NVIDIA datasheets: RTX 3090
	// 71 dense BF16 TFLOP/s, A10 125).
	c.GPUs["RTX-3090"] = engine.GPU{Name: "RTX-3090", MemoryGiB: 24, PeakBF16TFLOPs: decimal.NewFromInt(71), Generation: engine.Ampere}
	c.GPUs["A10G"] = engine.GPU{Name: "A10G", MemoryGiB: 24, PeakBF16TFLOPs: decimal.NewFromInt(125), Generation: engine.Ampere}
	prices := map[string]decimal.Decimal{}
	for _, g := range []string{"H100", "A100-80GB", "A100-40GB", "RTX-3090", "A10G"} {
		if _, ok := c.GPUs[g]; !ok {
			t.Fatalf("built-in catalog has no GPU %s", g)
		}
		prices[g] = decimal.NewFromInt(1)
	}
	c.Providers["measured"] = engine.Provider{Name: "measured", Kind: engine.GPUHourly, DefaultGPU: "H100", GPUPrices: prices}
	return c
}

type row struct {
	m                  measurement
	r                  *engine.Result
	predTPS, timeRatio decimal.Decimal
	// predMemory is the estimate's memory per GPU; comparable is the part of it the measurement can
	// see (unseen), which the ratio compares.
	predMemory, comparable, memoryRatio decimal.Decimal
	// The ratios unrounded: the bands judge these, so that no ratio is rounded into its band.
	timeExact, memoryExact decimal.Decimal
}

// What a published peak counts (measurements.yaml's memoryMeasuredAs). Omitted: the whole GPU, as
// nvidia-smi shows it, or the source does not say; the whole prediction is compared.
const (
	// measuredReserved is torch.cuda.max_memory_reserved: the segments PyTorch's caching allocator
	// holds, without the CUDA context and NCCL's buffers, which live outside it.
	measuredReserved = "reserved"
	// measuredAllocated is torch.cuda.max_memory_allocated (or the allocator's peak active bytes): the
	// tensors alive, without what the allocator reserves beyond them either.
	measuredAllocated = "allocated"
)

// unseen is what a measurement cannot see of a prediction: the CUDA context and, on more than one
// GPU, NCCL's buffers for reserved memory; the whole overhead (those and the allocator's
// fragmentation) for allocated memory.
func unseen(t *testing.T, m measurement, r *engine.Result) decimal.Decimal {
	switch m.MemoryMeasuredAs {
	case "":
		return decimal.Zero
	case measuredReserved:
		outside := engine.CUDAContextGiB
		if r.GPUCount > 1 {
			outside = outside.Add(engine.NCCLGiB)
		}
		return outside
	case measuredAllocated:
		return r.MemoryBreakdown.Overhead
	}
	t.Fatalf("%s: memoryMeasuredAs %q: use %s, %s or leave it out", m.Name, m.MemoryMeasuredAs, measuredReserved, measuredAllocated)
	return decimal.Zero
}

// input is the estimate that describes a measured run.
func input(m measurement) engine.Input {
	return engine.Input{
		Model: m.Model, Method: m.Method, Examples: 1000, TokensPerExample: m.SequenceLength,
		SequenceLength: m.SequenceLength, Provider: "measured", GPUType: m.GPU, Estimator: engine.FLOPs,
		GPUCount: m.GPUs, Sharding: m.Sharding, MicroBatchSize: m.MicroBatchSize, Checkpointing: m.Checkpointing,
		Framework: m.Framework,
		LoRARank:  m.LoRARank, LoRATargets: m.LoRATargets, Precision: m.Precision, LossPrecision: m.LossPrecision,
		GradientAccumulationSteps: m.Accumulation,
		APICostPerRequest:         ptr(decimal.RequireFromString("0.01")),
	}
}

func predict(t *testing.T, c *engine.Catalog, m measurement) (row, bool) {
	in := input(m)
	r, err := engine.Estimate(&in, c)
	if err != nil {
		// A run that was measured ran: refusing it (DoesNotFit) is the worst miss of all.
		t.Errorf("%s: %v", m.Name, err)
		return row{}, false
	}
	out := row{m: m, r: r}
	tokens := decimal.NewFromInt(in.Examples * in.TokensPerExample)
	out.predTPS = tokens.DivRound(r.GPUHours.Mul(decimal.NewFromInt(3600)), 0)
	if m.TokensPerSecondPerGPU != "" {
		measured := decimal.RequireFromString(m.TokensPerSecondPerGPU)
		// Predicted time / measured time = measured throughput / predicted throughput.
		tps := tokens.Div(r.GPUHours.Mul(decimal.NewFromInt(3600)))
		out.timeExact = measured.Div(tps)
		out.timeRatio = out.timeExact.Round(2)
	}
	out.predMemory = *r.MemoryPerGPUGiB
	if m.PeakMemoryGiB != "" {
		// Like with like: a peak of PyTorch's allocator is compared with what the allocator holds.
		exact := r.MemoryBreakdown.Total().Sub(unseen(t, m, r))
		out.comparable = exact.Round(1)
		out.memoryExact = exact.Div(decimal.RequireFromString(m.PeakMemoryGiB))
		out.memoryRatio = out.memoryExact.Round(2)
	}
	return out, true
}

func ptr[T any](v T) *T { return &v }

func verdict(ratio, band decimal.Decimal) string {
	if ratio.Sub(decimal.NewFromInt(1)).Abs().LessThanOrEqual(band) {
		return "within"
	}
	return "outside"
}

// measurements are the published runs of measurements.yaml.
func measurements(t *testing.T) []measurement {
	t.Helper()
	data, err := os.ReadFile("measurements.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ms []measurement
	if err := yaml.UnmarshalStrict(data, &ms); err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestAccuracy(t *testing.T) {
	ms := measurements(t)
	c := catalog(t)
	var rows []row
	for _, m := range ms {
		r, ok := predict(t, c, m)
		if !ok {
			continue
		}
		rows = append(rows, r)
		if m.TokensPerSecondPerGPU != "" {
			if got := verdict(r.timeExact, timeBand); got != m.Time {
				t.Errorf("%s: time ratio %s is %s +/-30%%, measurements.yaml says %q", m.Name, r.timeRatio, got, m.Time)
			}
		}
		if m.PeakMemoryGiB != "" {
			if got := verdict(r.memoryExact, memoryBand); got != m.Memory {
				t.Errorf("%s: memory ratio %s is %s +/-20%%, measurements.yaml says %q", m.Name, r.memoryRatio, got, m.Memory)
			}
			// Memory decides the GPU count: a prediction more than 10% below the measured peak
			// approves a job that runs out of memory, and must be explained.
			if r.memoryExact.LessThan(memoryFloor) && m.Why == "" {
				t.Errorf("%s: memory ratio %s is more than 10%% below the measured peak, with no why", m.Name, r.memoryRatio)
			}
		}
		if (m.Time == "outside" || m.Memory == "outside") && m.Why == "" {
			t.Errorf("%s: an expected miss needs a why", m.Name)
		}
	}
	all := tally(rows, "")
	if all.timeAll < 30 || all.memAll < 25 {
		t.Errorf("%d time and %d memory measurements; the validation needs at least 30 and 25", all.timeAll, all.memAll)
	}
	// Item 4 of the validation: time within +/-30% on at least 80% of the runs, framework stated.
	if all.timeWithin*5 < all.timeAll*4 {
		t.Errorf("time within +/-30%% on %d of %d runs, below 80%%", all.timeWithin, all.timeAll)
	}
	t.Logf("time within +/-30%%: %d of %d; memory within +/-20%%: %d of %d, %d more than 10%% below",
		all.timeWithin, all.timeAll, all.memWithin, all.memAll, all.memLow)
	checkDoc(t, render(rows))
}

// memoryFloor is the lowest predicted / measured memory that does not under-promise.
var memoryFloor = decimal.RequireFromString("0.90")

type totals struct{ timeWithin, timeAll, memWithin, memAll, memLow int }

// tally counts the rows of one framework ("" for all) within their bands.
func tally(rows []row, fw engine.Framework) totals {
	var s totals
	for _, r := range rows {
		if fw != "" && r.m.Framework != fw {
			continue
		}
		if r.m.TokensPerSecondPerGPU != "" {
			s.timeAll++
			if verdict(r.timeExact, timeBand) == "within" {
				s.timeWithin++
			}
		}
		if r.m.PeakMemoryGiB != "" {
			s.memAll++
			if verdict(r.memoryExact, memoryBand) == "within" {
				s.memWithin++
			}
			if r.memoryExact.LessThan(memoryFloor) {
				s.memLow++
			}
		}
	}
	return s
}

// TestUnstatedFrameworkIsConservative: an estimate that names no framework never needs less memory
// than the same job on a named one, so leaving the stack out never approves a job that a stack
// would run out of memory on.
func TestUnstatedFrameworkIsConservative(t *testing.T) {
	ms := measurements(t)
	c := catalog(t)
	for _, m := range ms {
		stated, ok := predict(t, c, m)
		if !ok {
			continue
		}
		m.Framework = ""
		in := input(m)
		r, err := engine.Estimate(&in, c)
		if err != nil {
			var e *engine.Error
			if errors.As(err, &e) && e.Reason == engine.ReasonDoesNotFit {
				continue // refusing is the conservative answer
			}
			t.Fatalf("%s without a framework: %v", m.Name, err)
		}
		if r.MemoryPerGPUGiB.LessThan(stated.predMemory) {
			t.Errorf("%s: %s GiB without a framework, %s GiB on %s", m.Name, r.MemoryPerGPUGiB, stated.predMemory, stated.m.Framework)
		}
	}
}

func render(rows []row) string {
	var b strings.Builder
	all := tally(rows, "")
	fmt.Fprintf(&b, "Time within +/-30%%: **%d of %d**. Memory per GPU within +/-20%%: **%d of %d**; more than 10%% below the measured peak: **%d**.\n\n",
		all.timeWithin, all.timeAll, all.memWithin, all.memAll, all.memLow)
	b.WriteString("| framework | time within +/-30% | memory within +/-20% | memory more than 10% low |\n|---|---|---|---|\n")
	for _, fw := range []engine.Framework{engine.NeMo, engine.PyTorch, engine.HuggingFace, engine.DeepSpeed, engine.Unsloth} {
		s := tally(rows, fw)
		fmt.Fprintf(&b, "| %s | %d of %d | %d of %d | %d |\n", fw, s.timeWithin, s.timeAll, s.memWithin, s.memAll, s.memLow)
	}
	b.WriteString("\n")
	b.WriteString("| run | framework | model | method | GPUs | seq x micro-batch | ckpt | measured tok/s/GPU | predicted | time ratio | measured GiB | counts | predicted | memory ratio |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		m := r.m
		timeCells := "| | |"
		if m.TokensPerSecondPerGPU != "" {
			timeCells = fmt.Sprintf("%s | %s | %s%s |", m.TokensPerSecondPerGPU, r.predTPS, r.timeRatio, mark(m.Time))
		}
		memCells := "| | | |"
		if m.PeakMemoryGiB != "" {
			counts := m.MemoryMeasuredAs
			if counts == "" {
				counts = "GPU"
			}
			memCells = fmt.Sprintf("%s | %s | %s | %s%s |", m.PeakMemoryGiB, counts, r.comparable.StringFixed(1), r.memoryRatio, mark(m.Memory))
		}
		method := string(m.Method)
		switch m.LossPrecision {
		case engine.LossHalf:
			method += ", 16-bit loss"
		case engine.LossFP32:
			method += ", fp32 loss"
		}
		fmt.Fprintf(&b, "| [%s](%s) | %s | %s | %s | %d x %s, %s | %d x %d | %s | %s %s\n", m.Name, m.Source, m.Framework, m.Model, method,
			m.GPUs, m.GPU, r.r.Sharding, m.SequenceLength, m.MicroBatchSize, r.r.Checkpointing, timeCells, memCells)
	}
	b.WriteString("\nRatios are predicted / measured time (measured / predicted throughput) and predicted / measured memory; ")
	b.WriteString("a ratio marked ✗ is outside its band, for the reason below. A peak counts the whole GPU (GPU: nvidia-smi, ")
	b.WriteString("or the source does not say), PyTorch's reserved memory or its allocated memory; the predicted memory beside it ")
	b.WriteString("is the estimate less what that count cannot see (reserved: the CUDA context and NCCL's buffers; allocated: ")
	b.WriteString("also the allocator's fragmentation). A 16-bit or fp32 loss is `lossPrecision: Half` or `FP32`, stated where the stack's own loss is not what ran.\n\n")
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

// TestQwenLossSlope backs docs/cost-model.md's slopes: how much Qwen's Q-LoRA peaks grow a token of
// sequence from 2,048 to 8,192 tokens, measured and predicted with a 16-bit and an fp32 loss.
func TestQwenLossSlope(t *testing.T) {
	c := catalog(t)
	byName := map[string]measurement{}
	for _, m := range measurements(t) {
		byName[m.Name] = m
	}
	mib := decimal.NewFromInt(1 << 20)
	gib := decimal.NewFromInt(1 << 30)
	slope := func(short, long decimal.Decimal) string {
		return long.Sub(short).Mul(gib).Div(decimal.NewFromInt(8192 - 2048)).Div(mib).StringFixed(2)
	}
	predicted := func(m measurement, loss engine.LossPrecision) decimal.Decimal {
		m.LossPrecision = loss
		in := input(m)
		r, err := engine.Estimate(&in, c)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		return r.MemoryBreakdown.Total()
	}
	var figures []string
	for _, size := range []string{"7b", "14b"} {
		short, long := byName["qwen-"+size+"-qlora-2048-1xa100"], byName["qwen-"+size+"-qlora-8192-1xa100"]
		if short.LossPrecision != engine.LossHalf || long.LossPrecision != engine.LossHalf {
			t.Fatalf("qwen-%s's Q-LoRA rows are not described with lossPrecision Half", size)
		}
		figures = append(figures, fmt.Sprintf("Qwen-%s: measured %s, Half %s, FP32 %s MiB a token", strings.ToUpper(size),
			slope(decimal.RequireFromString(short.PeakMemoryGiB), decimal.RequireFromString(long.PeakMemoryGiB)),
			slope(predicted(short, engine.LossHalf), predicted(long, engine.LossHalf)),
			slope(predicted(short, engine.LossFP32), predicted(long, engine.LossFP32))))
	}
	doc, err := os.ReadFile("../../docs/cost-model.md")
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(string(doc)), " ")
	for _, f := range figures {
		if !strings.Contains(flat, f) {
			t.Errorf("docs/cost-model.md does not say %q", f)
		}
	}
}
