// Package estimate turns FineTuneEstimate specs into engine inputs, resolves the PriceCatalog they
// price with, and turns engine results into the status the operator writes. The reconciler and the ftcost CLI share it, so the CLI
// prints exactly what the operator would write.
package estimate

import (
	"fmt"

	"github.com/shopspring/decimal"

	"k8s.io/utils/ptr"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
)

// decimalField parses an optional decimal string of the spec; the error names the field.
func decimalField(v *ftv1.Decimal, field engine.Field) (*decimal.Decimal, error) {
	if v == nil {
		return nil, nil
	}
	return parseDecimal(string(*v), field)
}

func parseDecimal(s string, field engine.Field) (*decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return nil, &engine.Error{Reason: engine.ReasonInvalidSpec, Field: field, Message: fmt.Sprintf("%q is not a decimal number", s)}
	}
	return &d, nil
}

func orZero(d *decimal.Decimal) decimal.Decimal {
	if d == nil {
		return decimal.Zero
	}
	return *d
}

// Input converts a spec into an engine input. Errors are *engine.Error naming the engine input;
// SpecPath gives the spec field it comes from.
func Input(spec *ftv1.FineTuneEstimateSpec) (*engine.Input, error) {
	in := &engine.Input{
		Model:                  spec.Model,
		Method:                 engine.Method(spec.Method),
		Examples:               spec.Dataset.Examples,
		Provider:               spec.Training.Provider,
		GPUType:                spec.Training.GPUType,
		Estimator:              engine.Estimator(spec.Training.Estimator),
		APIModel:               spec.API.Model,
		RequestsPerMonth:       spec.Usage.RequestsPerMonth,
		InputTokensPerRequest:  spec.Usage.InputTokensPerRequest,
		OutputTokensPerRequest: spec.Usage.OutputTokensPerRequest,
	}
	if spec.Dataset.TokensPerExample != nil {
		in.TokensPerExample = *spec.Dataset.TokensPerExample
	}
	if spec.Dataset.Epochs != nil {
		in.Epochs = *spec.Dataset.Epochs
	}
	if spec.HorizonMonths != nil {
		in.HorizonMonths = *spec.HorizonMonths
	}
	if spec.Dataset.SequenceLength != nil {
		in.SequenceLength = *spec.Dataset.SequenceLength
	}
	t := &spec.Training
	if t.GPUCount != nil {
		in.GPUCount = *t.GPUCount
	}
	if t.MicroBatchSize != nil {
		in.MicroBatchSize = *t.MicroBatchSize
	}
	if t.GradientAccumulationSteps != nil {
		in.GradientAccumulationSteps = *t.GradientAccumulationSteps
	}
	in.Sharding, in.Precision = engine.Sharding(t.Sharding), engine.Precision(t.Precision)
	in.LossPrecision = engine.LossPrecision(t.LossPrecision)
	in.GradientCheckpointing = t.GradientCheckpointing
	in.Checkpointing, in.Framework = engine.Checkpointing(t.ActivationCheckpointing), engine.Framework(t.Framework)
	if l := spec.LoRA; l != nil {
		if l.Rank != nil {
			in.LoRARank = *l.Rank
		}
		in.LoRATargets = engine.LoRATargets(l.TargetModules)
	}
	var err error
	fields := []struct {
		src   *ftv1.Decimal
		dst   **decimal.Decimal
		field engine.Field
	}{
		{spec.Training.Hours, &in.Hours, engine.FieldHours},
		{spec.Training.MFUPercent, &in.MFUPercent, engine.FieldMFUPercent},
		{spec.API.CostPerRequest, &in.APICostPerRequest, engine.FieldAPICostPerRequest},
		{spec.API.InputPricePerMillionTokens, &in.APIInputPerMillion, engine.FieldAPIInputPerMillion},
		{spec.API.OutputPricePerMillionTokens, &in.APIOutputPerMillion, engine.FieldAPIOutputPerMillion},
	}
	for _, f := range fields {
		if *f.dst, err = decimalField(f.src, f.field); err != nil {
			return nil, err
		}
	}
	rate, err := decimalField(spec.AnnualDiscountRatePercent, engine.FieldAnnualDiscountRatePercent)
	if err != nil {
		return nil, err
	}
	in.AnnualDiscountRatePercent = orZero(rate)
	if spec.Usage.MonthlyGrowthPercent != nil {
		g, err := parseDecimal(string(*spec.Usage.MonthlyGrowthPercent), engine.FieldMonthlyGrowthPercent)
		if err != nil {
			return nil, err
		}
		in.MonthlyGrowthPercent = *g
	}
	if s := spec.Serving; s != nil {
		in.ServingStated = s.CostPerRequest != nil || s.MonthlyCost != nil || s.APIModel != "" || s.SelfHosted != nil
		in.ServingAPIModel = s.APIModel
		if h := s.SelfHosted; h != nil {
			sh := &engine.SelfHosted{Provider: h.Provider, GPUType: h.GPUType, ScaleToZero: ptr.Deref(h.ScaleToZero, false),
				Replicas: ptr.Deref(h.Replicas, 0), MinReplicas: ptr.Deref(h.MinReplicas, 0),
				Precision: engine.ServingPrecision(h.Precision)}
			if sh.HoursPerMonth, err = decimalField(h.HoursPerMonth, engine.FieldServingHoursPerMonth); err != nil {
				return nil, err
			}
			in.SelfHosted = sh
		}
		if in.ServingCostPerRequest, err = decimalField(s.CostPerRequest, engine.FieldServingCostPerRequest); err != nil {
			return nil, err
		}
		m, err := decimalField(s.MonthlyCost, engine.FieldServingMonthlyCost)
		if err != nil {
			return nil, err
		}
		in.ServingMonthlyCost = orZero(m)
	}
	if o := spec.OneTimeCosts; o != nil {
		for _, f := range []struct {
			src   *ftv1.Decimal
			dst   *decimal.Decimal
			field engine.Field
		}{
			{o.DataCollection, &in.OneTime.DataCollection, engine.FieldDataCollection},
			{o.DataLabeling, &in.OneTime.DataLabeling, engine.FieldDataLabeling},
			{o.DataCleaning, &in.OneTime.DataCleaning, engine.FieldDataCleaning},
			{o.Experimentation, &in.OneTime.Experimentation, engine.FieldExperimentation},
			{o.Deployment, &in.OneTime.Deployment, engine.FieldDeployment},
			{o.Hardware, &in.OneTime.Hardware, engine.FieldHardware},
		} {
			v, err := decimalField(f.src, f.field)
			if err != nil {
				return nil, err
			}
			*f.dst = orZero(v)
		}
	}
	if spec.Budget != nil {
		if in.MaxUpfrontCost, err = decimalField(spec.Budget.MaxUpfrontCost, engine.FieldMaxUpfrontCost); err != nil {
			return nil, err
		}
	}
	return in, nil
}
