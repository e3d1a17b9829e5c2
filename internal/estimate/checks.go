package estimate

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/conditions"
	"github.com/ftcost/ftcost/internal/costpolicy"
)

// Checks are what the verdict weighs beside the estimate's own figures; the operator reads them from
// the cluster.
type Checks struct {
	// CatalogStale is the Stale condition of the PriceCatalog the estimate priced with; nil when it
	// is not Stale or the built-in catalog was used.
	CatalogStale *metav1.Condition
	// Policies names the CostPolicies that select the estimate's namespace, sorted.
	Policies []string
	// Violations are the rules of those policies the estimate breaks.
	Violations []costpolicy.Violation
}

// ApplyChecks records the policies checked in s and turns Approved False when the checks say no: a
// Stale catalog under policy Enforce (reason PricesStale: no verdict on outdated prices) or a
// CostPolicy violation (reason PolicyViolated, naming the policy and rule). An estimate that is not
// Ready is left NotReady. The order is: NotReady, PricesStale, PolicyViolated, then the estimate's
// own NotRecommended and OverBudget.
func ApplyChecks(obj *ftv1.FineTuneEstimate, s *ftv1.FineTuneEstimateStatus, c Checks) {
	s.CostPolicies = c.Policies
	if !meta.IsStatusConditionTrue(s.Conditions, ftv1.ConditionReady) {
		return
	}
	set := conditions.Setter(&s.Conditions, obj.Generation)
	stale := c.CatalogStale != nil && c.CatalogStale.Status == metav1.ConditionTrue
	switch {
	case stale && obj.Spec.Policy == ftv1.PolicyEnforce:
		catalog := ""
		if s.Pricing != nil {
			catalog = s.Pricing.Catalog
		}
		set(ftv1.ConditionApproved, metav1.ConditionFalse, ftv1.ReasonPricesStale,
			fmt.Sprintf("PriceCatalog %q is Stale (%s) and the policy is Enforce: no approval on outdated prices", catalog, c.CatalogStale.Message))
	case len(c.Violations) > 0:
		msgs := make([]string, len(c.Violations))
		for i, v := range c.Violations {
			msgs[i] = v.String()
		}
		set(ftv1.ConditionApproved, metav1.ConditionFalse, ftv1.ReasonPolicyViolated, strings.Join(msgs, "; "))
	}
}
