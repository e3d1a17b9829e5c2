package engine

import (
	"slices"

	"github.com/shopspring/decimal"
)

// Calibration constants; docs/cost-model.md gives the source of each.
var (
	// EmpiricalHoursPerExample is the article's 0.0001 H100-hours per example for a 7B model, Full.
	EmpiricalHoursPerExample = d("0.0001")
	// EmpiricalReferenceTFLOPs is the H100's dense BF16 peak; the article's table is in H100-hours, so
	// other GPUs scale by this over their own peak.
	EmpiricalReferenceTFLOPs = d("989")
	// MethodFactor scales Empirical hours: LoRA is the article's "75% cheaper"; QLoRA is LoRA times the
	// 1.39 runtime of 4-bit dequantisation measured by Raschka (Lightning AI, 2023).
	MethodFactor = map[Method]decimal.Decimal{Full: d("1"), LoRA: d("0.25"), QLoRA: d("0.3475")}
	// FLOPsPerParameterToken is training FLOPs per parameter per token: 6 for a full forward and
	// backward pass (Kaplan et al. 2020), 4 when frozen weights get no weight gradients (LoRA), and 4 x 1.39
	// for QLoRA's dequantisation overhead expressed as extra work.
	FLOPsPerParameterToken = map[Method]decimal.Decimal{Full: d("6"), LoRA: d("4"), QLoRA: d("5.56")}
	// ModelFLOPsUtilisation is the share of peak throughput training achieves: Llama 3 reports 38-43%
	// BF16 MFU on H100 (Dubey et al. 2024, table 4); 40% is the middle.
	ModelFLOPsUtilisation = d("0.40")
	// BytesPerParameter is peak training memory per parameter before overhead: mixed-precision AdamW
	// keeps 16 bytes (ZeRO, Rajbhandari et al. 2020); LoRA keeps 16-bit frozen weights (2 bytes);
	// QLoRA keeps 4-bit NF4 weights (0.5 bytes, Dettmers et al. 2023).
	BytesPerParameter = map[Method]decimal.Decimal{Full: d("16"), LoRA: d("2"), QLoRA: d("0.5")}
	// MemoryOverhead multiplies weights and optimizer state for activations, adapters and the CUDA
	// context: EleutherAI's Transformer Math 101 rule of thumb of 20%.
	MemoryOverhead = d("1.2")
	// HoursBand is the article's +/-30% on estimated hours.
	HoursBand = d("0.3")

	hoursPlaces   int32 = 6
	gibibyte            = decimal.NewFromInt(1 << 30)
	secondsInHour       = decimal.NewFromInt(3600)
	tera                = decimal.New(1, 12)
)

// training is the GPU side of an estimate.
type training struct {
	estimator      Estimator
	gpuType        string
	gpuCount       int32
	hours          decimal.Decimal
	low, high      *decimal.Decimal
	wallClock      decimal.Decimal
	memoryPerGPU   *decimal.Decimal
	memory         *MemoryBreakdown
	utilisation    *decimal.Decimal // FLOPs: the share of peak assumed
	sharding       Sharding
	sequence       int64
	checkpoint     Checkpointing
	framework      Framework
	pricePerHour   *decimal.Decimal
	trainingTokens decimal.Decimal
	cost           Money
	servingModel   string // a managed provider's serving API model
	calibration    *Calibration
	band           decimal.Decimal // the +/- band on hours, as a fraction
	bandFrom       BandSource
	flops          *FLOPsTerms
}

