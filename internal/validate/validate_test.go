package validate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// load decodes a YAML manifest as the CLI does: YAML to JSON, numbers as int64 or float64.
func load(t *testing.T, manifest string) map[string]any {
	t.Helper()
	js, err := yaml.YAMLToJSONStrict([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := utiljson.Unmarshal(js, &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// set replaces (or with value nil deletes) the field at a dotted path such as "spec.dataset.examples";
// a numeric segment indexes a list.
func set(obj map[string]any, path string, value any) {
	var cur any = obj
	parts := strings.Split(path, ".")
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				if value == nil {
					delete(c, p)
				} else {
					c[p] = value
				}
				return
			}
			if _, ok := c[p]; !ok {
				c[p] = map[string]any{}
			}
			cur = c[p]
		case []any:
			idx := 0
			for _, r := range p {
				idx = idx*10 + int(r-'0')
			}
			if last {
				c[idx] = value
				return
			}
			cur = c[idx]
		}
	}
}

const validEstimate = `
apiVersion: ftcost.io/v1alpha1
kind: FineTuneEstimate
metadata:
  name: support-bot
  namespace: ml
spec:
  model: llama-13b
  method: LoRA
  dataset:
    examples: 10000
    tokensPerExample: 1000
    epochs: 1
  training:
    provider: runpod
    gpuType: H100
  oneTimeCosts:
    dataLabeling: "1000"
  serving:
    costPerRequest: "0.001"
  api:
    model: claude-sonnet
    costPerRequest: "0.005"
  usage:
    requestsPerMonth: 10000
    inputTokensPerRequest: 1000
    outputTokensPerRequest: 300
    monthlyGrowthPercent: "-5"
  horizonMonths: 36
  annualDiscountRatePercent: "5"
  budget:
    maxUpfrontCost: "5000"
  policy: Enforce
  priceCatalogRef: default
`

const validPolicy = `
apiVersion: ftcost.io/v1alpha1
kind: CostPolicy
metadata:
  name: ml-teams
spec:
  namespaceSelector:
    matchLabels: {ftcost.io/team: ml}
  maxUpfrontCost: "5000"
`

const validCatalog = `
apiVersion: ftcost.io/v1alpha1
kind: PriceCatalog
metadata:
  name: prices
spec:
  models:
  - {name: llama-13b, parameters: 13000000000, scaleFactor: "2", source: Fine-Tuning Economics article, effectiveDate: "2026-01-01"}
  gpus:
  - {name: H100, memoryGiB: 80, peakBF16TFLOPs: "989"}
  providers:
  - name: runpod
    kind: GPUHourly
    market: OnDemand
    defaultGPU: H100
    gpuPrices:
    - {gpuType: H100, pricePerGPUHour: "2.49"}
  - name: openai-gpt-4
    kind: Managed
    pricePerMillionTrainingTokens: "25"
    models: [gpt-4]
    servingAPIModel: openai-gpt-4-finetuned
  apiModels:
  - {name: claude-sonnet, inputPricePerMillionTokens: "3", outputPricePerMillionTokens: "15"}
`

func TestValidSamplesPass(t *testing.T) {
	v, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for name, manifest := range map[string]string{"estimate": validEstimate, "catalog": validCatalog, "policy": validPolicy} {
		t.Run(name, func(t *testing.T) {
			if err := v.Validate(load(t, manifest)); err != nil {
				t.Fatalf("valid %s rejected: %v", name, err)
			}
		})
	}
	// The samples shipped in config/ must validate too.
	files, _ := filepath.Glob("../../config/samples/*.yaml")
	catalogs, _ := filepath.Glob("../../config/catalog/*.yaml")
	for _, f := range append(files, catalogs...) {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, doc := range strings.Split(string(b), "\n---") {
				if strings.TrimSpace(doc) == "" {
					continue
				}
				obj := load(t, doc)
				if obj == nil {
					continue
				}
				if md, ok := obj["metadata"].(map[string]any); ok && md["namespace"] == nil && v.Namespaced(gvkOf(obj)) {
					md["namespace"] = "default"
				}
				if err := v.Validate(obj); err != nil {
					t.Errorf("%s rejected: %v", f, err)
				}
			}
		})
	}
}

type change struct {
	path  string
	value any // nil deletes
}

