package importers

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/catalog"
	"github.com/ftcost/ftcost/internal/validate"
)

var testOptions = Options{Source: "test-file", EffectiveDate: "2026-11-01"}

// issues renders issues as "line N: message", warnings prefixed "W ".
func issues(r *Result) []string {
	var out []string
	for _, i := range r.Issues {
		s := i.String()
		if i.Warning {
			s = "W " + s
		}
		out = append(out, s)
	}
	return out
}

// checkValid checks that spec, as a PriceCatalog, passes the CRD's schema and CEL rules and
// catalog.Validate.
func checkValid(t *testing.T, spec ftv1.PriceCatalogSpec) {
	t.Helper()
	pc := &ftv1.PriceCatalog{
		TypeMeta:   metav1.TypeMeta{APIVersion: ftv1.GroupVersion.String(), Kind: "PriceCatalog"},
		ObjectMeta: metav1.ObjectMeta{Name: "imported"},
		Spec:       spec,
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(pc)
	if err != nil {
		t.Fatal(err)
	}
	delete(obj, "status")
	v, err := validate.Default()
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Validate(obj); err != nil {
		t.Errorf("does not validate against the CRD: %v", err)
	}
	if errs := catalog.Validate(pc); len(errs) > 0 {
		t.Errorf("ValidateCatalog: %v", errs)
	}
	if _, err := catalog.ToEngine(pc); err != nil {
		t.Errorf("catalog.ToEngine: %v", err)
	}
}

func TestConvert(t *testing.T) {
	tests := map[string]struct {
		text     string
		mul, div string
		want     string
		lost     bool
		err      string
	}{
		"per token to per million":          {text: "3e-06", mul: "1000000", div: "1", want: "3"},
		"1.5e-07 per token is 0.15":         {text: "1.5e-07", mul: "1000000", div: "1", want: "0.15"},
		"upper-case exponent":               {text: "1.5E-05", mul: "1000000", div: "1", want: "15"},
		"plain decimal":                     {text: "0.000003", mul: "1000000", div: "1", want: "3"},
		"beyond float64 precision is exact": {text: "0.1000000000000000000001", mul: "1", div: "1", want: "0.1", lost: true},
		"98.32 over 8 GPUs":                 {text: "98.32", mul: "1", div: "8", want: "12.29"},
		"over a fractional count":           {text: "1.5", mul: "1", div: "0.5", want: "3"},
		"over 3 rounds":                     {text: "10", mul: "1", div: "3", want: "3.333333", lost: true},
		"half rounds away from zero":        {text: "1.2345665", mul: "1", div: "1", want: "1.234567", lost: true},
		"below half rounds down":            {text: "1.2345664999", mul: "1", div: "1", want: "1.234566", lost: true},
		"seventh decimal zero is not lost":  {text: "1.2345670", mul: "1", div: "1", want: "1.234567"},
		"spaces trimmed":                    {text: " 2.49 ", mul: "1", div: "1", want: "2.49"},
		"empty":                             {text: "  ", mul: "1", div: "1", err: "empty"},
		"not a number":                      {text: "abc", mul: "1", div: "1", err: `"abc" is not a number`},
		"hex":                               {text: "0x10", mul: "1", div: "1", err: `"0x10" is not a number`},
		"negative":                          {text: "-1.5", mul: "1", div: "1", err: "-1.5 is negative"},
		"zero":                              {text: "0.0", mul: "1", div: "1", err: "0.0 is zero"},
		"rounds to zero":                    {text: "1e-13", mul: "1000000", div: "1", err: "1e-13 rounds to 0 at 6 decimals"},
		"huge exponent":                     {text: "1e400", mul: "1", div: "1", err: "1e400 is too large"},
		"tiny exponent":                     {text: "1e-4000", mul: "1", div: "1", err: "1e-4000 rounds to 0 at 6 decimals"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := convert(tc.text, decimal.RequireFromString(tc.mul), decimal.RequireFromString(tc.div))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("got %v, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tc.want || got.lost != tc.lost {
				t.Errorf("got %s (lost %v), want %s (lost %v)", got, got.lost, tc.want, tc.lost)
			}
		})
	}
}

func TestProviderName(t *testing.T) {
	for path, want := range map[string]string{
		"aws.csv":                               "aws",
		"/home/me/.sky/catalogs/v5/aws/vms.csv": "aws",
		"catalogs/v5/lambda_cloud/vms.csv":      "lambda-cloud",
		"My Prices.JSON":                        "my-prices",
		"default.json":                          "default",
	} {
		if got := ProviderName(path); got != want {
			t.Errorf("ProviderName(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestMerge(t *testing.T) {
	base := ftv1.PriceCatalogSpec{
		GPUs: []ftv1.CatalogGPU{{Name: "H100", MemoryGiB: 80, PeakBF16TFLOPs: "989"}},
		Providers: []ftv1.CatalogProvider{
			{Name: "runpod", Kind: ftv1.ProviderKindGPUHourly, DefaultGPU: "H100", GPUPrices: []ftv1.GPUPrice{{GPUType: "H100", PricePerGPUHour: "2.49"}}},
			{Name: "aws-on-demand", Kind: ftv1.ProviderKindGPUHourly, DefaultGPU: "H100", GPUPrices: []ftv1.GPUPrice{{GPUType: "H100", PricePerGPUHour: "2.88"}}},
		},
	}
	imported := ftv1.PriceCatalogSpec{
		GPUs: []ftv1.CatalogGPU{{Name: "A100", MemoryGiB: 40, PeakBF16TFLOPs: "312"}},
		Providers: []ftv1.CatalogProvider{{Name: "aws-on-demand", Kind: ftv1.ProviderKindGPUHourly,
			GPUPrices: []ftv1.GPUPrice{{GPUType: "A100", PricePerGPUHour: "4"}, {GPUType: "H100", PricePerGPUHour: "12.29"}}}},
	}
	got, replaced := Merge(base, imported)
	if d := cmp.Diff([]string{"provider aws-on-demand"}, replaced); d != "" {
		t.Errorf("replaced (-want +got):\n%s", d)
	}
	if len(got.GPUs) != 2 || got.GPUs[0].Name != "A100" || got.GPUs[1].Name != "H100" {
		t.Errorf("GPUs %+v", got.GPUs)
	}
	if len(got.Providers) != 2 || got.Providers[0].Name != "aws-on-demand" || got.Providers[0].GPUPrices[1].PricePerGPUHour != "12.29" {
		t.Fatalf("providers %+v", got.Providers)
	}
	if got.Providers[0].DefaultGPU != "H100" {
		t.Errorf("defaultGPU %q: the replaced provider's default should be kept when priced", got.Providers[0].DefaultGPU)
	}
}

func TestNothingImportedIsAnError(t *testing.T) {
	_, err := LiteLLM([]byte(`{"sample_spec": {"mode": "chat"}}`), testOptions)
	if !errors.Is(err, ErrNothingImported) {
		t.Errorf("got %v, want ErrNothingImported", err)
	}
	_, err = SkyPilot([]byte("InstanceType,AcceleratorName,AcceleratorCount,Price,SpotPrice\nm5.large,,,0.096,0.04\n"),
		Options{Source: "x", EffectiveDate: "2026-11-01", Provider: "aws"})
	if !errors.Is(err, ErrNothingImported) {
		t.Errorf("got %v, want ErrNothingImported", err)
	}
	_, err = OpenCost([]byte(`{"CPU": "0.03"}`), Options{Provider: "p", GPUType: "H100"})
	if !errors.Is(err, ErrNothingImported) {
		t.Errorf("got %v, want ErrNothingImported", err)
	}
}

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }
