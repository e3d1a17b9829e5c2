// Package manager builds ftcost's controller manager; cmd/manager runs it against a cluster and
// cmd/local against an embedded local control plane.
package manager

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/controller"
	"github.com/ftcost/ftcost/internal/gate"
	ftmetrics "github.com/ftcost/ftcost/internal/metrics"
	"github.com/ftcost/ftcost/internal/scheme"
)

// Options are the manager's flags.
type Options struct {
	MetricsAddr string
	// MetricsSecure serves metrics over HTTPS to callers the API server authenticates (TokenReview)
	// and authorizes (SubjectAccessReview for GET /metrics), as kubebuilder v4 scaffolds.
	MetricsSecure bool
	// EnableHTTP2 lets the metrics server speak HTTP/2; off by default, as kubebuilder scaffolds,
	// because of the HTTP/2 rapid-reset and stream-cancellation CVEs.
	EnableHTTP2             bool
	ProbeAddr               string
	PprofAddr               string
	LeaderElect             bool
	LeaderElectionNamespace string
	// QPS and Burst limit the client on the manager's side; QPS 0 means no client-side limit, leaving
	// the API server's Priority and Fairness to protect it.
	QPS         float64
	Burst       int
	Concurrency int
	// SyncPeriod is how often the informers redeliver every cached object (0: controller-runtime's
	// 10 hours).
	SyncPeriod time.Duration
	// EnableJobGate runs the suspend gate: suspended workloads (Jobs, JobSets, TrainJobs, PyTorchJobs,
	// RayJobs) labelled ftcost.io/estimate are released once their estimate is Approved.
	EnableJobGate bool
	// SpendInterval is the least time between two writes of one estimate's accrued spend (the spend
	// reconciler); 0 means controller.DefaultSpendInterval (1m).
	SpendInterval time.Duration
	// EnableKueueAdmissionCheck runs the Kueue AdmissionCheck controller (ftcost.io/cost-gate); Kueue's
	// CRDs must be installed.
	EnableKueueAdmissionCheck bool
	// CreateDefaultCatalog creates the PriceCatalog "default" at start when absent (defaultcatalog.go).
	CreateDefaultCatalog bool
	// Registry receives the operator's metrics (metrics.Register); nil means controller-runtime's
	// registry, which the metrics endpoint serves.
	Registry prometheus.Registerer
	// SkipNameValidation lets a test start a second manager in the same process, as a restart would.
	SkipNameValidation bool
}

// BindFlags registers the flags with their defaults, chosen by measurement (docs/benchmarks.md,
// "The operator at scale"; docs/operator.md, "Why no client-side rate limit, and 16 workers"):
//   - no client-side rate limit (--kube-api-qps=0): controller-runtime's 20 QPS, burst 30, made
//     convergence and fan-outs several times slower than a plain client; API Priority and Fairness
//     on the server already queues the operator's ServiceAccount fairly against other clients.
//   - 16 concurrent reconciles: a reconcile is a little CPU and one status write, so workers bound
//     how many writes are in flight; 16 matches the plain client of the baseline.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8443", "Address the Prometheus metrics endpoint binds to (HTTPS unless --metrics-secure=false); \"0\" disables it.")
	fs.BoolVar(&o.MetricsSecure, "metrics-secure", true, "Serve metrics over HTTPS to callers the API server authenticates and authorizes; false serves plain HTTP to anyone.")
	fs.BoolVar(&o.EnableHTTP2, "enable-http2", false, "Let the metrics server speak HTTP/2 (off: CVE-2023-44487, CVE-2023-39325).")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", "0", "Address Go's /debug/pprof endpoints bind to; \"0\" (the default) disables them.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", false, "Elect a leader so that only one replica reconciles at a time.")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader-election Lease (default: the pod's namespace).")
	fs.Float64Var(&o.QPS, "kube-api-qps", 0, "Queries per second the manager may send to the API server; 0 means no client-side limit (the API server's Priority and Fairness applies).")
	fs.IntVar(&o.Burst, "kube-api-burst", 30, "Burst of queries the manager may send to the API server (ignored when --kube-api-qps=0).")
	fs.IntVar(&o.Concurrency, "max-concurrent-reconciles", 16, "How many FineTuneEstimates are reconciled at once.")
	fs.DurationVar(&o.SyncPeriod, "sync-period", 0, "How often the informers redeliver every cached object; 0 means controller-runtime's 10h.")
	fs.BoolVar(&o.EnableJobGate, "enable-job-gate", true, "Release suspended Jobs labelled "+gate.EstimateLabel+" once their FineTuneEstimate lets them through.")
	fs.DurationVar(&o.SpendInterval, "spend-interval", controller.DefaultSpendInterval, "Least time between two writes of an estimate's accrued spend while its released workloads run (docs/actuals.md).")
	fs.BoolVar(&o.EnableKueueAdmissionCheck, "enable-kueue-admission-check", false, "Serve Kueue AdmissionChecks with controllerName "+gate.ControllerName+" (needs Kueue's CRDs).")
	fs.BoolVar(&o.CreateDefaultCatalog, "create-default-catalog", false, "At start, create the PriceCatalog \"default\" from the built-in prices if it does not exist (config/manager sets it).")
}