func estimateTraining(in *Input, cat *Catalog) (*training, error) {
	if _, ok := MethodFactor[in.Method]; !ok {
		return nil, errorf(ReasonInvalidSpec, FieldMethod, "unsupported method %q: use Full, LoRA or QLoRA", in.Method)
	}
	if in.Examples < 1 {
		return nil, errorf(ReasonInvalidSpec, FieldExamples, "must be at least 1, got %d", in.Examples)
	}
	provider, ok := cat.Providers[in.Provider]
	if !ok {
		return nil, errorf(ReasonProviderNotFound, FieldProvider, "provider %q is not in price catalog %q", in.Provider, cat.Name)
	}
	if provider.Kind == Managed {
		return managedTraining(in, cat, provider)
	}
	model, ok := cat.Models[in.Model]
	if !ok {
		return nil, errorf(ReasonModelNotFound, FieldModel, "model %q is not in price catalog %q", in.Model, cat.Name)
	}
	gpu, price, err := cat.pricedGPU(provider, in.GPUType, FieldGPUType)
	if err != nil {
		return nil, err
	}
	gpuType := gpu.Name

	if model.Parameters < 1 {
		return nil, errorf(ReasonInvalidSpec, FieldModel, "model %q has no parameter count in price catalog %q", model.Name, cat.Name)
	}
	j, err := newJob(in, model)
	if err != nil {
		return nil, err
	}
	if err := j.place(gpu, gpuType, in.Sharding, in.GradientCheckpointing == nil && in.Checkpointing == ""); err != nil {
		return nil, err
	}
	t := &training{gpuType: gpuType, pricePerHour: &price}
	estimator := in.Estimator
	if estimator == "" {
		// Empirical ignores tokens and sequence length; once the tokens are known, the FLOPs model
		// describes the job (docs/cost-model.md, "Which estimator").
		estimator = Empirical
		if in.TokensPerExample > 0 {
			estimator = FLOPs
		}
	}
	if estimator == Calibrated && in.Hours == nil {
		var ok bool
		if t.calibration, ok = calibrate(in); !ok {
			estimator = FLOPs
		} else if in.TokensPerExample < 1 {
			return nil, errorf(ReasonInvalidSpec, FieldTokensPerExample, "is required by the Calibrated estimator")
		}
	}
	switch {
	case in.Hours != nil:
		if in.Hours.Sign() <= 0 {
			return nil, errorf(ReasonInvalidSpec, FieldHours, "must be greater than 0, got %s", in.Hours)
		}
		t.estimator, t.hours = Measured, *in.Hours
	case estimator == FLOPs:
		if in.TokensPerExample < 1 {
			return nil, errorf(ReasonInvalidSpec, FieldTokensPerExample, "is required by the FLOPs estimator")
		}
		if gpu.PeakBF16TFLOPs.Sign() <= 0 {
			return nil, errorf(ReasonInvalidSpec, FieldGPUType, "GPU type %q has no peak BF16 throughput in price catalog %q", gpuType, cat.Name)
		}
		u := j.utilisation(gpu, in.MFUPercent)
		t.estimator, t.utilisation = FLOPs, &u
		f := j.flopsPerToken()
		t.flops = &f
		t.hours = TrainingTokens(in).Mul(f.Total).DivRound(gpu.PeakBF16TFLOPs.Mul(tera).Mul(u).Mul(secondsInHour), hoursPlaces)
	case estimator == Calibrated:
		tp := in.Throughput
		t.estimator = Calibrated
		t.hours = TrainingTokens(in).DivRound(tp.TokensPerGPUSecond.Mul(secondsInHour), hoursPlaces)
	case estimator == Empirical:
		if gpu.PeakBF16TFLOPs.Sign() <= 0 {
			return nil, errorf(ReasonInvalidSpec, FieldGPUType, "GPU type %q has no peak BF16 throughput in price catalog %q", gpuType, cat.Name)
		}
		if model.ScaleFactor.Sign() <= 0 {
			return nil, errorf(ReasonInvalidSpec, FieldEstimator, "model %q has no Empirical scale factor in price catalog %q: estimate it by FLOPs (give tokensPerExample)", model.Name, cat.Name)
		}
		t.estimator, t.hours = Empirical, EmpiricalHours(model.ScaleFactor, in.Method, in.Examples, gpu.PeakBF16TFLOPs)
	default:
		return nil, errorf(ReasonInvalidSpec, FieldEstimator, "unsupported estimator %q: use Empirical, FLOPs or Calibrated", in.Estimator)
	}
	if t.estimator != Measured {
		band, from := j.profile.HoursBand, BandArticle
		if !band.Equal(HoursBand) {
			from = BandFramework
		}
		if t.estimator == Calibrated {
			// The measured spread replaces the article's +/-30%, capped at 100% (no negative hours).
			band, from = decimal.Min(in.Throughput.SpreadPercent.Div(hundred), one), BandMeasured
		}
		t.band, t.bandFrom = band, from
		low := t.hours.Mul(one.Sub(band)).Round(hoursPlaces)
		high := t.hours.Mul(one.Add(band)).Round(hoursPlaces)
		t.low, t.high = &low, &high
	}
	m := j.memory()
	total := m.Total().Round(1)
	t.gpuCount, t.sharding, t.sequence, t.checkpoint, t.framework = j.gpus, j.sharding, j.sequence, j.checkpoint, j.framework
	t.memory, t.memoryPerGPU = &m, &total
	t.wallClock = t.hours.DivRound(decimal.NewFromInt32(t.gpuCount), hoursPlaces)
	t.cost = Cents(t.hours.Mul(price))
	return t, nil
}

