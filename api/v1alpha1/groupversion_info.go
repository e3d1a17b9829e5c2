// Package v1alpha1 holds the ftcost.io/v1alpha1 API: FineTuneEstimate, PriceCatalog, CostPolicy and
// ThroughputProfile.
// +kubebuilder:object:generate=true
// +groupName=ftcost.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of these types.
	GroupVersion = schema.GroupVersion{Group: "ftcost.io", Version: "v1alpha1"}

	// SchemeBuilder collects the types of this group-version; each type's file registers its own.
	SchemeBuilder = &schemeBuilder{}

	// AddToScheme adds the types in this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// schemeBuilder registers the API's types with a runtime.Scheme, with apimachinery alone (the API
// package depends on nothing but apimachinery, so anyone may import it).
type schemeBuilder struct{ objects []runtime.Object }

// Register adds objects to the types AddToScheme registers.
func (b *schemeBuilder) Register(objects ...runtime.Object) {
	b.objects = append(b.objects, objects...)
}

// AddToScheme adds the registered types, and the meta types every group-version has, to s.
func (b *schemeBuilder) AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, b.objects...)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
