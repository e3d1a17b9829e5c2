package manager

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
)

// +kubebuilder:rbac:groups=ftcost.io,resources=pricecatalogs,verbs=create

// DefaultCatalog is a runnable that creates the PriceCatalog "default" (the built-in catalog) once,
// when the manager starts, if there is none. No install path applies a custom resource, so none
// waits on its CRD being established, and no uninstall owns the catalog: prices imported into it
// stay when the manager is removed. An existing catalog is never read or changed, and one deleted
// after the start stays deleted until the next start.
type DefaultCatalog struct {
	Client client.Client
	// Backoff bounds the retries while the CRD is not yet served or the API server refuses;
	// zero: from 1 s, doubling, up to about 2 minutes in all.
	Backoff wait.Backoff
}

// NeedLeaderElection: every replica may try; the API server lets one create and the others get
// AlreadyExists, which is success.
func (d *DefaultCatalog) NeedLeaderElection() bool { return false }

// Start creates the catalog, retrying until it exists or the backoff is spent. It returns nil when
// the backoff is spent (the manager keeps running; the error is logged): a missing default catalog
// makes estimates that rely on it report CatalogNotFound, which names the cause.
func (d *DefaultCatalog) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("default-catalog")
	b := d.Backoff
	if b.Steps == 0 {
		b = wait.Backoff{Duration: time.Second, Factor: 2, Steps: 8, Cap: 30 * time.Second}
	}
	var last error
	err := wait.ExponentialBackoffWithContext(ctx, b, func(ctx context.Context) (bool, error) {
		created, err := d.ensure(ctx)
		switch {
		case err != nil:
			last = err
			log.V(1).Info("retrying", "error", err.Error())
			return false, nil
		case created:
			log.Info("created the PriceCatalog from the built-in prices", "name", ftv1.DefaultCatalogName)
		}
		return true, nil
	})
	if err != nil && ctx.Err() == nil {
		log.Error(last, "could not create the PriceCatalog; estimates that name no catalog report CatalogNotFound until it exists", "name", ftv1.DefaultCatalogName)
	}
	return nil
}

// ensure creates the catalog unless it exists; created says whether this call made it.
func (d *DefaultCatalog) ensure(ctx context.Context) (created bool, err error) {
	pc := catalog.FromEngine(engine.BuiltinCatalog(), ftv1.DefaultCatalogName)
	switch err := d.Client.Create(ctx, pc); {
	case err == nil:
		return true, nil
	case apierrors.IsAlreadyExists(err):
		return false, nil
	default:
		return false, fmt.Errorf("creating PriceCatalog %q: %w", ftv1.DefaultCatalogName, err)
	}
}

var _ manager.Runnable = &DefaultCatalog{}
var _ manager.LeaderElectionRunnable = &DefaultCatalog{}
