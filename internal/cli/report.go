package cli

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/dynamic"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/budget"
)

// Output formats of ftcost report.
const (
	reportTable = "table"
	reportCSV   = "csv"
)

type reportOptions struct {
	cluster       *clusterFlags
	allNamespaces bool
	period        string
	policy        string
	output        string
	noHeaders     bool
}

func newReportCommand(s Streams) *cobra.Command {
	o := &reportOptions{cluster: newClusterFlags(), output: reportTable}
	cmd := &cobra.Command{
		Use:   "report [-n NAMESPACE | -A] [--period PERIOD] [--policy NAME] [-o table|csv] [--no-headers]",
		Short: "Print what each estimate's workloads committed and spent, per budget period, from the CostPolicies' ledgers",
		Long: `report reads the CostPolicies of the cluster (with kubectl's --kubeconfig, --context, ...) and
prints, from each budget's ledger (status.budget.charges), one row per period, namespace and estimate:
what its running workloads commit (their spend caps), what its finished ones actually cost, the
estimated cost of all of them, and how far the finished runs came from their estimate. It is the
sheet for chargeback or showback; -o csv writes it for a spreadsheet.

As kubectl get does, it reports the namespace of -n, else the kubeconfig context's, else "default";
-A reports every namespace. A workload that two CostPolicies select is charged to both budgets and
is reported under each policy, so rows of different policies must not be added up. The ledgers keep
the current and the previous period (and earlier ones while a charge is open): keep the CSV of each
period for the months before.`,
		Example: `  ftcost report -A
  kubectl ftcost report -n ml --period 2026-11
  ftcost report -A --period 2026-11 -o csv > chargeback-2026-11.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReport(cmd.Context(), s, o)
		},
	}
	o.cluster.addFlags(cmd)
	f := cmd.Flags()
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "Report every namespace.")
	f.StringVar(&o.period, "period", "", `Only the budget periods within this one: a month "2026-12", a quarter "2026-Q4" (also the months of monthly budgets in it) or a year "2026".`)
	f.StringVar(&o.policy, "policy", "", "Only this CostPolicy's ledger.")
	f.StringVarP(&o.output, "output", "o", o.output, "Output format: table or csv.")
	f.BoolVar(&o.noHeaders, "no-headers", false, "Print no header row.")
	return cmd
}

func runReport(ctx context.Context, s Streams, o *reportOptions) error {
	if o.output != reportTable && o.output != reportCSV {
		return fmt.Errorf("unknown output format %q: use table or csv", o.output)
	}
	filter := budget.ReportFilter{Policy: o.policy, Period: o.period}
	if _, err := budget.Report(nil, filter); err != nil {
		return err // a bad --period, before any request
	}
	if !o.allNamespaces {
		ns, err := o.cluster.namespace()
		if err != nil {
			return err
		}
		filter.Namespace = ns
	}
	policies, err := clusterPolicies(ctx, o.cluster, o.policy)
	if err != nil {
		return reportErrors(s, []error{err})
	}
	rows, err := budget.Report(policies, filter)
	if err != nil {
		return err
	}
	if o.output == reportCSV {
		return writeReportCSV(s.Out, rows, o.noHeaders)
	}
	if len(rows) == 0 {
		// kubectl get says so on stderr, and prints no header.
		if o.allNamespaces {
			fmt.Fprintln(s.Err, "No budget charges found")
		} else {
			fmt.Fprintf(s.Err, "No budget charges found in %s namespace.\n", filter.Namespace)
		}
		return nil
	}
	return writeReportTable(s.Out, rows, o.noHeaders)
}

// clusterPolicies reads the CostPolicy named name, or every CostPolicy when name is empty.
func clusterPolicies(ctx context.Context, c *clusterFlags, name string) ([]ftv1.CostPolicy, error) {
	cfg, err := c.config.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	res := dyn.Resource(ftv1.GroupVersion.WithResource("costpolicies"))
	var items []map[string]any
	if name != "" {
		u, err := res.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		items = append(items, u.Object)
	} else {
		list, err := res.List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			items = append(items, list.Items[i].Object)
		}
	}
	out := make([]ftv1.CostPolicy, len(items))
	for i, obj := range items {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// runsCell is a row's runs as kubectl shows READY: finished/running.
func runsCell(r budget.ReportRow) string {
	return strconv.Itoa(r.Finished) + "/" + strconv.Itoa(r.Running)
}

// writeReportTable prints rows as kubectl prints a table: upper-case headers, columns aligned with
// cli-runtime's tab writer, empty cells blank.
func writeReportTable(w io.Writer, rows []budget.ReportRow, noHeaders bool) error {
	tw := printers.GetNewTabWriter(w)
	if !noHeaders {
		fmt.Fprintln(tw, "PERIOD\tNAMESPACE\tESTIMATE\tCOMMITTED-USD\tACTUAL-USD\tESTIMATED-USD\tERROR%\tRUNS\tPOLICY")
	}
	for _, r := range rows {
		cells := []string{r.Period, r.Namespace, r.Estimate, r.Committed.String(), r.Actual.String(), r.Estimated.String(),
			r.Error, runsCell(r), r.Policy}
		for i := range cells {
			cells[i] = printers.EscapeTerminal(cells[i])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// reportCSVHeader names the CSV columns: money in USD as exact decimals to the cent, the error in
// percent, the runs as two counts.
var reportCSVHeader = []string{"period", "namespace", "estimate", "committed_usd", "actual_usd", "estimated_usd",
	"error_percent", "finished_runs", "running_runs", "policy"}

func writeReportCSV(w io.Writer, rows []budget.ReportRow, noHeaders bool) error {
	cw := csv.NewWriter(w)
	if !noHeaders {
		if err := cw.Write(reportCSVHeader); err != nil {
			return err
		}
	}
	for _, r := range rows {
		if err := cw.Write([]string{r.Period, r.Namespace, r.Estimate, r.Committed.String(), r.Actual.String(),
			r.Estimated.String(), r.Error, strconv.Itoa(r.Finished), strconv.Itoa(r.Running), r.Policy}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
