package engine_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/ftcost/ftcost/engine"
)

// FuzzCatalogFigures varies the catalog's own figures (parameters, GPU memory and throughput, scale
// factor, price) within what the CRD admits: no panic, a typed error or a GPU count within MaxGPUs,
// hours never negative, and the training cost equal to hours x price rounded to the cent.
func FuzzCatalogFigures(f *testing.F) {
	f.Add(uint64(13_000_000_000), uint16(80), uint32(989_000), uint32(2_000), uint32(2_490), uint8(1), uint32(10_000))
	f.Add(uint64(240191980126426414), uint16(1), uint32(1), uint32(1), uint32(1), uint8(0), uint32(1))
	f.Add(uint64(100_000_000_000_000), uint16(4096), uint32(1), uint32(50_000), uint32(999_999), uint8(2), uint32(1_000_000))
	f.Fuzz(func(t *testing.T, params uint64, memGiB uint16, peakMilli, scaleMilli, priceMilli uint32, method uint8, examples uint32) {
		c := engine.BuiltinCatalog()
		m := c.Models["llama-13b"]
		m.Parameters = int64(params%100_000_000_000_000) + 1 // the CRD's 1..10^14
		m.ScaleFactor = decimal.New(int64(scaleMilli%1_000_000)+1, -3)
		c.Models["llama-13b"] = m
		g := c.GPUs["H100"]
		g.MemoryGiB = int32(memGiB%4096) + 1
		g.PeakBF16TFLOPs = decimal.New(int64(peakMilli%10_000_000)+1, -3)
		c.GPUs["H100"] = g
		price := decimal.New(int64(priceMilli%10_000_000)+1, -3)
		c.Providers["runpod"].GPUPrices["H100"] = price
		methods := []engine.Method{engine.Full, engine.LoRA, engine.QLoRA}
		in := &engine.Input{Model: "llama-13b", Method: methods[int(method)%3], Examples: int64(examples%2_000_000) + 1,
			Provider: "runpod", APICostPerRequest: decp("0.005"), RequestsPerMonth: 10_000}
		r, err := engine.Estimate(in, c)
		if err != nil {
			var e *engine.Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if r.GPUCount < 1 || r.GPUCount > engine.MaxGPUs {
			t.Fatalf("gpuCount %d outside 1..%d", r.GPUCount, engine.MaxGPUs)
		}
		if r.GPUHours.Sign() < 0 || r.MemoryPerGPUGiB.Sign() < 0 {
			t.Fatalf("negative hours %s or memory %s", r.GPUHours, r.MemoryPerGPUGiB)
		}
		if want := engine.Cents(r.GPUHours.Mul(price)); r.TrainingCost.Cmp(want) != 0 {
			t.Fatalf("training cost %s, want %s (%s h x %s)", r.TrainingCost, want, r.GPUHours, price)
		}
	})
}
