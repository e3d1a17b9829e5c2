package engine

import (
	"github.com/shopspring/decimal"
)

// Recommendation is the verdict.
type Recommendation string

// Recommendations.
const (
	RecommendFineTune Recommendation = "FineTune"
	RecommendAPI      Recommendation = "API"
)

// Budget verdicts.
type BudgetVerdict string

// Budget verdicts.
const (
	NoBudgetSet    BudgetVerdict = "NoBudgetSet"
	WithinBudget   BudgetVerdict = "WithinBudget"
	BudgetExceeded BudgetVerdict = "BudgetExceeded"
)

// Result is a computed estimate. Optional figures are nil when they do not apply.
type Result struct {
	Estimator Estimator
	// Calibration says what the Calibrated estimator found; nil for the others.
	Calibration     *Calibration
	GPUType         string
	GPUCount        int32
	GPUHours        *decimal.Decimal
	GPUHoursLow     *decimal.Decimal
	GPUHoursHigh    *decimal.Decimal
	WallClockHours  *decimal.Decimal
	MemoryPerGPUGiB *decimal.Decimal
	MemoryBreakdown *MemoryBreakdown // per GPU, GiB
	Sharding        Sharding
	SequenceLength  int64
	// GradientCheckpointing is whether the job was estimated with activation checkpointing (Selective
	// or Full); Checkpointing says which.
	GradientCheckpointing bool
	Checkpointing         Checkpointing
	// Framework is the training stack the figures assume; "" for the conservative profile.
	Framework       Framework
	MFUPercent      *decimal.Decimal // FLOPs: the utilisation assumed, in percent
	PricePerGPUHour *decimal.Decimal
	TrainingTokens  *decimal.Decimal

	TrainingCost Money
	OneTimeLines []Line
	OneTimeCost  Money
	UpfrontCost  Money

	APICostPerRequest     decimal.Decimal
	ServingCostPerRequest decimal.Decimal
	APIMonthlyCost        Money // first month
	ServingMonthlyCost    Money // first month
	// Serving is self-hosted serving's figures, nil when the model is not self-hosted.
	Serving *Serving
	// ServingUnpriced: nothing says what serving the fine-tuned model costs; it is counted as free.
	ServingUnpriced bool
	MonthlySavings  Money // first month

	HorizonMonths   int32
	Months          []Month // 1..HorizonMonths
	BreakEvenMonths *decimal.Decimal
	NetSavings      Money
	ROIPercent      *decimal.Decimal
	NetPresentValue Money

	Recommendation Recommendation
	Budget         BudgetVerdict
	MaxUpfrontCost *Money

	// Terms are the parts of the figures above, for showing each with its formula.
	Terms Terms
}

// Line is one named money line.
type Line struct {
	Name   string
	Amount Money
}

// Month is one month of the comparison, for a chart of cumulative cost: the lines cross at break-even.
type Month struct {
	Month              int
	Requests           decimal.Decimal // exact: requestsPerMonth x factor(m); shown to 6 decimals
	APICost            Money
	ServingCost        Money
	Savings            Money
	CumulativeAPI      Money // what the API path has cost by the end of this month
	CumulativeFineTune Money // upfront plus serving to the end of this month
	ServingReplicas    int32 // self-hosted replicas priced this month (always-on)
}

// Estimate computes one estimate against a catalog. A returned *Error says what is wrong and where.
func Estimate(in *Input, cat *Catalog) (*Result, error) {
	if err := checkNotNegative(in); err != nil {
		return nil, err
	}
	t, err := estimateTraining(in, cat)
	if err != nil {
		return nil, err
	}
	if err := checkTraining(t); err != nil {
		return nil, err
	}
	r := &Result{
		Estimator:             t.estimator,
		Calibration:           t.calibration,
		GPUType:               t.gpuType,
		GPUCount:              t.gpuCount,
		GPUHoursLow:           t.low,
		GPUHoursHigh:          t.high,
		MemoryPerGPUGiB:       t.memoryPerGPU,
		MemoryBreakdown:       t.memory,
		Sharding:              t.sharding,
		SequenceLength:        t.sequence,
		GradientCheckpointing: t.checkpoint == CheckpointSelective || t.checkpoint == CheckpointFull,
		Checkpointing:         t.checkpoint,
		Framework:             t.framework,
		PricePerGPUHour:       t.pricePerHour,
		TrainingCost:          t.cost,
	}
	if t.utilisation != nil {
		pct := t.utilisation.Mul(hundred).Round(2)
		r.MFUPercent = &pct
	}
	if t.estimator == ManagedEstimator {
		r.TrainingTokens = &t.trainingTokens
	} else {
		r.GPUHours, r.WallClockHours = &t.hours, &t.wallClock
	}

	r.OneTimeLines = oneTimeLines(&in.OneTime)
	for _, l := range r.OneTimeLines {
		r.OneTimeCost = r.OneTimeCost.Add(l.Amount)
	}
	r.UpfrontCost = r.TrainingCost.Add(r.OneTimeCost)
	if err := checkMoney("the upfront cost", r.UpfrontCost, FieldDataCollection); err != nil {
		return nil, err
	}

	if r.APICostPerRequest, err = apiCostPerRequest(in, cat); err != nil {
		return nil, err
	}
	servingModel := in.ServingAPIModel
	if servingModel == "" {
		servingModel = t.servingModel
	}
	if r.ServingCostPerRequest, err = servingCostPerRequest(in, cat, servingModel); err != nil {
		return nil, err
	}
	var hosted *hosting
	if in.SelfHosted != nil {
		model, ok := cat.Models[in.Model]
		if !ok {
			return nil, errorf(ReasonModelNotFound, FieldModel, "model %q is not in price catalog %q, so it cannot be self-hosted", in.Model, cat.Name)
		}
		if hosted, err = newHosting(in, cat, model); err != nil {
			return nil, err
		}
	}
	r.ServingUnpriced = !in.ServingStated && in.SelfHosted == nil && in.ServingCostPerRequest == nil &&
		servingModel == "" && in.ServingMonthlyCost.IsZero()
	if err := projectMonths(in, r, hosted); err != nil {
		return nil, err
	}

	r.Budget = NoBudgetSet
	if in.MaxUpfrontCost != nil {
		max := Cents(*in.MaxUpfrontCost)
		r.MaxUpfrontCost = &max
		r.Budget = WithinBudget
		if r.UpfrontCost.Cmp(max) > 0 {
			r.Budget = BudgetExceeded
		}
	}
	terms(in, r, t)
	return r, nil
}

