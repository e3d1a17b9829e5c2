package apiserver

import (
	"strconv"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
)

// mutation breaks one rule of a valid object, given as an unstructured map.
type mutation func(obj map[string]any)

// set sets a field at a dotted path ("spec.dataset.examples"), creating maps on the way.
func set(path string, value any) mutation {
	return func(obj map[string]any) {
		if err := unstructured.SetNestedField(obj, value, strings.Split(path, ".")...); err != nil {
			panic(err)
		}
	}
}

// del removes the fields at dotted paths.
func del(paths ...string) mutation {
	return func(obj map[string]any) {
		for _, p := range paths {
			unstructured.RemoveNestedField(obj, strings.Split(p, ".")...)
		}
	}
}

// all applies mutations in order.
func all(ms ...mutation) mutation {
	return func(obj map[string]any) {
		for _, m := range ms {
			m(obj)
		}
	}
}

// setItem sets field of the index-th item of the list at path.
func setItem(path string, index int, field string, value any) mutation {
	return func(obj map[string]any) {
		keys := strings.Split(path, ".")
		items, _, _ := unstructured.NestedSlice(obj, keys...)
		item := items[index].(map[string]any)
		if value == nil {
			delete(item, field)
		} else {
			item[field] = value
		}
		if err := unstructured.SetNestedSlice(obj, items, keys...); err != nil {
			panic(err)
		}
	}
}

// duplicateItem appends a copy of the index-th item of the list at path.
func duplicateItem(path string, index int) mutation {
	return func(obj map[string]any) {
		keys := strings.Split(path, ".")
		items, _, _ := unstructured.NestedSlice(obj, keys...)
		items = append(items, items[index])
		if err := unstructured.SetNestedSlice(obj, items, keys...); err != nil {
			panic(err)
		}
	}
}

type invalidCase struct {
	mutate mutation
	// want are substrings of the server's error: the field path first, then what is wrong.
	want []string
}

