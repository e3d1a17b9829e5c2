package engine

import (
	"cmp"
	"fmt"

	"github.com/shopspring/decimal"
)

// The training job model: memory per GPU from the architecture and how the job runs, and FLOPs per
// token. docs/cost-model.md gives each formula and constant with its source.
var (
	// BytesPerTrainable is what each trainable parameter keeps, by precision: weights, gradients and
	// optimizer state (AdamW's two moments, plus fp32 master weights under mixed precision).
	BytesPerTrainable = map[Precision][3]int64{MixedBF16: {2, 2, 12}, BF16: {2, 2, 4}}
	// FrozenBytesPerParameter is a frozen base weight: bf16 for LoRA; for QLoRA 4-bit NF4 plus the
	// double-quantised constants, 0.127 bits a parameter (Dettmers et al. 2023, section 3).
	FrozenBytesPerParameter = map[Method]decimal.Decimal{LoRA: d("2"), QLoRA: d("0.515875")}
	// ActivationBytesPerToken is Korthikanti et al. (2022)'s 34 x hidden bytes per token and layer for
	// 16-bit activations, without the 5as/h attention-score term that FlashAttention never stores.
	ActivationBytesPerToken int64 = 34
	// CheckpointBytesPerToken is what full activation checkpointing keeps a layer: its 16-bit input.
	CheckpointBytesPerToken int64 = 2
	// CUDAContextGiB reserves the CUDA context and what it loads (kernels, library handles) on every
	// GPU; NCCLGiB the collective buffers on a multi-GPU job. Both live outside PyTorch's caching
	// allocator: torch.cuda.max_memory_reserved does not count them.
	CUDAContextGiB = d("1")
	NCCLGiB        = d("0.5")
	// Utilisation is the share of a GPU's dense BF16 peak that training's executed FLOPs reach,
	// recomputation included, by GPU generation; UnknownGenerationUtilisation serves a GPU whose
	// generation the catalog does not state.
	Utilisation = map[Generation]decimal.Decimal{Ampere: d("0.60"), Ada: d("0.45"), Hopper: d("0.45"), Blackwell: d("0.45")}
	// UnknownGenerationUtilisation is the Llama 3 paper's middle (38-43% on H100).
	UnknownGenerationUtilisation = d("0.40")
	// QLoRAUtilisation scales utilisation for QLoRA's 4-bit dequantisation: between torchao NF4 with
	// torch.compile (0.98 of LoRA, torchtune) and bitsandbytes (0.72, Raschka 2023).
	QLoRAUtilisation = d("0.85")
	// ShortSequenceUtilisation scales utilisation for sequences below 2048 and 1024 tokens: smaller
	// matrix multiplications keep the tensor cores less busy.
	ShortSequenceUtilisation = []struct {
		Below  int64
		Factor decimal.Decimal
	}{{1024, d("0.80")}, {2048, d("0.90")}}
)

// MemoryBreakdown is the peak memory of one GPU, in GiB.
type MemoryBreakdown struct {
	Weights     decimal.Decimal // weights this GPU holds (sharded share, gathered layers, QLoRA buffers)
	Gradients   decimal.Decimal
	Optimizer   decimal.Decimal
	Activations decimal.Decimal // activations and the logits buffer
	Overhead    decimal.Decimal // CUDA context, workspaces, collective buffers
	// OneEnd: without gradient accumulation the peak holds the activations or the gradients, not
	// both (the overhead's fragmentation still counts every activation).
	OneEnd bool
}

// Total is the sum of the parts.
func (m MemoryBreakdown) Total() decimal.Decimal {
	return m.Weights.Add(m.Gradients).Add(m.Optimizer).Add(m.Activations).Add(m.Overhead)
}

// job is the training job with every default applied.
type job struct {
	method     Method
	params     decimal.Decimal
	arch       *Architecture
	gpus       int32
	sharding   Sharding
	microBatch int64
	sequence   int64
	checkpoint Checkpointing
	precision  Precision
	loss       LossPrecision
	// accumulation is the micro-batches a step accumulates; 0: not stated.
	accumulation int32
	rank         int64
	targets      LoRATargets
	framework    Framework
	profile      FrameworkProfile
}

