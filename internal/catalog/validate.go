package catalog

import (
	"time"

	"github.com/shopspring/decimal"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// Validate checks what the schema cannot: that entries refer only to what the catalog holds
// (a provider's GPU types, default GPU and serving API model), that names are unique, and that
// figures that scale hours or price training are positive, so nothing trains for free. Each error
// names its field. Estimates refuse to price with a catalog that fails it.
func Validate(pc *ftv1.PriceCatalog) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	positive := func(v ftv1.Decimal, p *field.Path) {
		if d, err := decimal.NewFromString(string(v)); err != nil || d.Sign() <= 0 {
			errs = append(errs, field.Invalid(p, v, "must be a decimal greater than 0"))
		}
	}
	unique := func(name string, seen sets.Set[string], p *field.Path) {
		if seen.Has(name) {
			errs = append(errs, field.Duplicate(p, name))
		}
		seen.Insert(name)
	}

	if pc.Spec.MaxAge != nil {
		if _, err := MaxAge(pc); err != nil {
			errs = append(errs, field.Invalid(spec.Child("maxAge"), *pc.Spec.MaxAge, err.Error()))
		}
	}
	date := func(p ftv1.Provenance, path *field.Path) {
		if p.EffectiveDate == "" {
			return
		}
		if _, err := time.Parse(time.DateOnly, p.EffectiveDate); err != nil {
			errs = append(errs, field.Invalid(path.Child("effectiveDate"), p.EffectiveDate, "must be a real date (YYYY-MM-DD)"))
		}
	}
	for i, m := range pc.Spec.Models {
		date(m.Provenance, spec.Child("models").Index(i))
	}
	for i, g := range pc.Spec.GPUs {
		date(g.Provenance, spec.Child("gpus").Index(i))
	}
	for i, p := range pc.Spec.Providers {
		date(p.Provenance, spec.Child("providers").Index(i))
	}
	for i, a := range pc.Spec.APIModels {
		date(a.Provenance, spec.Child("apiModels").Index(i))
	}

	models := sets.New[string]()
	for i, m := range pc.Spec.Models {
		p := spec.Child("models").Index(i)
		unique(m.Name, models, p.Child("name"))
		if m.ScaleFactor != "" {
			positive(m.ScaleFactor, p.Child("scaleFactor"))
		}
	}
	gpus := sets.New[string]()
	for i, g := range pc.Spec.GPUs {
		p := spec.Child("gpus").Index(i)
		unique(g.Name, gpus, p.Child("name"))
		positive(g.PeakBF16TFLOPs, p.Child("peakBF16TFLOPs"))
	}
	apiModels := sets.New[string]()
	for i, a := range pc.Spec.APIModels {
		unique(a.Name, apiModels, spec.Child("apiModels").Index(i).Child("name"))
	}
	providers := sets.New[string]()
	for i, pr := range pc.Spec.Providers {
		p := spec.Child("providers").Index(i)
		unique(pr.Name, providers, p.Child("name"))
		priced := sets.New[string]()
		for j, gp := range pr.GPUPrices {
			gpuPath := p.Child("gpuPrices").Index(j).Child("gpuType")
			unique(gp.GPUType, priced, gpuPath)
			positive(gp.PricePerGPUHour, p.Child("gpuPrices").Index(j).Child("pricePerGPUHour"))
			if !gpus.Has(gp.GPUType) {
				errs = append(errs, field.NotFound(gpuPath, gp.GPUType))
			}
		}
		switch pr.Kind {
		case ftv1.ProviderKindGPUHourly:
			if pr.DefaultGPU != "" && !priced.Has(pr.DefaultGPU) {
				errs = append(errs, field.Invalid(p.Child("defaultGPU"), pr.DefaultGPU, "must be one of the provider's gpuPrices"))
			}
			if pr.PricePerMillionTrainingTokens != nil {
				errs = append(errs, field.Forbidden(p.Child("pricePerMillionTrainingTokens"), "only a Managed provider bills training tokens"))
			}
		case ftv1.ProviderKindManaged:
			if pr.PricePerMillionTrainingTokens != nil {
				positive(*pr.PricePerMillionTrainingTokens, p.Child("pricePerMillionTrainingTokens"))
			}
			if len(pr.Models) == 0 {
				errs = append(errs, field.Required(p.Child("models"), "a Managed provider must list the base models it fine-tunes"))
			}
			if pr.ServingAPIModel != "" && !apiModels.Has(pr.ServingAPIModel) {
				errs = append(errs, field.NotFound(p.Child("servingAPIModel"), pr.ServingAPIModel))
			}
		}
	}
	return errs
}
