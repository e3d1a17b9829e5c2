package estimate

import (
	"strings"

	"github.com/shopspring/decimal"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
)

// ProfileName is the ThroughputProfile of a model, method and GPU type: "llama-13b.lora.h100". The
// three parts are DNS labels already (the schema's patterns), lower-cased to make a valid name.
func ProfileName(model string, method ftv1.Method, gpuType string) string {
	return strings.ToLower(model + "." + string(method) + "." + gpuType)
}

// Throughput is a profile's measurement as the engine's input; nil when it holds none.
func Throughput(p *ftv1.ThroughputProfile) *engine.Throughput {
	if p == nil || p.Status.Samples == 0 {
		return nil
	}
	tp := &engine.Throughput{Profile: p.Name, Samples: p.Status.Samples}
	tp.TokensPerGPUSecond, _ = decimal.NewFromString(p.Status.TokensPerGPUSecond)
	tp.SpreadPercent, _ = decimal.NewFromString(p.Status.SpreadPercent)
	return tp
}

// calibratedGPU is the GPU type a Calibrated estimate trains on: the spec's, else its provider's default.
func calibratedGPU(in *engine.Input, cat *engine.Catalog) string {
	if in.GPUType != "" {
		return in.GPUType
	}
	if p, ok := cat.Providers[in.Provider]; ok {
		return p.DefaultGPUOf()
	}
	return ""
}

// CalibratedProfile is the ThroughputProfile a Calibrated estimate reads, "" for other estimators.
func CalibratedProfile(spec *ftv1.FineTuneEstimateSpec, cat *engine.Catalog) string {
	if spec.Training.Estimator != ftv1.EstimatorCalibrated {
		return ""
	}
	gpu := calibratedGPU(&engine.Input{GPUType: spec.Training.GPUType, Provider: spec.Training.Provider}, cat)
	if gpu == "" {
		return ""
	}
	return ProfileName(spec.Model, spec.Method, gpu)
}

func calibrationStatus(c *engine.Calibration) *ftv1.CalibrationStatus {
	if c == nil {
		return nil
	}
	return &ftv1.CalibrationStatus{ThroughputProfile: c.Profile, Samples: c.Samples, Message: c.Message}
}