// loraParameters is the adapters' trainable parameters: rank x (inputs + outputs) for each targeted
// matrix of each layer (Hu et al. 2021).
func (j *job) loraParameters() decimal.Decimal {
	a := j.arch
	h, i := a.HiddenSize, a.IntermediateSize
	kv := h * a.KVHeads / a.AttentionHeads
	perLayer := (h + h) + (h + kv) + (h + kv) + (h + h) // q, k, v, o
	if j.targets == TargetAllLinear {
		perLayer += 3 * (h + i) // gate, up, down
	}
	return dec(a.Layers).Mul(dec(j.rank)).Mul(dec(perLayer))
}

// embeddingParameters is the input embedding and, unless tied, the output head.
func (j *job) embeddingParameters() decimal.Decimal {
	n := dec(j.arch.VocabSize).Mul(dec(j.arch.HiddenSize))
	if !j.arch.TiedEmbeddings {
		n = n.Mul(decimal.NewFromInt(2))
	}
	return n
}

// memory is the peak memory of one GPU.
func (j *job) memory() MemoryBreakdown {
	if j.arch == nil {
		return j.memoryFromParameters()
	}
	a := j.arch
	per := BytesPerTrainable[j.precision]
	var w, g, o decimal.Decimal // bytes, before sharding
	switch j.method {
	case Full:
		w, g, o = j.params.Mul(dec(per[0])), j.params.Mul(dec(per[1])), j.params.Mul(dec(per[2]))
	default:
		base := j.params.Mul(FrozenBytesPerParameter[j.method])
		if j.method == QLoRA {
			// Embeddings and the head stay 16-bit.
			emb := j.embeddingParameters()
			base = j.params.Sub(emb).Mul(FrozenBytesPerParameter[QLoRA]).Add(emb.Mul(dec(j.profile.QLoRAUnquantisedBytes)))
		}
		na := j.loraParameters()
		w, g, o = base.Add(na.Mul(dec(per[0]))), na.Mul(dec(per[1])), na.Mul(dec(per[2]))
	}
	n := decimal.NewFromInt32(j.gpus)
	var gathered decimal.Decimal
	if j.gpus > 1 {
		switch j.sharding {
		case ShardZeRO3:
			w, g, o = w.Div(n), g.Div(n), o.Div(n)
			// FSDP gathers a layer's full weights to compute it, and prefetches the next: 16-bit, or
			// QLoRA's 4-bit storage, dequantised a matrix at a time (below).
			layer := j.params.Sub(j.embeddingParameters()).Div(dec(a.Layers))
			gathered = layer.Mul(decimal.NewFromInt(4))
			if j.method == QLoRA {
				gathered = layer.Mul(FrozenBytesPerParameter[QLoRA]).Mul(decimal.NewFromInt(2))
			}
		case ShardZeRO2:
			g, o = g.Div(n), o.Div(n)
		}
	}
	if j.method == QLoRA {
		// 16-bit copies of the largest quantised weight, dequantised for its matrix multiplications:
		// an MLP matrix, or the output head where the stack quantises it.
		largest := dec(a.HiddenSize).Mul(dec(a.IntermediateSize))
		if j.quantisedHead() {
			largest = decimal.Max(largest, dec(a.HiddenSize).Mul(dec(a.VocabSize)))
		}
		gathered = gathered.Add(largest.Mul(decimal.NewFromInt(2)).Mul(dec(j.profile.DequantisedMatrices)))
	}
	tokens := dec(j.sequence).Mul(dec(j.microBatch))
	perLayer := tokens.Mul(dec(a.HiddenSize)).Mul(dec(ActivationBytesPerToken))
	var act decimal.Decimal
	switch j.checkpoint {
	case CheckpointFull:
		act = tokens.Mul(dec(a.HiddenSize)).Mul(dec(CheckpointBytesPerToken)).Mul(dec(a.Layers)).Add(perLayer)
	case CheckpointSelective:
		act = tokens.Mul(dec(j.selectiveBytesPerToken())).Mul(dec(a.Layers)).Add(perLayer)
	default:
		act = perLayer.Mul(dec(a.Layers))
	}
	act = act.Add(tokens.Mul(dec(a.VocabSize)).Mul(dec(j.logitsBytesPerToken())))
	if j.method == QLoRA && j.checkpoint == CheckpointNone && j.gpus <= 1 {
		// LitGPT quantises on one GPU only (finetune/lora.py refuses more) and never checkpoints there.
		act = act.Add(tokens.Mul(j.heldInputBytesPerToken()).Mul(dec(j.profile.QLoRAHeldInputs)))
	}
	// The caching allocator's fragmentation grows with what is allocated and freed every step: the
	// activations, the logits and the gathered or dequantised weights.
	overhead := CUDAContextGiB.Add(gib(act.Add(gathered).Mul(AllocatorFragmentation)))
	oneEnd := j.accumulation == 1 && j.gpus <= 1 && j.sharding == ShardNone && j.profile.GradientsFreedEachStep
	if oneEnd {
		// Without accumulation a step's gradients fill only as its backward pass frees the
		// activations: the peak holds the activations and the output head's gradient (the backward's
		// start) or every gradient and one layer's activations (its end), whichever is more. On one
		// unsharded GPU of a stack that frees its gradients each step only: DDP's buckets, ZeRO's
		// partitions and Megatron's gradient buffer are held through the step.
		head := j.headGradientBytes()
		if act.Add(head).GreaterThanOrEqual(g.Add(perLayer)) {
			g = head
		} else {
			act = perLayer
		}
	}
	if j.gpus > 1 {
		overhead = overhead.Add(NCCLGiB)
	}
	return MemoryBreakdown{
		Weights: gib(w.Add(gathered)), Gradients: gib(g), Optimizer: gib(o), Activations: gib(act),
		Overhead: overhead, OneEnd: oneEnd,
	}
}