// defaultSharding is how a job of n GPUs shards when the input does not say: FSDP full-shard (ZeRO3)
// on more than one GPU.
func defaultSharding(n int32) Sharding {
	if n > 1 {
		return ShardZeRO3
	}
	return ShardNone
}

// newJob applies the defaults to the job the input describes and checks its figures.
func newJob(in *Input, model Model) (*job, error) {
	j := &job{method: in.Method, params: dec(model.Parameters), arch: model.Architecture,
		gpus: in.GPUCount, sharding: in.Sharding, microBatch: int64(in.MicroBatchSize),
		sequence: in.SequenceLength, precision: in.Precision,
		rank: int64(in.LoRARank), targets: in.LoRATargets, accumulation: in.GradientAccumulationSteps}
	switch {
	case in.GPUCount < 0 || in.GPUCount > MaxGPUs:
		return nil, errorf(ReasonInvalidSpec, FieldGPUCount, "must be between 1 and %d, got %d", MaxGPUs, in.GPUCount)
	case in.MicroBatchSize < 0:
		return nil, errorf(ReasonInvalidSpec, FieldMicroBatchSize, "must be at least 1, got %d", in.MicroBatchSize)
	case in.SequenceLength < 0:
		return nil, errorf(ReasonInvalidSpec, FieldSequenceLength, "must be at least 1, got %d", in.SequenceLength)
	case in.GradientAccumulationSteps < 0:
		return nil, errorf(ReasonInvalidSpec, FieldGradientAccumulationSteps, "must be at least 1 (0: not stated), got %d", in.GradientAccumulationSteps)
	case in.LoRARank < 0:
		return nil, errorf(ReasonInvalidSpec, FieldLoRARank, "must be at least 1, got %d", in.LoRARank)
	case in.MFUPercent != nil && (in.MFUPercent.Sign() <= 0 || in.MFUPercent.GreaterThan(hundred)):
		return nil, errorf(ReasonInvalidSpec, FieldMFUPercent, "must be greater than 0 and at most 100, got %s", in.MFUPercent)
	}
	switch j.sharding {
	case "", ShardNone, ShardZeRO2, ShardZeRO3:
	default:
		return nil, errorf(ReasonInvalidSpec, FieldSharding, "unsupported sharding %q: use None, ZeRO2 or ZeRO3", j.sharding)
	}
	j.checkpoint = CheckpointNone
	if in.GradientCheckpointing != nil && *in.GradientCheckpointing {
		j.checkpoint = CheckpointFull
	}
	switch in.Checkpointing {
	case "":
	case CheckpointNone, CheckpointSelective, CheckpointFull:
		j.checkpoint = in.Checkpointing
	default:
		return nil, errorf(ReasonInvalidSpec, FieldCheckpointing, "unsupported activation checkpointing %q: use None, Selective or Full", in.Checkpointing)
	}
	switch in.LossPrecision {
	case "", LossFP32, LossHalf:
		j.loss = in.LossPrecision
	default:
		return nil, errorf(ReasonInvalidSpec, FieldLossPrecision, "unsupported loss precision %q: use FP32 or Half", in.LossPrecision)
	}
	profile, ok := Frameworks[in.Framework]
	if !ok {
		return nil, errorf(ReasonInvalidSpec, FieldFramework, "unsupported framework %q: use NeMo, PyTorch, HuggingFace, DeepSpeed or Unsloth", in.Framework)
	}
	j.framework, j.profile = in.Framework, profile
	if j.gpus > 0 && j.sharding == "" {
		j.sharding = defaultSharding(j.gpus)
	}
	if j.microBatch == 0 {
		j.microBatch = int64(DefaultMicroBatchSize)
	}
	if j.sequence == 0 {
		j.sequence = in.TokensPerExample
		if j.sequence == 0 {
			j.sequence = DefaultSequenceLength
		}
	}
	if j.precision == "" {
		j.precision = MixedBF16
	}
	if _, ok := BytesPerTrainable[j.precision]; !ok {
		return nil, errorf(ReasonInvalidSpec, FieldPrecision, "unsupported precision %q: use MixedBF16 or BF16", j.precision)
	}
	if j.rank == 0 {
		j.rank = int64(DefaultLoRARank)
	}
	switch j.targets {
	case "":
		j.targets = TargetAllLinear
	case TargetAttention, TargetAllLinear:
	default:
		return nil, errorf(ReasonInvalidSpec, FieldLoRATargets, "unsupported targets %q: use Attention or AllLinear", j.targets)
	}
	if a := j.arch; a != nil {
		if a.Layers < 1 || a.HiddenSize < 1 || a.IntermediateSize < 1 || a.AttentionHeads < 1 || a.KVHeads < 1 ||
			a.VocabSize < 1 || a.KVHeads > a.AttentionHeads {
			return nil, errorf(ReasonInvalidSpec, FieldModel, "model %q has an incomplete architecture in the price catalog", model.Name)
		}
	}
	return j, nil
}

