package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
	"github.com/ftcost/ftcost/internal/importers"
	"github.com/ftcost/ftcost/internal/validate"
)

// Import formats.
const (
	formatLiteLLM  = "litellm"
	formatSkyPilot = "skypilot"
	formatOpenCost = "opencost"
)

// maxAPIModels is the PriceCatalog CRD's maxItems of spec.apiModels.
const maxAPIModels = 1024

type importOptions struct {
	format        string
	name          string
	source        string
	effectiveDate string
	output        string
	provider      string
	region        string
	gpuType       string
	gpuTFLOPs     map[string]string
	gpuMemory     map[string]string
	mergeBuiltin  bool
	clock         clock.PassiveClock
}

func newCatalogImportCommand(s Streams) *cobra.Command {
	o := &importOptions{name: "imported", clock: clock.RealClock{}}
	cmd := &cobra.Command{
		Use:   "import --format litellm|skypilot|opencost FILE [-o FILE]",
		Short: "Convert a public price list into a PriceCatalog",
		Long: `import reads a price list and writes a PriceCatalog with its prices, each entry with a source and
an effective date:

  litellm   LiteLLM's model_prices_and_context_window.json: chat, completion and responses models
            become API models priced per million tokens (--provider filters on litellm_provider);
            token-priced models of other modes are named once per mode on stderr. More API models
            than a PriceCatalog holds (1024) are written as catalogs NAME-1, NAME-2, ...
  skypilot  a SkyPilot catalog vms.csv: per-instance Price and SpotPrice divided by AcceleratorCount
            become the GPUHourly providers PROVIDER-on-demand and PROVIDER-spot, the cheapest row
            per GPU type winning; the GPU types priced become GPU entries. An H100 or H200 price
            goes to the form factor its instance type names (H100-PCIe, H100-NVL; SXM is the
            built-in H100); a row naming none, beside rows that do, is refused by name. GPUs the
            file and ftcost cannot describe take --gpu-memory and --gpu-tflops.
  opencost  an OpenCost custom pricing config: its GPU and spotGPU hourly prices become
            PROVIDER-on-demand and PROVIDER-spot pricing --gpu-type.

Prices are converted exactly from their text, kept to 6 decimals (rounded half away from zero, with
a warning when digits are lost). Malformed rows (a price that is empty, not a number, negative or
zero) are reported on stderr with their line and skipped, never priced at 0. The output is checked
against the CRD and the catalog's references before it is written.

Exit status: 0 when a catalog was written (even with skipped rows); 2 on an unreadable file, an
unknown format, nothing importable, or a catalog that would not validate.`,
		Example: `  ftcost catalog import --format litellm model_prices_and_context_window.json --provider anthropic,openai
  ftcost catalog import --format skypilot ~/.sky/catalogs/v5/aws/vms.csv --region us-east-1 -o aws.yaml
  ftcost catalog import --format opencost default.json --provider on-prem --gpu-type A100-80GB
  ftcost catalog import --format skypilot vms.csv --provider aws --merge-builtin --name default | kubectl apply -f -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(s, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "", "format of FILE: litellm, skypilot or opencost")
	f.StringVar(&o.name, "name", o.name, "metadata.name of the PriceCatalog")
	f.StringVar(&o.source, "source", "", "source of every entry (default: the file's name)")
	f.StringVar(&o.effectiveDate, "effective-date", "", "effectiveDate of every entry, YYYY-MM-DD (default: today, UTC)")
	f.StringVarP(&o.output, "output", "o", "", "write the catalog to this file instead of stdout")
	f.StringVar(&o.provider, "provider", "", "skypilot, opencost: provider name prefix (default: from the file name; vms.csv takes its directory's name); litellm: keep only these litellm_provider values, comma-separated")
	f.StringVar(&o.region, "region", "", "skypilot: keep only rows of this Region")
	f.StringVar(&o.gpuType, "gpu-type", "", "opencost: the GPU type the GPU and spotGPU prices are for (required)")
	f.StringToStringVar(&o.gpuTFLOPs, "gpu-tflops", nil, "peak dense BF16 TFLOP/s of GPUs ftcost does not know, as NAME=TFLOPS; repeatable")
	f.StringToStringVar(&o.gpuMemory, "gpu-memory", nil, "memory in GiB of GPUs the file does not describe (e.g. no SkyPilot GpuInfo), as NAME=GIB; repeatable")
	f.BoolVar(&o.mergeBuiltin, "merge-builtin", false, "start from the built-in catalog (models, GPUs, providers, API models); imported entries replace built-in ones of the same name")
	_ = cmd.MarkFlagRequired("format")
	return cmd
}

// inputError is a usage or input problem: exit 2 after saying why.
func inputError(s Streams, format string, args ...any) error {
	fmt.Fprintf(s.Err, "error: "+format+"\n", args...)
	return &exitError{code: ExitInput}
}

func runImport(s Streams, o *importOptions, path string) error {
	var parse func([]byte, importers.Options) (*importers.Result, error)
	switch o.format {
	case formatLiteLLM:
		parse = importers.LiteLLM
	case formatSkyPilot:
		parse = importers.SkyPilot
	case formatOpenCost:
		parse = importers.OpenCost
	default:
		return inputError(s, "unknown format %q: use %s, %s or %s", o.format, formatLiteLLM, formatSkyPilot, formatOpenCost)
	}
	if o.effectiveDate == "" {
		o.effectiveDate = o.clock.Now().UTC().Format(time.DateOnly)
	} else if _, err := time.Parse(time.DateOnly, o.effectiveDate); err != nil {
		return inputError(s, "--effective-date %q: want YYYY-MM-DD", o.effectiveDate)
	}
	for gpu, tflops := range o.gpuTFLOPs {
		if !decimalPattern(tflops) {
			return inputError(s, "--gpu-tflops %s=%s: want a decimal number greater than 0 with at most 6 decimals", gpu, tflops)
		}
	}

	memory := map[string]int32{}
	for gpu, gib := range o.gpuMemory {
		n, err := strconv.ParseInt(gib, 10, 32)
		if err != nil || n < 1 || n > 4096 {
			return inputError(s, "--gpu-memory %s=%s: want a whole number of GiB from 1 to 4096", gpu, gib)
		}
		memory[gpu] = int32(n)
	}

	var data []byte
	var err error
	file := path
	if path == "-" {
		file = "<stdin>"
		data, err = io.ReadAll(s.In)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return inputError(s, "%v", err)
	}
	opts := importers.Options{Source: o.source, EffectiveDate: o.effectiveDate, Provider: o.provider,
		Region: o.region, GPUType: o.gpuType, PeakBF16TFLOPs: o.gpuTFLOPs, MemoryGiB: memory}
	if opts.Source == "" {
		opts.Source = filepath.Base(file)
	}
	if opts.Provider == "" && o.format != formatLiteLLM {
		if path != "-" {
			opts.Provider = importers.ProviderName(path)
		}
		if opts.Provider == "" {
			return inputError(s, "cannot name the provider after %s: set --provider", file)
		}
	}

	res, err := parse(data, opts)
	if res != nil {
		for _, issue := range res.Issues {
			prefix := ""
			if issue.Warning {
				prefix = "warning: "
			}
			fmt.Fprintf(s.Err, "%s%s: %s\n", prefix, file, issue)
		}
	}
	if err != nil {
		if res != nil {
			fmt.Fprintf(s.Err, "imported %d, skipped %d\n", res.Imported, res.Skipped)
		}
		if errors.Is(err, importers.ErrNothingImported) {
			return inputError(s, "%s: %v", file, err)
		}
		return inputError(s, "%s: %s: %v", file, o.format, err)
	}

	pc := &ftv1.PriceCatalog{
		TypeMeta:   metav1.TypeMeta{APIVersion: ftv1.GroupVersion.String(), Kind: "PriceCatalog"},
		ObjectMeta: metav1.ObjectMeta{Name: o.name},
		Spec:       res.Spec(),
	}
	if o.mergeBuiltin {
		var replaced []string
		pc.Spec, replaced = importers.Merge(catalog.FromEngine(engine.BuiltinCatalog(), o.name).Spec, pc.Spec)
		for _, r := range replaced {
			fmt.Fprintf(s.Err, "%s replaces the built-in %s\n", file, r)
		}
	}
	// More API models than one PriceCatalog holds: as many catalogs as needed, said once.
	catalogs := splitCatalog(pc, maxAPIModels)
	if len(catalogs) > 1 {
		fmt.Fprintf(s.Err, "%d API models are more than one PriceCatalog holds (%d): writing %d catalogs, %s to %s (--provider keeps fewer)\n",
			len(pc.Spec.APIModels), maxAPIModels, len(catalogs), catalogs[0].Name, catalogs[len(catalogs)-1].Name)
	}
	b := []byte(fmt.Sprintf("# Imported by ftcost catalog import --format %s from %s on %s.\n", o.format, filepath.Base(file), o.effectiveDate))
	for i, c := range catalogs {
		obj, err := catalogManifest(c)
		if err != nil {
			return err
		}
		if err := checkCatalog(obj, c); err != nil {
			return inputError(s, "the imported catalog %s would not validate (nothing written): %v", c.Name, err)
		}
		y, err := yaml.Marshal(obj)
		if err != nil {
			return err
		}
		if i > 0 {
			b = append(b, "---\n"...)
		}
		b = append(b, y...)
	}
	if o.output != "" {
		if err := os.WriteFile(o.output, b, 0o644); err != nil {
			return inputError(s, "%v", err)
		}
	} else if _, err := s.Out.Write(b); err != nil {
		return err
	}
	fmt.Fprintf(s.Err, "imported %d, skipped %d\n", res.Imported, res.Skipped)
	return nil
}

// catalogManifest is pc as the object kubectl would apply: no status.
func catalogManifest(pc *ftv1.PriceCatalog) (map[string]any, error) {
	b, err := json.Marshal(pc)
	if err != nil {
		return nil, err
	}
	obj, err := decodeDocument(b)
	if err != nil {
		return nil, err
	}
	delete(obj, "status")
	return obj, nil
}

// checkCatalog validates obj as the API server would (schema and CEL) and pc as the controller would
// (references between entries).
func checkCatalog(obj map[string]any, pc *ftv1.PriceCatalog) error {
	v, err := validate.Default()
	if err != nil {
		return err
	}
	if err := v.Validate(obj); err != nil {
		return err
	}
	if errs := catalog.Validate(pc); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		sort.Strings(msgs)
		return errors.New(strings.Join(msgs, "; "))
	}
	return nil
}

// decimalPattern says whether v is a positive decimal the CRD accepts.
func decimalPattern(v string) bool {
	whole, frac, hasFrac := strings.Cut(v, ".")
	if whole == "" || len(v) > 24 || hasFrac && (len(frac) == 0 || len(frac) > 6) {
		return false
	}
	nonZero := false
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return false
		}
		nonZero = nonZero || r != '0'
	}
	return nonZero
}

// splitCatalog returns pc, or when it has more than limit API models, catalogs NAME-1, NAME-2, ...
// with at most limit API models each (in name order); the first keeps the models, GPUs and providers.
func splitCatalog(pc *ftv1.PriceCatalog, limit int) []*ftv1.PriceCatalog {
	if len(pc.Spec.APIModels) <= limit {
		return []*ftv1.PriceCatalog{pc}
	}
	var out []*ftv1.PriceCatalog
	for i := 0; i < len(pc.Spec.APIModels); i += limit {
		c := pc.DeepCopy()
		c.Name = fmt.Sprintf("%s-%d", pc.Name, len(out)+1)
		c.Spec.APIModels = pc.Spec.APIModels[i:min(i+limit, len(pc.Spec.APIModels))]
		if i > 0 {
			c.Spec.Models, c.Spec.GPUs, c.Spec.Providers = nil, nil, nil
		}
		out = append(out, c)
	}
	return out
}
