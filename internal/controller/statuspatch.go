package controller

import (
	"context"
	"encoding/json"
	"fmt"

	jsonpatch "github.com/evanphx/json-patch/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
)

// estimateStatusPatch is a JSON merge patch of an estimate's status alone, made against the status
// it had (from) and carrying that object's resourceVersion, so the API server refuses it when another
// writer came first, as client.MergeFromWithOptimisticLock does. It marshals and diffs the two
// statuses only, not both whole objects: the manager's CPU at a fan-out is mostly encoding and
// decoding (docs/benchmarks.md).
type estimateStatusPatch struct {
	from            ftv1.FineTuneEstimateStatus
	resourceVersion string
}

// patchStatus writes obj's status with the patch from prev's (statusPatchFrom) and asks the API
// server to answer with the estimate's metadata only (a PartialObjectMetadata): the reconcilers
// never read the answer, their cache brings the change, and decoding a whole estimate as the answer
// was a large share of the manager's CPU at a fan-out (docs/benchmarks.md, "The operator at scale").
// obj gets the new resourceVersion.
func patchStatus(ctx context.Context, c client.StatusClient, prev, obj *ftv1.FineTuneEstimate) error {
	data, err := statusPatchFrom(prev).Data(obj)
	if err != nil {
		return err
	}
	answer := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: obj.Namespace, Name: obj.Name}}
	answer.SetGroupVersionKind(ftv1.GroupVersion.WithKind("FineTuneEstimate"))
	if err := c.Status().Patch(ctx, answer, client.RawPatch(types.MergePatchType, data)); err != nil {
		return err
	}
	obj.ResourceVersion = answer.ResourceVersion
	return nil
}

// statusPatchFrom is the patch from prev's status to whatever status the patched object holds; prev
// (a copy taken before the change) must not change afterwards.
func statusPatchFrom(prev *ftv1.FineTuneEstimate) client.Patch {
	return &estimateStatusPatch{from: prev.Status, resourceVersion: prev.ResourceVersion}
}

func (p *estimateStatusPatch) Type() types.PatchType { return types.MergePatchType }

func (p *estimateStatusPatch) Data(obj client.Object) ([]byte, error) {
	e, ok := obj.(*ftv1.FineTuneEstimate)
	if !ok {
		return nil, fmt.Errorf("status patch of a FineTuneEstimate applied to a %T", obj)
	}
	from, err := json.Marshal(&p.from)
	if err != nil {
		return nil, err
	}
	to, err := json.Marshal(&e.Status)
	if err != nil {
		return nil, err
	}
	status, err := jsonpatch.CreateMergePatch(from, to)
	if err != nil {
		return nil, err
	}
	type metadata struct {
		ResourceVersion string `json:"resourceVersion"`
	}
	return json.Marshal(struct {
		Metadata metadata        `json:"metadata"`
		Status   json.RawMessage `json:"status"`
	}{metadata{p.resourceVersion}, status})
}
