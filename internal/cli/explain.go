package cli

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
)

func newExplainCommand(s Streams) *cobra.Command {
	t := newTargetFlags()
	cmd := &cobra.Command{
		Use:   "explain (NAME | fte/NAME | -f FILE [NAME])",
		Short: "Print every figure of one estimate with the formula, inputs and prices behind it",
		Long: `explain prints every figure of one estimate in the order a person checks it: the GPU-hours and
what they come from, the GPU and its memory, the price per GPU-hour with its catalog entry and
source, the training and upfront cost, the cost of a request on the API and on the fine-tuned model,
each month's requests, API and serving cost with the running totals, where break-even falls, and
the net savings, ROI, net present value and verdict.

The estimate comes from the cluster (NAME or fte/NAME, with kubectl's --kubeconfig, --context and
-n), recomputed from its spec with the catalog its status names; a warning says where the stored
status and the fresh figures differ. Or from -f files as in estimate.`,
		Example: `  ftcost explain -f support-bot.yaml
  kubectl ftcost explain fte/support-bot -n ml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			tg, err := t.load(cmd.Context(), s, args)
			if err != nil {
				return err
			}
			tg.warn(s)
			w := bufio.NewWriter(s.Out)
			explain(w, tg)
			return w.Flush()
		},
	}
	t.addFlags(cmd)
	return cmd
}

// source is "(source, effective date)" of a catalog entry, or "" when it has none.
func source(p engine.Provenance) string {
	var parts []string
	if p.Source != "" {
		parts = append(parts, "source: "+p.Source)
	}
	if p.EffectiveDate != "" {
		parts = append(parts, "effective "+p.EffectiveDate)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

func figure(d *decimal.Decimal) string {
	if d == nil {
		return "-"
	}
	return d.String()
}

// explain writes the explanation of t. The figures printed as results are the engine's and the
// status's own; the formulas show the inputs they come from.
func explain(w io.Writer, t *target) {
	fte, r, st, in := t.obj, t.result, t.fresh, t.input
	cat := t.catalog
	spec := &fte.Spec
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }

	p("FineTuneEstimate %s/%s, from %s (generation %d)", fte.Namespace, fte.Name, t.from, fte.Generation)
	switch t.pricing.Source {
	case ftv1.PricingSourceBuiltin:
		p("Prices: the built-in catalog %q (no PriceCatalog %q exists)", cat.Name, ftv1.DefaultCatalogName)
	default:
		p("Prices: PriceCatalog %q, generation %d", cat.Name, t.pricing.CatalogGeneration)
	}
	p("Money in %s. Money lines are rounded half away from zero to the cent as they are made.", st.Currency)

	// 1. Training.
	p("")
	provider := cat.Providers[spec.Training.Provider]
	if r.Estimator == engine.ManagedEstimator {
		p("1. Training tokens: %s (managed provider %q bills training per token, so no GPU-hours)", figure(r.TrainingTokens), provider.Name)
		p("   training tokens = examples x tokens per example x epochs = %d x %d x %d = %s",
			r.Terms.Examples, r.Terms.TokensPerExample, r.Terms.Epochs, figure(r.TrainingTokens))
		p("")
		p("2. Price per million training tokens: %s, provider %q%s", provider.PricePerMillionTrainingTokens, provider.Name, source(provider.Provenance))
		p("   training cost = %s tokens / 1,000,000 x %s = %s", figure(r.TrainingTokens), provider.PricePerMillionTrainingTokens, r.TrainingCost)
	} else {
		model, gpu := cat.Models[spec.Model], cat.GPUs[r.GPUType]
		gpuWhy := "spec.training.gpuType"
		if spec.Training.GPUType == "" {
			gpuWhy = fmt.Sprintf("provider %q's default", provider.Name)
		}
		p("1. GPU-hours: %s (%s estimator)", figure(r.GPUHours), r.Estimator)
		p("   model %s: %d parameters, scale factor %s%s", model.Name, model.Parameters, model.ScaleFactor, source(model.Provenance))
		p("   GPU %s (%s): %d GiB, %s peak dense BF16 TFLOP/s%s", gpu.Name, gpuWhy, gpu.MemoryGiB, gpu.PeakBF16TFLOPs, source(gpu.Provenance))
		tm := r.Terms
		tokens := tm.Tokens
		band := fmt.Sprintf("%s%% (%s", tm.Band.Mul(decimal.NewFromInt(100)), tm.BandFrom)
		if r.Framework != "" && tm.BandFrom != engine.BandMeasured {
			band += fmt.Sprintf(", %s", r.Framework)
		}
		band += ")"
		switch r.Estimator {
		case engine.Measured:
			p("   GPU-hours = spec.training.hours, measured = %s", figure(r.GPUHours))
		case engine.Calibrated:
			tp := in.Throughput
			p("   GPU-hours = %s training tokens / (%s tokens per GPU-second x 3600 s) = %s", tokens, tp.TokensPerGPUSecond, figure(r.GPUHours))
			p("   throughput measured on %d finished runs of this model, method and GPU (ThroughputProfile %s)", tp.Samples, tp.Profile)
		case engine.FLOPs:
			p("   GPU-hours = %s training tokens x %s FLOPs per token / (%s TFLOP/s x 10^12 x %s%% utilisation x 3600 s) = %s",
				tokens, tm.FLOPs.Total, gpu.PeakBF16TFLOPs, figure(r.MFUPercent), figure(r.GPUHours))
			p("   FLOPs per token = %s", flopsFormula(tm.FLOPs))
		default:
			scaled := ""
			if !gpu.PeakBF16TFLOPs.Equal(engine.EmpiricalReferenceTFLOPs) {
				scaled = fmt.Sprintf(" x %s / %s (H100 over %s peak)", engine.EmpiricalReferenceTFLOPs, gpu.PeakBF16TFLOPs, gpu.Name)
			}
			p("   GPU-hours = %s H100-hours per example x %d examples x %s scale factor x %s (%s)%s = %s",
				engine.EmpiricalHoursPerExample, in.Examples, model.ScaleFactor, engine.MethodFactor[in.Method], in.Method, scaled, figure(r.GPUHours))
		}
		if c := r.Calibration; c != nil && r.Estimator != engine.Calibrated {
			p("   Calibrated asked for: %s", c.Message)
		}
		if r.GPUHoursLow != nil {
			p("   range: -/+%s = %s to %s GPU-hours", band, figure(r.GPUHoursLow), figure(r.GPUHoursHigh))
		}
		if m := r.MemoryBreakdown; m != nil {
			p("   memory per GPU = weights %s + gradients %s + optimizer %s + activations %s + overhead %s = %s GiB, on %d x %d GiB GPU(s), sharding %s",
				engine.FormatOneDecimal(m.Weights), engine.FormatOneDecimal(m.Gradients), engine.FormatOneDecimal(m.Optimizer),
				engine.FormatOneDecimal(m.Activations), engine.FormatOneDecimal(m.Overhead), engine.FormatOneDecimal(*r.MemoryPerGPUGiB),
				r.GPUCount, gpu.MemoryGiB, r.Sharding)
			if m.OneEnd {
				p("   (no gradient accumulation: the peak holds the activations or the gradients, whichever end of the backward pass is larger)")
			}
		}
		p("   wall clock = %s GPU-hours / %d GPU(s) = %s hours", figure(r.GPUHours), r.GPUCount, figure(r.WallClockHours))
		p("")
		market := "on-demand"
		if provider.Spot {
			market = "spot"
		}
		p("2. Price per GPU-hour: %s, provider %q (%s) for %s%s", figure(r.PricePerGPUHour), provider.Name, market, r.GPUType, source(provider.Provenance))
		p("   training cost = %s GPU-hours x %s = %s, to the cent %s", figure(r.GPUHours), figure(r.PricePerGPUHour),
			figure(tm.TrainingCostExact), r.TrainingCost)
		if tm.TrainingCostLow != nil {
			p("   range: %s to %s", *tm.TrainingCostLow, *tm.TrainingCostHigh)
		}
	}

	// 3. Upfront.
	p("")
	var lines []string
	for _, l := range r.OneTimeLines {
		if !l.Amount.IsZero() {
			lines = append(lines, fmt.Sprintf("%s %s", l.Name, l.Amount))
		}
	}
	if len(lines) == 0 {
		lines = []string{"none"}
	}
	p("3. One-time costs (spec.oneTimeCosts): %s = %s", strings.Join(lines, " + "), r.OneTimeCost)
	p("   upfront cost = training %s + one-time %s = %s", r.TrainingCost, r.OneTimeCost, r.UpfrontCost)
	if r.MaxUpfrontCost != nil {
		p("   budget (spec.budget.maxUpfrontCost): %s: %s", *r.MaxUpfrontCost, r.Budget)
	}

	// 4. Per request.
	p("")
	p("4. Cost of a request")
	p("   API: %s", requestCost(spec.API.CostPerRequest, spec.API.Model, spec.API.InputPricePerMillionTokens, spec.API.OutputPricePerMillionTokens, in, cat, r.APICostPerRequest))
	serving := "none given: the fine-tuned model's serving cost is 0 per request"
	switch {
	case spec.Serving != nil && spec.Serving.CostPerRequest != nil:
		serving = fmt.Sprintf("quoted in spec.serving.costPerRequest: %s", r.ServingCostPerRequest)
	case spec.Serving != nil && spec.Serving.APIModel != "":
		serving = requestCost(nil, spec.Serving.APIModel, nil, nil, in, cat, r.ServingCostPerRequest)
	case provider.ServingAPIModel != "":
		serving = fmt.Sprintf("managed provider %q serves at ", provider.Name) + requestCost(nil, provider.ServingAPIModel, nil, nil, in, cat, r.ServingCostPerRequest)
	}
	p("   fine-tuned model: %s", serving)
	if !in.ServingMonthlyCost.IsZero() {
		p("   plus a fixed %s a month to serve it (spec.serving.monthlyCost)", engine.Cents(in.ServingMonthlyCost))
	}

	// 5. Months.
	p("")
	growth := "no growth"
	if !in.MonthlyGrowthPercent.IsZero() {
		growth = fmt.Sprintf("growing %s%% a month", in.MonthlyGrowthPercent)
	}
	p("5. Months: %d requests in month 1, %s, over %d months", in.RequestsPerMonth, growth, r.HorizonMonths)
	p("   API cost = requests x API cost per request; serving = requests x serving cost per request + monthly cost;")
	p("   savings = API - serving; the fine-tune path starts at the upfront cost %s", r.UpfrontCost)
	fmt.Fprintln(w)
	tw := newTabWriter(w)
	fmt.Fprintln(tw, "   MONTH\tREQUESTS\tAPI\tSERVING\tSAVINGS\tCUMULATIVE API\tCUMULATIVE FINE-TUNE\t")
	for _, mo := range r.Months {
		mark := ""
		if mo.Month == r.Terms.BreakEvenMonth && r.UpfrontCost.Sign() > 0 {
			mark = "  <- break-even at " + st.BreakEvenMonths
		}
		fmt.Fprintf(tw, "   %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mo.Month, engine.FormatRequests(mo.Requests), mo.APICost, mo.ServingCost, mo.Savings,
			mo.CumulativeAPI, mo.CumulativeFineTune, mark)
	}
	tw.Flush()

	// 6. Break-even.
	p("")
	switch {
	case r.BreakEvenMonths == nil:
		p("6. Break-even: never within %d months: the monthly savings never recover the upfront cost %s", engine.BreakEvenSearchMonths, r.UpfrontCost)
	case r.UpfrontCost.Sign() <= 0:
		p("6. Break-even: month %s: nothing is paid upfront", st.BreakEvenMonths)
	default:
		p("6. Break-even: month %s, where the cumulative savings reach the upfront cost %s", st.BreakEvenMonths, r.UpfrontCost)
		if m := r.Terms.BreakEvenMonth; m > 0 {
			p("   in month %d: (%d - 1) + (upfront %s - savings so far %s) / that month's savings %s = %s",
				m, m, r.UpfrontCost, r.Terms.SavingsBeforeBreakEven, r.Months[m-1].Savings, st.BreakEvenMonths)
		} else {
			p("   after the %d-month horizon, carrying on with the same requests and prices", r.HorizonMonths)
			if in.MonthlyGrowthPercent.IsZero() {
				p("   = upfront %s / monthly savings %s = %s", r.UpfrontCost, r.MonthlySavings, st.BreakEvenMonths)
			}
		}
	}

	// 7. Over the horizon.
	p("")
	p("7. Over %d months", r.HorizonMonths)
	p("   net savings = savings %s - upfront %s = %s", r.Terms.SavingsOverHorizon, r.UpfrontCost, r.NetSavings)
	if r.ROIPercent != nil {
		p("   ROI = net savings / upfront x 100 = %s / %s x 100 = %s%%", r.NetSavings, r.UpfrontCost, st.ROIPercent)
	}
	if in.AnnualDiscountRatePercent.IsZero() {
		p("   net present value = net savings (no discount rate) = %s", r.NetPresentValue)
	} else {
		p("   net present value = -upfront + each month's savings / (1 + %s%%)^(month/12) = %s", in.AnnualDiscountRatePercent, r.NetPresentValue)
	}

	// 8. Verdict.
	p("")
	p("8. Recommendation: %s (net present value %s %s 0)", r.Recommendation, r.NetPresentValue, map[bool]string{true: ">", false: "<="}[r.NetPresentValue.Sign() > 0])
	for _, typ := range []string{ftv1.ConditionFineTuneRecommended, ftv1.ConditionWithinBudget, ftv1.ConditionApproved} {
		if c := meta.FindStatusCondition(fte.Status.Conditions, typ); c != nil {
			p("   %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
		}
	}
}

// requestCost explains a cost per request: quoted, or tokens at an API model's prices.
func requestCost(quoted *ftv1.Decimal, model string, inOverride, outOverride *ftv1.Decimal, in *engine.Input, cat *engine.Catalog, got decimal.Decimal) string {
	if quoted != nil {
		return fmt.Sprintf("quoted in spec.api.costPerRequest: %s", got)
	}
	m, ok := cat.APIModels[model]
	inPrice, outPrice := m.InputPerMillionToken.String(), m.OutputPerMillionToken.String()
	where := fmt.Sprintf("API model %q%s", model, source(m.Provenance))
	if !ok {
		where = "spec.api"
	}
	if inOverride != nil {
		inPrice = string(*inOverride) + " (spec.api.inputPricePerMillionTokens)"
	}
	if outOverride != nil {
		outPrice = string(*outOverride) + " (spec.api.outputPricePerMillionTokens)"
	}
	var inTok, outTok int64
	if in.InputTokensPerRequest != nil {
		inTok = *in.InputTokensPerRequest
	}
	if in.OutputTokensPerRequest != nil {
		outTok = *in.OutputTokensPerRequest
	}
	return fmt.Sprintf("(%d input tokens x %s + %d output tokens x %s) / 1,000,000, prices per million tokens from %s = %s",
		inTok, inPrice, outTok, outPrice, where, got)
}

// flopsFormula writes the FLOPs estimator's work on one token with its terms.
func flopsFormula(f *engine.FLOPsTerms) string {
	if f.FromParameters {
		return fmt.Sprintf("%s x %s parameters (no published architecture) = %s", f.PerParameter, f.Parameters, f.Total)
	}
	parts := []string{fmt.Sprintf("%d x %s parameters", f.BaseFactor, f.Parameters)}
	if f.AdapterFactor > 0 {
		parts[0] += " (frozen base)"
		parts = append(parts, fmt.Sprintf("%d x %s adapter parameters", f.AdapterFactor, f.AdapterParameters))
	}
	parts = append(parts, fmt.Sprintf("12 x %d layers x %d hidden x %d sequence (attention) %s", f.Layers, f.Hidden, f.Sequence, f.Attention))
	if !f.Recompute.IsZero() {
		parts = append(parts, fmt.Sprintf("%s recomputed (%s activation checkpointing)", f.Recompute, f.Checkpointing))
	}
	return strings.Join(parts, " + ") + " = " + f.Total.String()
}

func newTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
}
