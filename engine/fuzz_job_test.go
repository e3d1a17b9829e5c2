package engine_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ftcost/ftcost/engine"
)

// FuzzJob fuzzes how the training job is described: no panic, errors name a field, and an estimate
// that succeeds fits its GPU, on a bounded GPU count, with no negative or absurd memory.
func FuzzJob(f *testing.F) {
	f.Add(uint8(0), uint8(0), int32(0), uint8(0), int32(0), int64(0), uint8(0), int32(0), uint8(0), uint8(0), uint16(0), uint16(1000))
	f.Add(uint8(2), uint8(0), int32(8), uint8(3), int32(4), int64(8192), uint8(1), int32(64), uint8(1), uint8(1), uint16(4000), uint16(4096))
	f.Add(uint8(3), uint8(2), int32(-1), uint8(9), int32(-3), int64(-5), uint8(2), int32(-1), uint8(7), uint8(9), uint16(65535), uint16(0))
	f.Add(uint8(6), uint8(1), int32(1_000_001), uint8(2), int32(1<<20), int64(1<<40), uint8(0), int32(1<<30), uint8(0), uint8(2), uint16(1), uint16(65535))
	f.Fuzz(func(t *testing.T, model, method uint8, gpus int32, sharding uint8, microBatch int32, sequence int64,
		checkpoint uint8, rank int32, targets, precision uint8, mfuBP, tokens uint16) {
		models := []string{"llama-7b", "llama-13b", "llama-70b", "llama-405b", "llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b"}
		methods := []engine.Method{engine.Full, engine.LoRA, engine.QLoRA}
		shardings := []engine.Sharding{"", engine.ShardNone, engine.ShardZeRO2, engine.ShardZeRO3, "Nope"}
		targetsOf := []engine.LoRATargets{"", engine.TargetAttention, engine.TargetAllLinear, "Nope"}
		precisions := []engine.Precision{"", engine.MixedBF16, engine.BF16, "Nope"}
		in := example1()
		in.Model, in.Method = models[int(model)%len(models)], methods[int(method)%len(methods)]
		in.GPUCount, in.Sharding, in.MicroBatchSize, in.SequenceLength = gpus, shardings[int(sharding)%len(shardings)], microBatch, sequence
		in.LoRARank, in.LoRATargets, in.Precision = rank, targetsOf[int(targets)%len(targetsOf)], precisions[int(precision)%len(precisions)]
		in.TokensPerExample = int64(tokens)
		// checkpoint picks the boolean, the named mode (one unknown) or neither, and the framework.
		switch c := checkpoint % 7; {
		case c < 2:
			b := c == 1
			in.GradientCheckpointing = &b
		case c < 6:
			in.Checkpointing = []engine.Checkpointing{engine.CheckpointNone, engine.CheckpointSelective, engine.CheckpointFull, "Nope"}[c-2]
		}
		frameworks := []engine.Framework{"", engine.NeMo, engine.PyTorch, engine.HuggingFace, engine.DeepSpeed, engine.Unsloth, "Nope"}
		in.Framework = frameworks[int(checkpoint/7)%len(frameworks)]
		losses := []engine.LossPrecision{"", engine.LossFP32, engine.LossHalf, "Nope"}
		in.LossPrecision = losses[int(checkpoint/49)%len(losses)]
		in.GradientAccumulationSteps = int32(precision/4) - 1 // -1 (refused), 0 (not stated), 1 and more
		if mfuBP != 0 {
			m := decimal.New(int64(mfuBP), -2)
			in.MFUPercent = &m
		}
		r, err := engine.Estimate(&in, engine.BuiltinCatalog())
		if err != nil {
			var e *engine.Error
			if !errors.As(err, &e) || e.Reason == "" || e.Field == "" || e.Message == "" {
				t.Fatalf("error %v is not a complete *engine.Error", err)
			}
			return
		}
		if r.GPUCount < 1 || r.GPUCount > engine.MaxGPUs {
			t.Fatalf("gpuCount %d out of [1, %d]", r.GPUCount, engine.MaxGPUs)
		}
		if r.MemoryPerGPUGiB.Sign() <= 0 || r.MemoryPerGPUGiB.GreaterThan(decimal.NewFromInt(80)) {
			t.Fatalf("memory per GPU %s GiB on an 80 GiB H100", r.MemoryPerGPUGiB)
		}
		m := r.MemoryBreakdown
		for name, v := range map[string]decimal.Decimal{"weights": m.Weights, "gradients": m.Gradients,
			"optimizer": m.Optimizer, "activations": m.Activations, "overhead": m.Overhead} {
			if v.Sign() < 0 {
				t.Fatalf("%s = %s GiB", name, v)
			}
		}
		if r.GPUHours.Sign() <= 0 && r.Estimator != engine.Measured {
			t.Fatalf("gpuHours %s", r.GPUHours)
		}
	})
}