// Validate checks the flag values.
func (o *Options) Validate() error {
	switch {
	case o.QPS < 0:
		return fmt.Errorf("--kube-api-qps must be 0 (no client-side limit) or more, got %v", o.QPS)
	case o.QPS > 0 && o.Burst < 1:
		return fmt.Errorf("--kube-api-burst must be at least 1, got %d", o.Burst)
	case o.Concurrency < 1:
		return fmt.Errorf("--max-concurrent-reconciles must be at least 1, got %d", o.Concurrency)
	case o.SyncPeriod < 0:
		return fmt.Errorf("--sync-period must not be negative, got %v", o.SyncPeriod)
	case o.SpendInterval < 0:
		return fmt.Errorf("--spend-interval must not be negative, got %v", o.SpendInterval)
	}
	return nil
}

// metricsServer serves /metrics over HTTPS to callers the API server authenticates and authorizes
// (metrics.NewAuthFilter: controller-runtime's filter, but a refused token is 401 without a logged
// stack trace, and the answers are cached; a self-signed certificate unless one is mounted), or
// over plain HTTP when not secure.
func (o *Options) metricsServer(estimates *ftmetrics.EstimateSeries) metricsserver.Options {
	m := metricsserver.Options{BindAddress: o.MetricsAddr, SecureServing: o.MetricsSecure}
	if !o.EnableHTTP2 {
		m.TLSOpts = []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }}
	}
	// The filter wraps /metrics: the estimate series are written after the registry's, and with
	// --metrics-secure only for an authenticated and authorized scraper.
	m.FilterProvider = func(c *rest.Config, hc *http.Client) (metricsserver.Filter, error) {
		var auth metricsserver.Filter
		if o.MetricsSecure {
			var err error
			if auth, err = ftmetrics.NewAuthFilter(c, hc); err != nil {
				return nil, err
			}
		}
		return func(log logr.Logger, h http.Handler) (http.Handler, error) {
			h = estimates.Wrap(h)
			if auth == nil {
				return h, nil
			}
			return auth(log, h)
		}, nil
	}
	return m
}

// OwnAnnotationPrefix prefixes the only annotations the manager reads (the gate's ftcost.io/gate and
// ftcost.io/gate-message on workloads); the cache keeps no others.
const OwnAnnotationPrefix = "ftcost.io/"

// The cache transforms keep only what the manager reads, so what a tenant adds to its objects
// (annotations up to the API server's 256 KB an object, labels, managed fields) costs the manager no
// memory; before, one tenant's annotations could take it past its memory limit (docs/reliability.md,
// docs/operator.md "Memory per tenant"). The reconcilers write with merge patches computed between two
// copies of a cached object (or of its status), never with an update, so what is dropped is never
// written back: a merge patch leaves alone what neither copy has.

