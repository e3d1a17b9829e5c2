package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Method is how the model's weights are trained.
// +kubebuilder:validation:Enum=Full;LoRA;QLoRA
type Method string

// Fine-tuning methods.
const (
	// MethodFull trains every weight.
	MethodFull Method = "Full"
	// MethodLoRA trains low-rank adapters over frozen 16-bit weights.
	MethodLoRA Method = "LoRA"
	// MethodQLoRA trains low-rank adapters over frozen 4-bit weights.
	MethodQLoRA Method = "QLoRA"
)

// Estimator is how GPU-hours are estimated.
type Estimator string

// Estimators. Empirical and FLOPs may be asked for in spec; Measured and Managed are reported in status.
const (
	// EstimatorEmpirical uses the Fine-Tuning Economics article's calibrated table: 0.0001 x examples x scale factor x method factor.
	EstimatorEmpirical Estimator = "Empirical"
	// EstimatorFLOPs derives hours from training FLOPs over the GPU's throughput.
	EstimatorFLOPs Estimator = "FLOPs"
	// EstimatorMeasured uses spec.training.hours as measured.
	EstimatorMeasured Estimator = "Measured"
	// EstimatorManaged prices training tokens at a managed provider.
	EstimatorManaged Estimator = "Managed"
)

// Policy says how gates treat an estimate that is not Approved.
// +kubebuilder:validation:Enum=Advisory;Enforce
type Policy string

// Policies.
const (
	// PolicyAdvisory lets gated work through with a message when the estimate is not Approved.
	PolicyAdvisory Policy = "Advisory"
	// PolicyEnforce holds gated work back when the estimate is not Approved.
	PolicyEnforce Policy = "Enforce"
)

// Recommendation is the verdict of an estimate.
type Recommendation string

// Recommendations.
const (
	// RecommendationFineTune: the fine-tune has a positive net present value over the horizon.
	RecommendationFineTune Recommendation = "FineTune"
	// RecommendationAPI: keeping the API is at least as cheap over the horizon.
	RecommendationAPI Recommendation = "API"
	// RecommendationUndetermined: the estimate could not be computed.
	RecommendationUndetermined Recommendation = "Undetermined"
)

// PricingSource says where the prices of an estimate came from.
type PricingSource string

// Pricing sources.
const (
	// PricingSourceCatalog: a PriceCatalog object in the cluster (or a file given to the CLI).
	PricingSourceCatalog PricingSource = "Catalog"
	// PricingSourceBuiltin: the catalog compiled into ftcost, used when no PriceCatalog "default" exists.
	PricingSourceBuiltin PricingSource = "Builtin"
)

// DefaultCatalogName is the PriceCatalog an estimate uses when spec.priceCatalogRef is empty.
const DefaultCatalogName = "default"

// Decimal is a non-negative decimal string such as "1001.25" (USD for money, hours for time).
// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]{1,6})?$`
// +kubebuilder:validation:MaxLength=24
type Decimal string

// SignedDecimal is a decimal string that may be negative, such as "-5" or "2.5".
// +kubebuilder:validation:Pattern=`^-?[0-9]+(\.[0-9]{1,6})?$`
// +kubebuilder:validation:MaxLength=24
type SignedDecimal string

