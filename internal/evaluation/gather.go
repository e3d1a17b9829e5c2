// Package evaluation evaluates a FineTuneEstimate in two steps, as cert-manager's certificate
// policies do: Gather reads every input once (the estimate's PriceCatalog, the ThroughputProfile a
// Calibrated estimate reads, the CostPolicies that select its namespace, the time), and Evaluate
// turns those inputs into the status the operator writes, reading nothing more. The reconciler
// gathers from the cluster and the CLI from files; both call Evaluate, so they cannot disagree.
package evaluation

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/catalog"
	"github.com/ftcost/ftcost/internal/costpolicy"
	"github.com/ftcost/ftcost/internal/estimate"
)

// Source is where Gather reads: the API server (the manager's cache) or files (the CLI). Each
// method reports a missing object as found false, not as an error; an error is a failure to look,
// worth retrying.
type Source interface {
	PriceCatalog(ctx context.Context, name string) (pc *ftv1.PriceCatalog, found bool, err error)
	ThroughputProfile(ctx context.Context, name string) (p *ftv1.ThroughputProfile, found bool, err error)
	// CostPolicies are every CostPolicy; Gather picks those that select the namespace.
	CostPolicies(ctx context.Context) ([]ftv1.CostPolicy, error)
	// NamespaceLabels are the labels of a namespace; nil when it does not exist.
	NamespaceLabels(ctx context.Context, namespace string) (map[string]string, error)
}

// Inputs are everything an estimate's evaluation weighs, read once.
type Inputs struct {
	Estimate *ftv1.FineTuneEstimate
	// Catalog is the PriceCatalog spec.priceCatalogRef resolves to ("default" when it names none);
	// nil when no such catalog exists. It is only read.
	Catalog *ftv1.PriceCatalog
	// Profile is the ThroughputProfile of a Calibrated estimate; nil for other estimators or when
	// the profile does not exist (the engine then falls back to FLOPs and says so).
	Profile *ftv1.ThroughputProfile
	// Policies are the CostPolicies that select the estimate's namespace, sorted by name.
	Policies []*ftv1.CostPolicy
	// BrokenPolicies are the policies whose selector cannot be read: they apply everywhere and
	// refuse approval (fail closed).
	BrokenPolicies []costpolicy.Violation
	// Now is the time prices are judged at (their age against a catalog's maxAge).
	Now time.Time
}

// Gather reads what obj's evaluation needs from src. An error is a failure to read, never a
// missing object: an estimate whose catalog is missing is evaluated, and says so.
func Gather(ctx context.Context, src Source, obj *ftv1.FineTuneEstimate, now time.Time) (*Inputs, error) {
	in := &Inputs{Estimate: obj, Now: now}
	pc, found, err := src.PriceCatalog(ctx, estimate.CatalogRef(&obj.Spec))
	if err != nil {
		return nil, err
	}
	if found {
		in.Catalog = pc
	}
	if name := profileName(&obj.Spec, in.Catalog); name != "" {
		p, found, err := src.ThroughputProfile(ctx, name)
		if err != nil {
			return nil, err
		}
		if found {
			in.Profile = p
		}
	}
	policies, err := src.CostPolicies(ctx)
	if err != nil || len(policies) == 0 {
		return in, err
	}
	labels, err := src.NamespaceLabels(ctx, obj.Namespace)
	if err != nil {
		return nil, err
	}
	in.Policies, in.BrokenPolicies = costpolicy.Applicable(policies, labels)
	return in, nil
}

// profileName is the ThroughputProfile a Calibrated estimate reads, "" for the other estimators or
// when its catalog cannot be used (the evaluation then fails on the catalog, not the profile).
func profileName(spec *ftv1.FineTuneEstimateSpec, pc *ftv1.PriceCatalog) string {
	if spec.Training.Estimator != ftv1.EstimatorCalibrated {
		return ""
	}
	cat := estimate.Builtin()
	if pc != nil {
		c, invalid, err := catalog.Engine(pc)
		if len(invalid) > 0 || err != nil {
			return ""
		}
		cat = c
	}
	return estimate.CalibratedProfile(spec, cat)
}

// NamespaceLabelsOf are the labels a namespace carries by itself: the API server gives every
// namespace kubernetes.io/metadata.name (1.21+), so a policy may select a namespace by name even
// where no Namespace object is at hand (the CLI).
func NamespaceLabelsOf(ns *corev1.Namespace, name string) map[string]string {
	out := map[string]string{corev1.LabelMetadataName: name}
	if ns != nil {
		for k, v := range ns.Labels {
			out[k] = v
		}
	}
	return out
}
