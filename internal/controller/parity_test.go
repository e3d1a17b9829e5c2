package controller_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/cli"
)

// The CLI and the operator evaluate an estimate the same way: given as files the objects the
// operator read (a CostPolicy with the Namespace it selects by label, a ThroughputProfile with its
// measurement), `ftcost estimate` prints the status the operator wrote, conditions included.
func TestCLIAgreesWithTheOperator(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	nsObj := &corev1.Namespace{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Name: ns}, nsObj)).To(Succeed())
	nsObj.Labels["ftcost.io/parity"] = ns
	g.Expect(env.Client.Update(ctx, nsObj)).To(Succeed())

	policy := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "parity-" + ns}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"ftcost.io/parity": ns}},
		MaxUpfrontCost:    ptr.To(ftv1.Decimal("500")), RequiredPolicy: ftv1.PolicyEnforce}}
	create(g, t, env.Client, policy)

	// A profile of its own model, method and GPU, so no other test's runs move it.
	profile := &ftv1.ThroughputProfile{ObjectMeta: metav1.ObjectMeta{Name: "llama-3.1-8b.qlora.h100"},
		Spec: ftv1.ThroughputProfileSpec{Model: "llama-3.1-8b", Method: ftv1.MethodQLoRA, GPUType: "H100"}}
	create(g, t, env.Client, profile)
	profile.Status = ftv1.ThroughputProfileStatus{Samples: 3, TokensPerGPUSecond: "2100", SpreadPercent: "4.8",
		Sum: "6300", SumOfSquares: "13250000", RecentRuns: []ftv1.ProfileRun{
			{UID: "r1", Estimate: ns + "/earlier", Namespace: ns, TokensPerGPUSecond: "2000"},
			{UID: "r2", Estimate: ns + "/earlier", Namespace: ns, TokensPerGPUSecond: "2100"},
			{UID: "r3", Estimate: ns + "/earlier", Namespace: ns, TokensPerGPUSecond: "2200"}}}
	g.Expect(env.Client.Status().Update(ctx, profile)).To(Succeed())

	overLimit := supportBot(ns, "over-the-policy") // 1001.25 USD upfront, policy Advisory: two rules broken
	calibrated := supportBot(ns, "calibrated")
	calibrated.Spec.Model, calibrated.Spec.Method, calibrated.Spec.Policy = "llama-3.1-8b", ftv1.MethodQLoRA, ftv1.PolicyEnforce
	calibrated.Spec.Training.Estimator = ftv1.EstimatorCalibrated
	calibrated.Spec.Dataset.TokensPerExample = ptr.To[int64](512)
	calibrated.Spec.OneTimeCosts = nil
	for _, o := range []*ftv1.FineTuneEstimate{overLimit, calibrated} {
		create(g, t, env.Client, o)
	}
	fromOperator := map[string]*ftv1.FineTuneEstimate{
		overLimit.Name: estimated(g, key(overLimit), approvedReason(ftv1.ReasonPolicyViolated)),
		calibrated.Name: estimated(g, key(calibrated), func(o *ftv1.FineTuneEstimate) bool {
			return o.Status.Estimator == ftv1.EstimatorCalibrated && o.Status.Calibration != nil
		}),
	}
	g.Expect(fromOperator[calibrated.Name].Status.CostPolicies).To(ConsistOf(policy.Name))

	// The files a pull request would hold: the estimates as written, and what the operator read.
	var docs [][]byte
	add := func(o client.Object, gvk string) {
		u := map[string]any{}
		data, err := yaml.Marshal(o)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(yaml.Unmarshal(data, &u)).To(Succeed())
		md := u["metadata"].(map[string]any)
		for _, k := range []string{"uid", "resourceVersion", "creationTimestamp", "managedFields"} {
			delete(md, k)
		}
		apiVersion, kind := filepath.Split(gvk)
		u["apiVersion"], u["kind"] = apiVersion[:len(apiVersion)-1], kind
		data, err = yaml.Marshal(u)
		g.Expect(err).NotTo(HaveOccurred())
		docs = append(docs, data)
	}
	for _, o := range []*ftv1.FineTuneEstimate{overLimit, calibrated} {
		spec := &ftv1.FineTuneEstimate{ObjectMeta: metav1.ObjectMeta{Namespace: o.Namespace, Name: o.Name}, Spec: o.Spec}
		add(spec, "ftcost.io/v1alpha1/FineTuneEstimate")
	}
	add(policy, "ftcost.io/v1alpha1/CostPolicy")
	g.Expect(env.Client.Get(ctx, key(profile), profile)).To(Succeed())
	add(profile, "ftcost.io/v1alpha1/ThroughputProfile")
	add(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: nsObj.Labels}}, "v1/Namespace")
	for _, o := range fromOperator {
		if p := o.Status.Pricing; p != nil && p.Source == ftv1.PricingSourceCatalog {
			pc := &ftv1.PriceCatalog{}
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Name: p.Catalog}, pc)).To(Succeed())
			pc.Status = ftv1.PriceCatalogStatus{}
			add(pc, "ftcost.io/v1alpha1/PriceCatalog")
			break
		}
	}
	file := filepath.Join(t.TempDir(), "pr.yaml")
	g.Expect(os.WriteFile(file, bytes.Join(docs, []byte("---\n")), 0o600)).To(Succeed())

	var out, errOut bytes.Buffer
	code := cli.Run([]string{"estimate", "-f", file, "-o", "yaml"}, cli.Streams{In: &bytes.Buffer{}, Out: &out, Err: &errOut})
	g.Expect(code).To(Equal(0), errOut.String())
	var list struct{ Items []ftv1.FineTuneEstimate }
	g.Expect(yaml.Unmarshal(out.Bytes(), &list)).To(Succeed())
	g.Expect(list.Items).To(HaveLen(2))
	for _, got := range list.Items {
		want := fromOperator[got.Name]
		g.Expect(want).NotTo(BeNil(), got.Name)
		g.Expect(cmp.Diff(want.Status, got.Status, cmpopts.IgnoreFields(metav1.Condition{}, "LastTransitionTime"))).To(BeEmpty(), got.Name)
	}
}