// FineTuneEstimateSpec is what a team wants to fine-tune, where, and what it would otherwise pay an API.
// +kubebuilder:validation:XValidation:rule="has(self.api.costPerRequest) || (has(self.usage.inputTokensPerRequest) && has(self.usage.outputTokensPerRequest))",message="spec.usage.inputTokensPerRequest and spec.usage.outputTokensPerRequest are required unless spec.api.costPerRequest is set"
// +kubebuilder:validation:XValidation:rule="!has(self.training.estimator) || self.training.estimator != 'FLOPs' || has(self.training.hours) || has(self.dataset.tokensPerExample)",message="spec.dataset.tokensPerExample is required by the FLOPs estimator"
// +kubebuilder:validation:XValidation:rule="!has(self.training.estimator) || self.training.estimator != 'Calibrated' || has(self.training.hours) || has(self.dataset.tokensPerExample)",message="spec.dataset.tokensPerExample is required by the Calibrated estimator"
// +kubebuilder:validation:XValidation:rule="!has(self.serving) || !has(self.serving.apiModel) || (has(self.usage.inputTokensPerRequest) && has(self.usage.outputTokensPerRequest))",message="spec.usage.inputTokensPerRequest and spec.usage.outputTokensPerRequest are required when spec.serving.apiModel is set"
type FineTuneEstimateSpec struct {
	// model is the base model to fine-tune, as named in the price catalog (for example llama-13b).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Model string `json:"model"`

	// method is how the weights are trained: Full, LoRA or QLoRA.
	// +required
	Method Method `json:"method"`

	// dataset describes the training data.
	// +required
	Dataset Dataset `json:"dataset"`

	// training says where and how long the training runs.
	// +required
	Training Training `json:"training"`

	// lora describes the adapters, for LoRA and QLoRA.
	// +optional
	LoRA *LoRA `json:"lora,omitempty"`

	// oneTimeCosts are the costs paid once besides GPU time, in USD.
	// +optional
	OneTimeCosts *OneTimeCosts `json:"oneTimeCosts,omitempty"`

	// serving is what running the fine-tuned model costs. Omitted, serving is free (a model run on
	// hardware already paid for in oneTimeCosts).
	// +optional
	Serving *Serving `json:"serving,omitempty"`

	// api is the alternative: keep paying an LLM API.
	// +required
	API APIPricing `json:"api"`

	// usage is the traffic both paths serve.
	// +required
	Usage Usage `json:"usage"`

	// horizonMonths is how many months the comparison covers, 1 to 120. Defaults to 36.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=120
	HorizonMonths *int32 `json:"horizonMonths,omitempty"`

	// annualDiscountRatePercent discounts future savings in netPresentValue, 0 to 100. Defaults to "0".
	// +optional
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[0-9]+(\\\\.[0-9]{1,6})?$') || double(self) <= 100.0",message="spec.annualDiscountRatePercent must be at most 100"
	AnnualDiscountRatePercent *Decimal `json:"annualDiscountRatePercent,omitempty"`

	// budget caps what may be spent up front.
	// +optional
	Budget *Budget `json:"budget,omitempty"`

	// policy says how gates treat an estimate that is not Approved: Advisory (default) lets work through
	// with a message, Enforce holds it back.
	// +optional
	Policy Policy `json:"policy,omitempty"`

	// priceCatalogRef names the cluster-scoped PriceCatalog to price with. Defaults to "default"; when
	// no PriceCatalog "default" exists the built-in catalog is used and status.pricing.source says so.
	// A named catalog that does not exist makes the estimate Ready=False CatalogNotFound.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	PriceCatalogRef string `json:"priceCatalogRef,omitempty"`
}

// Dataset describes the training data.
type Dataset struct {
	// examples is how many training examples there are, at least 1.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000000
	Examples int64 `json:"examples"`

	// tokensPerExample is the average length of an example in tokens. Required by the FLOPs estimator
	// and by managed providers, which bill training tokens.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000000
	TokensPerExample *int64 `json:"tokensPerExample,omitempty"`

	// epochs is how many passes over the data the training makes, at least 1. Used by the FLOPs
	// estimator and managed pricing; the Empirical table is calibrated per run. Defaults to 1.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	Epochs *int32 `json:"epochs,omitempty"`

	// sequenceLength is the tokens of one packed or padded training sequence; it sets the activation
	// memory and the attention work of each token. tokensPerExample stays the average of real tokens.
	// Defaults to tokensPerExample, else 2048.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000000
	SequenceLength *int64 `json:"sequenceLength,omitempty"`
}

