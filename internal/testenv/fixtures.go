package testenv

import (
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
