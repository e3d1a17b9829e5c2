// Package manager builds ftcost's controller manager; cmd/manager runs it against a cluster and
// cmd/local against an embedded local control plane.
package manager

import (
	"context"
	"flag"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	batchv1 "k8s.io/api/batch/v1"
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

	"github.com/ftcost/ftcost/internal/controller"
	"github.com/ftcost/ftcost/internal/gate"
	ftmetrics "github.com/ftcost/ftcost/internal/metrics"
	"github.com/ftcost/ftcost/internal/scheme"
)

// Options are the manager's flags.
type Options struct {
	MetricsAddr             string
	ProbeAddr               string
	LeaderElect             bool
	LeaderElectionNamespace string
	QPS                     float64
	Burst                   int
	Concurrency             int
	// EnableJobGate runs the suspend gate: suspended workloads (Jobs, JobSets, TrainJobs, PyTorchJobs,
	// RayJobs) labelled ftcost.io/estimate are released once their estimate is Approved.
	EnableJobGate bool
	// EnableKueueAdmissionCheck runs the Kueue AdmissionCheck controller (ftcost.io/cost-gate); Kueue's
	// CRDs must be installed.
	EnableKueueAdmissionCheck bool
	// Registry receives the per-estimate metrics; nil means controller-runtime's global registry,
	// which the metrics endpoint serves.
	Registry prometheus.Registerer
	// SkipNameValidation lets a test start a second manager in the same process, as a restart would.
	SkipNameValidation bool
}

// BindFlags registers the flags with their defaults:
//   - QPS 20 and burst 30 are controller-runtime's own defaults: a reconcile costs two reads from the
//     cache and at most one status patch, so 20 writes a second re-estimates 1,200 objects a minute.
//   - 4 concurrent reconciles: one estimate takes microseconds of CPU; workers wait on the API server,
//     and 4 keep the QPS budget busy without starving the other controllers of a shared client.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8080", "Address the Prometheus metrics endpoint binds to; \"0\" disables it.")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", false, "Elect a leader so that only one replica reconciles at a time.")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader-election Lease (default: the pod's namespace).")
	fs.Float64Var(&o.QPS, "kube-api-qps", 20, "Queries per second the manager may send to the API server.")
	fs.IntVar(&o.Burst, "kube-api-burst", 30, "Burst of queries the manager may send to the API server.")
	fs.IntVar(&o.Concurrency, "max-concurrent-reconciles", 4, "How many FineTuneEstimates are reconciled at once.")
	fs.BoolVar(&o.EnableJobGate, "enable-job-gate", true, "Release suspended workloads (Job, JobSet, TrainJob, PyTorchJob, RayJob) labelled "+gate.EstimateLabel+" once their FineTuneEstimate lets them through.")
	fs.BoolVar(&o.EnableKueueAdmissionCheck, "enable-kueue-admission-check", false, "Serve Kueue AdmissionChecks with controllerName "+gate.ControllerName+" (needs Kueue's CRDs).")
}

// Validate checks the flag values.
func (o *Options) Validate() error {
	switch {
	case o.QPS <= 0:
		return fmt.Errorf("--kube-api-qps must be greater than 0, got %v", o.QPS)
	case o.Burst < 1:
		return fmt.Errorf("--kube-api-burst must be at least 1, got %d", o.Burst)
	case o.Concurrency < 1:
		return fmt.Errorf("--max-concurrent-reconciles must be at least 1, got %d", o.Concurrency)
	}
	return nil
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
	s := scheme.New()
	if err := kueue.AddToScheme(s); err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: s,
		// The gates read only Jobs that name an estimate; caching every Job in the cluster would cost
		// memory for nothing.
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&batchv1.Job{}: {Label: gatedJobs},
		}},
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsAddr},
		Controller:              config.Controller{SkipNameValidation: ptr.To(o.SkipNameValidation)},
		HealthProbeBindAddress:  o.ProbeAddr,
		LeaderElection:          o.LeaderElect,
		LeaderElectionID:        "manager.ftcost.io",
		LeaderElectionNamespace: o.LeaderElectionNamespace,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	reg := o.Registry
	if reg == nil {
		reg = metrics.Registry
	}
	r := &controller.FineTuneEstimateReconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("ftcost-controller"),
		Metrics:  controller.NewMetrics(reg),
	}
	if err := r.SetupWithManager(ctx, mgr, o.Concurrency); err != nil {
		return nil, fmt.Errorf("setting up the FineTuneEstimate controller: %w", err)
	}
	if err := (&controller.ActualsReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		Recorder: mgr.GetEventRecorder("ftcost-actuals"), Metrics: r.Metrics}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the actuals controller: %w", err)
	}
	if err := ftmetrics.RegisterCatalogCollector(reg, &ftmetrics.CatalogCollector{Reader: mgr.GetCache()}); err != nil {
		return nil, fmt.Errorf("registering the catalog metrics: %w", err)
	}
	if err := (&controller.PriceCatalogReconciler{Client: mgr.GetClient(), Clock: clock.RealClock{}}).SetupWithManager(mgr); err != nil {
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
		gates = &controller.SuspendGates{Release: o.EnableJobGate, Recorder: mgr.GetEventRecorder("ftcost-job-gate")}
		if err := gates.SetupWithManager(mgr); err != nil {
			return nil, fmt.Errorf("setting up the suspend gates: %w", err)
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
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}
	return mgr, nil
}