// Training says where and how long the training runs.
// +kubebuilder:validation:XValidation:rule="!(has(self.gradientCheckpointing) && has(self.activationCheckpointing))",message="spec.training: set activationCheckpointing or gradientCheckpointing, not both"
type Training struct {
	// provider is where the training runs, as named in the price catalog (for example runpod).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Provider string `json:"provider"`

	// gpuType is the GPU to train on. Defaults to the provider's default GPU.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$`
	GPUType string `json:"gpuType,omitempty"`

	// estimator is how GPU-hours are estimated: Empirical (the Fine-Tuning Economics article's calibrated table, default),
	// FLOPs (training FLOPs over the GPU's throughput; needs spec.dataset.tokensPerExample) or
	// Calibrated (training tokens over the throughput measured on this cluster's finished runs, a
	// ThroughputProfile; FLOPs until it holds enough runs; needs spec.dataset.tokensPerExample).
	// +optional
	// +kubebuilder:validation:Enum=Empirical;FLOPs;Calibrated
	Estimator Estimator `json:"estimator,omitempty"`

	// hours is measured GPU-hours of one training run; set, it replaces the estimator (status.estimator
	// says Measured).
	// +optional
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[0-9]+(\\\\.[0-9]{1,6})?$') || double(self) > 0.0",message="spec.training.hours must be greater than 0"
	Hours *Decimal `json:"hours,omitempty"`

	// gpuCount is how many GPUs the job runs on. Defaults to the fewest that hold it in memory.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	GPUCount *int32 `json:"gpuCount,omitempty"`

	// sharding is how training state is divided across the GPUs: None (data parallel, every GPU holds
	// everything), ZeRO2 (gradients and optimizer state divided) or ZeRO3 (weights too; FSDP full-shard
	// is ZeRO3). Defaults to ZeRO3 on more than one GPU.
	// +optional
	Sharding Sharding `json:"sharding,omitempty"`

	// microBatchSize is the sequences each GPU processes at once. Defaults to 1.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65536
	MicroBatchSize *int32 `json:"microBatchSize,omitempty"`

	// gradientCheckpointing keeps only each layer's input and recomputes the rest in the backward pass:
	// less memory, a third more work. Omitted, it is assumed where it lets the job fit on fewer GPUs;
	// status.gradientCheckpointing says what was assumed. activationCheckpointing says the same and
	// can also say Selective; true is Full, false is None. Set one of the two.
	// +optional
	GradientCheckpointing *bool `json:"gradientCheckpointing,omitempty"`

	// activationCheckpointing is how much of each layer the backward pass recomputes: None (every
	// activation kept), Selective (attention's output and half of the matrix multiplications' outputs
	// kept, the rest recomputed: PyTorch's op-level selective checkpointing, torchtitan's default) or
	// Full (each layer's input kept, the whole layer recomputed). Omitted, as gradientCheckpointing
	// says; status.activationCheckpointing says what was assumed.
	// +optional
	ActivationCheckpointing ActivationCheckpointing `json:"activationCheckpointing,omitempty"`

	// framework is the training stack the job runs on: NeMo (NeMo, Megatron-LM, Megatron-Bridge),
	// PyTorch (native FSDP: torchtune, torchtitan, LitGPT), HuggingFace (Transformers Trainer, TRL,
	// PEFT, axolotl, LLaMA-Factory), DeepSpeed (ZeRO through DeepSpeed itself, such as XTuner) or
	// Unsloth. It sets the memory the logits, the loss and QLoRA's quantised weights take, the
	// utilisation, and the band on estimated hours (docs/cost-model.md). Omitted, the estimate assumes
	// the most memory any stack needs and the article's +/-30%; status.framework says which.
	// +optional
	Framework Framework `json:"framework,omitempty"`

	// precision is how training keeps its state: MixedBF16 (bf16 with fp32 master weights and AdamW
	// moments, 16 bytes a trainable parameter; DeepSpeed, Megatron, Hugging Face Trainer; the default)
	// or BF16 (everything in bf16, 8 bytes; torchtune).
	// +optional
	Precision Precision `json:"precision,omitempty"`

	// lossPrecision is how the logits are kept for the loss: FP32 (an fp32 copy of the whole logits,
	// as Transformers' models and a plain cross-entropy on upcast logits keep them) or Half (the 16-bit
	// logits with no fp32 copy: a model whose own code does not upcast them, such as Qwen (1), trained
	// without autocast, as DeepSpeed's fp16 and bf16 engines run). Omitted, as the framework computes
	// the loss (chunked in torchtune and LitGPT, fused in NeMo and Unsloth, FP32 otherwise);
	// docs/cost-model.md.
	// +optional
	LossPrecision LossPrecision `json:"lossPrecision,omitempty"`

	// gradientAccumulationSteps is how many micro-batches each optimizer step accumulates. At 1, on
	// one GPU without sharding and a framework that frees its gradients each step (PyTorch,
	// HuggingFace, Unsloth), a step's gradients fill only as its backward pass frees the
	// activations, so memory counts the larger of the two; otherwise both are counted
	// (docs/cost-model.md, Memory per GPU).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	GradientAccumulationSteps *int32 `json:"gradientAccumulationSteps,omitempty"`

	// mfuPercent overrides the share of the GPU's peak BF16 throughput the FLOPs estimator assumes
	// (recomputation included), greater than 0 and at most 100.
	// +optional
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[0-9]+(\\\\.[0-9]{1,6})?$') || (double(self) > 0.0 && double(self) <= 100.0)",message="spec.training.mfuPercent must be greater than 0 and at most 100"
	MFUPercent *Decimal `json:"mfuPercent,omitempty"`
}

