// Package importers turns public price lists into PriceCatalog entries, so nobody types prices by
// hand: LiteLLM's per-token price map (API models), SkyPilot's vms.csv (GPU-hour providers and GPUs)
// and OpenCost's custom pricing config (a GPU-hour provider). Parsers are pure: they read a file's
// bytes and return entries plus one Issue per row they skipped or imported with a caveat.
//
// Prices are converted from their text exactly (never through float64), to at most 6 decimals
// rounded half away from zero. A price that is empty, not a number, negative, zero or that rounds to
// zero is malformed: its row is skipped and reported, never priced at 0.
package importers

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
)

// Decimals is how many decimals an imported price keeps, as the CRD's decimal pattern allows.
const Decimals = 6

// maxDecimalLen is the CRD's maxLength of a decimal string.
const maxDecimalLen = 24

// Options are what every importer needs besides the file.
type Options struct {
	// Source is the provenance every entry gets (the file name unless told otherwise).
	Source string
	// EffectiveDate (YYYY-MM-DD) is the date every entry gets.
	EffectiveDate string
	// Provider names the providers: SkyPilot and OpenCost make Provider-on-demand and Provider-spot.
	// For LiteLLM it is an optional filter: a comma-separated list of litellm_provider values.
	Provider string
	// Region, when set, keeps only SkyPilot rows of that region.
	Region string
	// GPUType is the GPU an OpenCost config's GPU price is for (OpenCost prices any GPU alike).
	GPUType string
	// PeakBF16TFLOPs gives the peak dense BF16 TFLOP/s of GPUs that neither the built-in catalog nor
	// the datasheet table knows, by GPU name (ftcost catalog import --gpu-tflops NAME=TFLOPS).
	PeakBF16TFLOPs map[string]string
	// MemoryGiB gives the memory of GPUs the price file does not describe (SkyPilot's GpuInfo
	// empty), by GPU name (--gpu-memory NAME=GIB).
	MemoryGiB map[string]int32
}

// Issue is a problem found in one row of a file.
type Issue struct {
	// Line is the 1-based line of the row; 0 when unknown.
	Line int
	// Key is the JSON key of the entry, "" for CSV rows.
	Key string
	// Message says what is wrong and what was done about it.
	Message string
	// Warning is true for a caveat rather than a malformed row: a price rounded to 6 decimals, or a
	// GPU type left out because the importer cannot describe it.
	Warning bool
}

func (i Issue) String() string {
	var b strings.Builder
	if i.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", i.Line)
	}
	if i.Key != "" {
		fmt.Fprintf(&b, "%q: ", i.Key)
	}
	b.WriteString(i.Message)
	return b.String()
}

// Result is what an importer found.
type Result struct {
	GPUs      []ftv1.CatalogGPU
	Providers []ftv1.CatalogProvider
	APIModels []ftv1.CatalogAPIModel
	// Imported and Skipped count the file's rows (JSON entries or CSV records).
	Imported, Skipped int
	// Issues are in file order, then GPU-level warnings.
	Issues []Issue
}

func (r *Result) skip(line int, key, format string, args ...any) {
	r.Issues = append(r.Issues, Issue{Line: line, Key: key, Message: fmt.Sprintf(format, args...)})
}

func (r *Result) warn(line int, key, format string, args ...any) {
	r.Issues = append(r.Issues, Issue{Line: line, Key: key, Message: fmt.Sprintf(format, args...), Warning: true})
}

// Spec is the result as a PriceCatalog spec.
func (r *Result) Spec() ftv1.PriceCatalogSpec {
	return ftv1.PriceCatalogSpec{GPUs: r.GPUs, Providers: r.Providers, APIModels: r.APIModels}
}

// ErrNothingImported says a file parsed but had no usable entry.
var ErrNothingImported = errors.New("nothing importable")

// price is an exact conversion of a price's text.
type price struct {
	value decimal.Decimal // rounded to Decimals
	lost  bool            // rounding dropped non-zero digits beyond Decimals
}

func (p price) String() string { return p.value.String() }

