package catalog

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ftcost/ftcost/engine"
)

func TestCatalogRoundTrip(t *testing.T) {
	builtin := engine.BuiltinCatalog()
	back, err := ToEngine(FromEngine(builtin, "default"))
	if err != nil {
		t.Fatal(err)
	}
	back.Name, back.Generation = builtin.Name, builtin.Generation
	if d := cmp.Diff(builtin, back, cmpopts.EquateEmpty(), cmp.Comparer(func(a, b interface{ String() string }) bool { return a.String() == b.String() })); d != "" {
		t.Errorf("round trip (-builtin +back):\n%s", d)
	}
}
