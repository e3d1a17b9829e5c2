package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// itemRenderer renders one estimate as an item of a v1 List for -o json or yaml; nil for a table.
// Items are rendered in parallel and joined by printList, which is what kubectl get -o json|yaml
// prints for several objects.
func itemRenderer(output string) func(*ftv1.FineTuneEstimate) ([]byte, error) {
	switch output {
	case "json":
		return func(fte *ftv1.FineTuneEstimate) ([]byte, error) {
			// Items sit 8 spaces deep in the List, indented by 4 as kubectl does, apiVersion first.
			return json.MarshalIndent(jsonItem{
				APIVersion: estimateGVK.GroupVersion().String(), Kind: estimateGVK.Kind,
				ObjectMeta: &fte.ObjectMeta, Spec: &fte.Spec, Status: &fte.Status,
			}, "        ", "    ")
		}
	case "yaml":
		return func(fte *ftv1.FineTuneEstimate) ([]byte, error) {
			setTypeMeta(fte)
			b, err := yaml.Marshal(fte)
			if err != nil {
				return nil, err
			}
			// A sequence entry under "items:": "- " before the first line, 2 spaces before the others.
			var out bytes.Buffer
			out.Grow(len(b) + len(b)/8)
			for i, line := range bytes.SplitAfter(b, []byte("\n")) {
				if len(line) == 0 {
					continue
				}
				if i == 0 {
					out.WriteString("- ")
				} else {
					out.WriteString("  ")
				}
				out.Write(line)
			}
			return out.Bytes(), nil
		}
	}
	return nil
}

// jsonItem orders a FineTuneEstimate's fields as kubectl prints them.
type jsonItem struct {
	APIVersion string                       `json:"apiVersion"`
	Kind       string                       `json:"kind"`
	ObjectMeta *metav1.ObjectMeta           `json:"metadata"`
	Spec       *ftv1.FineTuneEstimateSpec   `json:"spec"`
	Status     *ftv1.FineTuneEstimateStatus `json:"status"`
}

func setTypeMeta(fte *ftv1.FineTuneEstimate) {
	fte.APIVersion, fte.Kind = estimateGVK.GroupVersion().String(), estimateGVK.Kind
}

// printList prints rendered items as a v1 List.
func printList(w io.Writer, output string, results []result) error {
	bw := bufio.NewWriter(w)
	if output == "json" {
		bw.WriteString("{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"List\",\n    \"items\": [")
		for i, res := range results {
			if i > 0 {
				bw.WriteString(",")
			}
			bw.WriteString("\n        ")
			bw.Write(res.rendered)
		}
		if len(results) > 0 {
			bw.WriteString("\n    ")
		}
		bw.WriteString("]\n}\n")
		return bw.Flush()
	}
	bw.WriteString("apiVersion: v1\n")
	if len(results) == 0 {
		bw.WriteString("items: []\n")
	} else {
		bw.WriteString("items:\n")
	}
	for _, res := range results {
		bw.Write(res.rendered)
	}
	bw.WriteString("kind: List\n")
	return bw.Flush()
}

// tableColumns are kubectl get fte -o wide's columns, AGE aside (nothing was created), NAMESPACE first
// as with --all-namespaces.
var tableColumns = []string{"NAMESPACE", "NAME", "MODEL", "METHOD", "PROVIDER", "GPU-HOURS", "UPFRONT", "BREAK-EVEN",
	"RECOMMENDATION", "APPROVED", "GPUS", "API/MONTH", "NET-SAVINGS", "ROI", "READY"}

func printTable(w io.Writer, results []result) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0) // kubectl's table spacing
	row := make([]byte, 0, 256)
	for i, c := range tableColumns {
		if i > 0 {
			row = append(row, '\t')
		}
		row = append(row, c...)
	}
	row = append(row, '\n')
	if _, err := tw.Write(row); err != nil {
		return err
	}
	for _, res := range results {
		fte := res.obj
		st := &fte.Status
		gpus := ""
		if st.GPUCount != 0 {
			gpus = strconv.Itoa(int(st.GPUCount))
		}
		cells := []string{fte.Namespace, fte.Name, fte.Spec.Model, string(fte.Spec.Method), fte.Spec.Training.Provider,
			st.GPUHours, st.UpfrontCost, st.BreakEvenMonths, string(st.Recommendation),
			statusOf(st.Conditions, ftv1.ConditionApproved), gpus, st.APIMonthlyCost, st.NetSavings, st.ROIPercent,
			statusOf(st.Conditions, ftv1.ConditionReady)}
		row = row[:0]
		for i, c := range cells {
			if i > 0 {
				row = append(row, '\t')
			}
			row = append(row, c...)
		}
		row = append(row, '\n')
		if _, err := tw.Write(row); err != nil {
			return err
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	header := false
	for _, res := range results {
		fte := res.obj
		ready := meta.FindStatusCondition(fte.Status.Conditions, ftv1.ConditionReady)
		if ready != nil && ready.Status == metav1.ConditionTrue {
			continue
		}
		if !header {
			fmt.Fprintln(w, "\nNot Ready:")
			header = true
		}
		fmt.Fprintf(w, "  %s/%s: %s\n", fte.Namespace, fte.Name, conditionText(ready))
	}
	return nil
}

func statusOf(conds []metav1.Condition, t string) string {
	if c := meta.FindStatusCondition(conds, t); c != nil {
		return string(c.Status)
	}
	return ""
}
