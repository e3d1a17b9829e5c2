package controller

import (
	"context"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
	"sigs.k8s.io/controller-runtime/pkg/source"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/costpolicy"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/workload"
)

// kueueWorkloadsCRD is Kueue's Workload CRD: while it exists, Kueue owns the suspend switch of work
// with a queue name.
const kueueWorkloadsCRD = "workloads.kueue.x-k8s.io"

// gatedSelector selects the workloads that carry the estimate label.
var gatedSelector = func() labels.Selector {
	req, err := labels.NewRequirement(gate.EstimateLabel, selection.Exists, nil)
	if err != nil {
		panic(err)
	}
	return labels.NewSelector().Add(*req)
}()

// SuspendGates runs the suspend gate for every kind of workload.Kinds whose API the cluster serves: one
// label-selected cache and one controller per kind, all of them the same code (suspendGate). A kind
// whose CRD is missing is skipped with one log line and started when its CRD appears (a metadata-only
// watch on CustomResourceDefinitions). The Kueue check reads workloads through the same caches.
type SuspendGates struct {
	// Release runs the controllers that release held workloads (--enable-job-gate); without it only
	// the caches run, for the Kueue check.
	Release  bool
	Recorder recorder.EventRecorder
	// Caches are the labelled workloads' caches, shared with the actuals reconciler.
	Caches *WorkloadCaches

	mgr     ctrl.Manager
	mu      sync.Mutex
	running map[schema.GroupKind]cache.Cache
}

// crdMeta is the metadata-only form of a CustomResourceDefinition.
func crdMeta() *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"}}
}

// SetupWithManager starts the gates of the kinds that are installed once the manager runs, and
// watches CRDs for the others.
func (g *SuspendGates) SetupWithManager(mgr ctrl.Manager) error {
	g.mgr, g.running = mgr, map[schema.GroupKind]cache.Cache{}
	return kindStarter{name: "workload-kinds", started: "its suspend gate starts", ensure: g.ensure}.setupWithManager(mgr)
}

// ensure starts the cache (and, with Release, the controller) of a kind once; it fails with a
// no-match error while the kind is not served.
func (g *SuspendGates) ensure(ctx context.Context, k workload.Kind) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.running[k.GVK.GroupKind()] != nil {
		return nil
	}
	if _, err := g.mgr.GetRESTMapper().RESTMapping(k.GVK.GroupKind(), k.GVK.Version); err != nil {
		return err
	}
	c, err := g.Caches.For(k.GVK)
	if err != nil {
		return err
	}
	if g.Release {
		sg := &suspendGate{Client: g.mgr.GetClient(), Reader: c, Kind: k, Recorder: g.Recorder, Gates: g}
		labelled := predicate.NewTypedPredicateFuncs(func(o *unstructured.Unstructured) bool { return o.GetLabels()[gate.EstimateLabel] != "" })
		err := ctrl.NewControllerManagedBy(g.mgr).
			Named("suspend-gate-"+strings.ToLower(k.GVK.Kind)).
			WatchesRawSource(source.Kind(c, k.New(), &handler.TypedEnqueueRequestForObject[*unstructured.Unstructured]{}, labelled)).
			Watches(&ftv1.FineTuneEstimate{}, handler.EnqueueRequestsFromMapFunc(sg.ofEstimate)).
			Watches(&ftv1.PriceCatalog{}, handler.EnqueueRequestsFromMapFunc(viaEstimatesOfCatalog(g.mgr.GetClient(), sg.ofEstimate)),
				builder.WithPredicates(staleChanged)).
			Watches(&ftv1.CostPolicy{}, handler.EnqueueRequestsFromMapFunc(sg.heldOnBudget)).
			Complete(sg)
		if err != nil {
			return err
		}
	}
	g.running[k.GVK.GroupKind()] = c
	log.FromContext(ctx).Info("Started the suspend gate", "kind", k.GVK.GroupKind().String(), "release", g.Release)
	return nil
}

