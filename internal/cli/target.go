package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/evaluation"
	"github.com/ftcost/ftcost/internal/validate"
)

// targetFlags pick one estimate: from -f files (with --catalog), or from the cluster by NAME or
// fte/NAME with kubectl's connection flags.
type targetFlags struct {
	files    []string
	catalogs []string
	cluster  *clusterFlags
	limits   inputLimits
}

func newTargetFlags() *targetFlags { return &targetFlags{cluster: newClusterFlags()} }

func (t *targetFlags) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVarP(&t.files, "filename", "f", nil, "read the estimate from this file, directory or - (stdin) instead of the cluster; repeatable")
	f.StringArrayVar(&t.catalogs, "catalog", nil, "with -f: file or directory holding PriceCatalogs; repeatable")
	t.limits.addFlags(f)
	t.cluster.addFlags(cmd)
}

// target is one estimate with every figure behind its status.
type target struct {
	obj *ftv1.FineTuneEstimate // the status shown: stored in the cluster, or computed from files
	// fresh is the status recomputed now; from files it is obj.Status.
	fresh    *ftv1.FineTuneEstimateStatus
	input    *engine.Input
	catalog  *engine.Catalog
	pricing  *ftv1.Pricing
	result   *engine.Result
	from     string   // "the cluster" or the file and document
	warnings []string // where the stored status and a fresh estimate differ
}

// load finds the estimate args name and recomputes it with the catalog its status names.
func (t *targetFlags) load(ctx context.Context, s Streams, args []string) (*target, error) {
	if len(args) > 1 {
		return nil, fmt.Errorf("name one estimate, got %d arguments", len(args))
	}
	if len(t.files) > 0 {
		return t.loadFile(s, args)
	}
	if len(t.catalogs) > 0 {
		return nil, errors.New("--catalog needs -f: from the cluster, the estimate's own catalog is used")
	}
	if len(args) == 0 {
		return nil, errors.New("name a FineTuneEstimate (NAME or fte/NAME) to read from the cluster, or give -f FILE")
	}
	fte, err := clusterEstimate(t.cluster, args[0])
	if err != nil {
		return nil, err
	}
	id := fte.Namespace + "/" + fte.Name
	if err := ready(id, &fte.Status); err != nil {
		return nil, err
	}
	found, err := clusterSource(ctx, t.cluster, &fte.Status)
	if err != nil {
		return nil, err
	}
	tg, err := compute(fte, found, "the cluster")
	if err != nil {
		return nil, err
	}
	tg.warnings = differences(fte, tg.fresh)
	return tg, nil
}

func (t *targetFlags) loadFile(s Streams, args []string) (*target, error) {
	v, err := validate.Default()
	if err != nil {
		return nil, err
	}
	estimates, found, errs := load(&reader{validator: v, stdin: s.In, limits: t.limits}, &estimateOptions{files: t.files, catalogs: t.catalogs})
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "\n"))
	}
	ns := ""
	if t.cluster.config.Namespace != nil {
		ns = *t.cluster.config.Namespace
	}
	var picked []decoded
	for _, e := range estimates {
		name := ""
		if len(args) == 1 {
			name = args[0]
			if _, n, ok := strings.Cut(name, "/"); ok {
				name = n // fte/NAME
			}
		}
		if (name == "" || e.estimate.Name == name) && (ns == "" || e.estimate.Namespace == ns) {
			picked = append(picked, e)
		}
	}
	if len(picked) != 1 {
		var names []string
		for _, e := range estimates {
			names = append(names, e.estimate.Namespace+"/"+e.estimate.Name)
		}
		return nil, fmt.Errorf("the files hold %d matching FineTuneEstimates (%s); name one, with -n NAMESPACE if the name is not unique",
			len(picked), strings.Join(names, ", "))
	}
	fte := picked[0].estimate
	return compute(fte, found, picked[0].from.String())
}

// compute evaluates fte afresh from src: the status, and the engine's input, catalog and result
// behind it. A file's estimate takes the fresh status as its own.
func compute(fte *ftv1.FineTuneEstimate, src *inputSource, from string) (*target, error) {
	in, err := evaluation.Gather(context.Background(), src, fte, time.Now())
	if err != nil {
		return nil, err
	}
	ev := evaluation.Evaluate(in)
	id := fte.Namespace + "/" + fte.Name
	if from != "the cluster" {
		fte.Status = *ev.Status
	}
	if err := ready(id, ev.Status); err != nil {
		return nil, err
	}
	return &target{obj: fte, fresh: ev.Status, input: ev.Input, catalog: ev.Catalog, pricing: ev.Status.Pricing, result: ev.Result, from: from}, nil
}

// ready refuses an estimate without figures, saying why.
func ready(id string, st *ftv1.FineTuneEstimateStatus) error {
	c := meta.FindStatusCondition(st.Conditions, ftv1.ConditionReady)
	switch {
	case c == nil:
		return fmt.Errorf("%s has no status yet: is the ftcost operator running?", id)
	case c.Status != metav1.ConditionTrue:
		return fmt.Errorf("%s is not Ready: %s", id, conditionText(c))
	}
	return nil
}

// differences compares the stored status with a fresh estimate, figure by figure.
func differences(fte *ftv1.FineTuneEstimate, fresh *ftv1.FineTuneEstimateStatus) []string {
	st := &fte.Status
	var out []string
	if fte.Generation != st.ObservedGeneration {
		out = append(out, fmt.Sprintf("the status was written for generation %d of the spec, which is now at generation %d",
			st.ObservedGeneration, fte.Generation))
	}
	if st.Pricing != nil && fresh.Pricing != nil && st.Pricing.CatalogGeneration != fresh.Pricing.CatalogGeneration {
		out = append(out, fmt.Sprintf("PriceCatalog %q was at generation %d for the status and is at generation %d now",
			st.Pricing.Catalog, st.Pricing.CatalogGeneration, fresh.Pricing.CatalogGeneration))
	}
	for _, f := range []struct{ name, stored, now string }{
		{"gpuHours", st.GPUHours, fresh.GPUHours},
		{"upfrontCost", st.UpfrontCost, fresh.UpfrontCost},
		{"apiMonthlyCost", st.APIMonthlyCost, fresh.APIMonthlyCost},
		{"servingMonthlyCost", st.ServingMonthlyCost, fresh.ServingMonthlyCost},
		{"breakEvenMonths", st.BreakEvenMonths, fresh.BreakEvenMonths},
		{"netSavings", st.NetSavings, fresh.NetSavings},
		{"recommendation", string(st.Recommendation), string(fresh.Recommendation)},
	} {
		if f.stored != f.now {
			out = append(out, fmt.Sprintf("status.%s is %q but a fresh estimate gives %q", f.name, f.stored, f.now))
		}
	}
	return out
}

func (t *target) warn(s Streams) {
	for _, w := range t.warnings {
		fmt.Fprintf(s.Err, "warning: %s/%s: %s; figures shown are the fresh estimate's\n", t.obj.Namespace, t.obj.Name, w)
	}
}
