package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"

	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/costchart"
)

type chartOptions struct {
	target *targetFlags
	output string
	format string
}

func newChartCommand(s Streams) *cobra.Command {
	o := &chartOptions{target: newTargetFlags()}
	cmd := &cobra.Command{
		Use:   "chart (NAME | fte/NAME | -f FILE [NAME]) [--out FILE.svg|FILE.png] [--format svg|png]",
		Short: "Draw when fine-tuning pays for itself: cumulative API cost against upfront plus serving, month by month",
		Long: `chart draws one estimate's cumulative cost over its horizon as SVG or PNG: the API path against
the fine-tune path (the upfront cost, then serving), the break-even month where they cross, the
band of the fine-tune path with training at the low and high end of its GPU-hour estimate (+/-30%),
dollars and months on the axes, and a legend. When break-even falls after the horizon (and within
120 months), the chart runs on to it and marks the horizon.

The estimate comes from the cluster (NAME or fte/NAME, with kubectl's --kubeconfig, --context and
-n), recomputed from its spec with the catalog its status names, or from -f files as in estimate.`,
		Example: `  ftcost chart -f support-bot.yaml --out support-bot.svg
  kubectl ftcost chart fte/support-bot -n ml --out support-bot.png`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runChart(cmd.Context(), s, o, args)
		},
	}
	o.target.addFlags(cmd)
	cmd.Flags().StringVar(&o.output, "out", "-", "file to write, or - for stdout")
	cmd.Flags().StringVar(&o.format, "format", "", "svg or png; default: from --out's extension, else svg")
	return cmd
}

func runChart(ctx context.Context, s Streams, o *chartOptions, args []string) error {
	format := o.format
	if format == "" {
		format = "svg"
		if ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(o.output), ".")); ext == "png" || ext == "svg" {
			format = ext
		}
	}
	if format != "svg" && format != "png" {
		return fmt.Errorf("unknown --format %q: use svg or png", format)
	}
	t, err := o.target.load(ctx, s, args)
	if err != nil {
		return err
	}
	t.warn(s)
	in, err := chartInput(t)
	if err != nil {
		return err
	}
	if o.output == "-" {
		w := bufio.NewWriter(s.Out)
		if err := costchart.Render(w, in, format); err != nil {
			return err
		}
		return w.Flush()
	}
	f, err := os.Create(o.output)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = costchart.Render(w, in, format)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// chartInput is what the chart of t shows. When break-even falls after the horizon, the months run on
// to it (the engine's own months, estimated again with a longer horizon), as far as the engine goes.
func chartInput(t *target) (*costchart.Input, error) {
	r := t.result
	in := &costchart.Input{
		Title: fmt.Sprintf("%s/%s: %s %s of %s, %s API", t.obj.Namespace, t.obj.Name, t.obj.Spec.Method,
			"fine-tune", t.obj.Spec.Model, apiName(t)),
		Months: r.Months, Upfront: r.UpfrontCost, HorizonMonths: r.HorizonMonths, Currency: t.fresh.Currency,
	}
	if t.fresh.BreakEvenMonths != "" {
		be, err := decimal.NewFromString(t.fresh.BreakEvenMonths)
		if err != nil {
			return nil, fmt.Errorf("status.breakEvenMonths %q: %w", t.fresh.BreakEvenMonths, err)
		}
		in.BreakEven = &be
		if last := int32(be.Ceil().IntPart()); last > r.HorizonMonths && last <= engine.MaxHorizonMonths {
			longer := *t.input
			longer.HorizonMonths = min(engine.MaxHorizonMonths, last+max(1, last/10))
			lr, err := engine.Estimate(&longer, t.catalog)
			if err != nil {
				return nil, err
			}
			in.Months = lr.Months
		}
	}
	in.BandLow, in.BandHigh = r.Terms.UpfrontLow, r.Terms.UpfrontHigh
	return in, nil
}

func apiName(t *target) string {
	if m := t.obj.Spec.API.Model; m != "" {
		return m
	}
	return "the"
}