// logitsBytesPerToken is what the output layer and the loss hold per vocabulary entry and token: the
// framework's figure unless the input states the loss's precision (a 16-bit loss never raises it).
func (j *job) logitsBytesPerToken() int64 {
	switch j.loss {
	case LossHalf:
		return min(j.profile.LogitsBytesPerToken, HalfLossBytesPerToken)
	case LossFP32:
		return FP32LossBytesPerToken
	}
	return j.profile.LogitsBytesPerToken
}

// headGradientBytes is the output head's gradient: a full fine-tune's only.
func (j *job) headGradientBytes() decimal.Decimal {
	if j.method != Full {
		return decimal.Zero
	}
	return dec(j.arch.VocabSize).Mul(dec(j.arch.HiddenSize)).Mul(dec(BytesPerTrainable[j.precision][1]))
}

// quantisedHead reports whether QLoRA quantises the output head too: on stacks that do (LitGPT), and
// only on one GPU, as LitGPT refuses to quantise on more.
func (j *job) quantisedHead() bool {
	return j.profile.QLoRAQuantisedHead && j.gpus <= 1
}

// heldInputBytesPerToken is what one step's inputs of the quantised layers take a token, in 16-bit
// values: per layer the attention's input (shared by q, k and v), the output projection's, the MLP's
// (shared by gate and up) and down's, and the head's where the stack quantises it.
func (j *job) heldInputBytesPerToken() decimal.Decimal {
	a := j.arch
	n := dec(a.Layers).Mul(dec(3).Mul(dec(a.HiddenSize)).Add(dec(a.IntermediateSize)))
	if j.quantisedHead() {
		n = n.Add(dec(a.HiddenSize))
	}
	return n.Mul(decimal.NewFromInt(2))
}

// selectiveBytesPerToken is what op-level selective checkpointing keeps of a layer per token, in
// 16-bit values: the layer's input, the attention output and half of the matrix multiplications'
// outputs (q, k, v, o, gate, up, down), the other half recomputed.
func (j *job) selectiveBytesPerToken() int64 {
	a := j.arch
	kv := a.HiddenSize * a.KVHeads / a.AttentionHeads
	matmuls := 3*a.HiddenSize + 2*kv + 2*a.IntermediateSize
	return 2 * (2*a.HiddenSize + matmuls/2)
}

// memoryFromParameters is the model for a catalog model without an architecture: bytes per
// parameter by method with a 20% allowance for everything else, divided evenly across the GPUs.
func (j *job) memoryFromParameters() MemoryBreakdown {
	n := decimal.NewFromInt32(j.gpus)
	split := map[Method][3]decimal.Decimal{
		Full:  {d("2"), d("2"), d("12")},
		LoRA:  {d("2"), decimal.Zero, decimal.Zero},
		QLoRA: {d("0.5"), decimal.Zero, decimal.Zero},
	}[j.method]
	part := func(b decimal.Decimal) decimal.Decimal { return gib(j.params.Mul(b).Div(n)) }
	states := j.params.Mul(BytesPerParameter[j.method]).Div(n)
	return MemoryBreakdown{
		Weights: part(split[0]), Gradients: part(split[1]), Optimizer: part(split[2]),
		Activations: decimal.Zero, Overhead: gib(states.Mul(MemoryOverhead.Sub(one))),
	}
}

