package estimate

import "github.com/ftcost/ftcost/engine"

// specPaths names, for each engine input, the FineTuneEstimate field it comes from.
var specPaths = map[engine.Field]string{
	engine.FieldModel:                     "spec.model",
	engine.FieldMethod:                    "spec.method",
	engine.FieldExamples:                  "spec.dataset.examples",
	engine.FieldTokensPerExample:          "spec.dataset.tokensPerExample",
	engine.FieldProvider:                  "spec.training.provider",
	engine.FieldGPUType:                   "spec.training.gpuType",
	engine.FieldEstimator:                 "spec.training.estimator",
	engine.FieldSequenceLength:            "spec.dataset.sequenceLength",
	engine.FieldGPUCount:                  "spec.training.gpuCount",
	engine.FieldSharding:                  "spec.training.sharding",
	engine.FieldMicroBatchSize:            "spec.training.microBatchSize",
	engine.FieldPrecision:                 "spec.training.precision",
	engine.FieldMFUPercent:                "spec.training.mfuPercent",
	engine.FieldFramework:                 "spec.training.framework",
	engine.FieldCheckpointing:             "spec.training.activationCheckpointing",
	engine.FieldLossPrecision:             "spec.training.lossPrecision",
	engine.FieldGradientAccumulationSteps: "spec.training.gradientAccumulationSteps",
	engine.FieldLoRARank:                  "spec.lora.rank",
	engine.FieldLoRATargets:               "spec.lora.targetModules",
	engine.FieldServingProvider:           "spec.serving.selfHosted.provider",
	engine.FieldServingGPUType:            "spec.serving.selfHosted.gpuType",
	engine.FieldServingReplicas:           "spec.serving.selfHosted.replicas",
	engine.FieldServingHoursPerMonth:      "spec.serving.selfHosted.hoursPerMonth",
	engine.FieldServingPrecision:          "spec.serving.selfHosted.precision",
	engine.FieldHours:                     "spec.training.hours",
	engine.FieldDataCollection:            "spec.oneTimeCosts.dataCollection",
	engine.FieldDataLabeling:              "spec.oneTimeCosts.dataLabeling",
	engine.FieldDataCleaning:              "spec.oneTimeCosts.dataCleaning",
	engine.FieldExperimentation:           "spec.oneTimeCosts.experimentation",
	engine.FieldDeployment:                "spec.oneTimeCosts.deployment",
	engine.FieldHardware:                  "spec.oneTimeCosts.hardware",
	engine.FieldServingCostPerRequest:     "spec.serving.costPerRequest",
	engine.FieldServingMonthlyCost:        "spec.serving.monthlyCost",
	engine.FieldServingAPIModel:           "spec.serving.apiModel",
	engine.FieldAPI:                       "spec.api",
	engine.FieldAPIModel:                  "spec.api.model",
	engine.FieldAPIInputPerMillion:        "spec.api.inputPricePerMillionTokens",
	engine.FieldAPIOutputPerMillion:       "spec.api.outputPricePerMillionTokens",
	engine.FieldAPICostPerRequest:         "spec.api.costPerRequest",
	engine.FieldRequestsPerMonth:          "spec.usage.requestsPerMonth",
	engine.FieldInputTokensPerRequest:     "spec.usage.inputTokensPerRequest",
	engine.FieldOutputTokensPerRequest:    "spec.usage.outputTokensPerRequest",
	engine.FieldMonthlyGrowthPercent:      "spec.usage.monthlyGrowthPercent",
	engine.FieldHorizonMonths:             "spec.horizonMonths",
	engine.FieldAnnualDiscountRatePercent: "spec.annualDiscountRatePercent",
	engine.FieldMaxUpfrontCost:            "spec.budget.maxUpfrontCost",
}

// SpecPath is the spec field an engine input comes from, such as "spec.dataset.examples" for
// engine.FieldExamples. A field with no spec counterpart is returned as it is.
func SpecPath(f engine.Field) string {
	if p, ok := specPaths[f]; ok {
		return p
	}
	return string(f)
}

// SpecMessage is an engine error in the spec's words: "spec.dataset.examples: must be at least 1".
func SpecMessage(e *engine.Error) string {
	if e.Field == "" {
		return e.Message
	}
	return SpecPath(e.Field) + ": " + e.Message
}