// checkNotNegative refuses negative prices, costs and token counts. The API schema already does; the
// engine checks too because break-even's early stop and the budget verdict rely on it.
func checkNotNegative(in *Input) error {
	for _, f := range []struct {
		v     *decimal.Decimal
		field Field
	}{
		{&in.OneTime.DataCollection, FieldDataCollection},
		{&in.OneTime.DataLabeling, FieldDataLabeling},
		{&in.OneTime.DataCleaning, FieldDataCleaning},
		{&in.OneTime.Experimentation, FieldExperimentation},
		{&in.OneTime.Deployment, FieldDeployment},
		{&in.OneTime.Hardware, FieldHardware},
		{&in.ServingMonthlyCost, FieldServingMonthlyCost},
		{in.ServingCostPerRequest, FieldServingCostPerRequest},
		{in.APICostPerRequest, FieldAPICostPerRequest},
		{in.APIInputPerMillion, FieldAPIInputPerMillion},
		{in.APIOutputPerMillion, FieldAPIOutputPerMillion},
		{in.MaxUpfrontCost, FieldMaxUpfrontCost},
	} {
		if f.v != nil && f.v.Sign() < 0 {
			return errorf(ReasonInvalidSpec, f.field, "must not be negative, got %s", f.v)
		}
	}
	for _, f := range []struct {
		v     *int64
		field Field
	}{
		{in.InputTokensPerRequest, FieldInputTokensPerRequest},
		{in.OutputTokensPerRequest, FieldOutputTokensPerRequest},
		{&in.TokensPerExample, FieldTokensPerExample},
	} {
		if f.v != nil && *f.v < 0 {
			return errorf(ReasonInvalidSpec, f.field, "must not be negative, got %d", *f.v)
		}
	}
	return nil
}

func oneTimeLines(o *OneTimeCosts) []Line {
	return []Line{
		{"dataCollection", Cents(o.DataCollection)},
		{"dataLabeling", Cents(o.DataLabeling)},
		{"dataCleaning", Cents(o.DataCleaning)},
		{"experimentation", Cents(o.Experimentation)},
		{"deployment", Cents(o.Deployment)},
		{"hardware", Cents(o.Hardware)},
	}
}

// apiCostPerRequest is the quoted price of a request, else its tokens at the API model's prices
// (each price overridable), unrounded.
func apiCostPerRequest(in *Input, cat *Catalog) (decimal.Decimal, error) {
	var model *APIModel
	if in.APIModel != "" {
		m, ok := cat.APIModels[in.APIModel]
		if !ok {
			return decimal.Zero, errorf(ReasonAPIPriceNotFound, FieldAPIModel, "API model %q is not in price catalog %q", in.APIModel, cat.Name)
		}
		model = &m
	}
	if in.APICostPerRequest != nil {
		return *in.APICostPerRequest, nil
	}
	inPrice, outPrice := in.APIInputPerMillion, in.APIOutputPerMillion
	if model != nil {
		if inPrice == nil {
			inPrice = &model.InputPerMillionToken
		}
		if outPrice == nil {
			outPrice = &model.OutputPerMillionToken
		}
	}
	if inPrice == nil || outPrice == nil {
		return decimal.Zero, errorf(ReasonInvalidSpec, FieldAPI, "needs a model, a costPerRequest, or both inputPricePerMillionTokens and outputPricePerMillionTokens")
	}
	return tokenCost(in, *inPrice, *outPrice)
}

func servingCostPerRequest(in *Input, cat *Catalog, apiModel string) (decimal.Decimal, error) {
	if in.ServingCostPerRequest != nil {
		return *in.ServingCostPerRequest, nil
	}
	if apiModel == "" {
		return decimal.Zero, nil
	}
	m, ok := cat.APIModels[apiModel]
	if !ok {
		return decimal.Zero, errorf(ReasonAPIPriceNotFound, FieldServingAPIModel, "API model %q is not in price catalog %q", apiModel, cat.Name)
	}
	return tokenCost(in, m.InputPerMillionToken, m.OutputPerMillionToken)
}

func tokenCost(in *Input, inPrice, outPrice decimal.Decimal) (decimal.Decimal, error) {
	if in.InputTokensPerRequest == nil {
		return decimal.Zero, errorf(ReasonInvalidSpec, FieldInputTokensPerRequest, "is required to price requests by tokens")
	}
	if in.OutputTokensPerRequest == nil {
		return decimal.Zero, errorf(ReasonInvalidSpec, FieldOutputTokensPerRequest, "is required to price requests by tokens")
	}
	cost := decimal.NewFromInt(*in.InputTokensPerRequest).Mul(inPrice).
		Add(decimal.NewFromInt(*in.OutputTokensPerRequest).Mul(outPrice))
	return cost.Div(million), nil
}
