package importers

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

const skyHeader = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone"

// h100Info is a GpuInfo cell as SkyPilot writes it for AWS: a Python dict.
const h100Info = `"{'Gpus': [{'Name': 'H100', 'Manufacturer': 'NVIDIA', 'Count': 8, 'MemoryInfo': {'SizeInMiB': 81920}}], 'TotalGpuMemoryInMiB': 655360}"`

// a100Info is a GpuInfo cell as JSON, as SkyPilot writes it for some clouds.
const a100Info = `"{""Gpus"": [{""Name"": ""A100"", ""Manufacturer"": ""NVIDIA"", ""Count"": 8, ""MemoryInfo"": {""SizeInMiB"": 40960}}], ""TotalGpuMemoryInMiB"": 327680}"`

// skyPrices is a provider's prices by GPU type, "" when the provider is absent.
type skyPrices map[string]string

func providerPrices(r *Result, name string) skyPrices {
	for _, p := range r.Providers {
		if p.Name == name {
			out := skyPrices{}
			for _, gp := range p.GPUPrices {
				out[gp.GPUType] = string(gp.PricePerGPUHour)
			}
			return out
		}
	}
	return nil
}

func TestSkyPilot(t *testing.T) {
	tests := map[string]struct {
		csv               string
		region            string
		tflops            map[string]string
		onDemand, spot    skyPrices
		gpus              map[string]int32 // name: memoryGiB
		issues            []string
		imported, skipped int
		err               string
	}{
		"p5.48xlarge: 8 x H100 at 98.32 is 12.29 per GPU-hour": {
			csv: lines(skyHeader,
				"p5.48xlarge,H100,8.0,192.0,2048.0,"+h100Info+",98.32,39.33,us-east-1,us-east-1a"),
			onDemand: skyPrices{"H100": "12.29"}, spot: skyPrices{"H100": "4.91625"},
			gpus:     map[string]int32{"H100": 80},
			imported: 1,
		},
		"rows without an accelerator are skipped silently": {
			csv: lines(skyHeader,
				"m5.large,,,2.0,8.0,,0.096,0.0384,us-east-1,us-east-1a",
				"p5.48xlarge,H100,8,192,2048,,98.32,39.33,us-east-1,us-east-1a"),
			onDemand: skyPrices{"H100": "12.29"}, spot: skyPrices{"H100": "4.91625"},
			gpus:     map[string]int32{"H100": 80},
			imported: 1, skipped: 1,
		},
		"duplicates: the cheapest per-GPU price wins, per market": {
			csv: lines(skyHeader,
				"p5.48xlarge,H100,8.0,192.0,2048.0,"+h100Info+",98.32,39.33,us-east-1,us-east-1a",
				"p5.48xlarge,H100,8.0,192.0,2048.0,"+h100Info+",110.00,35.20,eu-west-1,eu-west-1a",
				"p5e.4xlarge,H100,1.0,24.0,256.0,"+h100Info+",12.50,5.00,us-west-2,us-west-2a",
				"p5.48xlarge,H100,8.0,192.0,2048.0,"+h100Info+",98.32,,us-west-2,us-west-2b"),
			onDemand: skyPrices{"H100": "12.29"}, spot: skyPrices{"H100": "4.4"},
			gpus:     map[string]int32{"H100": 80},
			issues:   []string{"W SpotPrice is empty in 1 rows: no spot price from them"},
			imported: 4,
		},
		"region filter": {
			csv: lines(skyHeader,
				"p5.48xlarge,H100,8.0,192.0,2048.0,,98.32,39.33,us-east-1,us-east-1a",
				"p5.48xlarge,H100,8.0,192.0,2048.0,,90.00,30.00,us-west-2,us-west-2a"),
			region:   "us-east-1",
			onDemand: skyPrices{"H100": "12.29"}, spot: skyPrices{"H100": "4.91625"},
			gpus:     map[string]int32{"H100": 80},
			imported: 1, skipped: 1,
		},
		"GPU memory from GpuInfo (JSON), throughput from the datasheet table": {
			csv: lines(skyHeader,
				"p4d.24xlarge,A100,8.0,96.0,1152.0,"+a100Info+",32.7726,12.5,us-east-1,us-east-1b"),
			onDemand: skyPrices{"A100": "4.096575"}, spot: skyPrices{"A100": "1.5625"},
			gpus:     map[string]int32{"A100": 40},
			imported: 1,
		},
		"fractional and odd accelerator counts": {
			csv: lines(skyHeader,
				"g6.half,L4,0.5,4.0,16.0,,0.4,0.15,us-east-1,us-east-1a",
				"odd.3x,L40S,3,48.0,384.0,,10,4,us-east-1,us-east-1a"),
			onDemand: skyPrices{"L4": "0.8", "L40S": "3.333333"}, spot: skyPrices{"L4": "0.3", "L40S": "1.333333"},
			gpus: map[string]int32{"L4": 24, "L40S": 48},
			issues: []string{
				"W line 3: odd.3x: Price 10 / 3 GPUs is 3.333333 per GPU-hour, rounded to 6 decimals",
				"W line 3: odd.3x: SpotPrice 4 / 3 GPUs is 1.333333 per GPU-hour, rounded to 6 decimals",
			},
			imported: 2,
		},
		"each malformed kind, with its line": {
			csv: lines(skyHeader,
				"p5.48xlarge,H100,8.0,192.0,2048.0,,98.32,39.33,us-east-1,us-east-1a",
				"bad.empty,H100,8.0,192.0,2048.0,,,,us-east-1,us-east-1a",
				"bad.text,H100,8.0,192.0,2048.0,,n/a,1.0,us-east-1,us-east-1a",
				"bad.negative,H100,8.0,192.0,2048.0,,-98.32,1.0,us-east-1,us-east-1a",
				"bad.zero,H100,8.0,192.0,2048.0,,0.00,1.0,us-east-1,us-east-1a",
				"bad.count,H100,0,192.0,2048.0,,98.32,39.33,us-east-1,us-east-1a",
				"bad.count2,H100,eight,192.0,2048.0,,98.32,39.33,us-east-1,us-east-1a",
				"bad.fields,H100,8.0,98.32",
				`bad.quote,H100,8.0,192.0,2048.0,"unterminated,98.32,1,us-east-1,us-east-1a`),
			onDemand: skyPrices{"H100": "12.29"}, spot: skyPrices{"H100": "0.125"},
			gpus: map[string]int32{"H100": 80},
			issues: []string{
				"line 3: bad.empty: Price: empty; no OnDemand price from this row",
				`line 4: bad.text: Price: "n/a" is not a number; no OnDemand price from this row`,
				"line 5: bad.negative: Price: -98.32 is negative; no OnDemand price from this row",
				"line 6: bad.zero: Price: 0.00 is zero; no OnDemand price from this row",
				`line 7: bad.count: AcceleratorCount "0" is not a number greater than 0; skipped`,
				`line 8: bad.count2: AcceleratorCount "eight" is not a number greater than 0; skipped`,
				"line 9: 4 fields, the header has 10; skipped",
				`line 10: extraneous or missing " in quoted-field (line 10, column 76); skipped`,
				"W SpotPrice is empty in 1 rows: no spot price from them",
			},
			imported: 4, skipped: 5,
		},
		"unknown GPUs are left out with a warning": {
			csv: lines(skyHeader,
				"p5.48xlarge,H100,8.0,192.0,2048.0,,98.32,39.33,us-east-1,us-east-1a",
				"g5.xlarge,A10G,1.0,4.0,16.0,\"{'Gpus': [{'Name': 'A10G', 'MemoryInfo': {'SizeInMiB': 24576}}]}\",1.006,0.4012,us-east-1,us-east-1a",
				"p3.2xlarge,V100,1.0,8.0,61.0,,3.06,0.918,us-east-1,us-east-1a"),
			onDemand: skyPrices{"H100": "12.29"}, spot: skyPrices{"H100": "4.91625"},
			gpus: map[string]int32{"H100": 80},
			issues: []string{
				"W GPU A10G left out, with its prices from 1 rows (first at line 3): its peak BF16 TFLOP/s is unknown to ftcost; give it with --gpu-tflops A10G=TFLOPS",
				"W GPU V100 left out, with its prices from 1 rows (first at line 4): its memory and peak BF16 TFLOP/s are unknown to ftcost; give them with --gpu-memory V100=GIB --gpu-tflops V100=TFLOPS",
			},
			imported: 1, skipped: 2,
		},
		"--gpu-tflops describes a GPU GpuInfo gives the memory of": {
			csv: lines(skyHeader,
				"g5.xlarge,A10G,1.0,4.0,16.0,\"{'Gpus': [{'Name': 'A10G', 'MemoryInfo': {'SizeInMiB': 24576}}]}\",1.006,0.4012,us-east-1,us-east-1a"),
			tflops:   map[string]string{"A10G": "70"},
			onDemand: skyPrices{"A10G": "1.006"}, spot: skyPrices{"A10G": "0.4012"},
			gpus:     map[string]int32{"A10G": 24},
			imported: 1,
		},
		"spot only": {
			csv: lines(skyHeader,
				"p5.48xlarge,H100,8.0,192.0,2048.0,,,39.33,us-east-1,us-east-1a"),
			spot:     skyPrices{"H100": "4.91625"},
			gpus:     map[string]int32{"H100": 80},
			issues:   []string{"line 2: p5.48xlarge: Price: empty; no OnDemand price from this row"},
			imported: 1,
		},
		"columns matched by name, case-insensitively": {
			csv: lines("Region,PRICE,SpotPrice,GPUInfo,AcceleratorCount,acceleratorname",
				"us-east-1,98.32,39.33,"+h100Info+",8,H100"),
			onDemand: skyPrices{"H100": "12.29"}, spot: skyPrices{"H100": "4.91625"},
			gpus:     map[string]int32{"H100": 80},
			imported: 1,
		},
		"missing column":   {csv: lines("InstanceType,AcceleratorName,Price", "p5.48xlarge,H100,98.32"), err: "no AcceleratorCount column"},
		"empty file":       {csv: "", err: "reading the CSV header"},
		"nothing priced":   {csv: lines(skyHeader, "m5.large,,,2.0,8.0,,0.096,0.0384,us-east-1,us-east-1a"), err: ErrNothingImported.Error()},
		"all rows invalid": {csv: lines(skyHeader, "x,H100,8,1,1,,abc,,r,z"), err: ErrNothingImported.Error()},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := testOptions
			o.Provider, o.Region, o.PeakBF16TFLOPs = "aws", tc.region, tc.tflops
			r, err := SkyPilot([]byte(tc.csv), o)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v; issues %v", err, issues(r))
			}
			if d := cmp.Diff(tc.onDemand, providerPrices(r, "aws-on-demand")); d != "" {
				t.Errorf("aws-on-demand prices (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.spot, providerPrices(r, "aws-spot")); d != "" {
				t.Errorf("aws-spot prices (-want +got):\n%s", d)
			}
			for _, p := range r.Providers {
				want := map[string]ftv1.Market{"aws-on-demand": ftv1.MarketOnDemand, "aws-spot": ftv1.MarketSpot}[p.Name]
				if p.Market != want || p.Kind != ftv1.ProviderKindGPUHourly || p.Source != "test-file" || p.EffectiveDate != "2026-11-01" {
					t.Errorf("provider %s: kind %s market %s provenance %+v", p.Name, p.Kind, p.Market, p.Provenance)
				}
			}
			gpus := map[string]int32{}
			for _, g := range r.GPUs {
				gpus[g.Name] = g.MemoryGiB
			}
			if d := cmp.Diff(tc.gpus, gpus); d != "" {
				t.Errorf("GPUs (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.issues, issues(r)); d != "" {
				t.Errorf("issues (-want +got):\n%s", d)
			}
			if r.Imported != tc.imported || r.Skipped != tc.skipped {
				t.Errorf("imported %d, skipped %d; want %d, %d", r.Imported, r.Skipped, tc.imported, tc.skipped)
			}
			checkValid(t, r.Spec())
		})
	}
}

