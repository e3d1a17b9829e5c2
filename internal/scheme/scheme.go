// Package scheme builds the runtime.Scheme ftcost's clients use: the built-in types and ftcost.io.
package scheme

import (
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// New returns a scheme with the built-in types and ftcost's.
func New() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := ftv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}
