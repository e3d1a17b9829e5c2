package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/catalog"
	"github.com/ftcost/ftcost/internal/estimate"
	"github.com/ftcost/ftcost/internal/evaluation"
	"github.com/ftcost/ftcost/internal/validate"
)

// Gates --fail-on accepts.
const (
	gateAPI         = "api"
	gateBudget      = "budget"
	gateNotApproved = "not-approved"
)

// evaluationChunk is how many estimates are evaluated, and printed, at a time.
const evaluationChunk = 256

type estimateOptions struct {
	files    []string
	catalogs []string
	print    *printFlags
	failOn   []string
	// now is when catalogs are checked for staleness; the operator's clock in the cluster.
	now    func() time.Time
	limits inputLimits
}

func newEstimateCommand(s Streams) *cobra.Command {
	o := &estimateOptions{print: newPrintFlags(), now: time.Now}
	cmd := &cobra.Command{
		Use:   "estimate -f FILE|- [-f FILE...] [-o wide|json|yaml|name|jsonpath=...|custom-columns=...] [--no-headers] [--catalog FILE] [--fail-on api|budget|not-approved]",
		Short: "Estimate FineTuneEstimates from files and print the status the operator would write",
		Long: `estimate reads FineTuneEstimates, and optionally PriceCatalogs, CostPolicies, Namespaces and
ThroughputProfiles, from multi-document YAML or JSON files, validates them as the API server would
(CRD schema and CEL rules), and prints each estimate with the status the ftcost operator would
write, in the output formats of kubectl get: the default table has the CRD's printer columns (less
AGE: nothing was created), with NAMESPACE first. The status is the operator's own evaluation, run
on the objects of the files instead of the cluster's.

An estimate is priced with the PriceCatalog its spec.priceCatalogRef names, "default" when it names
none. Catalogs come from the -f files and the --catalog files (a --catalog file wins over an -f file
for the same name). With no catalog "default", the built-in catalog is used, as in the operator.
CostPolicies apply to the estimates of the namespaces they select, by the labels of the Namespaces
in the files (every namespace has kubernetes.io/metadata.name, as on a cluster). A Calibrated
estimate reads the ThroughputProfile of the files (status included, e.g. from kubectl get -o yaml).

Exit status: 0 when every estimate is Ready and no gate tripped; 1 when a --fail-on gate tripped;
2 on bad input (unreadable file, YAML error, unknown kind, schema or CEL violation) or an estimate
that is not Ready (ModelNotFound, CatalogNotFound, ...).`,
		Example: `  ftcost estimate -f support-bot.yaml
  ftcost estimate -f estimates/ --catalog prices.yaml -o yaml
  ftcost estimate -f support-bot.yaml -o jsonpath='{.items[0].status.breakEvenMonths}'
  kustomize build . | ftcost estimate -f - --fail-on not-approved`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEstimate(s, o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.files, "filename", "f", nil, "file, directory or - (stdin) holding FineTuneEstimates, PriceCatalogs, CostPolicies (with the Namespaces whose labels they select), and the ThroughputProfiles Calibrated estimates read; repeatable")
	f.StringArrayVar(&o.catalogs, "catalog", nil, "file or directory holding PriceCatalogs; repeatable")
	o.limits.addFlags(f)
	o.print.addFlags(cmd)
	f.StringSliceVar(&o.failOn, "fail-on", nil, "exit 1 when an estimate trips a gate: api (not recommended), budget (over budget), not-approved; repeatable or comma-separated")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

func (o *estimateOptions) check() (*objectPrinter, error) {
	printer, err := o.print.check()
	if err != nil {
		return nil, err
	}
	for i, g := range o.failOn {
		g = strings.TrimSpace(g)
		o.failOn[i] = g
		switch g {
		case gateAPI, gateBudget, gateNotApproved:
		default:
			return nil, fmt.Errorf("unknown --fail-on gate %q: use api, budget or not-approved", g)
		}
	}
	return printer, nil
}

func runEstimate(s Streams, o *estimateOptions) error {
	printer, err := o.check()
	if err != nil {
		return err
	}
	v, err := validate.Default()
	if err != nil {
		return err
	}
	estimates, found, errs := load(&reader{validator: v, stdin: s.In, limits: o.limits}, o)
	now := o.now()
	for _, msg := range errs {
		fmt.Fprintf(s.Err, "error: %s\n", msg)
	}

	// Estimates are evaluated a chunk at a time, in parallel within it. With -o json or yaml each
	// chunk is printed as it is done, and only what the exit code needs is kept of it, so a large
	// input is printed in memory of a chunk, not of every result (docs/benchmarks.md, "CLI").
	render := itemRenderer(o.print.format())
	var list *listWriter
	if render != nil {
		list = newListWriter(s.Out, o.print.format())
	}
	results := make([]result, len(estimates))
	for start := 0; start < len(estimates); start += evaluationChunk {
		chunk := results[start:min(start+evaluationChunk, len(results))]
		parallel(len(chunk), func(j int) {
			e, res := &estimates[start+j], &chunk[j]
			in, err := evaluation.Gather(context.Background(), found, e.estimate, now)
			if err != nil {
				res.err = fmt.Sprintf("%s: %s/%s: %v", e.from, e.estimate.Namespace, e.estimate.Name, err)
				return
			}
			e.estimate.Status = *evaluation.Evaluate(in).Status
			res.obj = e.estimate
			res.u, res.renderErr = toUnstructured(e.estimate)
			if render != nil && res.renderErr == nil {
				res.rendered, res.renderErr = render(res.u)
				res.u, res.obj = nil, verdictOf(e.estimate) // printed below: keep only what the exit code reads
			}
			e.estimate = nil
		})
		for i := range chunk {
			res := &chunk[i]
			switch {
			case res.err != "":
				fmt.Fprintf(s.Err, "error: %s\n", res.err)
				errs = append(errs, res.err)
			case res.renderErr != nil:
				return res.renderErr
			case list != nil:
				list.item(res.rendered)
				res.rendered = nil
			}
		}
	}
	done := results[:0]
	for _, res := range results {
		if res.err == "" {
			done = append(done, res)
		}
	}
	results = done

	out := bufio.NewWriterSize(s.Out, 64<<10)
	objs := make([]*unstructured.Unstructured, len(results))
	for i := range results {
		objs[i] = results[i].u
	}
	switch {
	case list != nil:
		err = list.end()
	case printer == nil && len(results) == 0:
		fmt.Fprintln(s.Err, "No FineTuneEstimates found.") // as kubectl get says "No resources found", on stderr
	case printer == nil:
		var table *metav1.Table
		if table, err = tableFor(estimateGVK, objs); err == nil {
			err = o.print.tablePrinter(true).PrintObj(table, out)
		}
	default:
		err = printer.printObjects(out, objs, false)
	}
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		return err
	}

	code := ExitOK
	for _, res := range results {
		fte := res.obj
		if ready := meta.FindStatusCondition(fte.Status.Conditions, ftv1.ConditionReady); ready == nil || ready.Status != metav1.ConditionTrue {
			fmt.Fprintf(s.Err, "error: %s/%s is not Ready: %s\n", fte.Namespace, fte.Name, conditionText(ready))
			code = ExitInput
		}
		if c := meta.FindStatusCondition(fte.Status.Conditions, ftv1.ConditionFineTuneRecommended); c != nil &&
			strings.Contains(c.Message, estimate.ServingUnpricedNote) {
			fmt.Fprintf(s.Err, "warning: %s/%s: %s\n", fte.Namespace, fte.Name, estimate.ServingUnpricedNote)
		}
	}
	if len(errs) > 0 {
		code = ExitInput
	}
	if tripped := gates(s, o.failOn, results); tripped && code == ExitOK {
		code = ExitGate
	}
	if code != ExitOK {
		return &exitError{code: code}
	}
	return nil
}

// lookups find the objects an estimate reads besides itself: PriceCatalogs, and the
// ThroughputProfiles of Calibrated estimates.
func load(r *reader, o *estimateOptions) ([]decoded, *inputSource, []string) {
	var errs []string
	var estimates []decoded
	catalogs := map[string]*ftv1.PriceCatalog{}
	profiles := map[string]*ftv1.ThroughputProfile{}
	profileFrom := map[string]origin{}
	var policies []ftv1.CostPolicy
	policyFrom := map[string]origin{}
	namespaces := map[string]*corev1.Namespace{}
	// defined says whether a kind's object of name came before (an error naming where, for d), and
	// otherwise records where d defines it.
	defined := func(from map[string]origin, kind, name string, d *decoded) bool {
		if first, dup := from[name]; dup {
			d.err = fmt.Errorf("%s %q is already defined in %s", kind, name, first)
			errs = append(errs, d.message())
			return true
		}
		from[name] = d.from
		return false
	}
	for _, set := range []struct {
		paths        []string
		catalogsOnly bool
	}{{o.files, false}, {o.catalogs, true}} {
		seen := map[string]origin{}
		for _, d := range r.read(set.paths) {
			switch {
			case d.err != nil:
				errs = append(errs, d.message())
			case d.estimate != nil && set.catalogsOnly:
				d.err = fmt.Errorf("FineTuneEstimate %q: --catalog files hold PriceCatalogs only; use -f", d.estimate.Name)
				errs = append(errs, d.message())
			case d.profile != nil && set.catalogsOnly:
				d.err = fmt.Errorf("ThroughputProfile %q: --catalog files hold PriceCatalogs only; use -f", d.profile.Name)
				errs = append(errs, d.message())
			case d.policy != nil && set.catalogsOnly:
				d.err = fmt.Errorf("CostPolicy %q: --catalog files hold PriceCatalogs only; use -f", d.policy.Name)
				errs = append(errs, d.message())
			case d.namespace != nil && set.catalogsOnly:
				d.err = fmt.Errorf("namespace %q: --catalog files hold PriceCatalogs only; use -f", d.namespace.Name)
				errs = append(errs, d.message())
			case d.estimate != nil:
				estimates = append(estimates, d)
			case d.namespace != nil:
				namespaces[d.namespace.Name] = d.namespace
			case d.policy != nil:
				if !defined(policyFrom, "CostPolicy", d.policy.Name, &d) {
					policies = append(policies, *d.policy)
				}
			case d.profile != nil:
				if !defined(profileFrom, "ThroughputProfile", d.profile.Name, &d) {
					profiles[d.profile.Name] = d.profile
				}
			case d.catalog != nil:
				if defined(seen, "PriceCatalog", d.catalog.Name, &d) {
					continue
				}
				catalogs[d.catalog.Name] = d.catalog
				// The operator would mark it Ready=False; offline that is bad input. Estimates
				// priced with it still get the status the operator would write.
				if bad := catalog.Validate(d.catalog); len(bad) > 0 {
					d.err = fmt.Errorf("PriceCatalog %q is not Ready: %s: %v", d.catalog.Name, ftv1.ReasonInvalidEntries, bad.ToAggregate())
					errs = append(errs, d.message())
				}
			}
		}
	}
	return estimates, &inputSource{
		catalog: func(name string) (*ftv1.PriceCatalog, bool, error) {
			pc, ok := catalogs[name]
			return pc, ok, nil
		},
		profile: func(name string) (*ftv1.ThroughputProfile, bool, error) {
			p, ok := profiles[name]
			return p, ok, nil
		},
		policies: func() ([]ftv1.CostPolicy, error) { return policies, nil },
		namespaceLabels: func(ns string) (map[string]string, error) {
			return evaluation.NamespaceLabelsOf(namespaces[ns], ns), nil
		},
	}, errs
}

// verdictOf is what the exit code and the --fail-on gates read of an estimate: its identity, its
// recommendation and its conditions, without its spec and figures.
func verdictOf(fte *ftv1.FineTuneEstimate) *ftv1.FineTuneEstimate {
	return &ftv1.FineTuneEstimate{ObjectMeta: metav1.ObjectMeta{Namespace: fte.Namespace, Name: fte.Name},
		Status: ftv1.FineTuneEstimateStatus{Recommendation: fte.Status.Recommendation, Conditions: fte.Status.Conditions}}
}

type result struct {
	obj       *ftv1.FineTuneEstimate
	u         *unstructured.Unstructured
	rendered  []byte // for -o json|yaml
	renderErr error
	err       string
}

// toUnstructured is fte as the printers take it, apiVersion and kind set.
func toUnstructured(fte *ftv1.FineTuneEstimate) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(fte)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(estimateGVK)
	return u, nil
}

