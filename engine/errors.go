package engine

import "fmt"

// Reason classifies why an estimate could not be computed. The values match the API's Ready reasons.
type Reason string

// Reasons an estimate fails.
const (
	// ReasonInvalidSpec: an input the engine needs is missing, contradictory or out of range.
	ReasonInvalidSpec Reason = "InvalidSpec"
	// ReasonModelNotFound: the model is not in the catalog (or not offered by a managed provider).
	ReasonModelNotFound Reason = "ModelNotFound"
	// ReasonProviderNotFound: the provider, or its price for the GPU type, is not in the catalog.
	ReasonProviderNotFound Reason = "ProviderNotFound"
	// ReasonAPIPriceNotFound: an API model is not in the catalog.
	ReasonAPIPriceNotFound Reason = "APIPriceNotFound"
)

// Error is a terminal problem with an estimate's input: retrying without a change to the input or the
// catalog gives the same answer. Field is the spec path at fault, such as "spec.training.provider".
type Error struct {
	Reason  Reason
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

func errorf(reason Reason, field, format string, args ...any) *Error {
	return &Error{Reason: reason, Field: field, Message: fmt.Sprintf(format, args...)}
}
