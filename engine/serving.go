package engine

import (
	"github.com/shopspring/decimal"
)

// ServingPrecision is how the served model's weights are stored.
type ServingPrecision string

// Serving precisions.
const (
	ServeBF16 ServingPrecision = "bf16"
	ServeInt8 ServingPrecision = "int8"
	ServeInt4 ServingPrecision = "int4"
)

// SelfHosted is the fine-tuned model served on rented GPUs.
type SelfHosted struct {
	Provider string
	GPUType  string // "": the provider's default
	// Replicas is a fixed count of always-on replicas; 0: as many as the volume needs, at least
	// MinReplicas (and at least one unless ScaleToZero).
	Replicas    int32
	MinReplicas int32
	// HoursPerMonth each replica runs; nil: HoursPerMonthAlwaysOn.
	HoursPerMonth *decimal.Decimal
	// ScaleToZero bills only the GPU-hours the requests keep busy, at the replica's throughput.
	ScaleToZero bool
	Precision   ServingPrecision // "": bf16
}

// The serving model; docs/cost-model.md gives the source of each constant.
var (
	// HoursPerMonthAlwaysOn is 24 x 365 / 12.
	HoursPerMonthAlwaysOn = d("730")
	// ServingBytesPerParameter is a weight at the serving precision.
	ServingBytesPerParameter = map[ServingPrecision]decimal.Decimal{ServeBF16: d("2"), ServeInt8: d("1"), ServeInt4: d("0.5")}
	// DecodeBandwidthEfficiency is the share of memory bandwidth decoding achieves: 77% of the
	// roofline measured for Llama 3.1 8B on vLLM at concurrency 1.
	DecodeBandwidthEfficiency = d("0.77")
	// ServingConcurrency is the requests a replica decodes at once, and BatchingGain the throughput it
	// gains over one at a time: 6.6x at 8 concurrent requests in the same vLLM sweep.
	ServingConcurrency int64 = 8
	BatchingGain             = d("6.6")
	// PrefillUtilisation is the share of peak compute prompt processing reaches: 25-34% from
	// TensorRT-LLM's first-token latency of Llama 7B on H100 and A100.
	PrefillUtilisation = d("0.30")
	// ServingMemoryUtilisation is the share of a GPU's memory a server plans with (vLLM's default
	// gpu_memory_utilization).
	ServingMemoryUtilisation = d("0.9")
	// MaxServingGPUsPerReplica bounds tensor parallelism across one replica.
	MaxServingGPUsPerReplica int32 = 64
)

// Serving is what serving the fine-tuned model costs and can carry, for the status.
type Serving struct {
	GPUType            string
	GPUsPerReplica     int32
	Replicas           int32           // priced in month 1 (always-on), or 0 under scale-to-zero
	ReplicasRequested  int32           // the fixed count asked for, 0 when none
	HoursPerMonth      decimal.Decimal // each replica's, always-on
	GPUHoursPerMonth   decimal.Decimal // month 1
	PricePerGPUHour    decimal.Decimal
	CapacityPerReplica decimal.Decimal // requests a month one replica serves, at HoursPerMonthAlwaysOn
	MemoryPerGPUGiB    decimal.Decimal
	// Overloaded: a fixed replica count that cannot carry the volume of some month; the estimate
	// prices the replicas needed instead (NeededReplicas, in the first such month).
	Overloaded      bool
	OverloadedMonth int
	NeededReplicas  int32
}

// hosting prices self-hosted serving month by month.
type hosting struct {
	s              Serving
	floor          int32 // replicas always on, whatever the volume
	fixed          int32 // replicas asked for
	scaleToZero    bool
	perGPUHour     decimal.Decimal // price
	requestsPerHrs decimal.Decimal // requests one replica serves in an hour
}

// cost is a month's serving cost for req requests, and the replicas it prices.
func (h *hosting) cost(req decimal.Decimal) (Money, int32) {
	gpus := decimal.NewFromInt32(h.s.GPUsPerReplica)
	if h.scaleToZero {
		busy := req.Div(h.requestsPerHrs) // replica-hours the requests keep busy
		return Cents(busy.Mul(gpus).Mul(h.perGPUHour)), 0
	}
	need := req.Div(h.s.CapacityAt(h.s.HoursPerMonth)).Ceil()
	n := h.floor
	if need.GreaterThan(decimal.NewFromInt32(MaxGPUs)) {
		n = MaxGPUs // an absurd volume: priced at the bound, refused by the bounds check
	} else if int32(need.IntPart()) > n {
		n = int32(need.IntPart())
	}
	return Cents(decimal.NewFromInt32(n).Mul(gpus).Mul(h.s.HoursPerMonth).Mul(h.perGPUHour)), n
}

// CapacityAt is the requests one replica serves in a month of hours.
func (s Serving) CapacityAt(hours decimal.Decimal) decimal.Decimal {
	return s.CapacityPerReplica.Mul(hours).Div(HoursPerMonthAlwaysOn)
}