// gates reports on s.Err each estimate that trips a --fail-on gate; it returns whether any did.
func gates(s Streams, failOn []string, results []result) bool {
	want := map[string]bool{}
	for _, g := range failOn {
		want[g] = true
	}
	tripped := false
	for _, res := range results {
		fte := res.obj
		id := fte.Namespace + "/" + fte.Name
		if want[gateAPI] && fte.Status.Recommendation != ftv1.RecommendationFineTune {
			tripped = true
			fmt.Fprintf(s.Err, "fail-on %s: %s: recommendation is %s: %s\n", gateAPI, id, fte.Status.Recommendation,
				conditionText(meta.FindStatusCondition(fte.Status.Conditions, ftv1.ConditionFineTuneRecommended)))
		}
		if c := meta.FindStatusCondition(fte.Status.Conditions, ftv1.ConditionWithinBudget); want[gateBudget] && c != nil && c.Status == metav1.ConditionFalse {
			tripped = true
			fmt.Fprintf(s.Err, "fail-on %s: %s: WithinBudget is False: %s\n", gateBudget, id, conditionText(c))
		}
		if c := meta.FindStatusCondition(fte.Status.Conditions, ftv1.ConditionApproved); want[gateNotApproved] && (c == nil || c.Status != metav1.ConditionTrue) {
			tripped = true
			fmt.Fprintf(s.Err, "fail-on %s: %s: Approved is %s: %s\n", gateNotApproved, id, conditionStatus(c), conditionText(c))
		}
	}
	return tripped
}

func conditionStatus(c *metav1.Condition) string {
	if c == nil {
		return "Unknown"
	}
	return string(c.Status)
}

func conditionText(c *metav1.Condition) string {
	if c == nil {
		return "no condition"
	}
	return c.Reason + ": " + c.Message
}