// stripMeta drops the managed fields and every annotation but the operator's own.
func stripMeta(o metav1.Object) {
	o.SetManagedFields(nil)
	a := o.GetAnnotations()
	if len(a) == 0 {
		return
	}
	var kept map[string]string
	for k, v := range a {
		if strings.HasPrefix(k, OwnAnnotationPrefix) {
			if kept == nil {
				kept = map[string]string{}
			}
			kept[k] = v
		}
	}
	o.SetAnnotations(kept)
}

// stripUnread is the default transform (workloads, catalogs, policies, profiles, namespaces' metadata):
// labels are kept (selectors and the gates read them).
func stripUnread(obj any) (any, error) {
	if o, ok := obj.(metav1.Object); ok {
		stripMeta(o)
	}
	return obj, nil
}

// stripEstimate is the FineTuneEstimates' transform: nothing reads their labels, owner references or
// finalizers either (the indexes read the spec).
func stripEstimate(obj any) (any, error) {
	e, ok := obj.(*ftv1.FineTuneEstimate)
	if !ok {
		return stripUnread(obj)
	}
	stripMeta(e)
	e.Labels, e.OwnerReferences, e.Finalizers = nil, nil, nil
	return e, nil
}

// gatedJobs selects the Jobs that carry the estimate label.
var gatedJobs = func() labels.Selector {
	req, err := labels.NewRequirement(gate.EstimateLabel, selection.Exists, nil)
	if err != nil {
		panic(err)
	}
	return labels.NewSelector().Add(*req)
}()