// convert parses text as a decimal exactly and returns text x mul / div rounded half away from zero to
// 6 decimals. It fails on an empty, non-numeric, negative or zero price, and on one that rounds to 0.
func convert(text string, mul, div decimal.Decimal) (price, error) {
	t := strings.TrimSpace(text)
	if t == "" {
		return price{}, errors.New("empty")
	}
	d, err := decimal.NewFromString(t)
	if err != nil || !numberText.MatchString(t) {
		return price{}, fmt.Errorf("%q is not a number", t)
	}
	switch {
	case d.Sign() < 0:
		return price{}, fmt.Errorf("%s is negative", t)
	case d.Sign() == 0:
		return price{}, fmt.Errorf("%s is zero", t)
	case int(d.Exponent())+d.NumDigits() > maxDecimalLen:
		return price{}, fmt.Errorf("%s is too large", t)
	case d.Exponent() < -1000:
		return price{}, fmt.Errorf("%s rounds to 0 at %d decimals", t, Decimals)
	}
	exact := d.Mul(mul)
	q := exact.DivRound(div, Decimals)
	if q.Sign() == 0 {
		return price{}, fmt.Errorf("%s rounds to 0 at %d decimals", t, Decimals)
	}
	if len(q.String()) > maxDecimalLen {
		return price{}, fmt.Errorf("%s is too large", t)
	}
	return price{value: q, lost: !q.Mul(div).Equal(exact)}, nil
}

// numberText is a plain decimal number, optionally in exponent notation: no hex, no underscores.
var numberText = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

var (
	one     = decimal.NewFromInt(1)
	million = decimal.NewFromInt(1_000_000)
)

// ProviderName is the provider name a file implies: its base name without extension, or the name of
// its directory for SkyPilot's vms.csv (catalogs/v5/aws/vms.csv is "aws"), lower-cased, with anything
// but letters, digits and hyphens turned into hyphens. "" when nothing usable is left.
func ProviderName(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	base := strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
	if strings.EqualFold(base, "vms") {
		base = filepath.Base(filepath.Dir(abs))
	}
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if len(name) > 63-len("-on-demand") {
		name = strings.TrimRight(name[:63-len("-on-demand")], "-")
	}
	return name
}

// knownGPU is a GPU whose figures come from its datasheet.
type knownGPU struct {
	memoryGiB int32
	peakBF16  string // dense, without sparsity
	source    string
}

// datasheetGPUs are GPUs the importers can describe although the built-in catalog (which holds H100,
// H200, A100-80GB, L40S and RTX4090 with their sources) does not: peak dense BF16 throughput (half
// the "with sparsity" figure) and memory from NVIDIA's datasheets.
var datasheetGPUs = map[string]knownGPU{
	"A100": {40, "312", "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf"},
	"L4":   {24, "121", "https://www.nvidia.com/en-us/data-center/l4/"},
	// NVIDIA H100 datasheet: BF16 1,513 (PCIe) and 1,671 (NVL) TFLOPS with sparsity; 80 and 94 GB.
	"H100-PCIe": {80, "756.5", "https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet"},
	"H100-NVL":  {94, "835.5", "https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet"},
}