func managedTraining(in *Input, cat *Catalog, provider Provider) (*training, error) {
	if !slices.Contains(provider.Models, in.Model) {
		return nil, errorf(ReasonModelNotFound, FieldModel, "model %q is not offered by managed provider %q (offers %v)", in.Model, provider.Name, provider.Models)
	}
	if in.TokensPerExample < 1 {
		return nil, errorf(ReasonInvalidSpec, FieldTokensPerExample, "is required by managed provider %q, which bills training tokens", provider.Name)
	}
	if in.Hours != nil {
		return nil, errorf(ReasonInvalidSpec, FieldHours, "does not apply to managed provider %q, which bills training tokens", provider.Name)
	}
	if in.GPUType != "" {
		return nil, errorf(ReasonInvalidSpec, FieldGPUType, "does not apply to managed provider %q", provider.Name)
	}
	if in.Estimator == FLOPs {
		return nil, errorf(ReasonInvalidSpec, FieldEstimator, "FLOPs does not apply to managed provider %q, which bills training tokens", provider.Name)
	}
	tokens := TrainingTokens(in)
	return &training{
		estimator:      ManagedEstimator,
		trainingTokens: tokens,
		cost:           Cents(tokens.Mul(provider.PricePerMillionTrainingTokens).Div(million)),
		servingModel:   provider.ServingAPIModel,
	}, nil
}

// trainingTokens is examples x tokensPerExample x epochs, in decimal so that no product overflows.
// TrainingTokens is the tokens a job trains on: examples x tokens per example x epochs, exact
// (the schema allows products far past 64 bits).
func TrainingTokens(in *Input) decimal.Decimal {
	return decimal.NewFromInt(in.Examples).Mul(decimal.NewFromInt(in.TokensPerExample)).Mul(decimal.NewFromInt32(epochs(in)))
}

func epochs(in *Input) int32 {
	if in.Epochs < 1 {
		return DefaultEpochs
	}
	return in.Epochs
}

// EmpiricalHours is the article's table: 0.0001 x examples x scale factor x method factor H100-hours,
// scaled to another GPU by peak throughput, rounded to 6 decimals.
func EmpiricalHours(scale decimal.Decimal, method Method, examples int64, peakTFLOPs decimal.Decimal) decimal.Decimal {
	h := EmpiricalHoursPerExample.Mul(decimal.NewFromInt(examples)).Mul(scale).Mul(MethodFactor[method])
	if !peakTFLOPs.Equal(EmpiricalReferenceTFLOPs) {
		return h.Mul(EmpiricalReferenceTFLOPs).DivRound(peakTFLOPs, hoursPlaces) // rounded once
	}
	return h.Round(hoursPlaces)
}

// MaxGPUs bounds the GPU count of one training job; an estimate needing more is refused, not wrapped.
const MaxGPUs = 1_000_000