func TestSkyPilotFile(t *testing.T) {
	data, err := os.ReadFile("testdata/vms.csv")
	if err != nil {
		t.Fatal(err)
	}
	r, err := SkyPilot(data, Options{Source: "vms.csv", EffectiveDate: "2026-11-01", Provider: ProviderName("testdata/aws/vms.csv")})
	if err != nil {
		t.Fatal(err)
	}
	if got := providerPrices(r, "aws-on-demand")["H100"]; got != "12.29" {
		t.Errorf("aws-on-demand H100 %q, want 12.29", got)
	}
	checkValid(t, r.Spec())
}

func TestGpuInfoMiB(t *testing.T) {
	for name, tc := range map[string]struct {
		cell, gpu string
		want      int64
	}{
		"python dict":          {`{'Gpus': [{'Name': 'T4', 'Count': 1, 'MemoryInfo': {'SizeInMiB': 16384}}], 'TotalGpuMemoryInMiB': 16384}`, "T4", 16384},
		"json":                 {`{"Gpus": [{"Name": "T4", "MemoryInfo": {"SizeInMiB": 15360.0}}]}`, "T4", 15360},
		"other name, only one": {`{"Gpus": [{"Name": "NVIDIA T4", "MemoryInfo": {"SizeInMiB": 16384}}]}`, "T4", 16384},
		"matching name":        {`{"Gpus": [{"Name": "A", "MemoryInfo": {"SizeInMiB": 1}}, {"Name": "T4", "MemoryInfo": {"SizeInMiB": 16384}}]}`, "T4", 16384},
		"plain text":           {"T4", "T4", 0},
		"empty":                {"", "T4", 0},
		"garbage":              {"{not a dict", "T4", 0},
		"negative":             {`{"Gpus": [{"Name": "T4", "MemoryInfo": {"SizeInMiB": -1}}]}`, "T4", 0},
	} {
		if got := gpuInfoMiB(tc.cell, tc.gpu); got != tc.want {
			t.Errorf("%s: got %d, want %d", name, got, tc.want)
		}
	}
}

