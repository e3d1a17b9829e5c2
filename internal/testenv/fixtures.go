package testenv

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// Dec returns a pointer to a decimal string, for spec fields.
func Dec(s string) *ftv1.Decimal { v := ftv1.Decimal(s); return &v }

// SupportBot is the Fine-Tuning Economics article's worked example 1 with no budget and the default policy: Approved on the
// built-in catalog, upfront 1001.25, break-even 20.0 months.
func SupportBot(ns, name string) *ftv1.FineTuneEstimate {
	return &ftv1.FineTuneEstimate{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: ftv1.FineTuneEstimateSpec{
			Model:        "llama-13b",
			Method:       ftv1.MethodLoRA,
			Dataset:      ftv1.Dataset{Examples: 10000},
			Training:     ftv1.Training{Provider: "runpod"},
			OneTimeCosts: &ftv1.OneTimeCosts{DataLabeling: Dec("1000")},
			API:          ftv1.APIPricing{Model: "claude-sonnet", CostPerRequest: Dec("0.005")},
			Usage: ftv1.Usage{RequestsPerMonth: 10000, InputTokensPerRequest: ptr.To[int64](1000),
				OutputTokensPerRequest: ptr.To[int64](300)},
			HorizonMonths: ptr.To[int32](36),
		},
	}
}

// SmallCatalog is a PriceCatalog with the article's figures for support-bot only: llama-13b (scale
// factor 2), the H100, runpod at 2.49 a GPU-hour and claude-sonnet at 3 / 15 per million tokens.
// Tests that need a catalog object use it rather than the built-in catalog, whose content moves.
func SmallCatalog(name string) *ftv1.PriceCatalog {
	on := ftv1.Provenance{Source: "Fine-Tuning Economics article", EffectiveDate: "2026-01-01"}
	return &ftv1.PriceCatalog{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: ftv1.PriceCatalogSpec{
			Models: []ftv1.CatalogModel{{Name: "llama-13b", Parameters: 13_000_000_000, ScaleFactor: "2", Provenance: on}},
			GPUs:   []ftv1.CatalogGPU{{Name: "H100", MemoryGiB: 80, PeakBF16TFLOPs: "989", Provenance: on}},
			Providers: []ftv1.CatalogProvider{{Name: "runpod", Kind: ftv1.ProviderKindGPUHourly, Market: ftv1.MarketOnDemand,
				GPUPrices: []ftv1.GPUPrice{{GPUType: "H100", PricePerGPUHour: "2.49"}}, Provenance: on}},
			APIModels: []ftv1.CatalogAPIModel{{Name: "claude-sonnet", InputPricePerMillionTokens: "3",
				OutputPricePerMillionTokens: "15", Provenance: on}},
		},
	}
}

// SucceededJob is the status the Job controller writes on a Job whose one pod started at start and
// succeeded after ran.
func SucceededJob(start time.Time, ran time.Duration) batchv1.JobStatus {
	s, e := metav1.NewTime(start), metav1.NewTime(start.Add(ran))
	return batchv1.JobStatus{StartTime: &s, Succeeded: 1, CompletionTime: &e, Conditions: []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: e},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: e}}}
}
