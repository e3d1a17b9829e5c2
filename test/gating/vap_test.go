package gating

import (
	"encoding/json"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/workload"
)

// kueueServiceAccount is the user Kueue's controller runs as in its default install.
const kueueServiceAccount = "system:serviceaccount:kueue-system:kueue-controller-manager"

// TestGateHolds tries every bypass of the gate (issue 13) on every kind, as a user with edit rights
// and as the operator's own service account, against the policies config/default installs. Nothing
// but the operator clearing the switch of a labelled workload (or Kueue, of one with a queue name)
// gets through.
func TestGateHolds(t *testing.T) {
	operator, err := impersonating(gate.OperatorServiceAccount)
	if err != nil {
		t.Fatal(err)
	}
	kueueSA, err := impersonating(kueueServiceAccount)
	if err != nil {
		t.Fatal(err)
	}
	alice := asEditor(t)
	for _, file := range recipes {
		t.Run(file, func(t *testing.T) {
			g := NewWithT(t)
			ns := namespace(t)
			base, kind := recipe(t, file, ns)
			// "approved" would release anything labelled with it; "absent" never exists, so the gate
			// holds what names it.
			estimated(t, supportBot(ns, "approved", ftv1.PolicyEnforce))
			create := func(c client.Client, u *unstructured.Unstructured) *unstructured.Unstructured {
				g.Expect(c.Create(ctx, u)).To(Succeed())
				return u
			}
			held := create(alice, withEstimate(base, "absent"))
			waitFor(g, held, kind, isHeldWith("does not exist"))
			queued := withEstimate(base, "absent")
			queued.SetLabels(map[string]string{gate.EstimateLabel: "absent", "kueue.x-k8s.io/queue-name": "q"})
			create(alice, queued)
			g.Expect(kind.Suspended(current(g, queued))).To(BeTrue(), "a Kueue-labelled workload is held at creation too")

			denied := map[string]struct {
				c     client.Client
				obj   *unstructured.Unstructured
				patch string
			}{
				"user unsuspends":                            {alice, held, suspendPatch(kind, false)},
				"user removes the switch":                    {alice, held, suspendPatch(kind, nil)},
				"user relabels to an approved estimate":      {alice, held, `{"metadata":{"labels":{"ftcost.io/estimate":"approved"}}}`},
				"user removes the estimate label":            {alice, held, `{"metadata":{"labels":{"ftcost.io/estimate":null}}}`},
				"user hands it to Kueue":                     {alice, held, `{"metadata":{"labels":{"kueue.x-k8s.io/queue-name":"q"}}}`},
				"user unlabels and unsuspends at once":       {alice, held, mergePatches(`{"metadata":{"labels":{"ftcost.io/estimate":null}}}`, suspendPatch(kind, false))},
				"user unsuspends a Kueue-labelled workload":  {alice, queued, suspendPatch(kind, false)},
				"user drops the queue name of a held one":    {alice, queued, `{"metadata":{"labels":{"kueue.x-k8s.io/queue-name":null}}}`},
				"Kueue unsuspends one without a queue name":  {kueueSA, held, suspendPatch(kind, false)},
				"operator relabels":                          {operator, held, `{"metadata":{"labels":{"ftcost.io/estimate":"approved"}}}`},
				"operator adds a label":                      {operator, held, `{"metadata":{"labels":{"team":"ml"}}}`},
				"operator writes another annotation":         {operator, held, `{"metadata":{"annotations":{"team":"ml"}}}`},
				"operator changes the spec with the release": {operator, held, mergePatches(specChange(kind), suspendPatch(kind, false))},
				"operator adds a finalizer":                  {operator, held, `{"metadata":{"finalizers":["example.com/keep"]}}`},
			}
			for name, tc := range denied {
				t.Run("denied: "+name, func(t *testing.T) {
					err := patchAs(tc.c, tc.obj, tc.patch)
					NewWithT(t).Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
				})
			}

			running := withEstimate(base, "approved")
			running.SetLabels(nil)
			create(alice, running) // unlabelled: not held, not gated
			g.Expect(kind.Suspended(current(g, running))).To(BeFalse())
			t.Run("denied: operator suspends an unlabelled workload", func(t *testing.T) {
				err := patchAs(operator, running, suspendPatch(kind, true))
				NewWithT(t).Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
			})

			allowed := map[string]struct {
				c     client.Client
				obj   *unstructured.Unstructured
				patch string
			}{
				"user annotates a held workload":              {alice, held, `{"metadata":{"annotations":{"team":"ml"}}}`},
				"user suspends an unlabelled workload":        {alice, running, suspendPatch(kind, true)},
				"Kueue unsuspends a Kueue-labelled workload":  {kueueSA, queued, suspendPatch(kind, false)},
				"operator releases a labelled workload":       {operator, create(alice, withEstimate(base, "absent")), suspendPatch(kind, false)},
				"operator writes its annotations on one held": {operator, held, `{"metadata":{"annotations":{"ftcost.io/gate-message":"x"}}}`},
			}
			for name, tc := range allowed {
				t.Run("allowed: "+name, func(t *testing.T) {
					NewWithT(t).Expect(patchAs(tc.c, tc.obj, tc.patch)).To(Succeed())
				})
			}

			// After all that, the held workload is still held, on its own estimate.
			g.Consistently(func(g Gomega) {
				cur := current(g, held)
				g.Expect(kind.Suspended(cur)).To(BeTrue())
				g.Expect(cur.GetLabels()).To(HaveKeyWithValue(gate.EstimateLabel, "absent"))
			}).WithTimeout(500 * time.Millisecond).WithPolling(100 * time.Millisecond).Should(Succeed())
		})
	}
}

// specChange is a merge patch that changes something in the kind's spec other than its switch.
func specChange(kind workload.Kind) string {
	switch kind.GVK.Kind {
	case "PyTorchJob":
		return `{"spec":{"runPolicy":{"backoffLimit":7}}}`
	case "TrainJob":
		return `{"spec":{"trainer":{"image":"evil:latest"}}}`
	case "JobSet":
		return `{"spec":{"ttlSecondsAfterFinished":7}}`
	default:
		return `{"spec":{"backoffLimit":7}}`
	}
}

// mergePatches merges two JSON merge patches into one.
func mergePatches(a, b string) string {
	var ma, mb map[string]any
	if err := json.Unmarshal([]byte(a), &ma); err != nil {
		panic(err)
	}
	if err := json.Unmarshal([]byte(b), &mb); err != nil {
		panic(err)
	}
	var merge func(dst, src map[string]any)
	merge = func(dst, src map[string]any) {
		for k, v := range src {
			if sv, ok := v.(map[string]any); ok {
				if dv, ok := dst[k].(map[string]any); ok {
					merge(dv, sv)
					continue
				}
			}
			dst[k] = v
		}
	}
	merge(ma, mb)
	out, _ := json.Marshal(ma)
	return string(out)
}