// Reader is the cache of labelled workloads of a kind, and false while the kind is not served.
func (g *SuspendGates) Reader(gk schema.GroupKind) (client.Reader, bool) {
	if g == nil {
		return nil, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.running[gk]
	return c, ok
}

// labelledOf lists the workloads of every running kind labelled with the estimate's name.
func (g *SuspendGates) labelledOf(ctx context.Context, estimate client.Object) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, k := range workload.Kinds {
		r, ok := g.Reader(k.GVK.GroupKind())
		if !ok {
			continue
		}
		items, err := listLabelled(ctx, r, k, estimate)
		if err != nil {
			log.FromContext(ctx).Error(err, "Listing the workloads of an estimate failed", "kind", k.GVK.Kind, "estimate", estimate.GetName())
		}
		out = append(out, items...)
	}
	return out
}

func listLabelled(ctx context.Context, r client.Reader, k workload.Kind, estimate client.Object) ([]*unstructured.Unstructured, error) {
	list := k.NewList()
	if err := r.List(ctx, list, client.InNamespace(estimate.GetNamespace()), client.MatchingLabels{gate.EstimateLabel: estimate.GetName()}); err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out, nil
}

// suspendGate releases workloads of one kind that were created suspended (config/vap's
// MutatingAdmissionPolicy suspends every labelled one) once their estimate lets them through
// (gate.Decide), and otherwise says why they are held, with an annotation and an Event. It only
// ever clears the suspend switch.
type suspendGate struct {
	client.Client
	// Reader is the kind's label-selected cache.
	Reader   client.Reader
	Kind     workload.Kind
	Recorder recorder.EventRecorder
	// Gates reads the workloads of every kind, for the older ones held on a budget.
	Gates *SuspendGates
}

// Reconcile applies gate.ForJob to one workload.
func (r *suspendGate) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := r.Kind.New()
	if err := r.Reader.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	name := obj.GetLabels()[gate.EstimateLabel]
	if name == "" {
		return ctrl.Result{}, nil
	}
	kueueManaged, err := r.kueueManaged(ctx, obj)
	if err != nil {
		return ctrl.Result{}, err
	}
	facts := gate.FactsOf(r.Kind, obj, kueueManaged)
	if !facts.Gated() {
		return ctrl.Result{}, nil
	}
	in, err := gateInput(ctx, r.Client, obj.GetNamespace(), name)
	if err != nil {
		return ctrl.Result{}, err
	}
	asked := askedOf(r.Kind, obj)
	in.Asked = &asked
	d := decided(gateJob, gate.Decide(in))
	a := gate.ForJob(facts, d)
	reason := d.Reason
	var release map[string]string
	heldFor := ""
	if a.Unsuspend {
		// The release is committed to the budgets of the namespace and recorded on the estimate
		// first: a workload never runs uncommitted or unrecorded, and its run is charged to this
		// estimate by UID whatever its labels say later.
		rel := newRelease(r.Kind, obj, in, asked, time.Now())
		held, err := commitRelease(ctx, r.Client, in, rel, r.Gates.heldAhead(obj, string(rel.SpendCap)))
		if err != nil {
			return ctrl.Result{}, err
		}
		if held != nil {
			a, reason = gate.ForJob(facts, decided(gateJob, *held)), held.Reason
			if held.Reason == ftv1.ReasonBudgetExhausted {
				heldFor = string(rel.SpendCap)
			}
		} else {
			release = releaseAnnotations(rel, in.Estimate)
		}
	}
	if a.Gate != gate.GateHeld {
		reason = ""
	}
	for k, want := range map[string]string{HeldForBudgetAnnotation: heldFor, GateReasonAnnotation: reason} {
		if cur, ok := obj.GetAnnotations()[k]; ok != (want != "") || cur != want {
			a.Patch = true
		}
	}
	if a.Patch {
		obj = obj.DeepCopy() // the cache's copy is shared
		patch := client.MergeFromWithOptions(obj.DeepCopy(), client.MergeFromWithOptimisticLock{})
		ann := obj.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[gate.GateAnnotation], ann[gate.GateMessageAnnotation] = a.Gate, a.Message
		for k, v := range release {
			ann[k] = v
		}
		for k, v := range map[string]string{HeldForBudgetAnnotation: heldFor, GateReasonAnnotation: reason} {
			if v != "" {
				ann[k] = v
			} else {
				delete(ann, k)
			}
		}
		obj.SetAnnotations(ann)
		if a.Unsuspend {
			if err := r.Kind.SetSuspend(obj, false); err != nil {
				return ctrl.Result{}, err
			}
		}
		if err := r.Patch(ctx, obj, patch); err != nil {
			return ctrl.Result{}, err
		}
		log.FromContext(ctx).Info("Gated workload", "gate", a.Gate, "estimate", name, "message", a.Message)
	}
	if a.Event != nil {
		var related client.Object
		if in.Estimate != nil {
			related = in.Estimate
		}
		r.Recorder.Eventf(obj, related, a.Event.Type, a.Event.Reason, "Gate", "%s", a.Event.Note)
	}
	return ctrl.Result{RequeueAfter: a.RequeueAfter}, nil
}

