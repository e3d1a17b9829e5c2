package estimate

import (
	"fmt"
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

// maxNamedOutliers is how many left-out runs a calibration message names (it has a maximum length).
const maxNamedOutliers = 3

// Throughput is a profile's measurement as the engine's input, from the runs of the namespaces
// trusted says yes to: their median throughput with outliers left out (engine.Robust); nil when
// it holds no such run.
func Throughput(p *ftv1.ThroughputProfile, trusted func(namespace string) bool) *engine.Throughput {
	if p == nil {
		return nil
	}
	var runs []ftv1.ProfileRun
	var samples []decimal.Decimal
	for _, r := range p.Status.RecentRuns {
		tps, err := decimal.NewFromString(r.TokensPerGPUSecond)
		if err != nil || r.Namespace == "" || !trusted(r.Namespace) {
			continue
		}
		runs, samples = append(runs, r), append(samples, tps)
	}
	if len(samples) == 0 {
		return nil
	}
	robust := engine.Robust(samples)
	tp := &engine.Throughput{Profile: p.Name, Samples: int64(len(robust.Accepted)),
		TokensPerGPUSecond: robust.Median, SpreadPercent: robust.SpreadPercent}
	for n, i := range robust.Rejected {
		if n == maxNamedOutliers {
			tp.Rejected = append(tp.Rejected, fmt.Sprintf("and %d more", len(robust.Rejected)-n))
			break
		}
		tp.Rejected = append(tp.Rejected, fmt.Sprintf("run %s of %s (%s tokens per GPU-second)", runs[i].UID, runs[i].Estimate, runs[i].TokensPerGPUSecond))
	}
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
	msg := c.Message
	if len(msg) > maxCalibrationMessage { // the schema's maxLength
		msg = strings.ToValidUTF8(msg[:maxCalibrationMessage-3], "") + "..."
	}
	return &ftv1.CalibrationStatus{ThroughputProfile: c.Profile, Samples: c.Samples, Message: msg}
}

// maxCalibrationMessage is the schema's maxLength of status.calibration.message.
const maxCalibrationMessage = 1024
