package manager

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

func TestStripUnread(t *testing.T) {
	obj := &ftv1.FineTuneEstimate{ObjectMeta: metav1.ObjectMeta{
		Name:          "support-bot",
		Annotations:   map[string]string{corev1.LastAppliedConfigAnnotation: `{"spec":{}}`, "team": "search"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
	}}
	got, err := stripUnread(obj)
	if err != nil {
		t.Fatal(err)
	}
	o := got.(*ftv1.FineTuneEstimate)
	if o.ManagedFields != nil {
		t.Errorf("managed fields kept: %v", o.ManagedFields)
	}
	if diff := cmp.Diff(map[string]string{"team": "search"}, o.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	// Not an object (a tombstone, say): passed through.
	if v, err := stripUnread("tombstone"); v != "tombstone" || err != nil {
		t.Errorf("stripUnread(non-object) = %v, %v", v, err)
	}
}
