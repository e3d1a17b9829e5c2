package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresource/tableconvertor"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/util/jsonpath"
	"sigs.k8s.io/yaml"

	"github.com/ftcost/ftcost/config/crd"
)

// Output formats handled here rather than by genericclioptions.PrintFlags, as kubectl get does.
const (
	outputTable         = ""      // kubectl's default: the CRD's printer columns
	outputTableSynonym  = "table" // ftcost estimate's historical name for the default
	outputWide          = "wide"  // and the priority=1 columns
	outputCustomColumns = "custom-columns"
)

// printFlags are kubectl get's output flags: -o json|yaml|name|wide|jsonpath=...|custom-columns=...|
// go-template=..., --no-headers. json, yaml, name, jsonpath and templates are cli-runtime's own
// printers; tables are the CRD's additionalPrinterColumns through the API server's table converter
// (or the server's own Table for the cluster) and cli-runtime's table printer.
type printFlags struct {
	*genericclioptions.PrintFlags
	noHeaders bool
}

func newPrintFlags() *printFlags {
	return &printFlags{PrintFlags: genericclioptions.NewPrintFlags("")}
}

func (p *printFlags) addFlags(cmd *cobra.Command) {
	p.PrintFlags.AddFlags(cmd)
	formats := append([]string{"wide", "custom-columns=HEADER:JSONPATH,..."}, p.PrintFlags.AllowedFormats()...)
	cmd.Flags().Lookup("output").Usage = "Output format. One of: (" + strings.Join(formats, ", ") + "). Default: a table of the CRD's printer columns."
	cmd.Flags().BoolVar(&p.noHeaders, "no-headers", false, "When using the default, wide or custom-columns output format, don't print headers.")
}

func (p *printFlags) format() string { return *p.OutputFormat }

// isTable says whether the output is a table of the CRD's printer columns.
func (p *printFlags) isTable() bool {
	switch p.format() {
	case outputTable, outputTableSynonym, outputWide:
		return true
	}
	return false
}

// objectPrinter is what prints objects for every format but the CRD table; wide says to show the
// priority columns of a table.
type objectPrinter struct {
	columns printers.ResourcePrinter // custom-columns
	other   printers.ResourcePrinter // json, yaml, name, jsonpath, go-template
}

// check validates the -o value before any work is done, as kubectl does.
func (p *printFlags) check() (*objectPrinter, error) {
	if p.isTable() {
		return nil, nil
	}
	if spec, ok := strings.CutPrefix(p.format(), outputCustomColumns+"="); ok {
		cp, err := newCustomColumnsPrinter(spec, p.noHeaders)
		return &objectPrinter{columns: cp}, err
	}
	if p.format() == outputCustomColumns {
		return nil, fmt.Errorf("custom-columns format specified but no custom columns given")
	}
	pr, err := p.PrintFlags.ToPrinter()
	if err != nil {
		return nil, err
	}
	return &objectPrinter{other: pr}, nil
}

// printObjects prints objs, a single object when single is set (as kubectl get prints one named
// object), else a v1 List.
func (op *objectPrinter) printObjects(w io.Writer, objs []*unstructured.Unstructured, single bool) error {
	var obj runtime.Object
	if single && len(objs) == 1 {
		obj = objs[0]
	} else {
		list := &unstructured.UnstructuredList{Object: map[string]any{
			"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"resourceVersion": ""}}}
		list.Items = make([]unstructured.Unstructured, len(objs))
		for i, o := range objs {
			list.Items[i] = *o
		}
		obj = list
	}
	if op.columns != nil {
		return op.columns.PrintObj(obj, w)
	}
	return op.other.PrintObj(obj, w)
}

// tablePrinter prints Tables, from the server or from tableFor, as kubectl get does: one header for
// several tables with the same columns.
func (p *printFlags) tablePrinter(withNamespace bool) printers.ResourcePrinter {
	return printers.NewTablePrinter(printers.PrintOptions{
		NoHeaders: p.noHeaders, WithNamespace: withNamespace, Wide: p.format() == outputWide,
	})
}

// crdColumns are the additionalPrinterColumns of the embedded CRDs, by kind.
var crdColumns = sync.OnceValues(func() (map[schema.GroupVersionKind][]apiextensionsv1.CustomResourceColumnDefinition, error) {
	out := map[schema.GroupVersionKind][]apiextensionsv1.CustomResourceColumnDefinition{}
	for name, data := range crd.Bases() {
		def := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, def); err != nil {
			return nil, fmt.Errorf("embedded CRD %s: %w", name, err)
		}
		for _, v := range def.Spec.Versions {
			gvk := schema.GroupVersionKind{Group: def.Spec.Group, Version: v.Name, Kind: def.Spec.Names.Kind}
			out[gvk] = v.AdditionalPrinterColumns
		}
	}
	return out, nil
})

// fileTableConvertor is the API server's table converter for the kind's printer columns, less those
// that read metadata.creationTimestamp: an object read from a file was never created, so it has no age.
func fileTableConvertor(gvk schema.GroupVersionKind) (rest.TableConvertor, error) {
	all, err := crdColumns()
	if err != nil {
		return nil, err
	}
	cols, ok := all[gvk]
	if !ok {
		return nil, fmt.Errorf("no CRD for %s", gvk)
	}
	var kept []apiextensionsv1.CustomResourceColumnDefinition
	for _, c := range cols {
		if c.JSONPath != ".metadata.creationTimestamp" {
			kept = append(kept, c)
		}
	}
	return tableconvertor.New(kept)
}

// tableFor is the Table the API server would return for objs, of one kind, read from files.
func tableFor(gvk schema.GroupVersionKind, objs []*unstructured.Unstructured) (*metav1.Table, error) {
	conv, err := fileTableConvertor(gvk)
	if err != nil {
		return nil, err
	}
	list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "v1", "kind": "List"}}
	list.Items = make([]unstructured.Unstructured, len(objs))
	for i, o := range objs {
		list.Items[i] = *o
	}
	return conv.ConvertToTable(context.Background(), list, nil)
}