// TestSkyPilotLambdaUpstreamRows imports rows copied verbatim from SkyPilot's Lambda catalog
// (testdata/README.md): the H100 PCIe price (2.49) goes to H100-PCIe, with the PCIe datasheet's
// throughput, not to the built-in H100 (SXM5, 989 TFLOP/s), which gets the SXM5 rows' cheapest per-GPU
// price (23.92 / 8); the empty SpotPrice of every row is said once; GH200, which ftcost cannot
// describe, is left out naming the flags that would describe it, and imported once they are given.
func TestSkyPilotLambdaUpstreamRows(t *testing.T) {
	data, err := os.ReadFile("testdata/skypilot-lambda-rows.csv")
	if err != nil {
		t.Fatal(err)
	}
	r, err := SkyPilot(data, Options{Provider: "lambda", Source: "lambda/vms.csv", EffectiveDate: "2026-12-02"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(skyPrices{"A100-80GB": "1.79", "H100": "2.99", "H100-PCIe": "2.49"}, providerPrices(r, "lambda-on-demand")); diff != "" {
		t.Errorf("on-demand prices (-want +got):\n%s", diff)
	}
	if p := providerPrices(r, "lambda-spot"); p != nil {
		t.Errorf("a spot provider from rows without spot prices: %v", p)
	}
	gpus := map[string]string{}
	for _, g := range r.GPUs {
		gpus[g.Name] = string(g.PeakBF16TFLOPs)
	}
	if diff := cmp.Diff(map[string]string{"A100-80GB": "312", "H100": "989", "H100-PCIe": "756.5"}, gpus); diff != "" {
		t.Errorf("GPUs' peak BF16 TFLOP/s (-want +got):\n%s", diff)
	}
	want := []string{
		"W SpotPrice is empty in 5 rows: no spot price from them",
		"W GPU GH200 left out, with its prices from 1 rows (first at line 7): its peak BF16 TFLOP/s is unknown to ftcost; give it with --gpu-tflops GH200=TFLOPS",
	}
	if diff := cmp.Diff(want, issues(r)); diff != "" {
		t.Errorf("issues (-want +got):\n%s", diff)
	}

	// With the figures the source lacks, GH200 is imported (its memory from GpuInfo).
	r, err = SkyPilot(data, Options{Provider: "lambda", Source: "lambda/vms.csv", EffectiveDate: "2026-12-02",
		PeakBF16TFLOPs: map[string]string{"GH200": "989"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := providerPrices(r, "lambda-on-demand"); p["GH200"] != "1.49" {
		t.Errorf("GH200 not imported with --gpu-tflops: %v", p)
	}
}

// TestSkyPilotAmbiguousVariant: a row whose instance type names no form factor, in a file whose other
// H100 rows do, could be for either price, and is refused by name (a constructed row beside
// upstream ones).
func TestSkyPilotAmbiguousVariant(t *testing.T) {
	data, err := os.ReadFile("testdata/skypilot-lambda-rows.csv")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, []byte("gpu_1x_h100,H100,1.0,26.0,200.0,1.99,us-east-1,,\n")...)
	r, err := SkyPilot(data, Options{Provider: "lambda", Source: "vms.csv", EffectiveDate: "2026-12-02"})
	if err != nil {
		t.Fatal(err)
	}
	if p := providerPrices(r, "lambda-on-demand"); p["H100"] != "2.99" || p["H100-PCIe"] != "2.49" {
		t.Errorf("the ambiguous 1.99 was taken: %v", p)
	}
	found := false
	for _, i := range r.Issues {
		found = found || strings.Contains(i.String(), "gpu_1x_h100: 1 rows of H100 name no variant (PCIe, SXM or NVL)")
	}
	if !found {
		t.Errorf("the ambiguous row is not named: %v", issues(r))
	}
}
