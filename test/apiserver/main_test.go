// Package apiserver tests what the real kube-apiserver decides about ftcost's CRDs: that every schema
// and CEL rule of the generated CRDs rejects bad input with the field named, that the samples and the
// default catalog are accepted, that status is a subresource, and that the printer columns print.
// No controller runs here, so whatever status a test writes stays as written.
package apiserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/testenv"
)

var (
	env *testenv.Env
	ctx = context.Background()
)

func TestMain(m *testing.M) {
	var err error
	if env, err = testenv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the control plane:", err)
	}
	os.Exit(code)
}

// newNamespace creates a namespace for one test, named after prefix.
func newNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatalf("creating a namespace %s-*: %v", prefix, err)
	}
	return ns.Name
}

// deleteAtCleanup deletes a cluster-scoped object when the test ends, so tests can run again (-count).
func deleteAtCleanup(t *testing.T, obj client.Object) {
	t.Cleanup(func() {
		if err := env.Client.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting %s: %v", obj.GetName(), err)
		}
	})
}

// validEstimate is a FineTuneEstimate that sets every spec field, so a case can break any one of them.
func validEstimate(namespace, name string) *ftv1.FineTuneEstimate {
	dec := func(s string) *ftv1.Decimal { d := ftv1.Decimal(s); return &d }
	growth := ftv1.SignedDecimal("0")
	return &ftv1.FineTuneEstimate{
		TypeMeta:   metav1.TypeMeta{APIVersion: ftv1.GroupVersion.String(), Kind: "FineTuneEstimate"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: ftv1.FineTuneEstimateSpec{
			Model:  "llama-13b",
			Method: ftv1.MethodLoRA,
			Dataset: ftv1.Dataset{
				Examples:         10000,
				TokensPerExample: ptr.To[int64](1000),
				Epochs:           ptr.To[int32](1),
			},
			Training: ftv1.Training{Provider: "runpod", GPUType: "H100", Estimator: ftv1.EstimatorEmpirical},
			OneTimeCosts: &ftv1.OneTimeCosts{
				DataCollection: dec("0"), DataLabeling: dec("1000"), DataCleaning: dec("0"),
				Experimentation: dec("0"), Deployment: dec("0"), Hardware: dec("0"),
			},
			Serving: &ftv1.Serving{CostPerRequest: dec("0"), MonthlyCost: dec("0")},
			API: ftv1.APIPricing{
				Model: "claude-sonnet", InputPricePerMillionTokens: dec("3"), OutputPricePerMillionTokens: dec("15"),
				CostPerRequest: dec("0.005"),
			},
			Usage: ftv1.Usage{
				RequestsPerMonth:       10000,
				InputTokensPerRequest:  ptr.To[int64](1000),
				OutputTokensPerRequest: ptr.To[int64](300),
				MonthlyGrowthPercent:   &growth,
			},
			HorizonMonths:             ptr.To[int32](36),
			AnnualDiscountRatePercent: dec("0"),
			Budget:                    &ftv1.Budget{MaxUpfrontCost: dec("5000")},
			Policy:                    ftv1.PolicyAdvisory,
			PriceCatalogRef:           "default",
		},
	}
}

// toUnstructured converts a typed object, so a test can remove required fields or set wrong types.
func toUnstructured(t *testing.T, obj runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return u
}

// rendered returns the objects kustomize renders from config/<dir>, as unstructured objects.
func rendered(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(testenv.RepoRoot(), "config", dir))
	if err != nil {
		t.Fatalf("kustomize build config/%s: %v", dir, err)
	}
	var out []*unstructured.Unstructured
	for _, r := range m.Resources() {
		b, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(b, &u.Object); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

// strict makes the server reject unknown or duplicate fields instead of dropping them with a warning.
var strict = client.FieldValidation(metav1.FieldValidationStrict)

// dnsName turns a test case name into an object name.
func dnsName(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	n := strings.Trim(b.String(), "-")
	if len(n) > 60 {
		n = strings.Trim(n[:60], "-")
	}
	return n
}
