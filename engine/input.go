package engine

import "github.com/shopspring/decimal"

// Method is how the weights are trained.
type Method string

// Methods.
const (
	Full  Method = "Full"
	LoRA  Method = "LoRA"
	QLoRA Method = "QLoRA"
)

// Estimator names how GPU-hours were obtained.
type Estimator string

// Estimators.
const (
	Empirical        Estimator = "Empirical"
	FLOPs            Estimator = "FLOPs"
	Measured         Estimator = "Measured"
	ManagedEstimator Estimator = "Managed"
)

// Input is one estimate's question. Optional figures are pointers; nil means "not given".
type Input struct {
	Model            string
	Method           Method
	Examples         int64
	TokensPerExample int64 // 0: not given
	Epochs           int32 // 0: 1

	Provider  string
	GPUType   string           // "": the provider's default
	Estimator Estimator        // "": Empirical
	Hours     *decimal.Decimal // measured GPU-hours; replaces the estimator

	OneTime OneTimeCosts

	ServingCostPerRequest *decimal.Decimal
	ServingMonthlyCost    decimal.Decimal
	ServingAPIModel       string

	APIModel            string
	APIInputPerMillion  *decimal.Decimal
	APIOutputPerMillion *decimal.Decimal
	APICostPerRequest   *decimal.Decimal

	RequestsPerMonth       int64
	InputTokensPerRequest  *int64
	OutputTokensPerRequest *int64
	MonthlyGrowthPercent   decimal.Decimal

	HorizonMonths             int32 // 0: 36
	AnnualDiscountRatePercent decimal.Decimal
	MaxUpfrontCost            *decimal.Decimal
}

// OneTimeCosts are the costs paid once besides GPU time, each rounded to the cent as a line.
type OneTimeCosts struct {
	DataCollection  decimal.Decimal
	DataLabeling    decimal.Decimal
	DataCleaning    decimal.Decimal
	Experimentation decimal.Decimal
	Deployment      decimal.Decimal
	Hardware        decimal.Decimal
}

// Defaults applied when an input leaves a figure out.
const (
	DefaultHorizonMonths int32 = 36
	DefaultEpochs        int32 = 1
	MaxHorizonMonths     int32 = 120
	// BreakEvenSearchMonths is how far break-even is looked for past the horizon; beyond it the
	// fine-tune "never" pays back and breakEvenMonths is omitted.
	BreakEvenSearchMonths = 1200
)