// ActivationCheckpointing is how much of each layer the backward pass recomputes.
// +kubebuilder:validation:Enum=None;Selective;Full
type ActivationCheckpointing string

// Activation checkpointing.
const (
	ActivationCheckpointingNone      ActivationCheckpointing = "None"
	ActivationCheckpointingSelective ActivationCheckpointing = "Selective"
	ActivationCheckpointingFull      ActivationCheckpointing = "Full"
)

// Framework is the training stack a job runs on.
// +kubebuilder:validation:Enum=NeMo;PyTorch;HuggingFace;DeepSpeed;Unsloth
type Framework string

// Training stacks.
const (
	FrameworkNeMo        Framework = "NeMo"
	FrameworkPyTorch     Framework = "PyTorch"
	FrameworkHuggingFace Framework = "HuggingFace"
	FrameworkDeepSpeed   Framework = "DeepSpeed"
	FrameworkUnsloth     Framework = "Unsloth"
)

// FrameworkConservative is status.framework when the spec names no framework: the figures assume
// the most memory any stack needs and the article's +/-30% band.
const FrameworkConservative = "Conservative"

// Sharding is how training state is divided across GPUs.
// +kubebuilder:validation:Enum=None;ZeRO2;ZeRO3
type Sharding string

// Sharding stages.
const (
	ShardingNone  Sharding = "None"
	ShardingZeRO2 Sharding = "ZeRO2"
	ShardingZeRO3 Sharding = "ZeRO3"
)

// Precision is how training keeps weights, gradients and optimizer state.
// +kubebuilder:validation:Enum=MixedBF16;BF16
type Precision string

// Precisions.
const (
	PrecisionMixedBF16 Precision = "MixedBF16"
	PrecisionBF16      Precision = "BF16"
)

// LossPrecision is how the logits are kept for the loss.
// +kubebuilder:validation:Enum=FP32;Half
type LossPrecision string

// Loss precisions.
const (
	LossPrecisionFP32 LossPrecision = "FP32"
	LossPrecisionHalf LossPrecision = "Half"
)

// LoRATargets are the linear layers that get adapters.
// +kubebuilder:validation:Enum=Attention;AllLinear
type LoRATargets string

// LoRA targets.
const (
	// LoRATargetsAttention: the q, k, v and o projections.
	LoRATargetsAttention LoRATargets = "Attention"
	// LoRATargetsAllLinear: the attention projections and the MLP's gate, up and down.
	LoRATargetsAllLinear LoRATargets = "AllLinear"
)

// LoRA describes the adapters of LoRA and QLoRA.
type LoRA struct {
	// rank is the adapters' rank. Defaults to 16.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65536
	Rank *int32 `json:"rank,omitempty"`
	// targetModules are the layers that get adapters: Attention or AllLinear (the default).
	// +optional
	TargetModules LoRATargets `json:"targetModules,omitempty"`
}

// OneTimeCosts are costs paid once, each a decimal USD string.
type OneTimeCosts struct {
	// dataCollection is what gathering the data costs.
	// +optional
	DataCollection *Decimal `json:"dataCollection,omitempty"`
	// dataLabeling is what labeling and formatting the examples costs.
	// +optional
	DataLabeling *Decimal `json:"dataLabeling,omitempty"`
	// dataCleaning is what cleaning and validating the data costs.
	// +optional
	DataCleaning *Decimal `json:"dataCleaning,omitempty"`
	// experimentation is what experiments and debugging runs cost.
	// +optional
	Experimentation *Decimal `json:"experimentation,omitempty"`
	// deployment is what setting up deployment and monitoring costs.
	// +optional
	Deployment *Decimal `json:"deployment,omitempty"`
	// hardware is hardware bought to serve or train the model, for example an RTX 4090.
	// +optional
	Hardware *Decimal `json:"hardware,omitempty"`
}

