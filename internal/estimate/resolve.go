package estimate

import (
	"fmt"
	"sync"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
)

// builtin is the built-in catalog, built once and shared: the engine only reads a catalog.
var builtin = sync.OnceValue(engine.BuiltinCatalog)

// CatalogGetter finds a PriceCatalog by name: from the API server in the operator, from files in the CLI.
// found is false when the catalog does not exist; err is for failures to look.
type CatalogGetter func(name string) (pc *ftv1.PriceCatalog, found bool, err error)

// Resolution is the catalog an estimate prices with and how it was found.
type Resolution struct {
	Catalog *engine.Catalog
	Pricing ftv1.Pricing
}

// CatalogNotFoundError says that a PriceCatalog named by spec.priceCatalogRef does not exist.
type CatalogNotFoundError struct{ Name string }

func (e *CatalogNotFoundError) Error() string {
	return fmt.Sprintf("spec.priceCatalogRef: PriceCatalog %q not found", e.Name)
}

// CatalogRef is the catalog an estimate names, "default" when it names none.
func CatalogRef(spec *ftv1.FineTuneEstimateSpec) string {
	if spec.PriceCatalogRef == "" {
		return ftv1.DefaultCatalogName
	}
	return spec.PriceCatalogRef
}

// Resolve finds the catalog an estimate prices with. An empty ref means "default"; when no "default"
// exists the built-in catalog is used and Pricing.Source says so. A named catalog that does not exist
// is a *CatalogNotFoundError, never a silent fallback.
func Resolve(spec *ftv1.FineTuneEstimateSpec, get CatalogGetter) (*Resolution, error) {
	name := CatalogRef(spec)
	pc, found, err := get(name)
	if err != nil {
		return nil, err
	}
	if !found {
		if spec.PriceCatalogRef != "" && spec.PriceCatalogRef != ftv1.DefaultCatalogName {
			return nil, &CatalogNotFoundError{Name: name}
		}
		return &Resolution{Catalog: builtin(), Pricing: ftv1.Pricing{
			Catalog: engine.BuiltinCatalogName, Source: ftv1.PricingSourceBuiltin}}, nil
	}
	c, errs, err := catalog.Engine(pc)
	if len(errs) > 0 {
		// Never price with a catalog its own reconciler calls invalid (a zero scale factor or price
		// would make fine-tuning look free).
		return nil, &engine.Error{Reason: engine.ReasonInvalidSpec, Field: "spec.priceCatalogRef",
			Message: fmt.Sprintf("PriceCatalog %q is not valid: %s", pc.Name, errs.ToAggregate().Error())}
	}
	if err != nil {
		// The schema keeps this from happening; if it does, it is terminal until the catalog changes.
		return nil, &engine.Error{Reason: engine.ReasonInvalidSpec, Field: "spec.priceCatalogRef", Message: err.Error()}
	}
	return &Resolution{Catalog: c, Pricing: ftv1.Pricing{Catalog: pc.Name, CatalogGeneration: pc.Generation, Source: ftv1.PricingSourceCatalog}}, nil
}
