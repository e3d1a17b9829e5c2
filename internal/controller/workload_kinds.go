package controller

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ftcost/ftcost/internal/workload"
)

// One marker per kind of workload.Kinds: the suspend gate and the actuals reconciler read labelled
// workloads, and the gate patches their suspend switch (the ValidatingAdmissionPolicy
// ftcost-operator-writes in config/vap limits the patch to that).
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=jobset.x-k8s.io,resources=jobsets,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=trainer.kubeflow.org,resources=trainjobs,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=kubeflow.org,resources=pytorchjobs,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=ray.io,resources=rayjobs,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch

// kindStarter starts something per kind of workload.Kinds (the suspend gate, the actuals
// reconciler) at the manager's start for each kind already served, and for a kind installed later
// when its CustomResourceDefinition is seen (a metadata-only watch), retrying with backoff until it
// is served. A built-in kind (Job) that fails to start stops the manager, as there is no CRD to
// retry on.
type kindStarter struct {
	// name names the CRD watch's controller.
	name string
	// started says in a log line what starts with the kind, e.g. "its suspend gate starts".
	started string
	ensure  func(context.Context, workload.Kind) error
}

func (s kindStarter) setupWithManager(mgr ctrl.Manager) error {
	byCRD := map[string]workload.Kind{}
	for _, k := range workload.Kinds {
		if n := k.CRDName(); n != "" {
			byCRD[n] = k
		}
	}
	err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		for _, k := range workload.Kinds {
			switch err := s.ensure(ctx, k); {
			case meta.IsNoMatchError(err):
				log.FromContext(ctx).Info("Workload kind not installed: "+s.started+" when its CRD appears",
					"kind", k.GVK.GroupKind().String(), "crd", k.CRDName())
			case err != nil && k.BuiltIn():
				return err
			case err != nil:
				log.FromContext(ctx).Error(err, "Starting a workload kind failed: "+s.started+" when its CRD is seen again",
					"kind", k.GVK.GroupKind().String())
			}
		}
		return nil
	}))
	if err != nil {
		return err
	}
	ours := predicate.NewPredicateFuncs(func(o client.Object) bool {
		_, ok := byCRD[o.GetName()]
		return ok
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(crdMeta(), builder.WithPredicates(ours)).
		Named(s.name).
		Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
			k, ok := byCRD[req.Name]
			if !ok {
				return reconcile.Result{}, nil
			}
			// A new CRD is served shortly after it is created; until then, retry with backoff.
			return reconcile.Result{}, s.ensure(ctx, k)
		}))
}

// WorkloadCaches are the caches of workloads that name an estimate (label ftcost.io/estimate), one
// per kind, added to the manager once and shared by the suspend gate and the actuals reconciler, so
// a labelled workload is cached once whichever of them reads it.
type WorkloadCaches struct {
	mgr    ctrl.Manager
	mu     sync.Mutex
	caches map[schema.GroupVersionKind]cache.Cache

	// Transform is each cache's DefaultTransform (the manager's: only what is read is cached).
	Transform toolscache.TransformFunc
}

// NewWorkloadCaches returns the manager's workload caches; none is made before it is asked for.
func NewWorkloadCaches(mgr ctrl.Manager) *WorkloadCaches {
	return &WorkloadCaches{mgr: mgr, caches: map[schema.GroupVersionKind]cache.Cache{}}
}

// For is the cache of labelled workloads of gvk, made and added to the manager on first use.
func (w *WorkloadCaches) For(gvk schema.GroupVersionKind) (cache.Cache, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.caches[gvk]; ok {
		return c, nil
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(gvk)
	c, err := cache.New(w.mgr.GetConfig(), cache.Options{
		HTTPClient: w.mgr.GetHTTPClient(), Scheme: w.mgr.GetScheme(), Mapper: w.mgr.GetRESTMapper(),
		// Only workloads that name an estimate: caching every Job in the cluster would cost memory for nothing.
		ByObject:         map[client.Object]cache.ByObject{obj: {Label: gatedSelector}},
		DefaultTransform: w.Transform,
	})
	if err != nil {
		return nil, err
	}
	if err := w.mgr.Add(c); err != nil {
		return nil, err
	}
	w.caches[gvk] = c
	return c, nil
}
