package catalog

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
)

// conversion is one PriceCatalog generation checked and converted for the engine.
type conversion struct {
	uid        types.UID
	generation int64
	catalog    *engine.Catalog
	invalid    field.ErrorList
	err        error
}

// conversions keep the last conversion of each PriceCatalog by name. A catalog's spec changes only
// with its generation, and every reconcile of each of its estimates prices with it: without this,
// each would check and convert it again, a measurable share of the manager's CPU and garbage at
// scale (docs/benchmarks.md). At most one entry per catalog name.
var conversions sync.Map // string -> *conversion

// Engine checks pc (Validate) and converts it (ToEngine), once per UID and generation: later calls
// for the same generation share the result, which the engine only reads. invalid lists what
// Validate found; err is ToEngine's error. A catalog without a UID (read from a file) is not
// remembered.
func Engine(pc *ftv1.PriceCatalog) (c *engine.Catalog, invalid field.ErrorList, err error) {
	if pc.UID != "" {
		if v, ok := conversions.Load(pc.Name); ok {
			if cv := v.(*conversion); cv.uid == pc.UID && cv.generation == pc.Generation {
				return cv.catalog, cv.invalid, cv.err
			}
		}
	}
	cv := &conversion{uid: pc.UID, generation: pc.Generation, invalid: Validate(pc)}
	if len(cv.invalid) == 0 {
		cv.catalog, cv.err = ToEngine(pc)
	}
	if pc.UID != "" {
		conversions.Store(pc.Name, cv)
	}
	return cv.catalog, cv.invalid, cv.err
}
