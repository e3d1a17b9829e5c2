package engine

import "github.com/shopspring/decimal"

// Framework is the training stack a job runs on. The same job's throughput differs up to 4x between
// stacks, and its memory by how each keeps the logits, the loss and the quantised weights.
type Framework string

// Training stacks. "" (not stated) is the conservative profile: the most memory any stack needs and
// the generation table's utilisation.
const (
	// NeMo is NVIDIA NeMo, Megatron-LM and Megatron-Bridge (and NeMo AutoModel).
	NeMo Framework = "NeMo"
	// PyTorch is native FSDP: torchtune, torchtitan, LitGPT, Answer.AI's fsdp_qlora.
	PyTorch Framework = "PyTorch"
	// HuggingFace is the Transformers Trainer, TRL, PEFT, axolotl, LLaMA-Factory.
	HuggingFace Framework = "HuggingFace"
	// DeepSpeed is ZeRO through DeepSpeed itself, for example XTuner.
	DeepSpeed Framework = "DeepSpeed"
	// Unsloth is Unsloth's fused kernels.
	Unsloth Framework = "Unsloth"
)

// Checkpointing is how much of a layer's activations the backward pass recomputes.
type Checkpointing string

// Activation checkpointing.
const (
	// CheckpointNone keeps every activation.
	CheckpointNone Checkpointing = "None"
	// CheckpointSelective keeps the outputs of the matrix multiplications and recomputes the cheap
	// element-wise operations (PyTorch's op-level selective checkpointing, torchtitan's default).
	CheckpointSelective Checkpointing = "Selective"
	// CheckpointFull keeps each layer's input and recomputes the layer's forward pass.
	CheckpointFull Checkpointing = "Full"
)

// LossPrecision is how the logits are kept for the loss.
type LossPrecision string

// Loss precisions; "" is as the framework computes the loss (chunked or fused where the stack is).
const (
	// LossFP32 is the loss on an fp32 copy of the whole logits: Transformers' models, and a plain
	// cross-entropy on upcast logits (torchtune's without its chunked loss).
	LossFP32 LossPrecision = "FP32"
	// LossHalf is the loss on the 16-bit logits, with no fp32 copy: a model whose own code does not
	// upcast them (Qwen (1)'s modeling_qwen.py), trained without autocast (DeepSpeed's fp16 and bf16
	// engines cast the model and run none).
	LossHalf LossPrecision = "Half"
)

// FP32LossBytesPerToken is what the output layer and an fp32 loss hold at their peak, per vocabulary
// entry and token: the fp32 log-softmax 4, its fp32 gradient 4, the 16-bit gradient 2 and the 16-bit
// logits 2.
const FP32LossBytesPerToken int64 = 12

// HalfLossBytesPerToken is what the output layer and a 16-bit loss hold at their peak, per vocabulary
// entry and token: the logits, their log-softmax and its gradient, 2 bytes each.
const HalfLossBytesPerToken int64 = 6

// FrameworkProfile is what a training stack changes in the estimate; docs/cost-model.md gives the
// public measurement behind each figure.
type FrameworkProfile struct {
	// LogitsBytesPerToken is what the output layer and the loss hold at their peak, per vocabulary
	// entry and token: the logits and, where the stack upcasts them, their fp32 copy, log-softmax and
	// gradient.
	LogitsBytesPerToken int64
	// QLoRAUnquantisedBytes is what a parameter QLoRA leaves unquantised (embeddings, output head)
	// keeps: 4 where PEFT's prepare_model_for_kbit_training upcasts them to fp32, else 2.
	QLoRAUnquantisedBytes int64
	// DequantisedMatrices is how many dequantised 16-bit copies of the largest quantised weight QLoRA
	// holds at once.
	DequantisedMatrices int64
	// QLoRAQuantisedHead is true where the stack quantises the output head too, so that the largest
	// weight QLoRA dequantises is the head (vocabulary x hidden), not an MLP matrix.
	QLoRAQuantisedHead bool
	// QLoRAHeldInputs is how many steps' 16-bit inputs of the quantised layers QLoRA holds besides the
	// activations, on a job that does not checkpoint: bitsandbytes before 0.43.2 keeps each 4-bit
	// layer's input on its autograd context, which lives as long as the step's graph.
	QLoRAHeldInputs int64
	// GradientsFreedEachStep is true where the stack frees the gradients after each optimizer step
	// (zero_grad(set_to_none=True), PyTorch 2's default) and keeps no gradient buffer of its own, so
	// that without accumulation a step's gradients fill only as its backward pass frees the
	// activations. Megatron's contiguous gradient buffer and DeepSpeed's flat gradient partitions
	// are held through the step.
	GradientsFreedEachStep bool
	// Utilisation is the share of a GPU's dense BF16 peak the stack reaches, by GPU generation; nil
	// means the generation table (Utilisation).
	Utilisation map[Generation]decimal.Decimal
	// HoursBand is the +/- band on estimated hours.
	HoursBand decimal.Decimal
}

