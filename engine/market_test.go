package engine

import (
	"reflect"
	"regexp"
	"testing"

	"github.com/shopspring/decimal"
)

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

func marketCatalog() *Catalog {
	c := BuiltinCatalog()
	addMarket(c)
	return c
}

func checkProvenance(t *testing.T, what string, p Provenance) {
	t.Helper()
	if p.Source == "" {
		t.Errorf("%s has no source", what)
	}
	if len(p.Source) > 512 {
		t.Errorf("%s source is %d characters, more than a PriceCatalog's 512", what, len(p.Source))
	}
	if !isoDate.MatchString(p.EffectiveDate) {
		t.Errorf("%s effective date %q is not YYYY-MM-DD", what, p.EffectiveDate)
	}
}

// checkDecimal fails when a figure could not be written to a PriceCatalog (at most six decimals).
func checkDecimal(t *testing.T, what string, v decimal.Decimal) {
	t.Helper()
	if v.Sign() <= 0 || v.Exponent() < -6 && !v.Equal(v.Round(6)) {
		t.Errorf("%s = %s: want a positive decimal with at most six decimals", what, v)
	}
}

func TestMarketIdempotent(t *testing.T) {
	once := marketCatalog()
	twice := marketCatalog()
	addMarket(twice)
	if !reflect.DeepEqual(once, twice) {
		t.Fatal("calling addMarket twice gives a different catalog than calling it once")
	}
}

func TestMarketGPUs(t *testing.T) {
	c := marketCatalog()
	for _, name := range []string{"H200", "A100-80GB", "L40S", "RTX4090"} {
		g, ok := c.GPUs[name]
		if !ok {
			t.Errorf("GPU %s missing", name)
			continue
		}
		if g.Name != name {
			t.Errorf("GPU %s is named %q", name, g.Name)
		}
		if g.MemoryGiB <= 0 {
			t.Errorf("GPU %s memory %d GiB", name, g.MemoryGiB)
		}
		checkDecimal(t, "GPU "+name+" peak TFLOP/s", g.PeakBF16TFLOPs)
		checkProvenance(t, "GPU "+name, g.Provenance)
	}
	// The article's H100 is untouched.
	if h := c.GPUs["H100"]; h.MemoryGiB != 80 || !h.PeakBF16TFLOPs.Equal(decimal.NewFromInt(989)) {
		t.Errorf("H100 changed: %+v", h)
	}
}

func TestMarketProviderPrices(t *testing.T) {
	c := marketCatalog()
	for _, name := range SortedKeys(c.Providers) {
		p := c.Providers[name]
		for gpu, price := range p.GPUPrices {
			if _, ok := c.GPUs[gpu]; !ok {
				t.Errorf("provider %s prices GPU %q, which is not in the catalog's GPUs", name, gpu)
			}
			checkDecimal(t, "provider "+name+" price for "+gpu, price)
		}
		if p.Kind == GPUHourly && p.DefaultGPU != "H100" {
			t.Errorf("provider %s default GPU changed to %q", name, p.DefaultGPU)
		}
	}
	for _, mp := range marketGPUPrices {
		what := mp.Provider + "/" + mp.GPU
		checkProvenance(t, what, mp.Provenance)
		if mp.GPUsPerInstance < 1 || mp.InstancePrice.Sign() <= 0 || mp.Instance == "" {
			t.Errorf("%s: instance %q at %s for %d GPUs", what, mp.Instance, mp.InstancePrice, mp.GPUsPerInstance)
		}
		if _, ok := c.Providers[mp.Provider]; !ok {
			t.Errorf("%s: provider is not in the built-in catalog", what)
			continue
		}
		want := mp.InstancePrice.Div(decimal.NewFromInt(mp.GPUsPerInstance)).Round(6)
		if !mp.PerGPUHour().Equal(want) {
			t.Errorf("%s: per GPU-hour %s, want %s / %d = %s", what, mp.PerGPUHour(), mp.InstancePrice, mp.GPUsPerInstance, want)
		}
		if got := c.Providers[mp.Provider].GPUPrices[mp.GPU]; !got.Equal(mp.PerGPUHour()) {
			t.Errorf("%s: catalog price %s, want instance price / GPUs = %s", what, got, mp.PerGPUHour())
		}
	}
	// p4de.24xlarge: 27.44705 / 8 = 3.43088125, kept to six decimals as a PriceCatalog allows.
	if got := c.Providers["aws-on-demand"].GPUPrices["A100-80GB"]; !got.Equal(d("3.430881")) {
		t.Errorf("aws-on-demand A100-80GB = %s, want 3.430881", got)
	}
	if got := len(c.Providers["on-premise"].GPUPrices); got != 1 {
		t.Errorf("on-premise has %d GPU prices, want only its article's H100", got)
	}
}