// Serving is what running the fine-tuned model costs each month.
type Serving struct {
	// costPerRequest is the cost of serving one request, in USD.
	// +optional
	CostPerRequest *Decimal `json:"costPerRequest,omitempty"`
	// monthlyCost is a fixed monthly cost of serving (a reserved GPU, a hosting plan), in USD.
	// +optional
	MonthlyCost *Decimal `json:"monthlyCost,omitempty"`
	// apiModel is a catalog API model that bills the fine-tuned model per token, as managed fine-tunes
	// do (for example openai-gpt-4-finetuned). It defaults to the managed provider's serving model.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	APIModel string `json:"apiModel,omitempty"`
	// selfHosted serves the fine-tuned model on GPUs rented from a catalog provider, priced like
	// training: always on (hoursPerMonth, default 730) or scaling to zero.
	// +optional
	SelfHosted *SelfHostedServing `json:"selfHosted,omitempty"`
}

// SelfHostedServing is the fine-tuned model served on rented GPUs.
// +kubebuilder:validation:XValidation:rule="!(has(self.replicas) && has(self.minReplicas))",message="spec.serving.selfHosted: set replicas (a fixed count) or minReplicas (a floor), not both"
// +kubebuilder:validation:XValidation:rule="!(has(self.scaleToZero) && self.scaleToZero && (has(self.replicas) || has(self.minReplicas) || has(self.hoursPerMonth)))",message="spec.serving.selfHosted: scaleToZero bills busy hours; it takes no replicas, minReplicas or hoursPerMonth"
type SelfHostedServing struct {
	// provider is a GPUHourly provider of the price catalog (for example runpod).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Provider string `json:"provider"`
	// gpuType is the GPU to serve on. Defaults to the provider's default GPU.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$`
	GPUType string `json:"gpuType,omitempty"`
	// replicas is a fixed count of replicas. A volume they cannot carry is called out, and the
	// replicas it needs are priced.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	Replicas *int32 `json:"replicas,omitempty"`
	// minReplicas is the fewest replicas kept on; more are priced as the volume needs. Defaults to 1.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	MinReplicas *int32 `json:"minReplicas,omitempty"`
	// hoursPerMonth each replica runs. Defaults to 730 (always on).
	// +optional
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[0-9]+(\\\\.[0-9]{1,6})?$') || (double(self) > 0.0 && double(self) <= 744.0)",message="spec.serving.selfHosted.hoursPerMonth must be greater than 0 and at most 744"
	HoursPerMonth *Decimal `json:"hoursPerMonth,omitempty"`
	// scaleToZero bills only the GPU-hours the requests keep busy, at a replica's throughput.
	// +optional
	ScaleToZero *bool `json:"scaleToZero,omitempty"`
	// precision of the served weights: bf16 (default), int8 or int4.
	// +optional
	Precision ServingPrecision `json:"precision,omitempty"`
}

// ServingPrecision is how the served model's weights are stored.
// +kubebuilder:validation:Enum=bf16;int8;int4
type ServingPrecision string

// APIPricing is what the API alternative costs.
// +kubebuilder:validation:XValidation:rule="has(self.model) || has(self.costPerRequest) || (has(self.inputPricePerMillionTokens) && has(self.outputPricePerMillionTokens))",message="spec.api needs a model, a costPerRequest, or both inputPricePerMillionTokens and outputPricePerMillionTokens"
type APIPricing struct {
	// model is a catalog API model whose per-token prices apply (for example claude-sonnet).
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Model string `json:"model,omitempty"`
	// inputPricePerMillionTokens overrides the model's input price, in USD per million tokens.
	// +optional
	InputPricePerMillionTokens *Decimal `json:"inputPricePerMillionTokens,omitempty"`
	// outputPricePerMillionTokens overrides the model's output price, in USD per million tokens.
	// +optional
	OutputPricePerMillionTokens *Decimal `json:"outputPricePerMillionTokens,omitempty"`
	// costPerRequest is a quoted price of one request in USD; it wins over token prices.
	// +optional
	CostPerRequest *Decimal `json:"costPerRequest,omitempty"`
}