// customColumnsPrinter prints kubectl's -o custom-columns=HEADER:JSONPATH,...: headers as given,
// "<none>" for a path that finds nothing, several values joined by commas.
type customColumnsPrinter struct {
	headers   []string
	paths     []*jsonpath.JSONPath
	noHeaders bool
}

func newCustomColumnsPrinter(spec string, noHeaders bool) (*customColumnsPrinter, error) {
	p := &customColumnsPrinter{noHeaders: noHeaders}
	for i, col := range strings.Split(spec, ",") {
		header, path, ok := strings.Cut(col, ":")
		if !ok {
			return nil, fmt.Errorf("unexpected custom-columns spec: %s, expected <header>:<json-path-expr>", col)
		}
		expr, err := relaxedJSONPath(path)
		if err != nil {
			return nil, err
		}
		jp := jsonpath.New(fmt.Sprintf("column%d", i)).AllowMissingKeys(true)
		if err := jp.Parse(expr); err != nil {
			return nil, err
		}
		p.headers = append(p.headers, header)
		p.paths = append(p.paths, jp)
	}
	return p, nil
}

var relaxedPath = regexp.MustCompile(`^\{\.?([^{}]+)\}$|^\.?([^{}]+)$`)

// relaxedJSONPath accepts "a.b", ".a.b", "{a.b}" and "{.a.b}", as kubectl does.
func relaxedJSONPath(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	m := relaxedPath.FindStringSubmatch(path)
	if m == nil {
		return "", fmt.Errorf("unexpected path string %q, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'", path)
	}
	if m[1] != "" {
		return "{." + m[1] + "}", nil
	}
	return "{." + m[2] + "}", nil
}

func (p *customColumnsPrinter) PrintObj(obj runtime.Object, out io.Writer) error {
	w := printers.GetNewTabWriter(out)
	defer w.Flush()
	if !p.noHeaders {
		fmt.Fprintln(w, strings.Join(p.headers, "\t"))
	}
	items := []runtime.Object{obj}
	if meta.IsListType(obj) {
		var err error
		if items, err = meta.ExtractList(obj); err != nil {
			return err
		}
	}
	cells := make([]string, len(p.paths))
	for _, item := range items {
		u, ok := item.(runtime.Unstructured)
		if !ok {
			return fmt.Errorf("custom-columns: unexpected %T", item)
		}
		for i, jp := range p.paths {
			results, err := jp.FindResults(u.UnstructuredContent())
			if err != nil {
				return err
			}
			var values []string
			for _, r := range results {
				for _, v := range r {
					values = append(values, printers.EscapeTerminal(fmt.Sprint(valueOf(v))))
				}
			}
			if len(values) == 0 {
				values = []string{"<none>"}
			}
			cells[i] = strings.Join(values, ",")
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	return nil
}

func valueOf(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	return v.Interface()
}

// itemRenderer renders one object as an item of a v1 List for -o json or yaml, byte for byte as
// cli-runtime's JSON and YAML printers print it inside the List (TestListRenderingMatchesPrinters);
// nil for other formats. ftcost estimate renders items in parallel, since one printer call on
// 10,000 objects is serial and costs it a third of its time budget.
func itemRenderer(format string) func(*unstructured.Unstructured) ([]byte, error) {
	switch format {
	case "json":
		return func(u *unstructured.Unstructured) ([]byte, error) {
			// Items sit 8 spaces deep in the List, indented by 4.
			return json.MarshalIndent(u.Object, "        ", "    ")
		}
	case "yaml":
		return func(u *unstructured.Unstructured) ([]byte, error) {
			// Marshalled inside a one-item "items" list, so that long strings fold at the same column
			// as in the whole List.
			b, err := yaml.Marshal(map[string]any{"items": []any{u.Object}})
			if err != nil {
				return nil, err
			}
			return bytes.TrimPrefix(b, []byte("items:\n")), nil
		}
	}
	return nil
}

// listWriter prints items rendered by itemRenderer, one at a time as they come, as the v1 List
// kubectl get prints: a large input is printed without holding every item.
type listWriter struct {
	w      *bufio.Writer
	format string
	n      int
}

func newListWriter(w io.Writer, format string) *listWriter {
	return &listWriter{w: bufio.NewWriterSize(w, 64<<10), format: format}
}

// item prints one rendered item.
func (l *listWriter) item(b []byte) {
	switch {
	case l.format == "json" && l.n == 0:
		l.w.WriteString("{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n        ")
	case l.format == "json":
		l.w.WriteString(",\n        ")
	case l.n == 0:
		l.w.WriteString("apiVersion: v1\nitems:\n")
	}
	l.w.Write(b)
	l.n++
}

// end closes the list and flushes it.
func (l *listWriter) end() error {
	switch {
	case l.format == "json" && l.n == 0:
		l.w.WriteString("{\n    \"apiVersion\": \"v1\",\n    \"items\": [")
	case l.format == "json":
		l.w.WriteString("\n    ")
	case l.n == 0:
		l.w.WriteString("apiVersion: v1\nitems: []\n")
	}
	if l.format == "json" {
		l.w.WriteString("],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n")
	} else {
		l.w.WriteString("kind: List\nmetadata:\n  resourceVersion: \"\"\n")
	}
	return l.w.Flush()
}
