package engine

// SpendCap is the most a training run approved on r may spend: its training cost at the upper end
// of the GPU-hour band (GPUHoursHigh x PricePerGPUHour, rounded once to the cent). ok is false when
// r is not priced by the GPU-hour (a Managed provider bills tokens; no workload runs here).
func SpendCap(r *Result) (cap Money, ok bool) {
	switch {
	case r == nil || r.PricePerGPUHour == nil:
		return Money{}, false
	case r.Terms.TrainingCostHigh != nil:
		return *r.Terms.TrainingCostHigh, true
	}
	return r.TrainingCost, true // measured hours: no band
}
