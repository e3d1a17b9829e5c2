// Package catalog is the PriceCatalog's own code: its conversion to and from the engine's catalog,
// the checks the schema cannot make, and its status. The PriceCatalog reconciler, the estimate
// package (which prices with a catalog) and the CLI share it.
package catalog

import (
	"fmt"
	"maps"
	"slices"

	"github.com/shopspring/decimal"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
)

// ToEngine converts a PriceCatalog into the engine's catalog. An entry whose figures do not parse is
// an error naming it; nothing is ever priced at zero by default.
func ToEngine(pc *ftv1.PriceCatalog) (*engine.Catalog, error) {
	c := engine.NewCatalog(pc.Name, pc.Generation)
	parse := func(v ftv1.Decimal, path string) (decimal.Decimal, error) {
		d, err := decimal.NewFromString(string(v))
		if err != nil {
			return decimal.Zero, fmt.Errorf("PriceCatalog %q: %s: %q is not a decimal number", pc.Name, path, v)
		}
		return d, nil
	}
	prov := func(p ftv1.Provenance) engine.Provenance {
		return engine.Provenance{Source: p.Source, EffectiveDate: p.EffectiveDate}
	}
	for i, m := range pc.Spec.Models {
		var scale decimal.Decimal
		if m.ScaleFactor != "" {
			var err error
			if scale, err = parse(m.ScaleFactor, fmt.Sprintf("spec.models[%d].scaleFactor", i)); err != nil {
				return nil, err
			}
		}
		em := engine.Model{Name: m.Name, Parameters: m.Parameters, ScaleFactor: scale, Provenance: prov(m.Provenance)}
		if a := m.Architecture; a != nil {
			em.Architecture = &engine.Architecture{Layers: a.Layers, HiddenSize: a.HiddenSize,
				IntermediateSize: a.IntermediateSize, AttentionHeads: a.AttentionHeads, KVHeads: a.KVHeads,
				VocabSize: a.VocabSize, TiedEmbeddings: a.TiedEmbeddings, Source: a.Source}
		}
		c.Models[m.Name] = em
	}
	for i, g := range pc.Spec.GPUs {
		peak, err := parse(g.PeakBF16TFLOPs, fmt.Sprintf("spec.gpus[%d].peakBF16TFLOPs", i))
		if err != nil {
			return nil, err
		}
		eg := engine.GPU{Name: g.Name, MemoryGiB: g.MemoryGiB, PeakBF16TFLOPs: peak,
			Generation: engine.Generation(g.Generation), Provenance: prov(g.Provenance)}
		if g.MemoryBandwidthGBps != "" {
			if eg.MemoryBandwidthGBps, err = parse(g.MemoryBandwidthGBps, fmt.Sprintf("spec.gpus[%d].memoryBandwidthGBps", i)); err != nil {
				return nil, err
			}
		}
		c.GPUs[g.Name] = eg
	}
	for i, p := range pc.Spec.Providers {
		ep := engine.Provider{Name: p.Name, Kind: engine.ProviderKind(p.Kind), Spot: p.Market == ftv1.MarketSpot,
			DefaultGPU: p.DefaultGPU, GPUPrices: map[string]decimal.Decimal{}, Models: p.Models,
			ServingAPIModel: p.ServingAPIModel, Provenance: prov(p.Provenance)}
		for j, gp := range p.GPUPrices {
			price, err := parse(gp.PricePerGPUHour, fmt.Sprintf("spec.providers[%d].gpuPrices[%d].pricePerGPUHour", i, j))
			if err != nil {
				return nil, err
			}
			ep.GPUPrices[gp.GPUType] = price
		}
		if p.PricePerMillionTrainingTokens != nil {
			price, err := parse(*p.PricePerMillionTrainingTokens, fmt.Sprintf("spec.providers[%d].pricePerMillionTrainingTokens", i))
			if err != nil {
				return nil, err
			}
			ep.PricePerMillionTrainingTokens = price
		}
		c.Providers[p.Name] = ep
	}
	for i, a := range pc.Spec.APIModels {
		in, err := parse(a.InputPricePerMillionTokens, fmt.Sprintf("spec.apiModels[%d].inputPricePerMillionTokens", i))
		if err != nil {
			return nil, err
		}
		out, err := parse(a.OutputPricePerMillionTokens, fmt.Sprintf("spec.apiModels[%d].outputPricePerMillionTokens", i))
		if err != nil {
			return nil, err
		}
		c.APIModels[a.Name] = engine.APIModel{Name: a.Name, InputPerMillionToken: in, OutputPerMillionToken: out, Provenance: prov(a.Provenance)}
	}
	return c, nil
}

