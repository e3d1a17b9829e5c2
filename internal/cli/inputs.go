package cli

import (
	"context"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/evaluation"
)

// inputSource is where the CLI gathers an estimate's inputs (evaluation.Gather): the documents of -f and
// --catalog files, or the cluster.
type inputSource struct {
	catalog         func(name string) (*ftv1.PriceCatalog, bool, error)
	profile         func(name string) (*ftv1.ThroughputProfile, bool, error)
	policies        func() ([]ftv1.CostPolicy, error)
	namespaceLabels func(namespace string) (map[string]string, error)
}

var _ evaluation.Source = (*inputSource)(nil)

func (s *inputSource) PriceCatalog(_ context.Context, name string) (*ftv1.PriceCatalog, bool, error) {
	return s.catalog(name)
}

func (s *inputSource) ThroughputProfile(_ context.Context, name string) (*ftv1.ThroughputProfile, bool, error) {
	return s.profile(name)
}

func (s *inputSource) CostPolicies(context.Context) ([]ftv1.CostPolicy, error) { return s.policies() }

func (s *inputSource) NamespaceLabels(_ context.Context, namespace string) (map[string]string, error) {
	return s.namespaceLabels(namespace)
}
