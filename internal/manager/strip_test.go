package manager

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
)

func tenantMeta() metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: "support-bot",
		Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: `{"spec":{}}`, "team": "search",
			"notes.example.com/big": string(make([]byte, 250<<10)), gate.GateAnnotation: gate.GateHeld},
		Labels:          map[string]string{gate.EstimateLabel: "support-bot", "team": "search"},
		ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
		OwnerReferences: []metav1.OwnerReference{{Name: "owner"}},
		Finalizers:      []string{"example.com/keep"},
	}
}

// The transforms keep the operator's own annotations only: a tenant's annotations, however large,
// are not cached. Estimates lose their labels too; workloads keep theirs (the gates select on them).
func TestStripUnread(t *testing.T) {
	for name, tc := range map[string]struct {
		transform cache.TransformFunc
		obj       metav1.Object
		want      metav1.ObjectMeta
	}{
		"an estimate": {stripEstimate, &ftv1.FineTuneEstimate{ObjectMeta: tenantMeta()}, metav1.ObjectMeta{
			Name: "support-bot", Annotations: map[string]string{gate.GateAnnotation: gate.GateHeld}}},
		"a workload (unstructured)": {stripUnread, func() metav1.Object {
			u := &unstructured.Unstructured{}
			m := tenantMeta()
			u.SetName(m.Name)
			u.SetAnnotations(m.Annotations)
			u.SetLabels(m.Labels)
			u.SetManagedFields(m.ManagedFields)
			return u
		}(), metav1.ObjectMeta{Name: "support-bot", Annotations: map[string]string{gate.GateAnnotation: gate.GateHeld},
			Labels: map[string]string{gate.EstimateLabel: "support-bot", "team": "search"}}},
		"a catalog without its own annotations": {stripUnread, &ftv1.PriceCatalog{ObjectMeta: metav1.ObjectMeta{Name: "default",
			Annotations: map[string]string{"team": "platform"}}}, metav1.ObjectMeta{Name: "default"}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := tc.transform(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			o := got.(metav1.Object)
			gotMeta := metav1.ObjectMeta{Name: o.GetName(), Annotations: o.GetAnnotations(), Labels: o.GetLabels(),
				ManagedFields: o.GetManagedFields(), OwnerReferences: o.GetOwnerReferences(), Finalizers: o.GetFinalizers()}
			want := tc.want
			if _, ok := tc.obj.(*unstructured.Unstructured); ok {
				want.OwnerReferences, want.Finalizers = nil, nil
			}
			if diff := cmp.Diff(want, gotMeta); diff != "" {
				t.Errorf("kept metadata (-want +got):\n%s", diff)
			}
			// Idempotent, as client-go asks of a transform.
			again, _ := tc.transform(got)
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("a second pass changed it:\n%s", diff)
			}
		})
	}
	// Not an object (a tombstone, say): passed through.
	for _, tr := range []cache.TransformFunc{stripUnread, stripEstimate} {
		if v, err := tr("tombstone"); v != "tombstone" || err != nil {
			t.Errorf("transform(non-object) = %v, %v", v, err)
		}
	}
}
