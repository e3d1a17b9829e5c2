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
		{Name: "llama-7b", Parameters: 7_000_000_000, ScaleFactor: d("1")},
		{Name: "llama-13b", Parameters: 13_000_000_000, ScaleFactor: d("2")},
		{Name: "llama-70b", Parameters: 70_000_000_000, ScaleFactor: d("8")},
		{Name: "llama-405b", Parameters: 405_000_000_000, ScaleFactor: d("50")},
	} {
		m.Provenance = article
		c.Models[m.Name] = m
	}
	c.GPUs["H100"] = GPU{Name: "H100", MemoryGiB: 80, PeakBF16TFLOPs: d("989"),
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
