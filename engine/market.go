package engine

import "github.com/shopspring/decimal"

// Market figures beyond the article: more GPU types, per-GPU-type prices at the article's providers, and more
// API models, each with where it came from and since when. docs/prices.md lists every figure with its
// source and says how to refresh them. Nothing here changes a figure of the article: addMarket only adds entries
// that are absent, so the article's H100 prices and each provider's DefaultGPU stay as they are.

// Sources. A date is the one the source states; where a source states none (a stored catalog snapshot or
// an undated pricing page) the date is the day it was read, marketReadDate, and the source says so.
const (
	marketReadDate = "2026-11-27"

	srcH200 = "NVIDIA H200 Tensor Core GPU datasheet (SXM: 141 GB HBM3e; BF16 Tensor Core 1,979 TFLOPS " +
		"with sparsity, so 989 dense); announced 2023-11-13 at SC23"
	srcA100 = "NVIDIA A100 Tensor Core GPU datasheet (nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf; 80GB " +
		"SXM: 80 GB HBM2e; BF16 Tensor Core 312 TFLOPS dense, 624 with sparsity); A100 80GB announced 2020-11-16 at SC20"
	srcL40S = "NVIDIA L40S datasheet (48 GB GDDR6; BFLOAT16 Tensor Core 362.05 TFLOPS dense, 733 with sparsity); " +
		"announced 2023-08-08 at SIGGRAPH"
	srcRTX4090 = "NVIDIA Ada GPU Architecture whitepaper, appendix (GeForce RTX 4090: 24 GB GDDR6X; peak BF16 Tensor " +
		"TFLOPS with FP32 accumulate 165.2 dense, 330.4 with sparsity); launched 2022-10-12"

	srcAWSOnDemand = "AWS EC2 on-demand Linux, us-east-1, per instance-hour / GPUs per instance; instances.vantage.sh " +
		"data as stored in github.com/tsaol/aws-gpu data/*_instances.js (\"Last updated: 2026-08-26\", commit 299375be)"
	srcAWSSpot = "AWS EC2 spot, us-east-1, lowest availability-zone price in the snapshot / GPUs per instance; " +
		"SkyPilot catalog github.com/skypilot-org/skypilot-catalog catalogs/v7/aws/vms.csv (commit 001367d2, " +
		"snapshot undated; read " + marketReadDate + ")"
	srcRunPod = "RunPod Secure Cloud on-demand, 1-GPU pod; SkyPilot catalog github.com/skypilot-org/skypilot-catalog " +
		"catalogs/v7/runpod/vms.csv (commit 0727c2bd, snapshot undated; read " + marketReadDate + ")"
	srcLambda = "Lambda on-demand gpu_8x_a100_80gb_sxm4 $14.32/h / 8 GPUs; SkyPilot catalog " +
		"github.com/skypilot-org/skypilot-catalog catalogs/v7/lambda/vms.csv (commit 11580132, snapshot undated; read " +
		marketReadDate + ")"

	srcLiteLLM = "LiteLLM model_prices_and_context_window.json, github.com/BerriAI/litellm (commit 00035b69; " +
		"read " + marketReadDate + ")"
	srcAnthropic = "Anthropic pricing page, docs.anthropic.com/en/docs/about-claude/pricing and " +
		"platform.claude.com/docs/about-claude/pricing (base input / output tokens; page undated; read " + marketReadDate + ")"
	srcXAI = "xAI Docs, Models and Pricing, docs.x.ai/docs/models (archived 2025-06-02 at archive.fo/dYUtw)"
)

// marketGPUs are the GPU types beyond the article's H100: memory in GiB as marketed, peak dense BF16 tensor
// throughput (no sparsity).
var marketGPUs = []GPU{
	{Name: "H200", MemoryGiB: 141, PeakBF16TFLOPs: d("989"), Generation: Hopper, MemoryBandwidthGBps: d("4800"),
		Provenance: Provenance{Source: srcH200, EffectiveDate: "2023-11-13"}},
	{Name: "A100-80GB", MemoryGiB: 80, PeakBF16TFLOPs: d("312"), Generation: Ampere, MemoryBandwidthGBps: d("2039"),
		Provenance: Provenance{Source: srcA100, EffectiveDate: "2020-11-16"}},
	{Name: "A100-40GB", MemoryGiB: 40, PeakBF16TFLOPs: d("312"), Generation: Ampere, MemoryBandwidthGBps: d("1555"),
		Provenance: Provenance{Source: srcA100, EffectiveDate: "2020-05-14"}},
	{Name: "L40S", MemoryGiB: 48, PeakBF16TFLOPs: d("362.05"), Generation: Ada, MemoryBandwidthGBps: d("864"),
		Provenance: Provenance{Source: srcL40S, EffectiveDate: "2023-08-08"}},
	{Name: "RTX4090", MemoryGiB: 24, PeakBF16TFLOPs: d("165.2"), Generation: Ada, MemoryBandwidthGBps: d("1008"),
		Provenance: Provenance{Source: srcRTX4090, EffectiveDate: "2022-10-12"}},
}

