package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProviderKind says how a provider bills training.
// +kubebuilder:validation:Enum=GPUHourly;Managed
type ProviderKind string

// Provider kinds.
const (
	// ProviderKindGPUHourly bills GPU-hours at a price per GPU type.
	ProviderKindGPUHourly ProviderKind = "GPUHourly"
	// ProviderKindManaged bills training tokens (a managed fine-tuning service).
	ProviderKindManaged ProviderKind = "Managed"
)

// Market says whether a GPU price is on-demand or spot (interruptible).
// +kubebuilder:validation:Enum=OnDemand;Spot
type Market string

// Markets.
const (
	// MarketOnDemand is a price for capacity held until released.
	MarketOnDemand Market = "OnDemand"
	// MarketSpot is a price for interruptible capacity.
	MarketSpot Market = "Spot"
)

// Provenance says where a price or figure came from and since when it holds.
type Provenance struct {
	// source names where the figure came from: a URL, a document or a datasheet.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Source string `json:"source,omitempty"`
	// effectiveDate is the date (YYYY-MM-DD) since which the figure holds; a real calendar date.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`
	// +kubebuilder:validation:Format=date
	// +kubebuilder:validation:MaxLength=10
	EffectiveDate string `json:"effectiveDate,omitempty"`
}

// CatalogModel is a base model that can be fine-tuned.
type CatalogModel struct {
	// name is how estimates refer to the model (for example llama-13b).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// parameters is the number of parameters, for memory and FLOPs estimates (at most 10^14).
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000000000000
	Parameters int64 `json:"parameters"`
	// scaleFactor is the Empirical estimator's GPU-hours multiplier relative to a 7B model. A model
	// without one is estimated by FLOPs only.
	// +optional
	ScaleFactor Decimal `json:"scaleFactor,omitempty"`
	// architecture is the model's shape from its published config; memory and FLOPs come from it.
	// Without it they come from the parameter count alone.
	// +optional
	Architecture *Architecture `json:"architecture,omitempty"`
	Provenance   `json:",inline"`
}

// Architecture is a decoder-only transformer's shape, as its published config.json states it.
// +kubebuilder:validation:XValidation:rule="self.kvHeads <= self.attentionHeads",message="kvHeads must be at most attentionHeads"
type Architecture struct {
	// layers is num_hidden_layers.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	Layers int64 `json:"layers"`
	// hiddenSize is hidden_size.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	HiddenSize int64 `json:"hiddenSize"`
	// intermediateSize is the MLP's intermediate_size.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000000
	IntermediateSize int64 `json:"intermediateSize"`
	// attentionHeads is num_attention_heads.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000
	AttentionHeads int64 `json:"attentionHeads"`
	// kvHeads is num_key_value_heads (grouped-query attention); equal to attentionHeads without it.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000
	KVHeads int64 `json:"kvHeads"`
	// vocabSize is vocab_size.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000000
	VocabSize int64 `json:"vocabSize"`
	// tiedEmbeddings says the output head shares the input embedding (tie_word_embeddings).
	// +optional
	TiedEmbeddings bool `json:"tiedEmbeddings,omitempty"`
	// source is the published configuration these figures come from.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Source string `json:"source,omitempty"`
}

// GPUGeneration is a GPU architecture generation; training utilisation differs by generation.
// +kubebuilder:validation:Enum=Ampere;Ada;Hopper;Blackwell
type GPUGeneration string

// CatalogGPU is a GPU type.
type CatalogGPU struct {
	// name is the GPU type (for example H100).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// memoryGiB is the GPU's memory.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4096
	MemoryGiB int32 `json:"memoryGiB"`
	// peakBF16TFLOPs is the GPU's peak dense bf16 throughput in TFLOP/s (no sparsity).
	// +required
	PeakBF16TFLOPs Decimal `json:"peakBF16TFLOPs"`
	// generation is the GPU's architecture generation (Ampere, Ada, Hopper, Blackwell); the FLOPs
	// estimator's utilisation depends on it. Omitted, a conservative 40% is assumed.
	// +optional
	Generation GPUGeneration `json:"generation,omitempty"`
	// memoryBandwidthGBps is the GPU's memory bandwidth in GB/s; serving decodes at it.
	// +optional
	MemoryBandwidthGBps Decimal `json:"memoryBandwidthGBps,omitempty"`
	Provenance          `json:",inline"`
}

// GPUPrice is a provider's price for one GPU type.
type GPUPrice struct {
	// gpuType names a GPU of the catalog.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	GPUType string `json:"gpuType"`
	// pricePerGPUHour is the price of one GPU for one hour, in USD.
	// +required
	PricePerGPUHour Decimal `json:"pricePerGPUHour"`
}