// FromEngine converts an engine catalog into a PriceCatalog object named name, entries sorted by name.
func FromEngine(c *engine.Catalog, name string) *ftv1.PriceCatalog {
	pc := &ftv1.PriceCatalog{
		TypeMeta:   metav1.TypeMeta{APIVersion: ftv1.GroupVersion.String(), Kind: "PriceCatalog"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}
	prov := func(p engine.Provenance) ftv1.Provenance {
		return ftv1.Provenance{Source: p.Source, EffectiveDate: p.EffectiveDate}
	}
	dec := func(d decimal.Decimal) ftv1.Decimal { return ftv1.Decimal(d.String()) }
	for _, k := range slices.Sorted(maps.Keys(c.Models)) {
		m := c.Models[k]
		cm := ftv1.CatalogModel{Name: m.Name, Parameters: m.Parameters, Provenance: prov(m.Provenance)}
		if m.ScaleFactor.Sign() > 0 {
			cm.ScaleFactor = dec(m.ScaleFactor)
		}
		if a := m.Architecture; a != nil {
			cm.Architecture = &ftv1.Architecture{Layers: a.Layers, HiddenSize: a.HiddenSize,
				IntermediateSize: a.IntermediateSize, AttentionHeads: a.AttentionHeads, KVHeads: a.KVHeads,
				VocabSize: a.VocabSize, TiedEmbeddings: a.TiedEmbeddings, Source: a.Source}
		}
		pc.Spec.Models = append(pc.Spec.Models, cm)
	}
	for _, k := range slices.Sorted(maps.Keys(c.GPUs)) {
		g := c.GPUs[k]
		pc.Spec.GPUs = append(pc.Spec.GPUs, ftv1.CatalogGPU{Name: g.Name, MemoryGiB: g.MemoryGiB,
			PeakBF16TFLOPs: dec(g.PeakBF16TFLOPs), Generation: ftv1.GPUGeneration(g.Generation),
			MemoryBandwidthGBps: optionalDec(g.MemoryBandwidthGBps), Provenance: prov(g.Provenance)})
	}
	for _, k := range slices.Sorted(maps.Keys(c.Providers)) {
		p := c.Providers[k]
		cp := ftv1.CatalogProvider{Name: p.Name, Kind: ftv1.ProviderKind(p.Kind), DefaultGPU: p.DefaultGPU,
			Models: p.Models, ServingAPIModel: p.ServingAPIModel, Provenance: prov(p.Provenance)}
		if p.Kind == engine.GPUHourly {
			cp.Market = ftv1.MarketOnDemand
			if p.Spot {
				cp.Market = ftv1.MarketSpot
			}
			for _, g := range slices.Sorted(maps.Keys(p.GPUPrices)) {
				cp.GPUPrices = append(cp.GPUPrices, ftv1.GPUPrice{GPUType: g, PricePerGPUHour: dec(p.GPUPrices[g])})
			}
		} else {
			price := dec(p.PricePerMillionTrainingTokens)
			cp.PricePerMillionTrainingTokens = &price
		}
		pc.Spec.Providers = append(pc.Spec.Providers, cp)
	}
	for _, k := range slices.Sorted(maps.Keys(c.APIModels)) {
		a := c.APIModels[k]
		pc.Spec.APIModels = append(pc.Spec.APIModels, ftv1.CatalogAPIModel{Name: a.Name,
			InputPricePerMillionTokens: dec(a.InputPerMillionToken), OutputPricePerMillionTokens: dec(a.OutputPerMillionToken),
			Provenance: prov(a.Provenance)})
	}
	return pc
}

// optionalDec prints a figure the catalog may leave out: "" for zero.
func optionalDec(d decimal.Decimal) ftv1.Decimal {
	if d.Sign() == 0 {
		return ""
	}
	return ftv1.Decimal(d.String())
}
