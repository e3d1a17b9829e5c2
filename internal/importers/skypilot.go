package importers

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// SkyPilot column names (catalog schema v5 and later), matched case-insensitively: SkyPilot's own
// schema document spells GpuInfo "GPUInfo".
const (
	colInstanceType     = "InstanceType"
	colAcceleratorName  = "AcceleratorName"
	colAcceleratorCount = "AcceleratorCount"
	colGpuInfo          = "GpuInfo"
	colPrice            = "Price"
	colSpotPrice        = "SpotPrice"
	colRegion           = "Region"
)

// offer is the cheapest per-GPU price seen so far for a GPU type in one market.
type offer struct {
	price price
	line  int
}

// SkyPilot reads a SkyPilot catalog vms.csv: one row per instance type and region (or zone) with
// AcceleratorName, AcceleratorCount, Price and SpotPrice per instance-hour. Each row with an
// accelerator gives a per-GPU-hour price, Price / AcceleratorCount (on demand) and SpotPrice /
// AcceleratorCount (spot). When several rows price the same GPU type, the cheapest per-GPU price
// wins (the first row on a tie). The result is the provider o.Provider+"-on-demand" (market OnDemand)
// and o.Provider+"-spot" (market Spot), each present when it has a price, and a GPU entry per GPU
// type priced (see gpuEntry). Rows without an accelerator, or of another region than o.Region when
// set, are skipped silently; a malformed AcceleratorCount skips the row; a malformed price skips that
// market of the row. Both are reported with the row's line.
func SkyPilot(data []byte, o Options) (*Result, error) {
	if o.Provider == "" {
		return nil, errors.New("a provider name is required")
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, c := range []string{colAcceleratorName, colAcceleratorCount, colPrice, colSpotPrice} {
		if _, ok := col[strings.ToLower(c)]; !ok {
			return nil, fmt.Errorf("not a SkyPilot vms.csv: no %s column in the header", c)
		}
	}
	if _, ok := col[strings.ToLower(colRegion)]; o.Region != "" && !ok {
		return nil, fmt.Errorf("--region: no %s column in the header", colRegion)
	}

	r := &Result{}
	markets := []struct {
		column string
		market ftv1.Market
		suffix string
	}{{colPrice, ftv1.MarketOnDemand, "-on-demand"}, {colSpotPrice, ftv1.MarketSpot, "-spot"}}
	best := []map[string]offer{{}, {}}
	memory := map[string]int32{} // smallest memory GpuInfo gives per GPU type
	rows := map[string][]int{}   // lines of the rows that price each GPU type
	var priced []pricedRow
	emptySpot := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var line int
		if rec != nil {
			line, _ = cr.FieldPos(0)
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, err
			}
			r.Skipped++
			r.skip(pe.StartLine, "", "%v (line %d, column %d); skipped", pe.Err, pe.Line, pe.Column)
			continue
		}
		get := func(c string) string {
			if i, ok := col[strings.ToLower(c)]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if len(rec) != len(header) {
			r.Skipped++
			r.skip(line, "", "%d fields, the header has %d; skipped", len(rec), len(header))
			continue
		}
		gpu := get(colAcceleratorName)
		if gpu == "" || o.Region != "" && get(colRegion) != o.Region {
			r.Skipped++
			continue
		}
		what := gpu
		if it := get(colInstanceType); it != "" {
			what = it
		}
		count, err := decimal.NewFromString(get(colAcceleratorCount))
		if err != nil || count.Sign() <= 0 || !numberText.MatchString(get(colAcceleratorCount)) ||
			int(count.Exponent())+count.NumDigits() > 9 || count.Exponent() < -9 {
			r.Skipped++
			r.skip(line, "", "%s: AcceleratorCount %q is not a number greater than 0; skipped", what, get(colAcceleratorCount))
			continue
		}
		if len(gpu) > 63 {
			r.Skipped++
			r.skip(line, "", "%s: AcceleratorName %q is longer than 63 characters; skipped", what, gpu)
			continue
		}
		row := pricedRow{gpu: gpu, what: what, line: line, variant: variantOf(get(colInstanceType))}
		hasPrice := false
		for i, m := range markets {
			if m.market == ftv1.MarketSpot && get(m.column) == "" {
				emptySpot++ // a cloud without spot prices: said once below, not per row
				continue
			}
			p, err := convert(get(m.column), one, count)
			if err != nil {
				r.skip(line, "", "%s: %s: %v; no %s price from this row", what, m.column, err, m.market)
				continue
			}
			if p.lost {
				r.warn(line, "", "%s: %s %s / %s GPUs is %s per GPU-hour, rounded to %d decimals", what, m.column, get(m.column), count, p, Decimals)
			}
			row.prices[i], hasPrice = &p, true
		}
		if !hasPrice {
			r.Skipped++
			continue
		}
		if mib := gpuInfoMiB(get(colGpuInfo), gpu); mib > 0 {
			row.gib = int32(min(mib/1024, 4096))
		}
		priced = append(priced, row)
	}
	if emptySpot > 0 {
		r.Issues = append(r.Issues, Issue{Warning: true, Message: fmt.Sprintf("SpotPrice is empty in %d rows: no spot price from them", emptySpot)})
	}

	// Pair each price with the GPU variant it is for: a GPU whose variants differ in throughput
	// (variantGPUs) is named by the variant its instance type says (H100 PCIe is H100-PCIe); when some
	// of a GPU's rows say a variant and others do not, those others are ambiguous and refused.
	hinted := map[string]bool{}
	for _, row := range priced {
		if _, ok := variantGPUs[row.gpu]; ok && row.variant != "" {
			hinted[row.gpu] = true
		}
	}
	ambiguous := map[string][]pricedRow{}
	for _, row := range priced {
		t := row.gpu
		if v, ok := variantGPUs[row.gpu]; ok && hinted[row.gpu] {
			switch {
			case row.variant == "":
				ambiguous[row.gpu] = append(ambiguous[row.gpu], row)
				r.Skipped++
				continue
			case row.variant != v:
				t = row.gpu + "-" + row.variant
			}
		}
		for i, p := range row.prices {
			if p == nil {
				continue
			}
			if cur, ok := best[i][t]; !ok || p.value.LessThan(cur.price.value) {
				best[i][t] = offer{price: *p, line: row.line}
			}
		}
		rows[t] = append(rows[t], row.line)
		if row.gib > 0 && (memory[t] == 0 || row.gib < memory[t]) {
			memory[t] = row.gib
		}
	}
	for _, gpu := range slices.Sorted(maps.Keys(ambiguous)) {
		a := ambiguous[gpu]
		r.Issues = append(r.Issues, Issue{Line: a[0].line, Message: fmt.Sprintf("%s: %d rows of %s name no variant (PCIe, SXM or NVL) in their instance type, while other rows do; skipped, as the price could be for either",
			a[0].what, len(a), gpu)})
	}

	for _, t := range slices.Sorted(maps.Keys(rows)) {
		g, ok, why := gpuEntry(t, memory[t], o)
		if !ok {
			r.Skipped += len(rows[t])
			r.Issues = append(r.Issues, Issue{Warning: true, Message: fmt.Sprintf("GPU %s left out, with its prices from %d rows (first at line %d): %s",
				t, len(rows[t]), rows[t][0], why)})
			for i := range best {
				delete(best[i], t)
			}
			continue
		}
		r.Imported += len(rows[t])
		r.GPUs = append(r.GPUs, g)
	}
	for i, m := range markets {
		if len(best[i]) == 0 {
			continue
		}
		prices := map[string]price{}
		for t, of := range best[i] {
			prices[t] = of.price
		}
		r.Providers = append(r.Providers, gpuProvider(o.Provider+m.suffix, m.market, prices, o))
	}
	if r.Imported == 0 {
		return r, fmt.Errorf("%w: no row with an accelerator and a usable price", ErrNothingImported)
	}
	return r, nil
}