// flopsPerToken is the work of training on one token: 6N for full training, 4N for a frozen base
// (no weight gradients) plus 6 per adapter parameter, PaLM's 12 x layers x hidden x sequence for
// attention, and one more forward pass (2N and a third of the attention) under checkpointing.
func (j *job) flopsPerToken() FLOPsTerms {
	if j.arch == nil {
		per := FLOPsPerParameterToken[j.method]
		return FLOPsTerms{Total: per.Mul(j.params), Parameters: j.params, FromParameters: true, PerParameter: per}
	}
	a := j.arch
	f := FLOPsTerms{Parameters: j.params, Layers: a.Layers, Hidden: a.HiddenSize, Sequence: j.sequence, Checkpointing: j.checkpoint,
		Attention: decimal.NewFromInt(12).Mul(dec(a.Layers)).Mul(dec(a.HiddenSize)).Mul(dec(j.sequence))}
	if j.method == Full {
		f.BaseFactor = 6
	} else {
		f.BaseFactor, f.AdapterFactor, f.AdapterParameters = 4, 6, j.loraParameters()
	}
	switch j.checkpoint {
	case CheckpointFull:
		f.Recompute = j.params.Mul(decimal.NewFromInt(2)).Add(f.Attention.Div(decimal.NewFromInt(3)))
	case CheckpointSelective:
		// Half the matrix multiplications run again; attention's output is kept.
		f.Recompute = j.params
	}
	f.Total = j.params.Mul(decimal.NewFromInt(f.BaseFactor)).Add(f.AdapterParameters.Mul(decimal.NewFromInt(f.AdapterFactor))).
		Add(f.Attention).Add(f.Recompute)
	return f
}

// utilisation is the share of peak the job's executed FLOPs reach: by GPU generation, method and
// sequence length, unless the input overrides it.
func (j *job) utilisation(gpu GPU, override *decimal.Decimal) decimal.Decimal {
	if override != nil {
		return override.Div(hundred)
	}
	if j.arch == nil {
		return ModelFLOPsUtilisation
	}
	table := Utilisation
	if j.profile.Utilisation != nil {
		table = j.profile.Utilisation
	}
	u, ok := table[gpu.Generation]
	if !ok {
		u = UnknownGenerationUtilisation
	}
	if j.method == QLoRA {
		u = u.Mul(QLoRAUtilisation)
	}
	for _, s := range ShortSequenceUtilisation {
		if j.sequence < s.Below {
			return u.Mul(s.Factor)
		}
	}
	return u
}

// fits reports whether the job's memory fits a GPU of capacity GiB.
func (j *job) fits(capacity int32) bool {
	return capacity <= 0 || j.memory().Total().LessThanOrEqual(decimal.NewFromInt32(capacity))
}

// fewestGPUs is the smallest GPU count on which the job fits, its sharding set as it would run
// (ZeRO3 on more than one GPU unless stated), or 0 when no count up to MaxGPUs does.
func (j *job) fewestGPUs(capacity int32, sharding Sharding) int32 {
	try := *j
	// One GPU runs the stated sharding too: ZeRO on one GPU divides nothing, but keeps its gradient
	// partitions through the step (memory).
	try.gpus, try.sharding = 1, cmp.Or(sharding, ShardNone)
	if try.fits(capacity) {
		return 1
	}
	if sharding == "" {
		sharding = ShardZeRO3
	}
	if sharding == ShardNone {
		return 0
	}
	try.sharding = sharding
	// Memory per GPU on n >= 2 GPUs is a + b/n: what each GPU holds alone, plus its share of what is
	// divided. Two evaluations give a and b, so the count is solved for, then checked step by step
	// (the parts are rounded to 0.0001 GiB).
	try.gpus = 2
	m2 := try.memory().Total()
	try.gpus = 4
	m4 := try.memory().Total()
	b := m2.Sub(m4).Mul(decimal.NewFromInt(4))
	room := decimal.NewFromInt32(capacity).Sub(m2.Sub(b.Div(decimal.NewFromInt(2))))
	if room.Sign() <= 0 || b.Sign() < 0 {
		return j.searchGPUs(capacity, sharding)
	}
	guess := b.Div(room).Ceil()
	if guess.GreaterThan(decimal.NewFromInt32(MaxGPUs)) {
		return 0
	}
	n := max(int32(guess.IntPart()), 2)
	for step := 0; ; step++ {
		if step > 8 {
			return j.searchGPUs(capacity, sharding)
		}
		try.gpus = n
		if !try.fits(capacity) {
			n++
			continue
		}
		try.gpus = n - 1
		if n > 2 && try.fits(capacity) {
			n--
			continue
		}
		return n
	}
}