// gpuEntry is the catalog entry for a GPU named name, from the built-in catalog, else with memoryGiB
// (when > 0, from the price file) or the datasheet's memory, and the datasheet's throughput. ok is
// false, with why, when the importer cannot describe the GPU.
func gpuEntry(name string, memoryGiB int32, o Options) (g ftv1.CatalogGPU, ok bool, why string) {
	memorySource := o.Source + " (GpuInfo)"
	if given, ok := o.MemoryGiB[name]; ok && given > 0 && memoryGiB <= 0 {
		memoryGiB, memorySource = given, "--gpu-memory"
	}
	if b, found := engine.BuiltinCatalog().GPUs[name]; found {
		return ftv1.CatalogGPU{Name: b.Name, MemoryGiB: b.MemoryGiB, PeakBF16TFLOPs: ftv1.Decimal(b.PeakBF16TFLOPs.String()),
			Provenance: ftv1.Provenance{Source: b.Source, EffectiveDate: b.EffectiveDate}}, true, ""
	}
	k, found := datasheetGPUs[name]
	if tflops, given := o.PeakBF16TFLOPs[name]; given {
		if memoryGiB <= 0 && !found {
			return g, false, fmt.Sprintf("its memory is neither in the price file nor in the built-in catalog; give it with --gpu-memory %s=GIB", name)
		}
		if memoryGiB <= 0 {
			memoryGiB = k.memoryGiB
		}
		return ftv1.CatalogGPU{Name: name, MemoryGiB: memoryGiB, PeakBF16TFLOPs: ftv1.Decimal(tflops),
			Provenance: ftv1.Provenance{Source: truncate(fmt.Sprintf("memory: %s; peak BF16: --gpu-tflops", memorySource), 512),
				EffectiveDate: o.EffectiveDate}}, true, ""
	}
	if !found {
		if memoryGiB <= 0 {
			return g, false, fmt.Sprintf("its memory and peak BF16 TFLOP/s are unknown to ftcost; give them with --gpu-memory %s=GIB --gpu-tflops %s=TFLOPS", name, name)
		}
		return g, false, fmt.Sprintf("its peak BF16 TFLOP/s is unknown to ftcost; give it with --gpu-tflops %s=TFLOPS", name)
	}
	source := k.source
	if memoryGiB > 0 {
		source = fmt.Sprintf("memory: %s; peak BF16: %s", memorySource, k.source)
	} else {
		memoryGiB = k.memoryGiB
	}
	return ftv1.CatalogGPU{Name: name, MemoryGiB: memoryGiB, PeakBF16TFLOPs: ftv1.Decimal(k.peakBF16),
		Provenance: ftv1.Provenance{Source: truncate(source, 512), EffectiveDate: o.EffectiveDate}}, true, ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func (o Options) provenance() ftv1.Provenance {
	return ftv1.Provenance{Source: truncate(o.Source, 512), EffectiveDate: o.EffectiveDate}
}

// gpuProvider is a GPUHourly provider with prices sorted by GPU type.
func gpuProvider(name string, market ftv1.Market, prices map[string]price, o Options) ftv1.CatalogProvider {
	p := ftv1.CatalogProvider{Name: name, Kind: ftv1.ProviderKindGPUHourly, Market: market, Provenance: o.provenance()}
	for _, t := range slices.Sorted(maps.Keys(prices)) {
		p.GPUPrices = append(p.GPUPrices, ftv1.GPUPrice{GPUType: t, PricePerGPUHour: ftv1.Decimal(prices[t].String())})
	}
	return p
}

// Merge adds imported entries to base: an imported entry replaces the base entry of the same name
// (replaced lists them, as "provider aws-on-demand"). A replaced GPUHourly provider keeps its
// defaultGPU when the import prices that GPU.
func Merge(base, imported ftv1.PriceCatalogSpec) (spec ftv1.PriceCatalogSpec, replaced []string) {
	spec = base
	spec.GPUs, replaced = mergeByName(base.GPUs, imported.GPUs, func(g ftv1.CatalogGPU) string { return g.Name }, "GPU", replaced)
	spec.APIModels, replaced = mergeByName(base.APIModels, imported.APIModels, func(a ftv1.CatalogAPIModel) string { return a.Name }, "API model", replaced)
	defaults := map[string]string{}
	for _, p := range base.Providers {
		defaults[p.Name] = p.DefaultGPU
	}
	providers := make([]ftv1.CatalogProvider, len(imported.Providers))
	for i, p := range imported.Providers {
		if d := defaults[p.Name]; d != "" && p.DefaultGPU == "" {
			for _, gp := range p.GPUPrices {
				if gp.GPUType == d {
					p.DefaultGPU = d
				}
			}
		}
		providers[i] = p
	}
	spec.Providers, replaced = mergeByName(base.Providers, providers, func(p ftv1.CatalogProvider) string { return p.Name }, "provider", replaced)
	return spec, replaced
}

func mergeByName[T any](base, imported []T, name func(T) string, kind string, replaced []string) ([]T, []string) {
	index := map[string]int{}
	out := append([]T(nil), base...)
	for i, e := range out {
		index[name(e)] = i
	}
	for _, e := range imported {
		if i, ok := index[name(e)]; ok {
			out[i] = e
			replaced = append(replaced, kind+" "+name(e))
			continue
		}
		index[name(e)] = len(out)
		out = append(out, e)
	}
	sortByName(out, name)
	return out, replaced
}

func sortByName[T any](s []T, name func(T) string) {
	slices.SortStableFunc(s, func(a, b T) int { return strings.Compare(name(a), name(b)) })
}