// askedOf is what a workload asks for, from its kind's registry entry: every accelerator counts
// against the plan's GPUs.
func askedOf(k workload.Kind, u *unstructured.Unstructured) gate.Accelerators {
	a := k.Accelerators(u)
	asked := gate.Accelerators{GPUs: a.GPUs, GPUTypes: a.GPUTypes, Unknown: a.Unknown}
	for _, n := range a.Other {
		asked.GPUs += n
	}
	return asked
}

// kueueManaged says whether Kueue owns the workload's suspend switch: it has a queue name and Kueue
// is installed. Without Kueue a queue name is just a label, and the gate holds the work itself.
func (r *suspendGate) kueueManaged(ctx context.Context, obj client.Object) (bool, error) {
	if obj.GetLabels()[kueueQueueLabel] == "" {
		return false, nil
	}
	crd := crdMeta()
	switch err := r.Get(ctx, types.NamespacedName{Name: kueueWorkloadsCRD}, crd); {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// heldOnBudget maps a CostPolicy to the workloads of this kind held on a budget in the namespaces
// it selects (waiting for room, or with a cap more than the whole budget): a change of its ledger
// (a run that finished, a raised budget, a new period) may make room for them.
func (r *suspendGate) heldOnBudget(ctx context.Context, o client.Object) []reconcile.Request {
	p := o.(*ftv1.CostPolicy)
	sel, err := costpolicy.Selector(p)
	if err != nil {
		return nil
	}
	list := r.Kind.NewList()
	if err := r.Reader.List(ctx, list); err != nil {
		log.FromContext(ctx).Error(err, "Listing the workloads held on a budget failed", "kind", r.Kind.GVK.Kind, "costPolicy", p.Name)
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		u := &list.Items[i]
		_, queued := u.GetAnnotations()[HeldForBudgetAnnotation]
		if !queued && u.GetAnnotations()[GateReasonAnnotation] != ftv1.ReasonBudgetTooSmall {
			continue
		}
		if l, err := (clusterSource{r.Client}).NamespaceLabels(ctx, u.GetNamespace()); err == nil && sel.Matches(labels.Set(l)) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(u)})
		}
	}
	return reqs
}

func (r *suspendGate) ofEstimate(ctx context.Context, o client.Object) []reconcile.Request {
	items, err := listLabelled(ctx, r.Reader, r.Kind, o)
	if err != nil {
		log.FromContext(ctx).Error(err, "Listing the workloads of an estimate failed", "kind", r.Kind.GVK.Kind, "estimate", o.GetName())
		return nil
	}
	reqs := make([]reconcile.Request, len(items))
	for i, u := range items {
		reqs[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(u)}
	}
	return reqs
}
