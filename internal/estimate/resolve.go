package estimate

import (
	"fmt"
	"sync"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
)

// Builtin is the built-in catalog, built once and shared: the engine only reads a catalog.
var Builtin = sync.OnceValue(engine.BuiltinCatalog)

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

// Resolve is the catalog an estimate prices with, given pc, the PriceCatalog its ref names (nil when
// none exists). An empty ref means "default"; when no "default" exists the built-in catalog is used
// and Pricing.Source says so. A named catalog that does not exist is a *CatalogNotFoundError, never a
// silent fallback; an invalid catalog is an *engine.Error naming spec.priceCatalogRef.
func Resolve(spec *ftv1.FineTuneEstimateSpec, pc *ftv1.PriceCatalog) (*Resolution, error) {
	name := CatalogRef(spec)
	if pc == nil {
		if spec.PriceCatalogRef != "" && spec.PriceCatalogRef != ftv1.DefaultCatalogName {
			return nil, &CatalogNotFoundError{Name: name}
		}
		return &Resolution{Catalog: Builtin(), Pricing: ftv1.Pricing{
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
