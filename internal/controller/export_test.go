package controller

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftcost/ftcost/internal/budget"
	"github.com/ftcost/ftcost/internal/gate"
)

// PatchStatus is patchStatus, for the envtest suite.
var PatchStatus = patchStatus

// CommitBudgets is commitBudgets with no older held workloads, for the envtest suite.
func CommitBudgets(ctx context.Context, c client.Client, req budget.Request) (*gate.Decision, error) {
	return commitBudgets(ctx, c, req, nil)
}