// CatalogProvider is where training runs.
// +kubebuilder:validation:XValidation:rule="self.kind != 'GPUHourly' || (has(self.gpuPrices) && size(self.gpuPrices) > 0)",message="a GPUHourly provider needs gpuPrices"
// +kubebuilder:validation:XValidation:rule="self.kind != 'Managed' || has(self.pricePerMillionTrainingTokens)",message="a Managed provider needs pricePerMillionTrainingTokens"
type CatalogProvider struct {
	// name is how estimates refer to the provider (for example runpod).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// kind is GPUHourly (bills GPU-hours) or Managed (bills training tokens).
	// +required
	Kind ProviderKind `json:"kind"`
	// market is OnDemand or Spot, for GPUHourly providers.
	// +optional
	Market Market `json:"market,omitempty"`
	// defaultGPU is the GPU type priced when an estimate names none; defaults to the first of
	// gpuPrices by name.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	DefaultGPU string `json:"defaultGPU,omitempty"`
	// gpuPrices are the provider's prices per GPU type.
	// +optional
	// +listType=map
	// +listMapKey=gpuType
	// +kubebuilder:validation:MaxItems=64
	GPUPrices []GPUPrice `json:"gpuPrices,omitempty"`
	// pricePerMillionTrainingTokens is a Managed provider's training price, in USD.
	// +optional
	PricePerMillionTrainingTokens *Decimal `json:"pricePerMillionTrainingTokens,omitempty"`
	// models are the base models a Managed provider fine-tunes; estimates must name one of them.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=63
	Models []string `json:"models,omitempty"`
	// servingAPIModel is the API model that bills a Managed provider's fine-tuned model per token.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	ServingAPIModel string `json:"servingAPIModel,omitempty"`
	Provenance      `json:",inline"`
}

// CatalogAPIModel is an LLM API billed per token.
type CatalogAPIModel struct {
	// name is how estimates refer to the API model (for example claude-sonnet).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// inputPricePerMillionTokens is the price of a million input tokens, in USD.
	// +required
	InputPricePerMillionTokens Decimal `json:"inputPricePerMillionTokens"`
	// outputPricePerMillionTokens is the price of a million output tokens, in USD.
	// +required
	OutputPricePerMillionTokens Decimal `json:"outputPricePerMillionTokens"`
	Provenance                  `json:",inline"`
}

// PriceCatalogSpec holds the prices and figures estimates are computed from.
type PriceCatalogSpec struct {
	// models are the base models that can be fine-tuned.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=256
	Models []CatalogModel `json:"models,omitempty"`
	// gpus are the GPU types.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	GPUs []CatalogGPU `json:"gpus,omitempty"`
	// providers are where training runs.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=256
	Providers []CatalogProvider `json:"providers,omitempty"`
	// apiModels are LLM APIs billed per token.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=1024
	APIModels []CatalogAPIModel `json:"apiModels,omitempty"`
	// maxAge is how old a price's effectiveDate (of a provider or an API model) may be before the
	// catalog is Stale: a Go duration of hours, minutes and seconds, e.g. "720h" (30 days), at most
	// "876000h" (100 years). Models and GPUs are specifications and do not age. Omitted, prices never
	// go stale.
	// +optional
	MaxAge *Duration `json:"maxAge,omitempty"`
}

// Duration is a Go duration string such as "720h" or "1h30m": no days or years, since their length
// varies. It is a string in Go as on the wire, so an object stored before the schema checked it still
// decodes, and the controller reports it instead of failing to read every catalog.
// +kubebuilder:validation:MaxLength=32
// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$') || duration(self) <= duration('876000h')",message="must be a duration of at most 876000h (100 years), such as 720h"
type Duration string

// PriceCatalogStatus is what the controller observed of a catalog.
type PriceCatalogStatus struct {
	// observedGeneration is the metadata.generation last observed.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// models is how many models the catalog holds.
	// +optional
	Models int32 `json:"models,omitempty"`
	// gpus is how many GPU types the catalog holds.
	// +optional
	GPUs int32 `json:"gpus,omitempty"`
	// providers is how many providers the catalog holds.
	// +optional
	Providers int32 `json:"providers,omitempty"`
	// apiModels is how many API models the catalog holds.
	// +optional
	APIModels int32 `json:"apiModels,omitempty"`
	// oldestEffectiveDate is the oldest effectiveDate of any price (providers and API models).
	// +optional
	OldestEffectiveDate string `json:"oldestEffectiveDate,omitempty"`
	// conditions: Ready, and Stale while prices are older than allowed.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// PriceCatalog is a set of prices: models, GPUs, providers and API models, each with its source.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=pcat,categories=ftcost
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Stale",type=string,JSONPath=`.status.conditions[?(@.type=="Stale")].status`
// +kubebuilder:printcolumn:name="Models",type=integer,JSONPath=`.status.models`
// +kubebuilder:printcolumn:name="Providers",type=integer,JSONPath=`.status.providers`
// +kubebuilder:printcolumn:name="API-Models",type=integer,JSONPath=`.status.apiModels`
// +kubebuilder:printcolumn:name="Oldest-Price",type=string,JSONPath=`.status.oldestEffectiveDate`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type PriceCatalog struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the catalog's content.
	// +required
	Spec PriceCatalogSpec `json:"spec"`
	// status is what the controller observed.
	// +optional
	Status PriceCatalogStatus `json:"status,omitempty"`
}

// PriceCatalogList is a list of PriceCatalogs.
// +kubebuilder:object:root=true
type PriceCatalogList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PriceCatalog `json:"items"`
}

func init() {
	SchemeBuilder.Register(&PriceCatalog{}, &PriceCatalogList{})
}