// Frameworks are the stacks' profiles; Frameworks[""] is the profile when none is stated.
// docs/cost-model.md ("Training stacks") gives the measurements behind each figure; docs/accuracy.md
// the runs they are checked against.
var Frameworks = map[Framework]FrameworkProfile{
	// Not stated: the most memory any stack needs, the generation table, the article's +/-30%.
	"": {LogitsBytesPerToken: FP32LossBytesPerToken, QLoRAUnquantisedBytes: 4, DequantisedMatrices: 2, QLoRAQuantisedHead: true, QLoRAHeldInputs: 2,
		HoursBand: HoursBand},
	// Megatron's fused vocabulary-parallel cross-entropy keeps bf16 logits and one fp32 softmax,
	// computed in place. NeMo AutoModel's Llama 3.1 8B LoRA on one H100 reaches 49% of the peak by
	// ftcost's FLOPs count, above the Hopper table's 45%.
	NeMo: {LogitsBytesPerToken: 6, QLoRAUnquantisedBytes: 2, DequantisedMatrices: 1,
		Utilisation: map[Generation]decimal.Decimal{Ampere: d("0.60"), Ada: d("0.45"), Hopper: d("0.50"), Blackwell: d("0.50")},
		HoursBand:   d("0.40")},
	// torchtune's and LitGPT's chunked cross-entropy: bf16 logits and their bf16 gradient, one chunk
	// upcast to fp32 at a time. LitGPT's QLoRA runs on Lightning's bitsandbytes plugin, which replaces
	// every nn.Linear, the output head included, and quantises from fp16: bitsandbytes dequantises the
	// head to fp16 and converts that to bf16, two 16-bit copies of it at once. LitGPT supports only
	// bitsandbytes 0.42.0, which keeps each 4-bit layer's input, and its loop keeps the previous
	// step's logits, and so that step's graph and inputs, through the next forward: two steps' inputs
	// (torchao's NF4, in torchtune, holds none, dequantises straight to bf16 and leaves the head
	// unquantised).
	PyTorch: {LogitsBytesPerToken: 4, QLoRAUnquantisedBytes: 2, DequantisedMatrices: 2, QLoRAQuantisedHead: true, QLoRAHeldInputs: 2,
		GradientsFreedEachStep: true, HoursBand: HoursBand},
	// Transformers upcasts the whole logits for the loss: the backward holds the fp32 log-softmax 4,
	// its fp32 gradient 4, the bf16 gradient 2 and the bf16 logits 2. PEFT's
	// prepare_model_for_kbit_training upcasts what bitsandbytes leaves unquantised to fp32, and
	// bitsandbytes dequantises a weight for the forward and again for the backward.
	HuggingFace: {LogitsBytesPerToken: FP32LossBytesPerToken, QLoRAUnquantisedBytes: 4, DequantisedMatrices: 2,
		GradientsFreedEachStep: true, HoursBand: HoursBand},
	// DeepSpeed runs Transformers models: their logits and loss.
	DeepSpeed: {LogitsBytesPerToken: FP32LossBytesPerToken, QLoRAUnquantisedBytes: 4, DequantisedMatrices: 2, HoursBand: d("0.40")},
	// Unsloth's fused cross-entropy never upcasts the logits: bf16 logits and their gradient in place.
	// No published run to check it against: the widest band.
	Unsloth: {LogitsBytesPerToken: 4, QLoRAUnquantisedBytes: 2, DequantisedMatrices: 2, GradientsFreedEachStep: true,
		HoursBand: d("0.50")},
}

// AllocatorFragmentation is what PyTorch's caching allocator reserves beyond what it allocates, as a
// share of what is allocated and freed every step (activations, logits, gathered and dequantised
// weights): Answer.AI's Llama-2 7B LoRA on two GPUs reserved 10.22 GiB against 9.16 GiB allocated,
// 1.06 GiB over about 3 GiB allocated each step; 20% is the figure that keeps the whole estimate of
// each published run whose reserved memory is known at or above what it reserved (docs/accuracy.md).
var AllocatorFragmentation = d("0.20")
