package cli

import (
	"context"
	"errors"
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/evaluation"
)

// estimateResource is how FineTuneEstimates are named to the resource builder: fully qualified, so no
// other group's "finetuneestimates" can shadow them.
const estimateResource = "finetuneestimates.ftcost.io"

// clusterFlags are kubectl's: --kubeconfig, --context, -n and the rest of genericclioptions.ConfigFlags.
type clusterFlags struct {
	config *genericclioptions.ConfigFlags
}

func newClusterFlags() *clusterFlags {
	return &clusterFlags{config: genericclioptions.NewConfigFlags(true)}
}

func (c *clusterFlags) addFlags(cmd *cobra.Command) { c.config.AddFlags(cmd.Flags()) }

// namespace is -n, else the kubeconfig context's namespace, else "default", as kubectl resolves it.
func (c *clusterFlags) namespace() (string, error) {
	ns, _, err := c.config.ToRawKubeConfigLoader().Namespace()
	return ns, err
}

// resourceArgs turns `get` arguments into the builder's: bare names are FineTuneEstimates; TYPE/NAME
// pass as they are; none lists every FineTuneEstimate.
func resourceArgs(args []string) []string {
	if len(args) == 0 {
		return []string{estimateResource}
	}
	out := make([]string, len(args))
	for i, a := range args {
		if strings.Contains(a, "/") {
			out[i] = a
		} else {
			out[i] = estimateResource + "/" + a
		}
	}
	return out
}

// asTable asks the API server for its Table rendering, as kubectl get does for human-readable output.
func asTable(req *rest.Request) {
	req.SetHeader("Accept", strings.Join([]string{
		fmt.Sprintf("application/json;as=Table;v=%s;g=%s", metav1.SchemeGroupVersion.Version, metav1.GroupName),
		"application/json",
	}, ","))
}

type getOptions struct {
	cluster       *clusterFlags
	print         *printFlags
	allNamespaces bool
	selector      string
}

func newGetCommand(s Streams) *cobra.Command {
	o := &getOptions{cluster: newClusterFlags(), print: newPrintFlags()}
	cmd := &cobra.Command{
		Use:   "get [NAME | fte/NAME ...] [-n NAMESPACE | -A] [-l SELECTOR] [-o wide|json|yaml|name|jsonpath=...|custom-columns=...]",
		Short: "List FineTuneEstimates in the cluster, as kubectl get does",
		Long: `get reads FineTuneEstimates from the cluster of the current kubeconfig (or --kubeconfig,
--context) and prints them as kubectl get does: the default table and -o wide are the API server's
own Table of the CRD's printer columns; -o json|yaml|name|jsonpath|custom-columns|go-template and
--no-headers behave as kubectl's.`,
		Example: `  ftcost get -A
  kubectl ftcost get support-bot -n ml -o jsonpath='{.status.breakEvenMonths}'
  kubectl ftcost get -o custom-columns=NAME:.metadata.name,APPROVED:.status.conditions[?(@.type=="Approved")].status`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGet(cmd.Context(), s, o, args)
		},
	}
	o.cluster.addFlags(cmd)
	o.print.addFlags(cmd)
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "List the estimates of every namespace.")
	cmd.Flags().StringVarP(&o.selector, "selector", "l", "", "Label selector to filter on, as in kubectl get.")
	return cmd
}

func runGet(ctx context.Context, s Streams, o *getOptions, args []string) error {
	printer, err := o.print.check()
	if err != nil {
		return err
	}
	ns, err := o.cluster.namespace()
	if err != nil {
		return err
	}
	b := resource.NewBuilder(o.cluster.config).Unstructured().
		NamespaceParam(ns).DefaultNamespace().AllNamespaces(o.allNamespaces).
		LabelSelectorParam(o.selector).
		ResourceTypeOrNameArgs(true, resourceArgs(args)...).
		ContinueOnError().Latest().Flatten()
	if printer == nil {
		b = b.TransformRequests(asTable)
	}
	r := b.Do()
	var single bool
	r.IntoSingleItemImplied(&single)
	infos, err := r.Infos()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}

	var objs []*unstructured.Unstructured
	var tables []*metav1.Table
	for _, info := range infos {
		if g := info.Mapping.GroupVersionKind.Group; g != ftv1.GroupVersion.Group {
			errs = append(errs, fmt.Errorf("%s %q is not an ftcost resource", info.Mapping.Resource.Resource, info.Name))
			continue
		}
		u, ok := info.Object.(*unstructured.Unstructured)
		if !ok {
			errs = append(errs, fmt.Errorf("unexpected %T", info.Object))
			continue
		}
		if printer != nil {
			objs = append(objs, u)
			continue
		}
		t, err := decodeTable(u)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		tables = append(tables, t)
	}

	rows := len(objs)
	if printer != nil {
		if rows > 0 || !single {
			if err := printer.printObjects(s.Out, objs, single); err != nil {
				return err
			}
		}
	} else {
		tp := o.print.tablePrinter(o.allNamespaces)
		for _, t := range tables {
			rows += len(t.Rows)
			if err := tp.PrintObj(t, s.Out); err != nil {
				return err
			}
		}
	}
	if rows == 0 && len(errs) == 0 && printer == nil {
		// kubectl get says so on stderr, and only for human-readable output.
		if o.allNamespaces {
			fmt.Fprintln(s.Err, "No resources found")
		} else {
			fmt.Fprintf(s.Err, "No resources found in %s namespace.\n", ns)
		}
	}
	return reportErrors(s, errs)
}

