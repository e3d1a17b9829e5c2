// Package conditions holds the one helper the FineTuneEstimate and PriceCatalog status code share:
// setting a condition stamped with the object's generation.
package conditions

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Setter returns a function that sets one condition in conds, stamped with generation.
// meta.SetStatusCondition keeps lastTransitionTime when the status does not change, so a status
// recomputed from the same input does not churn.
func Setter(conds *[]metav1.Condition, generation int64) func(t string, status metav1.ConditionStatus, reason, message string) {
	return func(t string, status metav1.ConditionStatus, reason, message string) {
		meta.SetStatusCondition(conds, metav1.Condition{Type: t, Status: status, Reason: reason, Message: message, ObservedGeneration: generation})
	}
}
