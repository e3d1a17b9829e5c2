package controller

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
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
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/workload"
)

// PodSchedulingGate is the scheduling gate config/vap's MutatingAdmissionPolicy pod-gate puts on a
// Pod labelled ftcost.io/estimate that no workload of a gated kind controls; only the operator
// removes it (pod-gate-guard).
const PodSchedulingGate = gate.EstimateLabel

// gatePod is the pod gate's value of the gate label of ftcost_gate_decisions_total.
const gatePod = "pod"

// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;patch

// PodGate removes the scheduling gate ftcost.io/estimate from a Pod once gate.Decide says Approved for
// its estimate, evaluated afresh, with the Pod's own accelerators as what it asks for: a Pod larger
// than the plan, or pinned to another GPU type, stays gated. It reads only labelled Pods (its own
// label-selected cache) and acts only on those that still carry the gate. It never adds the gate.
type PodGate struct {
	client.Client
	Recorder recorder.EventRecorder

	pods cache.Cache
}

// SetupWithManager adds the labelled Pods' cache to the manager and the controller that reads it.
func (r *PodGate) SetupWithManager(mgr ctrl.Manager, transform func(any) (any, error)) error {
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		HTTPClient: mgr.GetHTTPClient(), Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(),
		// Only Pods that name an estimate: caching every Pod in the cluster would cost memory for nothing.
		ByObject:         map[client.Object]cache.ByObject{&corev1.Pod{}: {Label: gatedSelector}},
		DefaultTransform: transform,
	})
	if err != nil {
		return err
	}
	if err := mgr.Add(c); err != nil {
		return err
	}
	r.pods = c
	held := predicate.NewTypedPredicateFuncs(func(p *corev1.Pod) bool { return podGated(p) })
	return ctrl.NewControllerManagedBy(mgr).
		Named("pod-gate").
		WatchesRawSource(source.Kind(c, &corev1.Pod{}, &handler.TypedEnqueueRequestForObject[*corev1.Pod]{}, held)).
		Watches(&ftv1.FineTuneEstimate{}, handler.EnqueueRequestsFromMapFunc(r.ofEstimate)).
		Watches(&ftv1.PriceCatalog{}, handler.EnqueueRequestsFromMapFunc(viaEstimatesOfCatalog(mgr.GetClient(), r.ofEstimate)),
			builder.WithPredicates(staleChanged)).
		Complete(r)
}

// podGated says whether the Pod still carries the pod gate's scheduling gate.
func podGated(p *corev1.Pod) bool {
	return slices.ContainsFunc(p.Spec.SchedulingGates, func(g corev1.PodSchedulingGate) bool { return g.Name == PodSchedulingGate })
}

// Reconcile removes the gate of one Pod when its estimate lets it through.
func (r *PodGate) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pod := &corev1.Pod{}
	if err := r.pods.Get(ctx, req.NamespacedName, pod); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	name := pod.Labels[gate.EstimateLabel]
	if name == "" || !podGated(pod) {
		return ctrl.Result{}, nil
	}
	in, err := gateInput(ctx, r.Client, pod.Namespace, name)
	if err != nil {
		return ctrl.Result{}, err
	}
	asked, err := podAsked(pod)
	if err != nil {
		return ctrl.Result{}, err
	}
	in.Asked = &asked
	d := gate.Decide(in)
	if d.Outcome == gate.Approved {
		held, err := unmeasuredUnderBudget(ctx, r.Client, pod.Namespace, "a Pod released by the pod gate")
		if err != nil {
			return ctrl.Result{}, err
		}
		if held != nil {
			d = *held
		}
	}
	d = decided(gatePod, d)
	var related runtime.Object
	if in.Estimate != nil {
		related = in.Estimate
	}
	if d.Outcome != gate.Approved {
		// Advisory is no release either: a Pod runs only once its estimate is Approved, as a plain Job.
		typ, reason := corev1.EventTypeWarning, gate.EventRejected
		switch d.Outcome {
		case gate.Pending:
			typ, reason = corev1.EventTypeNormal, gate.EventHeld
		case gate.AdvisoryNotApproved:
			reason = gate.EventNotApproved
		}
		r.Recorder.Eventf(pod, related, typ, reason, "Gate", "%s", "Held by the scheduling gate "+PodSchedulingGate+": "+d.Message)
		return ctrl.Result{RequeueAfter: d.RetryAfter}, nil
	}
	pod = pod.DeepCopy() // the cache's copy is shared
	patch := client.MergeFromWithOptions(pod.DeepCopy(), client.MergeFromWithOptimisticLock{})
	pod.Spec.SchedulingGates = slices.DeleteFunc(pod.Spec.SchedulingGates, func(g corev1.PodSchedulingGate) bool { return g.Name == PodSchedulingGate })
	if err := r.Patch(ctx, pod, patch); err != nil {
		return ctrl.Result{}, err
	}
	log.FromContext(ctx).Info("Removed the pod gate", "estimate", name, "message", d.Message)
	r.Recorder.Eventf(pod, related, corev1.EventTypeNormal, gate.EventReleased, "Gate", "%s",
		fmt.Sprintf("Removed the scheduling gate %s: %s", PodSchedulingGate, d.Message))
	return ctrl.Result{}, nil
}

// podAsked is what one Pod asks for, read by the registry's Job kind as a Job of one pod of this
// spec, so a Pod is measured exactly as a workload's pod set is.
func podAsked(pod *corev1.Pod) (gate.Accelerators, error) {
	spec, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&pod.Spec)
	if err != nil {
		return gate.Accelerators{}, err
	}
	asJob := workload.Job.New()
	asJob.Object["spec"] = map[string]any{"parallelism": int64(1), "template": map[string]any{"spec": spec}}
	return askedOf(workload.Job, asJob), nil
}

// ofEstimate maps an estimate to its gated Pods.
func (r *PodGate) ofEstimate(ctx context.Context, o client.Object) []reconcile.Request {
	list := &corev1.PodList{}
	if err := r.pods.List(ctx, list, client.InNamespace(o.GetNamespace()), client.MatchingLabels{gate.EstimateLabel: o.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "Listing the Pods of an estimate failed", "estimate", o.GetName())
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		if podGated(&list.Items[i]) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return reqs
}
