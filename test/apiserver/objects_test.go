package apiserver

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// TestSamplesAndCatalogAccepted creates everything config/samples and config/catalog render, with
// strict field validation, and reads each back unchanged.
func TestSamplesAndCatalogAccepted(t *testing.T) {
	ns := newNamespace(t, "samples")
	objs := append(rendered(t, "catalog"), rendered(t, "samples")...)
	if len(objs) < 7 {
		t.Fatalf("want the catalog and at least 6 samples, got %d objects", len(objs))
	}
	for _, obj := range objs {
		t.Run(obj.GetKind()+"/"+obj.GetName(), func(t *testing.T) {
			if obj.GetKind() == "FineTuneEstimate" {
				obj.SetNamespace(ns)
			}
			want := obj.DeepCopy()
			if err := env.Client.Create(ctx, obj, strict); err != nil {
				t.Fatalf("the API server rejects %s %s: %v", obj.GetKind(), obj.GetName(), err)
			}
			if obj.GetNamespace() == "" {
				deleteAtCleanup(t, obj)
			}
			got := want.DeepCopy()
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(want), got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(viaJSON(t, want.Object["spec"]), viaJSON(t, got.Object["spec"])); diff != "" {
				t.Errorf("the server changed the spec (-sent +stored):\n%s", diff)
			}
		})
	}
}

// TestDefaultManifestsAccepted sends everything config/default renders (but the CRDs, which testenv
// installed) to the API server as a strict dry run: the Deployment, RBAC and Service are valid objects.
func TestDefaultManifestsAccepted(t *testing.T) {
	objs := rendered(t, "default")
	for _, obj := range objs {
		if obj.GetKind() == "Namespace" {
			err := env.Client.Create(ctx, obj, strict)
			if err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("creating Namespace %s: %v", obj.GetName(), err)
			}
		}
	}
	n := 0
	for _, obj := range objs {
		if obj.GetKind() == "Namespace" || obj.GetKind() == "CustomResourceDefinition" {
			continue
		}
		n++
		if err := env.Client.Create(ctx, obj, strict, client.DryRunAll); err != nil {
			t.Errorf("the API server rejects %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
	if n < 8 {
		t.Errorf("dry-ran %d objects; config/default should render at least 8 besides CRDs and Namespace", n)
	}
}

// viaJSON round-trips v through JSON, so numbers compare alike whichever decoder produced them.
func viaJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStatusSubresource: spec and status are written through separate endpoints, and only spec
// changes bump metadata.generation.
func TestStatusSubresource(t *testing.T) {
	ns := newNamespace(t, "status")
	c := env.Client
	fte := validEstimate(ns, "status")
	if err := c.Create(ctx, fte); err != nil {
		t.Fatal(err)
	}
	if fte.Generation != 1 {
		t.Fatalf("generation after create = %d, want 1", fte.Generation)
	}
	spec := *fte.Spec.DeepCopy()

	// Writing status leaves spec and generation alone, even when the object sent has a changed spec.
	status := ftv1.FineTuneEstimateStatus{
		ObservedGeneration: 1, Recommendation: ftv1.RecommendationFineTune, UpfrontCost: "1001.25",
		BreakEvenMonths: "20.0", Currency: "USD", HorizonMonths: 36,
		Conditions: []metav1.Condition{{Type: ftv1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: ftv1.ReasonEstimated, Message: "Estimated", ObservedGeneration: 1, LastTransitionTime: metav1.Now()}},
	}
	fte.Status = status
	fte.Spec.Dataset.Examples = 99
	if err := c.Status().Update(ctx, fte); err != nil {
		t.Fatalf("Status().Update: %v", err)
	}
	got := &ftv1.FineTuneEstimate{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(fte), got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(spec, got.Spec); diff != "" {
		t.Errorf("Status().Update changed spec (-before +after):\n%s", diff)
	}
	ignoreTime := cmp.Comparer(func(a, b metav1.Time) bool { return true })
	if diff := cmp.Diff(status, got.Status, ignoreTime); diff != "" {
		t.Errorf("status not stored as written (-written +stored):\n%s", diff)
	}
	if got.Generation != 1 {
		t.Errorf("generation after a status write = %d, want 1", got.Generation)
	}

	// Updating the main resource changes spec, bumps generation, and ignores the status sent with it.
	got.Spec.Dataset.Examples = 20000
	got.Status.Recommendation = ftv1.RecommendationAPI
	got.Status.UpfrontCost = "1"
	meta.RemoveStatusCondition(&got.Status.Conditions, ftv1.ConditionReady)
	if err := c.Update(ctx, got); err != nil {
		t.Fatalf("Update: %v", err)
	}
	after := &ftv1.FineTuneEstimate{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(fte), after); err != nil {
		t.Fatal(err)
	}
	if after.Spec.Dataset.Examples != 20000 {
		t.Errorf("spec.dataset.examples = %d after Update, want 20000", after.Spec.Dataset.Examples)
	}
	if diff := cmp.Diff(status, after.Status, ignoreTime); diff != "" {
		t.Errorf("Update changed status (-before +after):\n%s", diff)
	}
	if after.Generation != 2 {
		t.Errorf("generation after a spec change = %d, want 2", after.Generation)
	}

	// A status write with the same spec again: generation stays.
	after.Status.ObservedGeneration = 2
	if err := c.Status().Update(ctx, after); err != nil {
		t.Fatal(err)
	}
	if after.Generation != 2 {
		t.Errorf("generation after a second status write = %d, want 2", after.Generation)
	}

	// The same holds for PriceCatalog.
	pc := &ftv1.PriceCatalog{ObjectMeta: metav1.ObjectMeta{Name: "status-catalog"},
		Spec: ftv1.PriceCatalogSpec{APIModels: []ftv1.CatalogAPIModel{{Name: "x", InputPricePerMillionTokens: "1", OutputPricePerMillionTokens: "2"}}}}
	if err := c.Create(ctx, pc); err != nil {
		t.Fatal(err)
	}
	deleteAtCleanup(t, pc)
	pc.Status.ObservedGeneration = 1
	pc.Spec.APIModels[0].InputPricePerMillionTokens = "5"
	if err := c.Status().Update(ctx, pc); err != nil {
		t.Fatal(err)
	}
	if pc.Generation != 1 || pc.Spec.APIModels[0].InputPricePerMillionTokens != "1" || pc.Status.ObservedGeneration != 1 {
		t.Errorf("PriceCatalog status write: generation %d, input price %q, observedGeneration %d; want 1, \"1\", 1",
			pc.Generation, pc.Spec.APIModels[0].InputPricePerMillionTokens, pc.Status.ObservedGeneration)
	}
}