// marketGPUPrice is one provider's price for one GPU type: the instance it comes from, that instance's
// hourly price and how many GPUs it has. The price per GPU-hour is instance price / GPUs per instance.
type marketGPUPrice struct {
	Provider        string
	GPU             string
	Instance        string
	InstancePrice   decimal.Decimal // USD per instance-hour
	GPUsPerInstance int64
	Provenance
}

// marketPricePlaces is how many decimals a price per GPU-hour keeps: a PriceCatalog's decimals allow six.
const marketPricePlaces = 6

// PerGPUHour is the price of one GPU-hour: instance price / GPUs per instance, rounded half away from
// zero to six decimals (only p4de.24xlarge's 27.44705 / 8 = 3.43088125 needs it: 3.430881).
func (p marketGPUPrice) PerGPUHour() decimal.Decimal {
	return p.InstancePrice.DivRound(decimal.NewFromInt(p.GPUsPerInstance), marketPricePlaces)
}

// marketGPUPrices are per-GPU-type prices at the article's providers. A combination that is absent was not
// offered by the provider or could not be sourced (docs/prices.md lists them); on-premise keeps only its
// article's H100 price.
var marketGPUPrices = []marketGPUPrice{
	// AWS on-demand, us-east-1 (no RTX 4090 instance on AWS).
	{Provider: "aws-on-demand", GPU: "H200", Instance: "p5en.48xlarge", InstancePrice: d("63.296"), GPUsPerInstance: 8,
		Provenance: Provenance{Source: srcAWSOnDemand, EffectiveDate: "2026-08-26"}},
	{Provider: "aws-on-demand", GPU: "A100-80GB", Instance: "p4de.24xlarge", InstancePrice: d("27.44705"), GPUsPerInstance: 8,
		Provenance: Provenance{Source: srcAWSOnDemand, EffectiveDate: "2026-08-26"}},
	{Provider: "aws-on-demand", GPU: "L40S", Instance: "g6e.xlarge", InstancePrice: d("1.861"), GPUsPerInstance: 1,
		Provenance: Provenance{Source: srcAWSOnDemand, EffectiveDate: "2026-08-26"}},

	// AWS spot, us-east-1: p5en use1-az2 (the only us-east-1 AZ listed), p4de use1-az6, g6e use1-az2.
	{Provider: "aws-spot", GPU: "H200", Instance: "p5en.48xlarge (use1-az2)", InstancePrice: d("24.2902"), GPUsPerInstance: 8,
		Provenance: Provenance{Source: srcAWSSpot, EffectiveDate: marketReadDate}},
	{Provider: "aws-spot", GPU: "A100-80GB", Instance: "p4de.24xlarge (use1-az6)", InstancePrice: d("5.8394"), GPUsPerInstance: 8,
		Provenance: Provenance{Source: srcAWSSpot, EffectiveDate: marketReadDate}},
	{Provider: "aws-spot", GPU: "L40S", Instance: "g6e.xlarge (use1-az2)", InstancePrice: d("0.787"), GPUsPerInstance: 1,
		Provenance: Provenance{Source: srcAWSSpot, EffectiveDate: marketReadDate}},

	// RunPod Secure Cloud on-demand, one GPU per pod.
	{Provider: "runpod", GPU: "H200", Instance: "1x_H200-SXM_SECURE", InstancePrice: d("3.99"), GPUsPerInstance: 1,
		Provenance: Provenance{Source: srcRunPod, EffectiveDate: marketReadDate}},
	{Provider: "runpod", GPU: "A100-80GB", Instance: "1x_A100-80GB-SXM_SECURE", InstancePrice: d("1.89"), GPUsPerInstance: 1,
		Provenance: Provenance{Source: srcRunPod, EffectiveDate: marketReadDate}},
	{Provider: "runpod", GPU: "L40S", Instance: "1x_L40S_SECURE", InstancePrice: d("0.86"), GPUsPerInstance: 1,
		Provenance: Provenance{Source: srcRunPod, EffectiveDate: marketReadDate}},
	{Provider: "runpod", GPU: "RTX4090", Instance: "1x_RTX4090_SECURE", InstancePrice: d("0.69"), GPUsPerInstance: 1,
		Provenance: Provenance{Source: srcRunPod, EffectiveDate: marketReadDate}},

	// Lambda on-demand: of the new types only the A100 80GB SXM is offered.
	{Provider: "lambda-labs", GPU: "A100-80GB", Instance: "gpu_8x_a100_80gb_sxm4", InstancePrice: d("14.32"), GPUsPerInstance: 8,
		Provenance: Provenance{Source: srcLambda, EffectiveDate: marketReadDate}},
}

