package engine

import (
	"sort"

	"github.com/shopspring/decimal"
)

// ProviderKind says how a provider bills training.
type ProviderKind string

// Provider kinds.
const (
	GPUHourly ProviderKind = "GPUHourly"
	Managed   ProviderKind = "Managed"
)

// Provenance says where a figure came from and since when it holds.
type Provenance struct {
	Source        string
	EffectiveDate string
}

// Model is a base model that can be fine-tuned.
type Model struct {
	Name         string
	Parameters   int64
	ScaleFactor  decimal.Decimal // Empirical GPU-hours relative to a 7B model
	Architecture *Architecture   // nil: memory and FLOPs from the parameter count alone
	Provenance
}

// Architecture is a decoder-only transformer's shape, as its published config states it.
type Architecture struct {
	Layers           int64
	HiddenSize       int64
	IntermediateSize int64
	AttentionHeads   int64
	KVHeads          int64
	VocabSize        int64
	// TiedEmbeddings: the output head shares the input embedding's weights (Llama 3.2 1B and 3B).
	TiedEmbeddings bool
	// Source is the published configuration the figures come from.
	Source string
}

// Generation is a GPU architecture generation; training utilisation differs by generation.
type Generation string

// GPU generations.
const (
	Ampere    Generation = "Ampere"
	Ada       Generation = "Ada"
	Hopper    Generation = "Hopper"
	Blackwell Generation = "Blackwell"
)

// GPU is a GPU type.
type GPU struct {
	Name           string
	MemoryGiB      int32
	PeakBF16TFLOPs decimal.Decimal // dense, no sparsity
	Generation     Generation      // "": unknown
	// MemoryBandwidthGBps bounds decoding when serving: every weight is read once per token step.
	MemoryBandwidthGBps decimal.Decimal
	Provenance
}

// Provider is where training runs.
type Provider struct {
	Name       string
	Kind       ProviderKind
	Spot       bool
	DefaultGPU string
	// GPUPrices is the price of one GPU-hour by GPU type (GPUHourly).
	GPUPrices map[string]decimal.Decimal
	// PricePerMillionTrainingTokens is what a Managed provider charges for training.
	PricePerMillionTrainingTokens decimal.Decimal
	// Models are the base models a Managed provider fine-tunes.
	Models []string
	// ServingAPIModel bills a Managed provider's fine-tuned model per token.
	ServingAPIModel string
	Provenance
}

// APIModel is an LLM API billed per token.
type APIModel struct {
	Name                  string
	InputPerMillionToken  decimal.Decimal
	OutputPerMillionToken decimal.Decimal
	Provenance
}

// Catalog is a set of prices. Look entries up by name; an absent entry is an error, never a zero price.
type Catalog struct {
	Name       string
	Generation int64
	Models     map[string]Model
	GPUs       map[string]GPU
	Providers  map[string]Provider
	APIModels  map[string]APIModel
}

// NewCatalog returns an empty catalog.
func NewCatalog(name string, generation int64) *Catalog {
	return &Catalog{
		Name:       name,
		Generation: generation,
		Models:     map[string]Model{},
		GPUs:       map[string]GPU{},
		Providers:  map[string]Provider{},
		APIModels:  map[string]APIModel{},
	}
}

// SortedKeys returns the keys of a catalog map in order, for stable output.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// DefaultGPUOf is the GPU a provider prices when an estimate names none: its DefaultGPU, else the
// first of its prices by name.
func (p Provider) DefaultGPUOf() string {
	if p.DefaultGPU != "" {
		return p.DefaultGPU
	}
	if keys := SortedKeys(p.GPUPrices); len(keys) > 0 {
		return keys[0]
	}
	return ""
}

// pricedGPU is the GPU a GPU-hourly provider rents for gpuType ("" for its default) and its price per
// GPU-hour; an error names field when the provider does not price it or the catalog lacks the GPU.
func (c *Catalog) pricedGPU(provider Provider, gpuType string, field Field) (GPU, decimal.Decimal, error) {
	if gpuType == "" {
		gpuType = provider.DefaultGPUOf()
	}
	price, ok := provider.GPUPrices[gpuType]
	if !ok {
		return GPU{}, decimal.Zero, errorf(ReasonProviderNotFound, field, "provider %q has no price for GPU type %q in price catalog %q", provider.Name, gpuType, c.Name)
	}
	gpu, ok := c.GPUs[gpuType]
	if !ok {
		return GPU{}, decimal.Zero, errorf(ReasonProviderNotFound, field, "GPU type %q priced by provider %q is not among the GPUs of price catalog %q", gpuType, provider.Name, c.Name)
	}
	return gpu, price, nil
}
