package controller

import (
	"encoding/json"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// The status patch, applied to the object as it was, gives the new status and leaves the spec and
// metadata alone but for the resourceVersion it was made against (the optimistic lock).
func TestStatusPatchAppliesToTheStatusOnly(t *testing.T) {
	prev := &ftv1.FineTuneEstimate{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "support-bot", ResourceVersion: "41", Labels: map[string]string{"team": "a"}},
		Spec:       ftv1.FineTuneEstimateSpec{Model: "llama-13b", Method: ftv1.MethodLoRA},
		Status: ftv1.FineTuneEstimateStatus{ObservedGeneration: 1, UpfrontCost: "1001.25", Recommendation: ftv1.RecommendationFineTune,
			Pricing:    &ftv1.Pricing{Catalog: "default", CatalogGeneration: 1, Source: ftv1.PricingSourceCatalog},
			Conditions: []metav1.Condition{{Type: ftv1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Estimated", Message: "a"}}},
	}
	next := prev.DeepCopy()
	next.Status.UpfrontCost, next.Status.Pricing.CatalogGeneration = "1006.85", 2
	next.Status.BreakEvenMonths = "20.1"                  // added
	next.Status.Recommendation = ""                       // removed
	next.Status.Conditions[0].Message = "b"               // changed inside a list
	next.ResourceVersion, next.Labels["team"] = "99", "b" // not the patch's business

	data, err := statusPatchFrom(prev).Data(next)
	if err != nil {
		t.Fatal(err)
	}
	original, _ := json.Marshal(prev)
	patched, err := jsonpatch.MergePatch(original, data)
	if err != nil {
		t.Fatal(err)
	}
	var got ftv1.FineTuneEstimate
	if err := json.Unmarshal(patched, &got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(next.Status, got.Status); d != "" {
		t.Errorf("status after the patch (-want +got):\n%s", d)
	}
	if got.ResourceVersion != "41" || got.Labels["team"] != "a" || !cmp.Equal(got.Spec, prev.Spec) {
		t.Errorf("the patch touched more than the status: resourceVersion %q, labels %v", got.ResourceVersion, got.Labels)
	}
}