// rejectCases has a case per kind of schema rule and per CEL rule of the CRDs; each asserts the
// message names the field, as the API server's does.
var rejectCases = map[string]struct {
	base    string
	changes []change
	want    []string // substrings of the message, the field path first
}{
	// Schema rules.
	"required": {validEstimate, []change{{"spec.model", nil}},
		[]string{`spec.model: Required value`}},
	"required nested": {validEstimate, []change{{"spec.training.provider", nil}},
		[]string{`spec.training.provider: Required value`}},
	"enum": {validEstimate, []change{{"spec.method", "Foo"}},
		[]string{`spec.method: Unsupported value: "Foo": supported values: "Full", "LoRA", "QLoRA"`}},
	"enum estimator": {validEstimate, []change{{"spec.training.estimator", "Guess"}},
		[]string{`spec.training.estimator: Unsupported value: "Guess"`}},
	"enum policy": {validEstimate, []change{{"spec.policy", "Strict"}},
		[]string{`spec.policy: Unsupported value: "Strict"`}},
	"pattern money": {validEstimate, []change{{"spec.oneTimeCosts.dataLabeling", "1,000"}},
		[]string{`spec.oneTimeCosts.dataLabeling: Invalid value: "1,000": spec.oneTimeCosts.dataLabeling in body should match '^[0-9]+(\.[0-9]{1,6})?$'`}},
	"pattern negative money": {validEstimate, []change{{"spec.api.costPerRequest", "-1"}},
		[]string{`spec.api.costPerRequest: Invalid value: "-1"`}},
	"pattern name": {validEstimate, []change{{"spec.model", "Llama_13B"}},
		[]string{`spec.model: Invalid value: "Llama_13B"`, "should match"}},
	"minimum": {validEstimate, []change{{"spec.dataset.examples", int64(0)}},
		[]string{`spec.dataset.examples: Invalid value: 0: spec.dataset.examples in body should be greater than or equal to 1`}},
	"maximum": {validEstimate, []change{{"spec.horizonMonths", int64(121)}},
		[]string{`spec.horizonMonths: Invalid value: 121: spec.horizonMonths in body should be less than or equal to 120`}},
	"minimum requests": {validEstimate, []change{{"spec.usage.requestsPerMonth", int64(-1)}},
		[]string{`spec.usage.requestsPerMonth: Invalid value: -1`}},
	"maxLength": {validEstimate, []change{{"spec.model", strings.Repeat("a", 64)}},
		[]string{`spec.model: Too long: may not be more than 63 bytes`}},
	"minLength": {validEstimate, []change{{"spec.model", ""}},
		[]string{`spec.model: Invalid value: ""`}},
	"type": {validEstimate, []change{{"spec.dataset.examples", "ten"}},
		[]string{`spec.dataset.examples: Invalid value: "string": spec.dataset.examples in body must be of type integer: "string"`}},
	"type money as number": {validEstimate, []change{{"spec.budget.maxUpfrontCost", int64(5000)}},
		[]string{`spec.budget.maxUpfrontCost: Invalid value: "integer": spec.budget.maxUpfrontCost in body must be of type string`}},
	"unknown field": {validEstimate, []change{{"spec.foo", "bar"}},
		[]string{`unknown field "spec.foo"`, `strict decoding error`}},
	"unknown nested field": {validEstimate, []change{{"spec.usage.requests", int64(5)}},
		[]string{`unknown field "spec.usage.requests"`}},
	"unknown metadata field": {validEstimate, []change{{"metadata.labelz", map[string]any{"a": "b"}}},
		[]string{`unknown field "metadata.labelz"`}},
	"missing name": {validEstimate, []change{{"metadata.name", nil}},
		[]string{`metadata.name: Required value: name or generateName is required`}},
	"invalid name": {validEstimate, []change{{"metadata.name", "Support_Bot"}},
		[]string{`metadata.name: Invalid value: "Support_Bot"`}},
	"missing namespace": {validEstimate, []change{{"metadata.namespace", nil}},
		[]string{`metadata.namespace: Required value`}},
	"catalog maxItems": {validCatalog, []change{{"spec.providers.0.models", manyStrings(65)}},
		[]string{`spec.providers[0].models: Too many: 65: must have at most 64 items`}},
	"catalog maximum": {validCatalog, []change{{"spec.gpus.0.memoryGiB", int64(5000)}},
		[]string{`spec.gpus[0].memoryGiB: Invalid value: 5000`}},
	"catalog enum": {validCatalog, []change{{"spec.providers.0.kind", "Hourly"}},
		[]string{`spec.providers[0].kind: Unsupported value: "Hourly": supported values: "GPUHourly", "Managed"`}},
	"catalog pattern date": {validCatalog, []change{{"spec.models.0.effectiveDate", "Jan 2026"}},
		[]string{`spec.models[0].effectiveDate: Invalid value: "Jan 2026"`}},
	"catalog required": {validCatalog, []change{{"spec.apiModels.0.inputPricePerMillionTokens", nil}},
		[]string{`spec.apiModels[0].inputPricePerMillionTokens: Required value`}},
	"catalog list map duplicate": {validCatalog, []change{{"spec.gpus", []any{
		map[string]any{"name": "H100", "memoryGiB": int64(80), "peakBF16TFLOPs": "989"},
		map[string]any{"name": "H100", "memoryGiB": int64(80), "peakBF16TFLOPs": "989"}}}},
		[]string{`spec.gpus[1]: Duplicate value: {"name":"H100"}`}},
	"catalog list set duplicate": {validCatalog, []change{{"spec.providers.1.models", []any{"gpt-4", "gpt-4"}}},
		[]string{`spec.providers[1].models[1]: Duplicate value: "gpt-4"`}},

	// CEL rules of FineTuneEstimate.
	"cel tokens unless costPerRequest": {validEstimate, []change{{"spec.api.costPerRequest", nil}, {"spec.usage.outputTokensPerRequest", nil}},
		[]string{`spec: Invalid value: spec.usage.inputTokensPerRequest and spec.usage.outputTokensPerRequest are required unless spec.api.costPerRequest is set`}},
	"cel tokens for serving apiModel": {validEstimate, []change{{"spec.serving.apiModel", "openai-gpt-4-finetuned"}, {"spec.usage.inputTokensPerRequest", nil}},
		[]string{`spec: Invalid value: spec.usage.inputTokensPerRequest and spec.usage.outputTokensPerRequest are required when spec.serving.apiModel is set`}},
	"cel FLOPs needs tokensPerExample": {validEstimate, []change{{"spec.training.estimator", "FLOPs"}, {"spec.dataset.tokensPerExample", nil}},
		[]string{`spec: Invalid value: spec.dataset.tokensPerExample is required by the FLOPs estimator`}},
	"cel discount rate": {validEstimate, []change{{"spec.annualDiscountRatePercent", "100.5"}},
		[]string{`spec.annualDiscountRatePercent: Invalid value: "100.5": spec.annualDiscountRatePercent must be at most 100`}},
	"cel api price": {validEstimate, []change{{"spec.api", map[string]any{"inputPricePerMillionTokens": "3"}}},
		[]string{`spec.api: Invalid value: spec.api needs a model, a costPerRequest, or both inputPricePerMillionTokens and outputPricePerMillionTokens`}},
	"cel Calibrated needs tokensPerExample": {validEstimate, []change{{"spec.training.estimator", "Calibrated"}, {"spec.dataset.tokensPerExample", nil}},
		[]string{`spec: Invalid value: spec.dataset.tokensPerExample is required by the Calibrated estimator`}},
	"cel mfuPercent zero": {validEstimate, []change{{"spec.training.mfuPercent", "0"}},
		[]string{`spec.training.mfuPercent: Invalid value: "0": spec.training.mfuPercent must be greater than 0 and at most 100`}},
	"cel mfuPercent above 100": {validEstimate, []change{{"spec.training.mfuPercent", "100.5"}},
		[]string{`spec.training.mfuPercent: Invalid value: "100.5": spec.training.mfuPercent must be greater than 0 and at most 100`}},
	"enum sharding": {validEstimate, []change{{"spec.training.sharding", "FSDP"}},
		[]string{`spec.training.sharding: Unsupported value: "FSDP": supported values: "None", "ZeRO2", "ZeRO3"`}},
	"enum lora targets": {validEstimate, []change{{"spec.lora.targetModules", "MLP"}},
		[]string{`spec.lora.targetModules: Unsupported value: "MLP"`}},
	"minimum gpuCount": {validEstimate, []change{{"spec.training.gpuCount", int64(0)}},
		[]string{`spec.training.gpuCount: Invalid value: 0`}},
	"cel architecture kvHeads": {validCatalog, []change{{"spec.models.0.architecture", map[string]any{"layers": int64(32),
		"hiddenSize": int64(4096), "intermediateSize": int64(11008), "attentionHeads": int64(32), "kvHeads": int64(64), "vocabSize": int64(32000)}}},
		[]string{`spec.models[0].architecture: Invalid value: `, `kvHeads must be at most attentionHeads`}},
	"cel hours positive": {validEstimate, []change{{"spec.training.hours", "0"}},
		[]string{`spec.training.hours: Invalid value: "0": spec.training.hours must be greater than 0`}},
	"cel growth low": {validEstimate, []change{{"spec.usage.monthlyGrowthPercent", "-99.5"}},
		[]string{`spec.usage.monthlyGrowthPercent: Invalid value: "-99.5": spec.usage.monthlyGrowthPercent must be between -99 and 1000`}},
	"cel growth high": {validEstimate, []change{{"spec.usage.monthlyGrowthPercent", "1000.01"}},
		[]string{`spec.usage.monthlyGrowthPercent: Invalid value: "1000.01": spec.usage.monthlyGrowthPercent must be between -99 and 1000`}},

	// CEL rules of PriceCatalog.
	"cel maxAge at most 100 years": {validCatalog, []change{{"spec.maxAge", "876001h"}},
		[]string{`spec.maxAge: Invalid value: "876001h": must be a duration of at most 876000h (100 years), such as 720h`}},
	"pattern maxAge": {validCatalog, []change{{"spec.maxAge", "30d"}},
		[]string{`spec.maxAge: Invalid value: "30d"`, "should match"}},
	"format date": {validCatalog, []change{{"spec.models.0.effectiveDate", "2026-02-30"}},
		[]string{`spec.models[0].effectiveDate: Invalid value: "2026-02-30"`, "must be of type date"}},
	"cel CostPolicy needs a rule": {validPolicy, []change{{"spec.maxUpfrontCost", nil}},
		[]string{`spec: Invalid value: a CostPolicy needs at least one of maxUpfrontCost, requiredPolicy, allowedProviders, maxAPIPriceDeviationPercent`}},
	"cel CostPolicy selector operator": {validPolicy, []change{{"spec.namespaceSelector", map[string]any{"matchExpressions": []any{map[string]any{"key": "team", "operator": "Equals", "values": []any{"ml"}}}}}},
		[]string{`spec.namespaceSelector: Invalid value: namespaceSelector.matchExpressions operators are In, NotIn, Exists and DoesNotExist`}},
	"cel CostPolicy selector values": {validPolicy, []change{{"spec.namespaceSelector", map[string]any{"matchExpressions": []any{map[string]any{"key": "team", "operator": "In"}}}}},
		[]string{`spec.namespaceSelector: Invalid value: namespaceSelector.matchExpressions need values with In and NotIn, and none with Exists and DoesNotExist`}},
	"cel GPUHourly needs gpuPrices": {validCatalog, []change{{"spec.providers.0.gpuPrices", nil}},
		[]string{`spec.providers[0]: Invalid value: a GPUHourly provider needs gpuPrices`}},
	"cel GPUHourly needs some gpuPrices": {validCatalog, []change{{"spec.providers.0.gpuPrices", []any{}}},
		[]string{`spec.providers[0]: Invalid value: a GPUHourly provider needs gpuPrices`}},
	"cel Managed needs price": {validCatalog, []change{{"spec.providers.1.pricePerMillionTrainingTokens", nil}},
		[]string{`spec.providers[1]: Invalid value: a Managed provider needs pricePerMillionTrainingTokens`}},

	// A schema error that makes CEL unsafe to run is reported the server's way.
	"cel skipped after blocking error": {validEstimate, []change{{"spec.method", "Foo"}, {"spec.training.hours", "0"}},
		[]string{`spec.method: Unsupported value`, `some validation rules were not checked because the object was invalid`}},
}

