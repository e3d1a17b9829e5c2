package importers

import (
	"errors"
	"fmt"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// OpenCost custom pricing keys used: the hourly price of one GPU, on demand and spot.
const (
	openCostGPU     = "GPU"
	openCostSpotGPU = "spotGPU"
)

// OpenCost reads OpenCost's custom pricing config (the JSON of its default.json or of the
// custom-pricing ConfigMap: {"provider": "custom", "CPU": "0.031611", ..., "GPU": "0.95",
// "spotGPU": "0.308"}), where GPU and spotGPU are the hourly price of one GPU of any type, as strings
// or numbers. They become the providers o.Provider+"-on-demand" and o.Provider+"-spot" pricing
// o.GPUType, which must be a GPU the built-in catalog or the datasheet table knows. Other keys (CPU,
// RAM, storage, network) are not GPU-hour prices and are ignored.
func OpenCost(data []byte, o Options) (*Result, error) {
	if o.Provider == "" {
		return nil, errors.New("a provider name is required")
	}
	if o.GPUType == "" {
		return nil, errors.New("--gpu-type is required: OpenCost prices every GPU alike, so name the GPU type the price is for")
	}
	members, dups, err := objectMembers(data)
	if err != nil {
		return nil, err
	}
	r := &Result{}
	byKey := map[string]member{}
	for _, m := range members {
		byKey[m.key] = m
	}
	for _, d := range dups {
		if d.key == openCostGPU || d.key == openCostSpotGPU {
			r.Skipped++
			r.skip(d.line, d.key, "duplicate key (the first one is used); skipped")
		}
	}
	gpu, ok, why := gpuEntry(o.GPUType, 0, o)
	if !ok {
		return nil, fmt.Errorf("--gpu-type %s: %s", o.GPUType, why)
	}
	for _, k := range []struct {
		key    string
		market ftv1.Market
		suffix string
	}{{openCostGPU, ftv1.MarketOnDemand, "-on-demand"}, {openCostSpotGPU, ftv1.MarketSpot, "-spot"}} {
		m, found := byKey[k.key]
		if !found {
			continue
		}
		text, isScalar := scalarText(m.value)
		var p price
		err := errors.New("empty")
		if isScalar {
			p, err = convert(text, one, one)
		} else if string(m.value) != "null" {
			err = fmt.Errorf("%s is not a number", m.value)
		}
		if err != nil {
			r.Skipped++
			r.skip(m.line, m.key, "%v; skipped", err)
			continue
		}
		if p.lost {
			r.warn(m.line, m.key, "%s rounded to %s at %d decimals", text, p, Decimals)
		}
		r.Imported++
		r.Providers = append(r.Providers, gpuProvider(o.Provider+k.suffix, k.market, map[string]price{o.GPUType: p}, o))
	}
	if r.Imported == 0 {
		return r, fmt.Errorf("%w: no usable %s or %s price", ErrNothingImported, openCostGPU, openCostSpotGPU)
	}
	r.GPUs = []ftv1.CatalogGPU{gpu}
	return r, nil
}