// searchGPUs is fewestGPUs by binary search, for the cases the closed form does not settle.
func (j *job) searchGPUs(capacity int32, sharding Sharding) int32 {
	try := *j
	try.sharding = sharding
	lo, hi := int32(2), int32(MaxGPUs)
	try.gpus = hi
	if !try.fits(capacity) {
		return 0
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		try.gpus = mid
		if try.fits(capacity) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// place settles the GPU count and sharding when the input leaves them open, and checkpointing when
// autoCheckpoint: on only where it lets the job fit, or fit on fewer GPUs.
func (j *job) place(gpu GPU, gpuType string, sharding Sharding, autoCheckpoint bool) error {
	withCheckpoint := *j
	withCheckpoint.checkpoint = CheckpointFull
	if j.gpus > 0 {
		switch {
		case j.fits(gpu.MemoryGiB):
		case autoCheckpoint && withCheckpoint.fits(gpu.MemoryGiB):
			j.checkpoint = CheckpointFull
		default:
			return j.doesNotFit(gpu, gpuType)
		}
		return nil
	}
	n := j.fewestGPUs(gpu.MemoryGiB, sharding)
	if autoCheckpoint && j.checkpoint == CheckpointNone && n != 1 { // on one GPU, checkpointing cannot save a GPU
		if m := withCheckpoint.fewestGPUs(gpu.MemoryGiB, sharding); m > 0 && (n == 0 || m < n) {
			n, j.checkpoint = m, CheckpointFull
		}
	}
	if n == 0 {
		j.gpus, j.sharding = 1, ShardNone
		if sharding != "" {
			j.sharding = sharding
		}
		return j.doesNotFit(gpu, gpuType)
	}
	j.gpus, j.sharding = n, sharding
	if j.sharding == "" {
		j.sharding = defaultSharding(n)
	}
	return nil
}

// doesNotFit explains a job that does not fit and what would make it fit.
func (j *job) doesNotFit(gpu GPU, gpuType string) *Error {
	need := j.memory().Total()
	short := need.Sub(decimal.NewFromInt32(gpu.MemoryGiB))
	msg := fmt.Sprintf("needs %s GiB per GPU on %d %s (%d GiB): %s GiB short", need.Round(1).StringFixed(1),
		j.gpus, gpuType, gpu.MemoryGiB, short.Round(1).StringFixed(1))
	var ways []string
	if n := j.fewestGPUs(gpu.MemoryGiB, j.shardingForMore()); n > 0 {
		ways = append(ways, fmt.Sprintf("gpuCount %d with %s", n, j.shardingForMore()))
	}
	if j.checkpoint != CheckpointFull {
		try := *j
		try.checkpoint = CheckpointFull
		if try.fits(gpu.MemoryGiB) {
			ways = append(ways, "gradientCheckpointing")
		} else if n := try.fewestGPUs(gpu.MemoryGiB, j.shardingForMore()); n > 0 {
			ways = append(ways, fmt.Sprintf("gradientCheckpointing and gpuCount %d", n))
		}
	}
	for mb := j.microBatch / 2; mb >= 1; mb /= 2 {
		try := *j
		try.microBatch = mb
		if try.fits(gpu.MemoryGiB) {
			ways = append(ways, fmt.Sprintf("microBatchSize %d", mb))
			break
		}
	}
	if len(ways) == 0 {
		msg += "; no GPU count, checkpointing or micro-batch fits it on this GPU type"
	} else {
		msg += "; fits with " + joinOr(ways)
	}
	return errorf(ReasonDoesNotFit, FieldGPUCount, "%s", msg)
}

// shardingForMore is the sharding a suggestion of more GPUs assumes: the job's own, or ZeRO3 where
// the job shards nothing.
func (j *job) shardingForMore() Sharding {
	if j.sharding == ShardZeRO2 {
		return ShardZeRO2
	}
	return ShardZeRO3
}

func joinOr(ways []string) string {
	s := ""
	for i, w := range ways {
		switch {
		case i == 0:
		case i == len(ways)-1:
			s += ", or "
		default:
			s += ", "
		}
		s += w
	}
	return s
}

func dec(v int64) decimal.Decimal { return decimal.NewFromInt(v) }

// gib is bytes in GiB, to four decimals.
func gib(bytes decimal.Decimal) decimal.Decimal { return bytes.DivRound(gibibyte, 4) }