// newHosting works out the replica's GPUs, throughput and price.
func newHosting(in *Input, cat *Catalog, model Model) (*hosting, error) {
	sh := in.SelfHosted
	provider, ok := cat.Providers[sh.Provider]
	if !ok || provider.Kind != GPUHourly {
		return nil, errorf(ReasonProviderNotFound, FieldServingProvider, "provider %q is not a GPU-hourly provider in price catalog %q", sh.Provider, cat.Name)
	}
	gpu, price, err := cat.pricedGPU(provider, sh.GPUType, FieldServingGPUType)
	if err != nil {
		return nil, err
	}
	gpuType := gpu.Name
	if gpu.MemoryBandwidthGBps.Sign() <= 0 || gpu.PeakBF16TFLOPs.Sign() <= 0 || gpu.MemoryGiB <= 0 {
		return nil, errorf(ReasonInvalidSpec, FieldServingGPUType, "GPU type %q has no memory bandwidth, peak throughput or memory in price catalog %q", gpuType, cat.Name)
	}
	precision := sh.Precision
	if precision == "" {
		precision = ServeBF16
	}
	bytesPerParam, ok := ServingBytesPerParameter[precision]
	if !ok {
		return nil, errorf(ReasonInvalidSpec, FieldServingPrecision, "unsupported precision %q: use bf16, int8 or int4", precision)
	}
	if in.InputTokensPerRequest == nil || in.OutputTokensPerRequest == nil {
		return nil, errorf(ReasonInvalidSpec, FieldInputTokensPerRequest, "is required, with outputTokensPerRequest, to size self-hosted serving")
	}
	if *in.OutputTokensPerRequest < 1 {
		return nil, errorf(ReasonInvalidSpec, FieldOutputTokensPerRequest, "must be at least 1 to size self-hosted serving")
	}
	hours := HoursPerMonthAlwaysOn
	if sh.HoursPerMonth != nil {
		hours = *sh.HoursPerMonth
	}
	switch {
	case hours.Sign() <= 0 || hours.GreaterThan(d("744")):
		return nil, errorf(ReasonInvalidSpec, FieldServingHoursPerMonth, "must be greater than 0 and at most 744, got %s", hours)
	case sh.Replicas < 0 || sh.MinReplicas < 0 || sh.Replicas > MaxGPUs || sh.MinReplicas > MaxGPUs:
		return nil, errorf(ReasonInvalidSpec, FieldServingReplicas, "must be between 1 and %d", MaxGPUs)
	}

	params := dec(model.Parameters)
	weights := params.Mul(bytesPerParam)
	tokens := dec(*in.InputTokensPerRequest + *in.OutputTokensPerRequest)
	kv := params.Mul(d("0.2")).Mul(bytesPerParam) // without an architecture: a fifth of the weights
	if a := model.Architecture; a != nil {
		// Keys and values of every layer, 16-bit, for each token of each concurrent request.
		perToken := dec(2 * a.Layers * a.KVHeads * (a.HiddenSize / a.AttentionHeads) * 2)
		kv = perToken.Mul(tokens).Mul(dec(ServingConcurrency))
	}
	usable := decimal.NewFromInt32(gpu.MemoryGiB).Mul(ServingMemoryUtilisation).Sub(CUDAContextGiB).Mul(gibibyte)
	var n int32
	for try := int32(1); try <= MaxServingGPUsPerReplica; try *= 2 {
		if usable.Sign() > 0 && weights.Add(kv).Div(decimal.NewFromInt32(try)).LessThanOrEqual(usable) {
			n = try
			break
		}
	}
	if n == 0 {
		return nil, errorf(ReasonDoesNotFit, FieldServingGPUType, "%s at %s needs %s GiB of weights and cache: more than %d %s GPUs hold",
			model.Name, precision, gib(weights.Add(kv)).Round(1), MaxServingGPUsPerReplica, gpuType)
	}
	gpus := decimal.NewFromInt32(n)
	// Decode reads every weight once a step; the replica's GPUs read their shares in parallel.
	decodeTPS := gpus.Mul(gpu.MemoryBandwidthGBps).Mul(d("1e9")).Mul(DecodeBandwidthEfficiency).Div(weights).Mul(BatchingGain)
	prefillTPS := gpus.Mul(gpu.PeakBF16TFLOPs).Mul(tera).Mul(PrefillUtilisation).Div(params.Mul(decimal.NewFromInt(2)))
	secondsPerRequest := dec(*in.InputTokensPerRequest).Div(prefillTPS).Add(dec(*in.OutputTokensPerRequest).Div(decodeTPS))
	perHour := secondsInHour.Div(secondsPerRequest)
	if perHour.Mul(HoursPerMonthAlwaysOn).LessThan(one) {
		return nil, errorf(ReasonInvalidSpec, FieldOutputTokensPerRequest, "one request would keep a replica busy for more than a month")
	}

	h := &hosting{scaleToZero: sh.ScaleToZero, perGPUHour: price, requestsPerHrs: perHour, fixed: sh.Replicas}
	h.s = Serving{GPUType: gpuType, GPUsPerReplica: n, HoursPerMonth: hours, PricePerGPUHour: price,
		CapacityPerReplica: perHour.Mul(HoursPerMonthAlwaysOn).Floor(), ReplicasRequested: sh.Replicas,
		MemoryPerGPUGiB: gib(weights.Add(kv).Div(gpus)).Add(CUDAContextGiB).Round(1)}
	switch {
	case sh.ScaleToZero:
		h.floor = 0
	case sh.Replicas > 0:
		h.floor = sh.Replicas
	default:
		h.floor = max(sh.MinReplicas, 1)
	}
	return h, nil
}
