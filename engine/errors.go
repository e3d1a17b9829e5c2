package engine

import "fmt"

// Reason classifies why an estimate could not be computed. The values match the API's Ready reasons.
type Reason string

// Reasons an estimate fails.
const (
	// ReasonInvalidSpec: an input the engine needs is missing, contradictory or out of range.
	ReasonInvalidSpec Reason = "InvalidSpec"
	// ReasonModelNotFound: the model is not in the catalog (or not offered by a managed provider).
	ReasonModelNotFound Reason = "ModelNotFound"
	// ReasonProviderNotFound: the provider, or its price for the GPU type, is not in the catalog.
	ReasonProviderNotFound Reason = "ProviderNotFound"
	// ReasonAPIPriceNotFound: an API model is not in the catalog.
	ReasonAPIPriceNotFound Reason = "APIPriceNotFound"
	// ReasonDoesNotFit: the training job needs more memory per GPU than its GPU type has.
	ReasonDoesNotFit Reason = "DoesNotFit"
)

// Field names the engine input at fault, in the engine's own words: the name of a field of Input or
// Ownership. The callers translate it: the operator to a spec path, the CLI to a flag.
type Field string

// The inputs of Input.
const (
	FieldModel                     Field = "Model"
	FieldMethod                    Field = "Method"
	FieldExamples                  Field = "Examples"
	FieldTokensPerExample          Field = "TokensPerExample"
	FieldProvider                  Field = "Provider"
	FieldGPUType                   Field = "GPUType"
	FieldEstimator                 Field = "Estimator"
	FieldHours                     Field = "Hours"
	FieldSequenceLength            Field = "SequenceLength"
	FieldGPUCount                  Field = "GPUCount"
	FieldSharding                  Field = "Sharding"
	FieldMicroBatchSize            Field = "MicroBatchSize"
	FieldPrecision                 Field = "Precision"
	FieldMFUPercent                Field = "MFUPercent"
	FieldFramework                 Field = "Framework"
	FieldCheckpointing             Field = "Checkpointing"
	FieldLossPrecision             Field = "LossPrecision"
	FieldGradientAccumulationSteps Field = "GradientAccumulationSteps"
	FieldLoRARank                  Field = "LoRARank"
	FieldLoRATargets               Field = "LoRATargets"
	FieldDataCollection            Field = "OneTime.DataCollection"
	FieldDataLabeling              Field = "OneTime.DataLabeling"
	FieldDataCleaning              Field = "OneTime.DataCleaning"
	FieldExperimentation           Field = "OneTime.Experimentation"
	FieldDeployment                Field = "OneTime.Deployment"
	FieldHardware                  Field = "OneTime.Hardware"
	FieldServingCostPerRequest     Field = "ServingCostPerRequest"
	FieldServingMonthlyCost        Field = "ServingMonthlyCost"
	FieldServingAPIModel           Field = "ServingAPIModel"
	FieldServingProvider           Field = "SelfHosted.Provider"
	FieldServingGPUType            Field = "SelfHosted.GPUType"
	FieldServingReplicas           Field = "SelfHosted.Replicas"
	FieldServingHoursPerMonth      Field = "SelfHosted.HoursPerMonth"
	FieldServingPrecision          Field = "SelfHosted.Precision"
	FieldAPI                       Field = "API" // the API side as a whole: it needs prices from somewhere
	FieldAPIModel                  Field = "APIModel"
	FieldAPIInputPerMillion        Field = "APIInputPerMillion"
	FieldAPIOutputPerMillion       Field = "APIOutputPerMillion"
	FieldAPICostPerRequest         Field = "APICostPerRequest"
	FieldRequestsPerMonth          Field = "RequestsPerMonth"
	FieldInputTokensPerRequest     Field = "InputTokensPerRequest"
	FieldOutputTokensPerRequest    Field = "OutputTokensPerRequest"
	FieldMonthlyGrowthPercent      Field = "MonthlyGrowthPercent"
	FieldHorizonMonths             Field = "HorizonMonths"
	FieldAnnualDiscountRatePercent Field = "AnnualDiscountRatePercent"
	FieldMaxUpfrontCost            Field = "MaxUpfrontCost"
)

// The inputs of Ownership.
const (
	FieldPurchasePrice      Field = "PurchasePrice"
	FieldYearlyRunningCost  Field = "YearlyRunningCost"
	FieldYears              Field = "Years"
	FieldRentPerGPUHour     Field = "RentPerGPUHour"
	FieldHoursPerMonth      Field = "HoursPerMonth"
	FieldUtilizationPercent Field = "UtilizationPercent"
)

// InputFields lists every Field an Estimate can name, so that callers can test that they translate
// each one.
var InputFields = []Field{
	FieldModel, FieldMethod, FieldExamples, FieldTokensPerExample, FieldProvider, FieldGPUType,
	FieldEstimator, FieldHours, FieldSequenceLength, FieldGPUCount, FieldSharding, FieldMicroBatchSize,
	FieldPrecision, FieldMFUPercent, FieldFramework, FieldCheckpointing, FieldLossPrecision, FieldGradientAccumulationSteps, FieldLoRARank, FieldLoRATargets, FieldDataCollection, FieldDataLabeling, FieldDataCleaning,
	FieldExperimentation, FieldDeployment, FieldHardware, FieldServingCostPerRequest,
	FieldServingMonthlyCost, FieldServingAPIModel, FieldServingProvider, FieldServingGPUType,
	FieldServingReplicas, FieldServingHoursPerMonth, FieldServingPrecision, FieldAPI, FieldAPIModel, FieldAPIInputPerMillion,
	FieldAPIOutputPerMillion, FieldAPICostPerRequest, FieldRequestsPerMonth, FieldInputTokensPerRequest,
	FieldOutputTokensPerRequest, FieldMonthlyGrowthPercent, FieldHorizonMonths,
	FieldAnnualDiscountRatePercent, FieldMaxUpfrontCost,
}

// OwnershipFields lists every Field CompareOwnership can name.
var OwnershipFields = []Field{
	FieldPurchasePrice, FieldYearlyRunningCost, FieldYears, FieldRentPerGPUHour, FieldHoursPerMonth,
	FieldUtilizationPercent,
}

// Error is a terminal problem with an estimate's input: retrying without a change to the input or the
// catalog gives the same answer. Field is the engine input at fault.
type Error struct {
	Reason  Reason
	Field   Field
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

func errorf(reason Reason, field Field, format string, args ...any) *Error {
	return &Error{Reason: reason, Field: field, Message: fmt.Sprintf(format, args...)}
}