// gpuInfoMiB is the memory per GPU in MiB that a GpuInfo cell gives for gpu, 0 when it gives none.
// SkyPilot writes GpuInfo as JSON for some clouds and as a Python dict (single quotes) for others:
// {'Gpus': [{'Name': 'H100', 'Manufacturer': 'NVIDIA', 'Count': 8, 'MemoryInfo': {'SizeInMiB': 81920}}], ...}
func gpuInfoMiB(cell, gpu string) int64 {
	cell = strings.TrimSpace(cell)
	if !strings.HasPrefix(cell, "{") {
		return 0
	}
	var info struct {
		Gpus []struct {
			Name       string
			MemoryInfo struct {
				SizeInMiB json.Number
			}
		}
	}
	if err := json.Unmarshal([]byte(cell), &info); err != nil {
		py := strings.NewReplacer("'", `"`, "None", "null", "True", "true", "False", "false").Replace(cell)
		if err := json.Unmarshal([]byte(py), &info); err != nil {
			return 0
		}
	}
	for i, g := range info.Gpus {
		if g.Name != gpu && !(i == len(info.Gpus)-1 && i == 0) {
			continue
		}
		mib, err := decimal.NewFromString(g.MemoryInfo.SizeInMiB.String())
		if err != nil || mib.Sign() <= 0 || mib.GreaterThan(decimal.NewFromInt(1<<32)) {
			return 0
		}
		return mib.IntPart()
	}
	return 0
}

// pricedRow is a row with an accelerator and at least one usable price.
type pricedRow struct {
	gpu, what, variant string
	line               int
	prices             [2]*price // on demand, spot
	gib                int32
}

// variantGPUs are GPUs whose form factors differ in throughput, with the variant the name alone
// means in the built-in catalog (its H100 is the SXM5).
var variantGPUs = map[string]string{"H100": "SXM", "H200": "SXM"}

// variantOf is the form factor an instance type names (Lambda's gpu_1x_h100_pcie, gpu_8x_h100_sxm5),
// "" when it names none.
func variantOf(instanceType string) string {
	t := strings.ToLower(instanceType)
	switch {
	case strings.Contains(t, "pcie"):
		return "PCIe"
	case strings.Contains(t, "sxm"):
		return "SXM"
	case strings.Contains(t, "nvl"):
		return "NVL"
	}
	return ""
}