// Usage is the traffic both paths serve.
type Usage struct {
	// requestsPerMonth is how many requests the first month serves, at least 0.
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000000000
	RequestsPerMonth int64 `json:"requestsPerMonth"`
	// inputTokensPerRequest is the average prompt length in tokens.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000000
	InputTokensPerRequest *int64 `json:"inputTokensPerRequest,omitempty"`
	// outputTokensPerRequest is the average response length in tokens.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=10000000
	OutputTokensPerRequest *int64 `json:"outputTokensPerRequest,omitempty"`
	// monthlyGrowthPercent grows (or, negative, shrinks) requests each month: month m serves
	// requestsPerMonth x (1 + growth/100)^(m-1). Between -99 and 1000; defaults to "0".
	// +optional
	// +kubebuilder:validation:XValidation:rule="!self.matches('^-?[0-9]+(\\\\.[0-9]{1,6})?$') || (double(self) >= -99.0 && double(self) <= 1000.0)",message="spec.usage.monthlyGrowthPercent must be between -99 and 1000"
	MonthlyGrowthPercent *SignedDecimal `json:"monthlyGrowthPercent,omitempty"`
}

// Budget caps what an estimate may cost.
type Budget struct {
	// maxUpfrontCost is the most the training run and one-time costs together may cost, in USD.
	// +optional
	MaxUpfrontCost *Decimal `json:"maxUpfrontCost,omitempty"`
}

// Pricing records which prices an estimate used.
type Pricing struct {
	// catalog is the name of the PriceCatalog used, or "builtin".
	// +optional
	Catalog string `json:"catalog,omitempty"`
	// catalogGeneration is the metadata.generation of the PriceCatalog used; 0 for the built-in one.
	// +optional
	CatalogGeneration int64 `json:"catalogGeneration,omitempty"`
	// source is Catalog for a PriceCatalog, Builtin for the catalog compiled into ftcost.
	// +optional
	Source PricingSource `json:"source,omitempty"`
}

// ServingBreakdown is self-hosted serving in the first month.
type ServingBreakdown struct {
	// gpuType is the GPU served on.
	// +optional
	GPUType string `json:"gpuType,omitempty"`
	// gpusPerReplica is how many GPUs hold one replica at the serving precision.
	// +optional
	GPUsPerReplica int32 `json:"gpusPerReplica,omitempty"`
	// replicas priced in the first month (0 under scaleToZero).
	// +optional
	Replicas int32 `json:"replicas,omitempty"`
	// gpuHoursPerMonth priced in the first month.
	// +optional
	GPUHoursPerMonth string `json:"gpuHoursPerMonth,omitempty"`
	// pricePerGPUHour is the provider's price.
	// +optional
	PricePerGPUHour string `json:"pricePerGPUHour,omitempty"`
	// memoryPerGPUGiB is the weights and cache a serving GPU holds.
	// +optional
	MemoryPerGPUGiB string `json:"memoryPerGPUGiB,omitempty"`
	// overloadedInMonth is the first month the fixed spec replicas cannot carry the volume; from then
	// on the replicas needed are priced. Omitted when they always can.
	// +optional
	OverloadedInMonth int32 `json:"overloadedInMonth,omitempty"`
	// replicasNeeded in that month.
	// +optional
	ReplicasNeeded int32 `json:"replicasNeeded,omitempty"`
}

// MemoryBreakdown is the peak memory of one GPU by what holds it, each a decimal string of GiB.
type MemoryBreakdown struct {
	// weights are the model weights this GPU holds: its share under sharding, layers gathered to
	// compute, QLoRA's dequantised copies.
	// +optional
	Weights string `json:"weights,omitempty"`
	// gradients are the trainable parameters' gradients on this GPU.
	// +optional
	Gradients string `json:"gradients,omitempty"`
	// optimizer is the optimizer state on this GPU.
	// +optional
	Optimizer string `json:"optimizer,omitempty"`
	// activations are the activations kept for the backward pass, the logits buffer and, on stacks
	// whose QLoRA holds them, the inputs of the 4-bit layers.
	// +optional
	Activations string `json:"activations,omitempty"`
	// overhead is the CUDA context, workspaces and collective buffers.
	// +optional
	Overhead string `json:"overhead,omitempty"`
}