// reportErrors prints each error as kubectl does and returns exit code 2 if there was any.
func reportErrors(s Streams, errs []error) error {
	var flat []error
	for _, err := range errs {
		var agg interface{ Errors() []error }
		if errors.As(err, &agg) {
			flat = append(flat, agg.Errors()...)
		} else {
			flat = append(flat, err)
		}
	}
	for _, err := range flat {
		if status, ok := err.(apierrors.APIStatus); ok && status.Status().Reason != "" {
			fmt.Fprintf(s.Err, "Error from server (%s): %v\n", status.Status().Reason, err)
		} else {
			fmt.Fprintf(s.Err, "error: %v\n", err)
		}
	}
	if len(flat) > 0 {
		return &exitError{code: ExitInput}
	}
	return nil
}

// decodeTable turns the server's Table, read as unstructured, into a metav1.Table whose rows carry
// their objects' metadata (for the NAMESPACE column), as kubectl get does.
func decodeTable(u *unstructured.Unstructured) (*metav1.Table, error) {
	if gvk := u.GroupVersionKind(); gvk.Group != metav1.GroupName || gvk.Kind != "Table" {
		return nil, fmt.Errorf("the server did not return a Table but %s", gvk)
	}
	t := &metav1.Table{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, t); err != nil {
		return nil, err
	}
	for i := range t.Rows {
		row := &t.Rows[i]
		if row.Object.Raw == nil || row.Object.Object != nil {
			continue
		}
		obj, err := runtime.Decode(unstructured.UnstructuredJSONScheme, row.Object.Raw)
		if err != nil {
			return nil, err
		}
		row.Object.Object = obj
	}
	return t, nil
}

// clusterEstimate reads one FineTuneEstimate, named NAME or TYPE/NAME, from the cluster.
func clusterEstimate(c *clusterFlags, arg string) (*ftv1.FineTuneEstimate, error) {
	ns, err := c.namespace()
	if err != nil {
		return nil, err
	}
	infos, err := resource.NewBuilder(c.config).Unstructured().
		NamespaceParam(ns).DefaultNamespace().
		ResourceTypeOrNameArgs(false, resourceArgs([]string{arg})...).
		Latest().Flatten().Do().Infos()
	if err != nil {
		return nil, err
	}
	if len(infos) != 1 {
		return nil, fmt.Errorf("%s names %d objects; name one FineTuneEstimate", arg, len(infos))
	}
	u, ok := infos[0].Object.(*unstructured.Unstructured)
	if !ok || u.GroupVersionKind() != estimateGVK {
		return nil, fmt.Errorf("%s is a %s, not a FineTuneEstimate", arg, infos[0].Mapping.GroupVersionKind.Kind)
	}
	fte := &ftv1.FineTuneEstimate{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, fte); err != nil {
		return nil, err
	}
	return fte, nil
}

// clusterSource reads an estimate's inputs from the cluster. Only the catalog the estimate's status
// names is served, so figures are recomputed with the prices the operator used: when the status says
// the built-in catalog was used, no catalog is found, whatever exists now. Profiles and CostPolicies
// are read as they are now; a user who may not list CostPolicies (they are cluster-scoped) sees the
// figures without them, and the stored status still says which applied.
func clusterSource(ctx context.Context, c *clusterFlags, st *ftv1.FineTuneEstimateStatus) (*inputSource, error) {
	cfg, err := c.config.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	catalogs := clusterGetter[ftv1.PriceCatalog](ctx, dyn, "pricecatalogs")
	return &inputSource{
		catalog: func(name string) (*ftv1.PriceCatalog, bool, error) {
			if st.Pricing == nil || st.Pricing.Source == ftv1.PricingSourceBuiltin {
				return nil, false, nil
			}
			return catalogs(name)
		},
		profile: clusterGetter[ftv1.ThroughputProfile](ctx, dyn, "throughputprofiles"),
		policies: func() ([]ftv1.CostPolicy, error) {
			list, err := dyn.Resource(ftv1.GroupVersion.WithResource("costpolicies")).List(ctx, metav1.ListOptions{})
			if apierrors.IsForbidden(err) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			out := make([]ftv1.CostPolicy, len(list.Items))
			for i := range list.Items {
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(list.Items[i].Object, &out[i]); err != nil {
					return nil, err
				}
			}
			return out, nil
		},
		namespaceLabels: func(name string) (map[string]string, error) {
			ns, err := dyn.Resource(corev1.SchemeGroupVersion.WithResource("namespaces")).Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsForbidden(err) || apierrors.IsNotFound(err) {
				return evaluation.NamespaceLabelsOf(nil, name), nil
			}
			if err != nil {
				return nil, err
			}
			return ns.GetLabels(), nil
		},
	}, nil
}

// clusterGetter gets cluster-scoped ftcost objects of one resource by name; found is false when
// there is none of that name.
func clusterGetter[T any](ctx context.Context, dyn dynamic.Interface, resource string) func(string) (*T, bool, error) {
	res := ftv1.GroupVersion.WithResource(resource)
	return func(name string) (*T, bool, error) {
		u, err := dyn.Resource(res).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		obj := new(T)
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
			return nil, false, err
		}
		return obj, true, nil
	}
}
