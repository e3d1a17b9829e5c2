package engine

import "github.com/shopspring/decimal"

// BuiltinCatalogName names the catalog compiled into ftcost.
const BuiltinCatalogName = "builtin"

const (
	articleSource = "Fine-Tuning Economics article (docs/cost-model.md#the-fine-tuning-economics-article)"
	articleDate   = "2026-01-01"
	// H100 SXM: 80 GB HBM3, 989 TFLOP/s dense BF16 (1,979 with sparsity), NVIDIA H100 datasheet.
	h100Source = "NVIDIA H100 Tensor Core GPU datasheet (SXM5: 80 GB, 989 TFLOPS BF16 dense)"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// BuiltinCatalog returns a fresh copy of the article's prices: Llama 7B to 405B with the article's scale
// factors, H100 prices at five providers, OpenAI's managed GPT-4 fine-tuning, and Claude Sonnet; plus
// the sourced market data of market.go (more GPU types, their prices at the article's providers, and
// more API models), which never overrides a figure of the article.
func BuiltinCatalog() *Catalog {
	c := NewCatalog(BuiltinCatalogName, 0)
	article := Provenance{Source: articleSource, EffectiveDate: articleDate}
	for _, m := range []Model{
		{Name: "llama-7b", Parameters: 7_000_000_000, ScaleFactor: d("1"), Architecture: archLlama2_7B},
		{Name: "llama-13b", Parameters: 13_000_000_000, ScaleFactor: d("2"), Architecture: archLlama2_13B},
		{Name: "llama-70b", Parameters: 70_000_000_000, ScaleFactor: d("8"), Architecture: archLlama2_70B},
		{Name: "llama-405b", Parameters: 405_000_000_000, ScaleFactor: d("50"), Architecture: archLlama31_405B},
	} {
		m.Provenance = article
		c.Models[m.Name] = m
	}
	// Llama 3.x by their exact parameter counts. The article's table has no scale factor for them:
	// they are estimated by FLOPs.
	for _, m := range []Model{
		{Name: "llama-3.2-1b", Parameters: 1_235_814_400, Architecture: archLlama32_1B},
		{Name: "llama-3.2-3b", Parameters: 3_212_749_824, Architecture: archLlama32_3B},
		{Name: "llama-3.1-8b", Parameters: 8_030_261_248, Architecture: archLlama31_8B},
		{Name: "llama-3.1-70b", Parameters: 70_553_706_496, Architecture: archLlama31_70B},
		{Name: "llama-3.1-405b", Parameters: 405_853_388_800, Architecture: archLlama31_405B},
	} {
		m.Provenance = Provenance{Source: m.Architecture.Source, EffectiveDate: llama3Date}
		c.Models[m.Name] = m
	}
	c.GPUs["H100"] = GPU{Name: "H100", MemoryGiB: 80, PeakBF16TFLOPs: d("989"), Generation: Hopper, MemoryBandwidthGBps: d("3350"),
		Provenance: Provenance{Source: h100Source, EffectiveDate: "2023-03-21"}}
	for _, p := range []struct {
		name  string
		price string
		spot  bool
	}{
		{"aws-on-demand", "2.88", false},
		{"aws-spot", "0.86", true},
		{"runpod", "2.49", false},
		{"lambda-labs", "3.98", false},
		{"on-premise", "2.73", false},
	} {
		c.Providers[p.name] = Provider{Name: p.name, Kind: GPUHourly, Spot: p.spot, DefaultGPU: "H100",
			GPUPrices: map[string]decimal.Decimal{"H100": d(p.price)}, Provenance: article}
	}
	c.Providers["openai-gpt-4"] = Provider{Name: "openai-gpt-4", Kind: Managed,
		PricePerMillionTrainingTokens: d("25"), Models: []string{"gpt-4"},
		ServingAPIModel: "openai-gpt-4-finetuned", Provenance: article}
	for _, a := range []APIModel{
		{Name: "claude-sonnet", InputPerMillionToken: d("3"), OutputPerMillionToken: d("15")},
		{Name: "openai-gpt-4-finetuned", InputPerMillionToken: d("30"), OutputPerMillionToken: d("60")},
	} {
		a.Provenance = article
		c.APIModels[a.Name] = a
	}
	addMarket(c)
	return c
}

// The published configurations (config.json) of the Llama models: the article's "Llama 7B, 13B, 70B"
// are Llama 2's, its "405B" is Llama 3.1's.
var (
	llama3Date       = "2024-07-23"
	archLlama2_7B    = &Architecture{Layers: 32, HiddenSize: 4096, IntermediateSize: 11008, AttentionHeads: 32, KVHeads: 32, VocabSize: 32000, Source: "https://huggingface.co/meta-llama/Llama-2-7b-hf/blob/main/config.json"}
	archLlama2_13B   = &Architecture{Layers: 40, HiddenSize: 5120, IntermediateSize: 13824, AttentionHeads: 40, KVHeads: 40, VocabSize: 32000, Source: "https://huggingface.co/meta-llama/Llama-2-13b-hf/blob/main/config.json"}
	archLlama2_70B   = &Architecture{Layers: 80, HiddenSize: 8192, IntermediateSize: 28672, AttentionHeads: 64, KVHeads: 8, VocabSize: 32000, Source: "https://huggingface.co/meta-llama/Llama-2-70b-hf/blob/main/config.json"}
	archLlama32_1B   = &Architecture{Layers: 16, HiddenSize: 2048, IntermediateSize: 8192, AttentionHeads: 32, KVHeads: 8, VocabSize: 128256, TiedEmbeddings: true, Source: "https://huggingface.co/meta-llama/Llama-3.2-1B/blob/main/config.json"}
	archLlama32_3B   = &Architecture{Layers: 28, HiddenSize: 3072, IntermediateSize: 8192, AttentionHeads: 24, KVHeads: 8, VocabSize: 128256, TiedEmbeddings: true, Source: "https://huggingface.co/meta-llama/Llama-3.2-3B/blob/main/config.json"}
	archLlama31_8B   = &Architecture{Layers: 32, HiddenSize: 4096, IntermediateSize: 14336, AttentionHeads: 32, KVHeads: 8, VocabSize: 128256, Source: "https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json"}
	archLlama31_70B  = &Architecture{Layers: 80, HiddenSize: 8192, IntermediateSize: 28672, AttentionHeads: 64, KVHeads: 8, VocabSize: 128256, Source: "https://huggingface.co/meta-llama/Llama-3.1-70B/blob/main/config.json"}
	archLlama31_405B = &Architecture{Layers: 126, HiddenSize: 16384, IntermediateSize: 53248, AttentionHeads: 128, KVHeads: 8, VocabSize: 128256, Source: "https://huggingface.co/meta-llama/Llama-3.1-405B/blob/main/config.json"}
)
