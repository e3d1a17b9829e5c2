package catalog

import (
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/ftcost/ftcost/engine"
)

// Engine converts a catalog once per UID and generation, and again when either changes; a catalog
// from a file (no UID) is converted every time; an invalid one keeps saying so.
func TestEngineConvertsOncePerGeneration(t *testing.T) {
	pc := FromEngine(engine.BuiltinCatalog(), "memo")
	pc.UID, pc.Generation = types.UID("uid-1"), 1
	first, invalid, err := Engine(pc)
	if err != nil || len(invalid) > 0 || first == nil {
		t.Fatalf("Engine: %v %v", invalid, err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if again, _, _ := Engine(pc); again != first {
				t.Error("the same generation was converted again")
			}
		})
	}
	wg.Wait()

	pc.Generation = 2
	pc.Spec.Providers[0].GPUPrices[0].PricePerGPUHour = "99.99"
	second, _, _ := Engine(pc)
	if second == first {
		t.Fatal("a new generation reused the old conversion")
	}
	p := second.Providers[pc.Spec.Providers[0].Name]
	if got := p.GPUPrices[pc.Spec.Providers[0].GPUPrices[0].GPUType].String(); got != "99.99" {
		t.Errorf("new generation's price %s, want 99.99", got)
	}

	recreated := pc.DeepCopy()
	recreated.UID = "uid-2" // deleted and created again under the same name, at generation 2 too
	if third, _, _ := Engine(recreated); third == second {
		t.Error("a new catalog of the same name and generation reused the old one's conversion")
	}

	file := pc.DeepCopy()
	file.UID = ""
	if a, _, _ := Engine(file); a == nil {
		t.Fatal("no conversion for a catalog from a file")
	} else if b, _, _ := Engine(file); a == b {
		t.Error("a catalog without a UID was remembered")
	}

	bad := pc.DeepCopy()
	bad.UID, bad.Generation = "uid-3", 1
	bad.Spec.Providers[0].GPUPrices[0].PricePerGPUHour = "0"
	for range 2 {
		if c, invalid, _ := Engine(bad); c != nil || len(invalid) == 0 {
			t.Errorf("a zero price converted: %v, %v", c, invalid)
		}
	}
}
