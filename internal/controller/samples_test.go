package controller_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/cli"
	"github.com/ftcost/ftcost/internal/testenv"
)

// The status the operator writes for every sample equals what `ftcost estimate` prints for it.
func TestSamplesMatchCLI(t *testing.T) {
	g := NewWithT(t)
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "samples", "*.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	ns := namespace(t)
	var samples []string
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		samples = append(samples, f)
		data, err := os.ReadFile(f)
		g.Expect(err).NotTo(HaveOccurred())
		obj := &ftv1.FineTuneEstimate{}
		g.Expect(yaml.UnmarshalStrict(data, obj)).To(Succeed(), f)
		obj.Namespace = ns
		g.Expect(env.Client.Create(ctx, obj)).To(Succeed(), f)
	}
	g.Expect(len(samples)).To(BeNumerically(">=", 5))

	args := []string{"estimate", "-o", "json"}
	for _, f := range samples {
		args = append(args, "-f", f)
	}
	var out, errOut bytes.Buffer
	code := cli.Run(args, cli.Streams{In: &bytes.Buffer{}, Out: &out, Err: &errOut})
	g.Expect(code).To(Equal(cli.ExitOK), errOut.String())
	var list struct {
		Items []ftv1.FineTuneEstimate `json:"items"`
	}
	g.Expect(json.Unmarshal(out.Bytes(), &list)).To(Succeed())
	g.Expect(list.Items).To(HaveLen(len(samples)))

	for _, want := range list.Items {
		got := estimated(g, types.NamespacedName{Namespace: ns, Name: want.Name}, ready)
		// The CLI computes generation 0 objects; the server's first generation is 1.
		g.Expect(got.Generation).To(Equal(int64(1)))
		want.Status.ObservedGeneration = 1
		for i := range want.Status.Conditions {
			want.Status.Conditions[i].ObservedGeneration = 1
		}
		g.Expect(cmp.Diff(want.Status, got.Status, cmpopts.IgnoreFields(metav1.Condition{}, "LastTransitionTime"))).
			To(BeEmpty(), "sample %s: status differs between the CLI (-) and the operator (+)", want.Name)
	}
}
