package engine

import "github.com/shopspring/decimal"

// Method is how the weights are trained.
type Method string

// Methods.
const (
	Full  Method = "Full"
	LoRA  Method = "LoRA"
	QLoRA Method = "QLoRA"
)

// Estimator names how GPU-hours were obtained.
type Estimator string

// Estimators.
const (
	Empirical        Estimator = "Empirical"
	FLOPs            Estimator = "FLOPs"
	Measured         Estimator = "Measured"
	ManagedEstimator Estimator = "Managed"
)

// Sharding is how training state is divided across GPUs (DeepSpeed ZeRO stages; FSDP full-shard is
// ZeRO3).
type Sharding string

// Sharding stages.
const (
	ShardNone  Sharding = "None"  // every GPU holds everything (data parallel)
	ShardZeRO2 Sharding = "ZeRO2" // gradients and optimizer state divided
	ShardZeRO3 Sharding = "ZeRO3" // weights too
)

// Precision is how training keeps weights, gradients and optimizer state.
type Precision string

// Precisions.
const (
	// MixedBF16: bf16 weights and gradients, fp32 master weights and AdamW moments: 16 bytes a
	// trainable parameter (Rajbhandari et al. 2020). DeepSpeed, Megatron, Hugging Face Trainer.
	MixedBF16 Precision = "MixedBF16"
	// BF16: bf16 weights, gradients and AdamW moments: 8 bytes a trainable parameter (torchtune).
	BF16 Precision = "BF16"
)

// LoRATargets are the linear layers that get adapters.
type LoRATargets string

// LoRA targets.
const (
	TargetAttention LoRATargets = "Attention" // q, k, v and o projections
	TargetAllLinear LoRATargets = "AllLinear" // attention and the MLP's gate, up and down
)

// Input is one estimate's question. Optional figures are pointers; nil means "not given".
type Input struct {
	Model            string
	Method           Method
	Examples         int64
	TokensPerExample int64 // 0: not given
	Epochs           int32 // 0: 1

	// SequenceLength is the tokens of one packed or padded training sequence; 0: TokensPerExample,
	// else DefaultSequenceLength.
	SequenceLength int64

	Provider  string
	GPUType   string           // "": the provider's default
	Estimator Estimator        // "": FLOPs when TokensPerExample is given, else Empirical
	Hours     *decimal.Decimal // measured GPU-hours; replaces the estimator
	// Throughput is what this cluster measured for the model, method and GPU type; the Calibrated
	// estimator uses it (with at least MinCalibrationSamples samples), else falls back to FLOPs.
	Throughput *Throughput

	// The job as it runs.
	GPUCount              int32    // 0: the fewest GPUs that hold the job
	Sharding              Sharding // "": ZeRO3 on more than one GPU, None on one
	MicroBatchSize        int32    // 0: 1
	GradientCheckpointing *bool    // nil: off, unless it lets the job fit on fewer GPUs
	// Checkpointing names None, Selective or Full activation checkpointing; it wins over
	// GradientCheckpointing (true is Full, false None). "": as GradientCheckpointing says.
	Checkpointing Checkpointing
	// Framework is the training stack; "": the conservative profile (Frameworks[""]).
	Framework Framework
	Precision Precision // "": MixedBF16
	// LossPrecision is how the logits are kept for the loss; "": as the framework computes it.
	LossPrecision LossPrecision
	// GradientAccumulationSteps is the micro-batches each optimizer step accumulates; 0: not stated,
	// so the gradients are counted alive with the activations.
	GradientAccumulationSteps int32
	MFUPercent                *decimal.Decimal // overrides the utilisation table
	LoRARank                  int32            // 0: 16
	LoRATargets               LoRATargets      // "": AllLinear

	OneTime OneTimeCosts

	ServingCostPerRequest *decimal.Decimal
	ServingMonthlyCost    decimal.Decimal
	ServingAPIModel       string
	SelfHosted            *SelfHosted
	// ServingStated: the input says how serving is priced, even at nothing (a model run on hardware
	// bought in OneTime). Without it, and with no price, serving is reported unpriced.
	ServingStated bool

	APIModel            string
	APIInputPerMillion  *decimal.Decimal
	APIOutputPerMillion *decimal.Decimal
	APICostPerRequest   *decimal.Decimal

	RequestsPerMonth       int64
	InputTokensPerRequest  *int64
	OutputTokensPerRequest *int64
	MonthlyGrowthPercent   decimal.Decimal

	HorizonMonths             int32 // 0: 36
	AnnualDiscountRatePercent decimal.Decimal
	MaxUpfrontCost            *decimal.Decimal
}

// OneTimeCosts are the costs paid once besides GPU time, each rounded to the cent as a line.
type OneTimeCosts struct {
	DataCollection  decimal.Decimal
	DataLabeling    decimal.Decimal
	DataCleaning    decimal.Decimal
	Experimentation decimal.Decimal
	Deployment      decimal.Decimal
	Hardware        decimal.Decimal
}

// Defaults applied when an input leaves a figure out.
const (
	DefaultHorizonMonths int32 = 36
	DefaultEpochs        int32 = 1
	// DefaultSequenceLength is the sequence an estimate assumes when it states no tokens at all.
	DefaultSequenceLength int64 = 2048
	DefaultMicroBatchSize int32 = 1
	DefaultLoRARank       int32 = 16
	MaxHorizonMonths      int32 = 120
	// BreakEvenSearchMonths is how far break-even is looked for past the horizon; beyond it the
	// fine-tune "never" pays back and breakEvenMonths is omitted.
	BreakEvenSearchMonths = 1200
)