// New builds a manager with ftcost's controllers registered.
func New(ctx context.Context, cfg *rest.Config, o Options) (ctrl.Manager, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = float32(o.QPS), o.Burst
	if o.QPS == 0 {
		// client-go reads 0 as "use its default of 5"; a negative QPS means no rate limiter.
		cfg.QPS = -1
	}
	var syncPeriod *time.Duration
	if o.SyncPeriod > 0 {
		syncPeriod = &o.SyncPeriod
	}
	s := scheme.New()
	if err := kueue.AddToScheme(s); err != nil {
		return nil, err
	}
	estimates := &ftmetrics.EstimateSeries{}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: s,
		// The gates read only Jobs that name an estimate; caching every Job in the cluster would cost
		// memory for nothing.
		Cache: cache.Options{
			ByObject: map[client.Object]cache.ByObject{
				&batchv1.Job{}:           {Label: gatedJobs},
				&ftv1.FineTuneEstimate{}: {Transform: stripEstimate},
			},
			DefaultTransform: stripUnread,
			SyncPeriod:       syncPeriod,
		},
		Metrics:                 o.metricsServer(estimates),
		Controller:              config.Controller{SkipNameValidation: ptr.To(o.SkipNameValidation)},
		HealthProbeBindAddress:  o.ProbeAddr,
		PprofBindAddress:        o.PprofAddr,
		LeaderElection:          o.LeaderElect,
		LeaderElectionID:        "manager.ftcost.io",
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		// Hand the Lease over on a graceful shutdown instead of letting it expire (15 s): the
		// manager's Start returns only after every controller has stopped, so nothing reconciles
		// after the release.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	reg := o.Registry
	if reg == nil {
		reg = metrics.Registry
	}
	r := &controller.FineTuneEstimateReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("ftcost-controller")}
	if err := r.SetupWithManager(ctx, mgr, o.Concurrency); err != nil {
		return nil, fmt.Errorf("setting up the FineTuneEstimate controller: %w", err)
	}
	// Every metric of the operator, registered in one place with the manager's registry.
	runs, err := ftmetrics.Register(reg, mgr.GetCache())
	if err != nil {
		return nil, fmt.Errorf("registering the metrics: %w", err)
	}
	estimates.Reader = mgr.GetCache()
	workloads := controller.NewWorkloadCaches(mgr)
	workloads.Transform = stripUnread
	if err := (&controller.ActualsReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Caches: workloads,
		Recorder: mgr.GetEventRecorder("ftcost-actuals"), Metrics: runs}).SetupWithManager(ctx, mgr); err != nil {
		return nil, fmt.Errorf("setting up the actuals controller: %w", err)
	}
	if o.EnableJobGate || o.EnableKueueAdmissionCheck {
		// Live spend measures what the gates released (both record their releases); it suspends
		// only what the suspend gate released, under that gate's RBAC role.
		if err := (&controller.SpendReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Caches: workloads,
			Recorder: mgr.GetEventRecorder("ftcost-spend"), Metrics: runs, Interval: o.SpendInterval}).SetupWithManager(mgr); err != nil {
			return nil, fmt.Errorf("setting up the spend controller: %w", err)
		}
	}
	if err := (&controller.BudgetReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clock: clock.RealClock{},
		Recorder: mgr.GetEventRecorder("ftcost-budget")}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the CostPolicy budget controller: %w", err)
	}
	if err := (&controller.PriceCatalogReconciler{Client: mgr.GetClient(), Clock: clock.RealClock{},
		Recorder: mgr.GetEventRecorder("ftcost-catalog")}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the PriceCatalog controller: %w", err)
	}
	if o.EnableJobGate || o.EnableKueueAdmissionCheck {
		if err := controller.SetupGateIndexes(ctx, mgr); err != nil {
			return nil, fmt.Errorf("indexing estimates for the gates: %w", err)
		}
	}
	var gates *controller.SuspendGates
	if o.EnableJobGate || o.EnableKueueAdmissionCheck {
		// The Kueue check reads the owners of Workloads through the gates' caches.
		gates = &controller.SuspendGates{Release: o.EnableJobGate, Recorder: mgr.GetEventRecorder("ftcost-job-gate"), Caches: workloads}
		if err := gates.SetupWithManager(mgr); err != nil {
			return nil, fmt.Errorf("setting up the suspend gates: %w", err)
		}
	}
	if o.EnableJobGate {
		// The pod gate removes the scheduling gate config/vap puts on labelled Pods that no gated
		// workload controls (bare Pods, Deployments', StatefulSets', LeaderWorkerSets' Pods).
		pg := &controller.PodGate{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("ftcost-pod-gate")}
		if err := pg.SetupWithManager(mgr, stripUnread); err != nil {
			return nil, fmt.Errorf("setting up the pod gate: %w", err)
		}
	}
	if o.EnableKueueAdmissionCheck {
		if err := (&controller.AdmissionCheckReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
			return nil, fmt.Errorf("setting up the AdmissionCheck controller: %w", err)
		}
		wg := &controller.WorkloadGateReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Gates: gates, Clock: clock.RealClock{}}
		if err := wg.SetupWithManager(ctx, mgr); err != nil {
			return nil, fmt.Errorf("setting up the Workload cost gate: %w", err)
		}
	}
	if o.CreateDefaultCatalog {
		if err := mgr.Add(&DefaultCatalog{Client: mgr.GetClient()}); err != nil {
			return nil, err
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}
	return mgr, nil
}

// MemoryRequestEnv names the environment variable config/manager fills with the container's memory
// request in bytes (the downward API); the manager makes it the Go runtime's soft memory limit.
const MemoryRequestEnv = "FTCOST_MEMORY_REQUEST"

// SoftMemoryLimit is the soft memory limit to set from the environment: the memory request, unless
// GOMEMLIMIT is set (the Go runtime applied it already, and it wins) or the request is absent, zero
// or not a number of bytes. A zero limit would make the garbage collector run without pause, which
// is what GOMEMLIMIT taken straight from an unset request would do.
func SoftMemoryLimit(getenv func(string) string) (bytes int64, ok bool) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(getenv(MemoryRequestEnv), 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}