func TestMarketArticleH100PricesUntouched(t *testing.T) {
	c := marketCatalog()
	for name, want := range map[string]string{
		"aws-on-demand": "2.88", "aws-spot": "0.86", "runpod": "2.49", "lambda-labs": "3.98", "on-premise": "2.73",
	} {
		got, ok := c.Providers[name].GPUPrices["H100"]
		if !ok || !got.Equal(d(want)) {
			t.Errorf("%s H100 = %s (present %v), want the article's %s", name, got, ok, want)
		}
		if c.Providers[name].Provenance.Source != articleSource {
			t.Errorf("%s provenance changed to %q", name, c.Providers[name].Provenance.Source)
		}
	}
}

func TestMarketAPIModels(t *testing.T) {
	c := marketCatalog()
	if len(marketAPIModels) < 6 {
		t.Errorf("only %d market API models", len(marketAPIModels))
	}
	for _, a := range marketAPIModels {
		got, ok := c.APIModels[a.Name]
		if !ok {
			t.Errorf("API model %s missing", a.Name)
			continue
		}
		checkDecimal(t, "API model "+a.Name+" input price", got.InputPerMillionToken)
		checkDecimal(t, "API model "+a.Name+" output price", got.OutputPerMillionToken)
		checkProvenance(t, "API model "+a.Name, got.Provenance)
	}
	// The article's API models are untouched.
	if s := c.APIModels["claude-sonnet"]; !s.InputPerMillionToken.Equal(d("3")) || !s.OutputPerMillionToken.Equal(d("15")) ||
		s.Source != articleSource {
		t.Errorf("claude-sonnet changed: %+v", s)
	}
	if g := c.APIModels["openai-gpt-4-finetuned"]; !g.InputPerMillionToken.Equal(d("30")) || !g.OutputPerMillionToken.Equal(d("60")) {
		t.Errorf("openai-gpt-4-finetuned changed: %+v", g)
	}
}

// An Empirical estimate on another GPU is the article's H100-hours scaled by 989 / that GPU's peak.
func TestMarketEmpiricalScalesByPeak(t *testing.T) {
	c := marketCatalog()
	articleHours := d("0.5") // llama-13b LoRA 10K examples: 0.0001 x 10,000 x 2 x 0.25 H100-hours
	in10k := func(provider, gpu string) *Input {
		in, out := int64(1000), int64(300)
		return &Input{
			Model: "llama-13b", Method: LoRA, Examples: 10_000, Provider: provider, GPUType: gpu,
			APIModel: "gpt-4o-mini", RequestsPerMonth: 10_000,
			InputTokensPerRequest: &in, OutputTokensPerRequest: &out,
		}
	}
	h100, err := Estimate(in10k("runpod", "H100"), c)
	if err != nil {
		t.Fatalf("H100 estimate: %v", err)
	}
	if !h100.GPUHours.Equal(articleHours) {
		t.Fatalf("H100 hours = %s, want the article's %s", h100.GPUHours, articleHours)
	}
	for _, tc := range []struct{ provider, gpu string }{
		{"runpod", "A100-80GB"}, {"runpod", "L40S"}, {"runpod", "RTX4090"}, {"runpod", "H200"},
		{"aws-on-demand", "L40S"}, {"lambda-labs", "A100-80GB"},
	} {
		r, err := Estimate(in10k(tc.provider, tc.gpu), c)
		if err != nil {
			t.Errorf("%s/%s: %v", tc.provider, tc.gpu, err)
			continue
		}
		peak := c.GPUs[tc.gpu].PeakBF16TFLOPs
		want := articleHours.Mul(d("989")).DivRound(peak, 6)
		if !r.GPUHours.Equal(want) {
			t.Errorf("%s/%s hours = %s, want 0.5 x 989 / %s = %s", tc.provider, tc.gpu, r.GPUHours, peak, want)
		}
		if r.GPUType != tc.gpu {
			t.Errorf("%s/%s: gpuType = %s", tc.provider, tc.gpu, r.GPUType)
		}
		price := c.Providers[tc.provider].GPUPrices[tc.gpu]
		if !r.PricePerGPUHour.Equal(price) {
			t.Errorf("%s/%s: price per GPU-hour %s, want %s", tc.provider, tc.gpu, r.PricePerGPUHour, price)
		}
	}
	// A100 80GB: 0.5 x 989 / 312 = 1.584936 GPU-hours (rounded to 6 places).
	r, err := Estimate(in10k("runpod", "A100-80GB"), c)
	if err != nil {
		t.Fatal(err)
	}
	if !r.GPUHours.Equal(d("1.584936")) {
		t.Errorf("A100-80GB hours = %s, want 1.584936", r.GPUHours)
	}
}
