// Command manager runs ftcost's controllers against the cluster of the current kubeconfig (or the
// in-cluster config).
package main

import (
	"flag"
	"os"
	"runtime"
	"runtime/debug"
	// The time zones of CostPolicy budgets (spec.budget.timeZone), whatever the image carries.
	_ "time/tzdata"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ftcost/ftcost/internal/logging"
	"github.com/ftcost/ftcost/internal/manager"
	"github.com/ftcost/ftcost/internal/version"
)

func main() {
	var opts manager.Options
	opts.BindFlags(flag.CommandLine)
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(logging.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")
	log.Info("ftcost manager", "version", version.Get(), "revision", version.Revision(), "go", runtime.Version())
	if limit, ok := manager.SoftMemoryLimit(os.Getenv); ok {
		debug.SetMemoryLimit(limit)
		log.Info("Soft memory limit set from the memory request", "bytes", limit)
	}

	ctx := ctrl.SetupSignalHandler()
	mgr, err := manager.New(ctx, ctrl.GetConfigOrDie(), opts)
	if err != nil {
		log.Error(err, "Unable to set up the manager")
		os.Exit(1)
	}
	log.Info("Starting the manager")
	if err := mgr.Start(ctx); err != nil {
		log.Error(err, "The manager stopped with an error")
		os.Exit(1)
	}
}
