package gating

import (
	"testing"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftcost/ftcost/internal/gate"
)

// patchAs sends a JSON merge patch to the Job as the client's user.
func patchAs(c client.Client, j *batchv1.Job, patch string) error {
	return c.Patch(ctx, &batchv1.Job{ObjectMeta: j.ObjectMeta}, client.RawPatch(types.MergePatchType, []byte(patch)))
}

const unsuspend = `{"spec":{"suspend":false}}`

// TestSuspendPolicy proves config/vap: on a Job labelled ftcost.io/estimate, only the operator's
// service account may clear spec.suspend or relabel it while suspended; everything else is unchanged.
func TestSuspendPolicy(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	alice, err := impersonating("alice")
	g.Expect(err).NotTo(HaveOccurred())
	operator, err := impersonating(gate.OperatorServiceAccount)
	g.Expect(err).NotTo(HaveOccurred())

	// No estimate "absent" exists, so the gate holds these Jobs.
	held := job(t, ns, gated("absent"), true)
	// The policy takes effect once the API server has loaded it.
	g.Eventually(func() error { return patchAs(alice, held, unsuspend) }).WithTimeout(timeout).Should(
		WithTransform(apierrors.IsForbidden, BeTrue()))
	err = patchAs(alice, held, unsuspend)
	g.Expect(err).To(MatchError(ContainSubstring(`cleared by the ftcost operator (` + gate.OperatorServiceAccount + `)`)))

	denied := map[string]string{
		"unsuspend by nulling the field": `{"spec":{"suspend":null}}`,
		"remove the estimate label":      `{"metadata":{"labels":{"ftcost.io/estimate":null}}}`,
		"point at another estimate":      `{"metadata":{"labels":{"ftcost.io/estimate":"cheaper"}}}`,
		"hand it to Kueue":               `{"metadata":{"labels":{"kueue.x-k8s.io/queue-name":"q"}}}`,
		"remove the label and unsuspend": `{"metadata":{"labels":{"ftcost.io/estimate":null}},"spec":{"suspend":false}}`,
	}
	for name, p := range denied {
		t.Run("denied: "+name, func(t *testing.T) {
			err := patchAs(alice, held, p)
			g := NewWithT(t)
			g.Expect(err).To(WithTransform(apierrors.IsForbidden, BeTrue()))
			g.Expect(err).To(MatchError(ContainSubstring("ValidatingAdmissionPolicy 'ftcost-job-suspend-gate'")))
		})
	}
	allowed := map[string]struct {
		c     client.Client
		job   *batchv1.Job
		patch string
	}{
		"anyone annotates a held Job":           {alice, held, `{"metadata":{"annotations":{"team":"ml"}}}`},
		"anyone unsuspends an unlabelled Job":   {alice, job(t, ns, nil, true), unsuspend},
		"anyone unsuspends a Kueue-managed Job": {alice, job(t, ns, map[string]string{gate.EstimateLabel: "absent", "kueue.x-k8s.io/queue-name": "q"}, true), unsuspend},
		"anyone suspends a running gated Job":   {alice, job(t, ns, gated("absent"), false), `{"spec":{"suspend":true}}`},
		"the operator unsuspends a held Job":    {operator, job(t, ns, gated("absent"), true), unsuspend},
	}
	for name, tc := range allowed {
		t.Run("allowed: "+name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(patchAs(tc.c, tc.job, tc.patch)).To(Succeed())
		})
	}
	cur := &batchv1.Job{}
	g.Expect(k.Get(ctx, key(held), cur)).To(Succeed())
	g.Expect(ptr.Deref(cur.Spec.Suspend, false)).To(BeTrue())
	g.Expect(cur.Labels).To(HaveKeyWithValue(gate.EstimateLabel, "absent"))
}