// FineTuneEstimateStatus is the computed estimate. Money is a decimal USD string rounded to the cent.
type FineTuneEstimateStatus struct {
	// observedGeneration is the metadata.generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// recommendation is FineTune, API, or Undetermined when the estimate could not be computed.
	// +optional
	Recommendation Recommendation `json:"recommendation,omitempty"`
	// estimator is what produced gpuHours: Empirical, FLOPs, Calibrated, Measured or Managed.
	// +optional
	Estimator Estimator `json:"estimator,omitempty"`
	// gpuType is the GPU priced.
	// +optional
	GPUType string `json:"gpuType,omitempty"`
	// gpuCount is how many GPUs the job needs to fit in memory.
	// +optional
	GPUCount int32 `json:"gpuCount,omitempty"`
	// gpuHours is the total GPU-hours of one training run.
	// +optional
	GPUHours string `json:"gpuHours,omitempty"`
	// gpuHoursLow is the low end of the +/-30% band the Fine-Tuning Economics article states for estimated hours.
	// +optional
	GPUHoursLow string `json:"gpuHoursLow,omitempty"`
	// gpuHoursHigh is the high end of that band.
	// +optional
	GPUHoursHigh string `json:"gpuHoursHigh,omitempty"`
	// wallClockHours is gpuHours / gpuCount.
	// +optional
	WallClockHours string `json:"wallClockHours,omitempty"`
	// memoryPerGPUGiB is the estimated peak memory per GPU, in GiB.
	// +optional
	MemoryPerGPUGiB string `json:"memoryPerGPUGiB,omitempty"`
	// memoryBreakdown is what memoryPerGPUGiB is made of, in GiB per GPU.
	// +optional
	MemoryBreakdown *MemoryBreakdown `json:"memoryBreakdown,omitempty"`
	// sharding is the sharding the job was estimated with.
	// +optional
	Sharding Sharding `json:"sharding,omitempty"`
	// sequenceLength is the training sequence the job was estimated with, in tokens.
	// +optional
	SequenceLength int64 `json:"sequenceLength,omitempty"`
	// gradientCheckpointing is whether the job was estimated with activation checkpointing (Selective
	// or Full).
	// +optional
	GradientCheckpointing *bool `json:"gradientCheckpointing,omitempty"`
	// activationCheckpointing is the checkpointing the job was estimated with: None, Selective or Full.
	// +optional
	ActivationCheckpointing string `json:"activationCheckpointing,omitempty"`
	// framework is the training stack the figures assume: spec.training.framework, or Conservative
	// when the spec names none (the most memory any stack needs, the article's +/-30% band).
	// +optional
	Framework string `json:"framework,omitempty"`
	// mfuPercent is the share of the GPU's peak the FLOPs estimator assumed, in percent.
	// +optional
	MFUPercent string `json:"mfuPercent,omitempty"`
	// servingBreakdown is what self-hosted serving costs in the first month, and on what.
	// +optional
	ServingBreakdown *ServingBreakdown `json:"servingBreakdown,omitempty"`
	// servingCapacity is the requests a month one self-hosted replica serves at the spec's tokens
	// per request, always on.
	// +optional
	ServingCapacity string `json:"servingCapacity,omitempty"`
	// pricePerGPUHour is the price of one GPU-hour used.
	// +optional
	PricePerGPUHour string `json:"pricePerGPUHour,omitempty"`
	// trainingTokens is what a managed provider bills: examples x tokensPerExample x epochs.
	// +optional
	TrainingTokens string `json:"trainingTokens,omitempty"`
	// currency of every money figure; always USD.
	// +optional
	Currency string `json:"currency,omitempty"`
	// trainingCost is the cost of one training run.
	// +optional
	TrainingCost string `json:"trainingCost,omitempty"`
	// oneTimeCost is the sum of spec.oneTimeCosts.
	// +optional
	OneTimeCost string `json:"oneTimeCost,omitempty"`
	// upfrontCost is trainingCost + oneTimeCost.
	// +optional
	UpfrontCost string `json:"upfrontCost,omitempty"`
	// apiMonthlyCost is the API cost of the first month.
	// +optional
	APIMonthlyCost string `json:"apiMonthlyCost,omitempty"`
	// servingMonthlyCost is the serving cost of the first month.
	// +optional
	ServingMonthlyCost string `json:"servingMonthlyCost,omitempty"`
	// monthlySavings is apiMonthlyCost - servingMonthlyCost, first month.
	// +optional
	MonthlySavings string `json:"monthlySavings,omitempty"`
	// breakEvenMonths is when cumulative savings reach upfrontCost, one decimal; omitted when they
	// never do (within 1200 months).
	// +optional
	BreakEvenMonths string `json:"breakEvenMonths,omitempty"`
	// netSavings is cumulative savings over horizonMonths minus upfrontCost, undiscounted.
	// +optional
	NetSavings string `json:"netSavings,omitempty"`
	// roiPercent is netSavings / upfrontCost x 100, one decimal; omitted when upfrontCost is 0.
	// +optional
	ROIPercent string `json:"roiPercent,omitempty"`
	// netPresentValue is -upfrontCost plus each month's savings discounted at annualDiscountRatePercent.
	// +optional
	NetPresentValue string `json:"netPresentValue,omitempty"`
	// horizonMonths is the horizon used.
	// +optional
	HorizonMonths int32 `json:"horizonMonths,omitempty"`
	// pricing records which prices were used.
	// +optional
	Pricing *Pricing `json:"pricing,omitempty"`
	// calibration says what the Calibrated estimator found: the ThroughputProfile, its samples, and
	// whether it was used.
	// +optional
	Calibration *CalibrationStatus `json:"calibration,omitempty"`
	// actuals are what the estimate's gated workloads used and cost once they finished.
	// +optional
	Actuals *Actuals `json:"actuals,omitempty"`
	// releases are the workloads the gate released on this estimate that have not finished, with
	// the generation, size and spend cap each was approved for. Written by the operator only.
	// +optional
	// +listType=map
	// +listMapKey=uid
	// +kubebuilder:validation:MaxItems=32
	Releases []Release `json:"releases,omitempty"`
	// costPolicies names the CostPolicies that select the estimate's namespace and were checked.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	CostPolicies []string `json:"costPolicies,omitempty"`
	// conditions: Ready, FineTuneRecommended, WithinBudget, Approved, and Reconciling or Stalled while True.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// FineTuneEstimate compares fine-tuning an open model with paying an LLM API, and says which pays off.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=fte,categories=ftcost
// +kubebuilder:printcolumn:name="Model",type=string,JSONPath=`.spec.model`
// +kubebuilder:printcolumn:name="Method",type=string,JSONPath=`.spec.method`
// +kubebuilder:printcolumn:name="GPU-Hours",type=string,JSONPath=`.status.gpuHours`
// +kubebuilder:printcolumn:name="Upfront-USD",type=string,JSONPath=`.status.upfrontCost`,description="Training plus one-time costs, USD (status.currency)"
// +kubebuilder:printcolumn:name="Break-Even",type=string,JSONPath=`.status.breakEvenMonths`,description="Months until cumulative savings cover the upfront cost"
// +kubebuilder:printcolumn:name="Recommendation",type=string,JSONPath=`.status.recommendation`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,description="Why the estimate is (not) Ready: Estimated, or what failed"
// +kubebuilder:printcolumn:name="Approved",type=string,JSONPath=`.status.conditions[?(@.type=="Approved")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.training.provider`,priority=1
// +kubebuilder:printcolumn:name="GPUs",type=integer,JSONPath=`.status.gpuCount`,priority=1
// +kubebuilder:printcolumn:name="Mem/GPU",type=string,JSONPath=`.status.memoryPerGPUGiB`,description="Estimated peak memory per GPU, GiB",priority=1
// +kubebuilder:printcolumn:name="API/Month-USD",type=string,JSONPath=`.status.apiMonthlyCost`,priority=1
// +kubebuilder:printcolumn:name="Net-Savings-USD",type=string,JSONPath=`.status.netSavings`,priority=1
// +kubebuilder:printcolumn:name="ROI%",type=string,JSONPath=`.status.roiPercent`,priority=1
type FineTuneEstimate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the estimate asked for.
	// +required
	Spec FineTuneEstimateSpec `json:"spec"`
	// status is the estimate computed.
	// +optional
	Status FineTuneEstimateStatus `json:"status,omitempty"`
}

// FineTuneEstimateList is a list of FineTuneEstimates.
// +kubebuilder:object:root=true
type FineTuneEstimateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FineTuneEstimate `json:"items"`
}

func init() {
	SchemeBuilder.Register(&FineTuneEstimate{}, &FineTuneEstimateList{})
}