// checkInvalid creates base broken by each case and expects the API server to refuse it as Invalid
// with every wanted substring in the message.
func checkInvalid(t *testing.T, base *unstructured.Unstructured, cases map[string]invalidCase) {
	t.Helper()
	// The base must be valid, or every case would pass for the wrong reason.
	ok := base.DeepCopy()
	ok.SetName("valid-base")
	if err := env.Client.Create(ctx, ok, strict); err != nil {
		t.Fatalf("the valid base object is rejected: %v", err)
	}
	deleteAtCleanup(t, ok)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := base.DeepCopy()
			obj.SetName(dnsName(name))
			tc.mutate(obj.Object)
			err := env.Client.Create(ctx, obj)
			if err == nil {
				_ = env.Client.Delete(ctx, obj)
				t.Fatalf("the API server accepted an object that should break a rule %q: the marker behind it is not enforced", tc.want)
			}
			t.Log(err)
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

const long64 = "a123456789012345678901234567890123456789012345678901234567890123" // 64 characters

func TestFineTuneEstimateValidation(t *testing.T) {
	ns := newNamespace(t, "fte-validation")
	base := toUnstructured(t, validEstimate(ns, "base"))

	cases := map[string]invalidCase{
		// Required fields.
		"model required":            {del("spec.model"), []string{"spec.model: Required value"}},
		"method required":           {del("spec.method"), []string{"spec.method: Required value"}},
		"dataset required":          {del("spec.dataset"), []string{"spec.dataset: Required value"}},
		"examples required":         {del("spec.dataset.examples"), []string{"spec.dataset.examples: Required value"}},
		"training required":         {del("spec.training"), []string{"spec.training: Required value"}},
		"provider required":         {del("spec.training.provider"), []string{"spec.training.provider: Required value"}},
		"api required":              {del("spec.api"), []string{"spec.api: Required value"}},
		"usage required":            {del("spec.usage"), []string{"spec.usage: Required value"}},
		"requestsPerMonth required": {del("spec.usage.requestsPerMonth"), []string{"spec.usage.requestsPerMonth: Required value"}},

		// Enums.
		"method enum":    {set("spec.method", "Lora"), []string{"spec.method: Unsupported value", `"LoRA"`}},
		"estimator enum": {set("spec.training.estimator", "Measured"), []string{"spec.training.estimator: Unsupported value"}},
		"policy enum":    {set("spec.policy", "Strict"), []string{"spec.policy: Unsupported value"}},
		"framework enum": {set("spec.training.framework", "Megatron"),
			[]string{"spec.training.framework: Unsupported value", `"NeMo"`, `"HuggingFace"`, `"Unsloth"`}},
		"activationCheckpointing enum": {set("spec.training.activationCheckpointing", "Partial"),
			[]string{"spec.training.activationCheckpointing: Unsupported value", `"Selective"`}},
		"lossPrecision enum": {set("spec.training.lossPrecision", "FP16"),
			[]string{"spec.training.lossPrecision: Unsupported value", `"FP32"`, `"Half"`}},
		"gradientAccumulationSteps zero": {set("spec.training.gradientAccumulationSteps", int64(0)),
			[]string{"spec.training.gradientAccumulationSteps", "should be greater than or equal to 1"}},

		// Decimal strings: the pattern on every money-like field, and the length cap.
		"decimal with a comma":        {set("spec.oneTimeCosts.dataLabeling", "1,000"), []string{"spec.oneTimeCosts.dataLabeling", "should match"}},
		"decimal negative":            {set("spec.oneTimeCosts.hardware", "-500"), []string{"spec.oneTimeCosts.hardware", "should match"}},
		"decimal currency sign":       {set("spec.budget.maxUpfrontCost", "$5000"), []string{"spec.budget.maxUpfrontCost", "should match"}},
		"decimal exponent":            {set("spec.serving.monthlyCost", "1e3"), []string{"spec.serving.monthlyCost", "should match"}},
		"decimal seven places":        {set("spec.api.costPerRequest", "0.0000001"), []string{"spec.api.costPerRequest", "should match"}},
		"decimal empty":               {set("spec.serving.costPerRequest", ""), []string{"spec.serving.costPerRequest", "should match"}},
		"decimal token price":         {set("spec.api.inputPricePerMillionTokens", "3 USD"), []string{"spec.api.inputPricePerMillionTokens", "should match"}},
		"decimal dataCollection long": {set("spec.oneTimeCosts.dataCollection", "1234567890123456789012345"), []string{"spec.oneTimeCosts.dataCollection", "Too long"}},
		"decimal hours pattern":       {set("spec.training.hours", "half"), []string{"spec.training.hours", "should match"}},
		"discount rate pattern":       {set("spec.annualDiscountRatePercent", "5%"), []string{"spec.annualDiscountRatePercent", "should match"}},
		"growth pattern":              {set("spec.usage.monthlyGrowthPercent", "+5"), []string{"spec.usage.monthlyGrowthPercent", "should match"}},

		// Names: length and pattern.
		"model too long":           {set("spec.model", long64), []string{"spec.model", "Too long"}},
		"model pattern":            {set("spec.model", "Llama_13B"), []string{"spec.model", "should match"}},
		"provider pattern":         {set("spec.training.provider", "run pod"), []string{"spec.training.provider", "should match"}},
		"gpuType pattern":          {set("spec.training.gpuType", "H100/SXM"), []string{"spec.training.gpuType", "should match"}},
		"api model too long":       {set("spec.api.model", long64), []string{"spec.api.model", "Too long"}},
		"serving apiModel pattern": {set("spec.serving.apiModel", "GPT 4"), []string{"spec.serving.apiModel", "should match"}},
		"priceCatalogRef too long": {set("spec.priceCatalogRef", strings.Repeat("a", 254)), []string{"spec.priceCatalogRef", "Too long"}},

		// Bounds.
		"examples zero":            {set("spec.dataset.examples", int64(0)), []string{"spec.dataset.examples", "greater than or equal to 1"}},
		"examples too many":        {set("spec.dataset.examples", int64(1000000001)), []string{"spec.dataset.examples", "less than or equal to 1000000000"}},
		"tokensPerExample zero":    {set("spec.dataset.tokensPerExample", int64(0)), []string{"spec.dataset.tokensPerExample", "greater than or equal to 1"}},
		"tokensPerExample too big": {set("spec.dataset.tokensPerExample", int64(10000001)), []string{"spec.dataset.tokensPerExample", "less than or equal to 10000000"}},
		"epochs zero":              {set("spec.dataset.epochs", int64(0)), []string{"spec.dataset.epochs", "greater than or equal to 1"}},
		"epochs too many":          {set("spec.dataset.epochs", int64(1001)), []string{"spec.dataset.epochs", "less than or equal to 1000"}},
		"horizon zero":             {set("spec.horizonMonths", int64(0)), []string{"spec.horizonMonths", "greater than or equal to 1"}},
		"horizon too long":         {set("spec.horizonMonths", int64(121)), []string{"spec.horizonMonths", "less than or equal to 120"}},
		"requests negative":        {set("spec.usage.requestsPerMonth", int64(-1)), []string{"spec.usage.requestsPerMonth", "greater than or equal to 0"}},
		"requests too many":        {set("spec.usage.requestsPerMonth", int64(1000000000001)), []string{"spec.usage.requestsPerMonth", "less than or equal to 1000000000000"}},
		"input tokens negative":    {set("spec.usage.inputTokensPerRequest", int64(-1)), []string{"spec.usage.inputTokensPerRequest", "greater than or equal to 0"}},
		"output tokens too many":   {set("spec.usage.outputTokensPerRequest", int64(10000001)), []string{"spec.usage.outputTokensPerRequest", "less than or equal to 10000000"}},

		// CEL rules (x-kubernetes-validations).
		"api needs a price": {
			set("spec.api", map[string]any{}),
			[]string{"spec.api", "spec.api needs a model, a costPerRequest, or both"}},
		"api with only an input price": {
			set("spec.api", map[string]any{"inputPricePerMillionTokens": "3"}),
			[]string{"spec.api", "spec.api needs a model, a costPerRequest, or both"}},
		"usage tokens required without costPerRequest": {
			del("spec.api.costPerRequest", "spec.usage.outputTokensPerRequest"),
			[]string{"spec.usage.inputTokensPerRequest and spec.usage.outputTokensPerRequest are required unless spec.api.costPerRequest is set"}},
		"serving apiModel needs tokens": {
			all(set("spec.serving.apiModel", "openai-gpt-4-finetuned"), del("spec.usage.inputTokensPerRequest")),
			[]string{"spec.usage.inputTokensPerRequest and spec.usage.outputTokensPerRequest are required when spec.serving.apiModel is set"}},
		"FLOPs without tokensPerExample": {
			all(set("spec.training.estimator", "FLOPs"), del("spec.dataset.tokensPerExample")),
			[]string{"spec", "spec.dataset.tokensPerExample is required by the FLOPs estimator"}},
		"both checkpointing fields": {
			all(set("spec.training.gradientCheckpointing", true), set("spec.training.activationCheckpointing", "Selective")),
			[]string{"spec.training", "set activationCheckpointing or gradientCheckpointing, not both"}},
		"hours zero": {
			set("spec.training.hours", "0.000"),
			[]string{"spec.training.hours", "spec.training.hours must be greater than 0"}},
		"growth below -99": {
			set("spec.usage.monthlyGrowthPercent", "-99.5"),
			[]string{"spec.usage.monthlyGrowthPercent", "must be between -99 and 1000"}},
		"growth above 1000": {
			set("spec.usage.monthlyGrowthPercent", "1000.01"),
			[]string{"spec.usage.monthlyGrowthPercent", "must be between -99 and 1000"}},
		"discount above 100": {
			set("spec.annualDiscountRatePercent", "100.5"),
			[]string{"spec.annualDiscountRatePercent", "spec.annualDiscountRatePercent must be at most 100"}},
	}
	checkInvalid(t, base, cases)
}

func TestPriceCatalogValidation(t *testing.T) {
	pc := catalog.FromEngine(engine.BuiltinCatalog(), "base")
	base := toUnstructured(t, pc)
	// Entries are sorted by name; find the ones the cases break.
	index := func(kind string, name string) int {
		switch kind {
		case "providers":
			for i, p := range pc.Spec.Providers {
				if p.Name == name {
					return i
				}
			}
		case "models":
			for i, m := range pc.Spec.Models {
				if m.Name == name {
					return i
				}
			}
		}
		t.Fatalf("no %s %q in the built-in catalog", kind, name)
		return -1
	}
	runpod, openai, llama := index("providers", "runpod"), index("providers", "openai-gpt-4"), index("models", "llama-7b")
	at := func(list string, i int, field string) string {
		return "spec." + list + "[" + strconv.Itoa(i) + "]." + field
	}

	cases := map[string]invalidCase{
		"provider kind enum":   {setItem("spec.providers", runpod, "kind", "Hourly"), []string{at("providers", runpod, "kind"), "Unsupported value"}},
		"provider market enum": {setItem("spec.providers", runpod, "market", "Reserved"), []string{at("providers", runpod, "market"), "Unsupported value"}},
		"provider kind required": {
			setItem("spec.providers", runpod, "kind", nil), []string{at("providers", runpod, "kind"), "Required value"}},
		"GPUHourly needs gpuPrices": {
			setItem("spec.providers", runpod, "gpuPrices", nil), []string{"spec.providers[" + strconv.Itoa(runpod) + "]", "a GPUHourly provider needs gpuPrices"}},
		"GPUHourly with empty gpuPrices": {
			setItem("spec.providers", runpod, "gpuPrices", []any{}), []string{"spec.providers[" + strconv.Itoa(runpod) + "]", "a GPUHourly provider needs gpuPrices"}},
		"Managed needs pricePerMillionTrainingTokens": {
			setItem("spec.providers", openai, "pricePerMillionTrainingTokens", nil),
			[]string{"spec.providers[" + strconv.Itoa(openai) + "]", "a Managed provider needs pricePerMillionTrainingTokens"}},
		"duplicate model names": {
			duplicateItem("spec.models", llama), []string{"spec.models[" + strconv.Itoa(len(pc.Spec.Models)) + "]", "Duplicate value"}},
		"duplicate gpu names": {
			duplicateItem("spec.gpus", 0), []string{"spec.gpus[" + strconv.Itoa(len(pc.Spec.GPUs)) + "]", "Duplicate value"}},
		"duplicate provider names": {
			duplicateItem("spec.providers", runpod), []string{"spec.providers[" + strconv.Itoa(len(pc.Spec.Providers)) + "]", "Duplicate value"}},
		"duplicate api model names": {
			duplicateItem("spec.apiModels", 0), []string{"spec.apiModels[" + strconv.Itoa(len(pc.Spec.APIModels)) + "]", "Duplicate value"}},
		"duplicate gpuPrices gpuType": {
			setItem("spec.providers", runpod, "gpuPrices", []any{
				map[string]any{"gpuType": "H100", "pricePerGPUHour": "2.49"},
				map[string]any{"gpuType": "H100", "pricePerGPUHour": "2.99"},
			}), []string{at("providers", runpod, "gpuPrices[1]"), "Duplicate value"}},
		"duplicate managed models (set)": {
			setItem("spec.providers", openai, "models", []any{"gpt-4", "gpt-4"}), []string{at("providers", openai, "models[1]"), "Duplicate value"}},
		"effectiveDate pattern": {
			setItem("spec.models", llama, "effectiveDate", "2026/01/01"), []string{at("models", llama, "effectiveDate"), "should match"}},
		"effectiveDate too long": {
			setItem("spec.models", llama, "effectiveDate", "2026-01-01T00:00:00Z"), []string{at("models", llama, "effectiveDate")}},
		"source too long": {
			setItem("spec.models", llama, "source", strings.Repeat("s", 513)), []string{at("models", llama, "source"), "Too long"}},
		"scaleFactor pattern": {
			setItem("spec.models", llama, "scaleFactor", "two"), []string{at("models", llama, "scaleFactor"), "should match"}},
		"parameters zero": {
			setItem("spec.models", llama, "parameters", int64(0)), []string{at("models", llama, "parameters"), "greater than or equal to 1"}},
		"model name required": {
			setItem("spec.models", llama, "name", nil), []string{at("models", llama, "name"), "Required value"}},
		"model name too long": {
			setItem("spec.models", llama, "name", long64), []string{at("models", llama, "name"), "Too long"}},
		"gpu memory zero": {
			setItem("spec.gpus", 0, "memoryGiB", int64(0)), []string{"spec.gpus[0].memoryGiB", "greater than or equal to 1"}},
		"gpu memory too big": {
			setItem("spec.gpus", 0, "memoryGiB", int64(4097)), []string{"spec.gpus[0].memoryGiB", "less than or equal to 4096"}},
		"gpu peak TFLOPs pattern": {
			setItem("spec.gpus", 0, "peakBF16TFLOPs", "989.0.0"), []string{"spec.gpus[0].peakBF16TFLOPs", "should match"}},
		"gpu price negative": {
			setItem("spec.providers", runpod, "gpuPrices", []any{map[string]any{"gpuType": "H100", "pricePerGPUHour": "-2.49"}}),
			[]string{at("providers", runpod, "gpuPrices[0].pricePerGPUHour"), "should match"}},
		"training token price pattern": {
			setItem("spec.providers", openai, "pricePerMillionTrainingTokens", "25$"),
			[]string{at("providers", openai, "pricePerMillionTrainingTokens"), "should match"}},
		"managed model too long": {
			setItem("spec.providers", openai, "models", []any{long64}), []string{at("providers", openai, "models[0]"), "Too long"}},
		// Every field the manager parses must be refused here if Go cannot read it: a maxAge the
		// typed client could not decode once stopped the manager's catalog informer.
		"maxAge forever":   {set("spec.maxAge", "forever"), []string{"spec.maxAge", "should match"}},
		"maxAge in days":   {set("spec.maxAge", "30d"), []string{"spec.maxAge", "should match"}},
		"maxAge in years":  {set("spec.maxAge", "1y"), []string{"spec.maxAge", "should match"}},
		"maxAge negative":  {set("spec.maxAge", "-1h"), []string{"spec.maxAge", "should match"}},
		"maxAge empty":     {set("spec.maxAge", ""), []string{"spec.maxAge", "should match"}},
		"maxAge too long":  {set("spec.maxAge", "876001h"), []string{"spec.maxAge", "must be a duration of at most 876000h"}},
		"maxAge overflows": {set("spec.maxAge", "9999999999999h"), []string{"spec.maxAge"}},
		"effectiveDate February 30": {
			setItem("spec.models", llama, "effectiveDate", "2026-02-30"), []string{at("models", llama, "effectiveDate")}},
		"effectiveDate month 13": {
			setItem("spec.apiModels", 0, "effectiveDate", "2026-13-01"), []string{"spec.apiModels[0].effectiveDate"}},
		"api model output price required": {
			setItem("spec.apiModels", 0, "outputPricePerMillionTokens", nil), []string{"spec.apiModels[0].outputPricePerMillionTokens", "Required value"}},
	}
	checkInvalid(t, base, cases)
}

// TestTrainingStackAccepted: each framework and checkpointing mode the engine knows is accepted
// (strict field validation: a misspelt field would be refused), and gradientCheckpointing alone
// still is.
func TestTrainingStackAccepted(t *testing.T) {
	ns := newNamespace(t, "fte-stack")
	cases := map[string]mutation{
		"gradientCheckpointing alone": set("spec.training.gradientCheckpointing", true),
	}
	for _, fw := range []string{"NeMo", "PyTorch", "HuggingFace", "DeepSpeed", "Unsloth"} {
		cases["framework "+fw] = set("spec.training.framework", fw)
	}
	for _, ck := range []string{"None", "Selective", "Full"} {
		cases["activationCheckpointing "+ck] = set("spec.training.activationCheckpointing", ck)
	}
	for _, lp := range []string{"FP32", "Half"} {
		cases["lossPrecision "+lp] = set("spec.training.lossPrecision", lp)
	}
	cases["gradientAccumulationSteps 1"] = set("spec.training.gradientAccumulationSteps", int64(1))
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			obj := toUnstructured(t, validEstimate(ns, dnsName(name)))
			m(obj.Object)
			if err := env.Client.Create(ctx, obj, strict); err != nil {
				t.Fatalf("refused: %v", err)
			}
			deleteAtCleanup(t, obj)
		})
	}
}