// marketAPIModels are LLM APIs billed per token, in USD per million input / output tokens at the base
// (standard, non-batch, non-cached) rate.
var marketAPIModels = []APIModel{
	{Name: "gpt-4o", InputPerMillionToken: d("2.50"), OutputPerMillionToken: d("10.00"),
		Provenance: Provenance{Source: srcLiteLLM + ": \"gpt-4o\"", EffectiveDate: marketReadDate}},
	{Name: "gpt-4o-mini", InputPerMillionToken: d("0.15"), OutputPerMillionToken: d("0.60"),
		Provenance: Provenance{Source: srcLiteLLM + ": \"gpt-4o-mini\"", EffectiveDate: marketReadDate}},
	{Name: "gpt-4-1-nano", InputPerMillionToken: d("0.10"), OutputPerMillionToken: d("0.40"),
		Provenance: Provenance{Source: srcLiteLLM + ": \"gpt-4.1-nano\"", EffectiveDate: marketReadDate}},
	{Name: "claude-haiku-3-5", InputPerMillionToken: d("0.80"), OutputPerMillionToken: d("4"),
		Provenance: Provenance{Source: srcAnthropic + ": Claude Haiku 3.5", EffectiveDate: marketReadDate}},
	{Name: "claude-haiku-4-5", InputPerMillionToken: d("1"), OutputPerMillionToken: d("5"),
		Provenance: Provenance{Source: srcAnthropic + ": Claude Haiku 4.5", EffectiveDate: marketReadDate}},
	{Name: "claude-opus-4", InputPerMillionToken: d("15"), OutputPerMillionToken: d("75"),
		Provenance: Provenance{Source: srcLiteLLM + ": \"claude-opus-4-20250514\" (deprecation_date 2026-05-14); same on " +
			"the Anthropic pricing page", EffectiveDate: marketReadDate}},
	{Name: "claude-opus-4-5", InputPerMillionToken: d("5"), OutputPerMillionToken: d("25"),
		Provenance: Provenance{Source: srcLiteLLM + ": \"claude-opus-4-5\"; same on the Anthropic pricing page",
			EffectiveDate: marketReadDate}},
	{Name: "gemini-2-0-flash", InputPerMillionToken: d("0.10"), OutputPerMillionToken: d("0.40"),
		Provenance: Provenance{Source: srcLiteLLM + ": \"gemini/gemini-2.0-flash\" (text input; deprecation_date 2026-06-01)",
			EffectiveDate: marketReadDate}},
	{Name: "gemini-2-5-flash", InputPerMillionToken: d("0.30"), OutputPerMillionToken: d("2.50"),
		Provenance: Provenance{Source: srcLiteLLM + ": \"gemini/gemini-2.5-flash\" (text input)", EffectiveDate: marketReadDate}},
	{Name: "gemini-2-5-pro", InputPerMillionToken: d("1.25"), OutputPerMillionToken: d("10"),
		Provenance: Provenance{Source: srcLiteLLM + ": \"gemini/gemini-2.5-pro\" (prompts up to 200K tokens; 2.50 / 15 above)",
			EffectiveDate: marketReadDate}},
	{Name: "grok-3", InputPerMillionToken: d("3"), OutputPerMillionToken: d("15"),
		Provenance: Provenance{Source: srcXAI + ": grok-3", EffectiveDate: "2025-06-02"}},
	{Name: "grok-3-mini", InputPerMillionToken: d("0.30"), OutputPerMillionToken: d("0.50"),
		Provenance: Provenance{Source: srcXAI + ": grok-3-mini", EffectiveDate: "2025-06-02"}},
}

// addMarket adds the market GPUs, per-GPU-type prices and API models to c. It only adds what is absent:
// no figure of the article, no provider's DefaultGPU and no existing price is replaced, a price is added only to a
// provider already in c, and calling it again leaves c as it is.
func addMarket(c *Catalog) {
	for _, g := range marketGPUs {
		if _, ok := c.GPUs[g.Name]; !ok {
			c.GPUs[g.Name] = g
		}
	}
	for _, mp := range marketGPUPrices {
		p, ok := c.Providers[mp.Provider]
		if !ok || p.Kind != GPUHourly {
			continue
		}
		if _, ok := p.GPUPrices[mp.GPU]; ok {
			continue
		}
		prices := make(map[string]decimal.Decimal, len(p.GPUPrices)+1)
		for k, v := range p.GPUPrices {
			prices[k] = v
		}
		prices[mp.GPU] = mp.PerGPUHour()
		p.GPUPrices = prices
		c.Providers[mp.Provider] = p
	}
	for _, a := range marketAPIModels {
		if _, ok := c.APIModels[a.Name]; !ok {
			c.APIModels[a.Name] = a
		}
	}
}
