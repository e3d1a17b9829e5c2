package cli

import (
	"errors"
	"fmt"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"

	"github.com/ftcost/ftcost/engine"
)

func newRentVsBuyCommand(s Streams) *cobra.Command {
	var purchase, running, rent, hoursPerMonth, utilization string
	var years int32
	cmd := &cobra.Command{
		Use:   "rent-vs-buy --purchase USD --rent USD_PER_GPU_HOUR",
		Short: "Compare buying a GPU with renting one: break-even GPU-hours and the owned hourly price",
		Long: `rent-vs-buy computes how many GPU-hours make buying a GPU cheaper than renting one: the cost of
owning it (purchase plus yearly running cost over the years it is used) divided by the rental price.
With --hours-per-month it compares renting those hours over the same years; with --utilization it
prints what an owned GPU-hour costs, the figure to put in a PriceCatalog for an on-premise provider.`,
		Example: `  # The Fine-Tuning Economics article's example: a $20,000 H100 against RunPod at $2.49/hour breaks even at 8,032.13 hours.
  ftcost rent-vs-buy --purchase 20000 --rent 2.49
  # Three 2-hour fine-tunings a month, $2,000/year electricity, over 3 years.
  ftcost rent-vs-buy --purchase 20000 --yearly-running 2000 --years 3 --rent 2.49 --hours-per-month 6`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := engine.Ownership{Years: years}
			var err error
			parse := func(flag, v string) decimal.Decimal {
				if err != nil {
					return decimal.Zero
				}
				d, perr := decimal.NewFromString(v)
				if perr != nil {
					err = fmt.Errorf("--%s: %q is not a decimal number", flag, v)
				}
				return d
			}
			optional := func(flag, v string) *decimal.Decimal {
				if v == "" {
					return nil
				}
				d := parse(flag, v)
				return &d
			}
			o.PurchasePrice = parse("purchase", purchase)
			o.YearlyRunningCost = parse("yearly-running", running)
			o.RentPerGPUHour = parse("rent", rent)
			o.HoursPerMonth = optional("hours-per-month", hoursPerMonth)
			o.UtilizationPercent = optional("utilization", utilization)
			if err != nil {
				return err
			}
			r, err := engine.CompareOwnership(o)
			var ee *engine.Error
			if errors.As(err, &ee) {
				return fmt.Errorf("--%s: %s", ownershipFlags[ee.Field], ee.Message)
			} else if err != nil {
				return err
			}
			printOwnership(s, o, r)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&purchase, "purchase", "", "purchase price of one GPU (with its share of the server), USD")
	f.StringVar(&running, "yearly-running", "0", "power, cooling and hosting of one GPU a year, USD")
	f.Int32Var(&years, "years", 1, "years the GPU is used (amortisation period)")
	f.StringVar(&rent, "rent", "", "rental price of one GPU-hour, USD")
	f.StringVar(&hoursPerMonth, "hours-per-month", "", "GPU-hours of training a month, to compare renting them")
	f.StringVar(&utilization, "utilization", "", "percent of the year's hours an owned GPU works, for its hourly cost")
	_ = cmd.MarkFlagRequired("purchase")
	_ = cmd.MarkFlagRequired("rent")
	return cmd
}

func printOwnership(s Streams, o engine.Ownership, r *engine.OwnershipResult) {
	w := s.Out
	fmt.Fprintf(w, "Buying:     %s purchase + %s a year x %d years = %s (%s a year)\n",
		engine.Cents(o.PurchasePrice), engine.Cents(o.YearlyRunningCost), o.Years, r.OwnershipCost, r.CostPerYear)
	fmt.Fprintf(w, "Renting:    %s per GPU-hour\n", o.RentPerGPUHour)
	fmt.Fprintf(w, "Break-even: %s GPU-hours; below that, renting is cheaper\n", r.BreakEvenHours.StringFixed(2))
	if r.RentPerMonth != nil {
		verdict := "rent"
		if *r.BuyingWins {
			verdict = "buy"
		}
		fmt.Fprintf(w, "At %s GPU-hours a month: renting costs %s a month, %s a year, %s over %d years against %s to own: %s\n",
			o.HoursPerMonth, r.RentPerMonth, r.RentPerYear, r.RentTotal, o.Years, r.OwnershipCost, verdict)
	}
	if r.OwnedPerGPUHour != nil {
		fmt.Fprintf(w, "Owned GPU-hour at %s%% utilisation: %s\n", o.UtilizationPercent, r.OwnedPerGPUHour)
	}
}

// ownershipFlags names the flag behind each input of engine.Ownership.
var ownershipFlags = map[engine.Field]string{
	engine.FieldPurchasePrice:      "purchase",
	engine.FieldYearlyRunningCost:  "yearly-running",
	engine.FieldYears:              "years",
	engine.FieldRentPerGPUHour:     "rent",
	engine.FieldHoursPerMonth:      "hours-per-month",
	engine.FieldUtilizationPercent: "utilization",
}