// TestEveryCELRuleHasACase fails when a rule is added to the CRDs without a case in rejectCases.
func TestEveryCELRuleHasACase(t *testing.T) {
	v, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	var wants []string
	for _, tc := range rejectCases {
		wants = append(wants, tc.want...)
	}
	for _, k := range v.kinds {
		anySchema(k.structural, func(s *structuralschema.Structural) bool {
			for _, r := range s.XValidations {
				covered := false
				for _, w := range wants {
					covered = covered || strings.Contains(w, r.Message) || (len(w) > 40 && strings.Contains(r.Message, w[strings.LastIndex(w, ": ")+2:]))
				}
				if !covered {
					t.Errorf("%s: no case in rejectCases for rule %q (%s)", k.gvk.Kind, r.Rule, r.Message)
				}
			}
			return false
		})
	}
}

func TestRejects(t *testing.T) {
	v, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range rejectCases {
		t.Run(name, func(t *testing.T) {
			obj := load(t, tc.base)
			for _, c := range tc.changes {
				set(obj, c.path, c.value)
			}
			err := v.Validate(obj)
			if err == nil {
				t.Fatalf("accepted; want an error containing %q", tc.want[0])
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	v, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	obj := load(t, validEstimate)
	set(obj, "metadata.name", "x")
	set(obj, "spec.method", "Foo")
	err = v.Validate(obj)
	if !apierrors.IsInvalid(err) {
		t.Fatalf("want an Invalid StatusError, got %T %v", err, err)
	}
	const prefix = `FineTuneEstimate.ftcost.io "x" is invalid: [spec.method: Unsupported value: "Foo": supported values: "Full", "LoRA", "QLoRA", `
	if !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("got  %s\nwant %s...", err, prefix)
	}

	obj = load(t, validCatalog)
	set(obj, "spec.providers.0.kind", "Hourly")
	if err := v.Validate(obj); err == nil || !strings.HasPrefix(err.Error(), `PriceCatalog.ftcost.io "prices" is invalid: [spec.providers[0].kind: Unsupported value: "Hourly"`) {
		t.Errorf("got %v", err)
	}

	obj = load(t, validEstimate)
	set(obj, "spec.foo", int64(1))
	set(obj, "spec.bar", int64(1))
	var strict *StrictDecodingError
	if err := v.Validate(obj); !errors.As(err, &strict) || len(strict.Fields) != 2 ||
		!strings.HasPrefix(err.Error(), `FineTuneEstimate in version "v1alpha1" cannot be handled as a FineTuneEstimate: strict decoding error: unknown field "spec.`) {
		t.Errorf("got %v", err)
	}
}

func TestUnknownKind(t *testing.T) {
	v, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	var unknown *UnknownKindError
	err = v.Validate(map[string]any{"apiVersion": "ftcost.io/v1alpha1", "kind": "Estimate"})
	if !errors.As(err, &unknown) || err.Error() != `no matches for kind "Estimate" in version "ftcost.io/v1alpha1"` {
		t.Errorf("got %v", err)
	}
}

// TestNormalises checks what the server does to an accepted object: status dropped, nulls of
// non-nullable fields dropped, no namespace on a cluster-scoped object.
func TestNormalises(t *testing.T) {
	v, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	obj := load(t, validEstimate)
	set(obj, "status", map[string]any{"recommendation": "Nonsense"})
	set(obj, "spec.budget", nil)
	set(obj, "spec.oneTimeCosts.dataCleaning", nil)
	obj["spec"].(map[string]any)["serving"] = nil
	if err := v.Validate(obj); err != nil {
		t.Fatal(err)
	}
	if _, ok := obj["status"]; ok {
		t.Error("status kept")
	}
	if _, ok := obj["spec"].(map[string]any)["serving"]; ok {
		t.Error("serving: null kept")
	}
	pc := load(t, validCatalog)
	set(pc, "metadata.namespace", "ml")
	if err := v.Validate(pc); err != nil {
		t.Fatal(err)
	}
	if ns := pc["metadata"].(map[string]any)["namespace"]; ns != nil {
		t.Errorf("namespace %v kept on a cluster-scoped object", ns)
	}
}

func manyStrings(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = "m" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	return out
}

func BenchmarkValidate(b *testing.B) {
	v, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	js, _ := yaml.YAMLToJSON([]byte(validEstimate))
	b.ReportAllocs()
	for range b.N {
		var obj map[string]any
		_ = utiljson.Unmarshal(js, &obj)
		if err := v.Validate(obj); err != nil {
			b.Fatal(err)
		}
	}
}

func gvkOf(obj map[string]any) schema.GroupVersionKind {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	return schema.FromAPIVersionAndKind(apiVersion, kind)
}
