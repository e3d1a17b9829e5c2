package controllers_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ftcost/ftcost/internal/manager"
	"github.com/ftcost/ftcost/internal/testenv"
)

// One control plane and one running manager for the suite, as a cluster would have.
var (
	env      *testenv.Env
	registry *prometheus.Registry
	ctx      context.Context
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	var cancel context.CancelFunc
	ctx, cancel = context.WithCancel(context.Background())
	code, err := run(m)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	var err error
	if env, err = testenv.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = env.Stop() }()
	registry = prometheus.NewRegistry()
	mgr, err := manager.New(ctx, env.Config, manager.Options{
		MetricsAddr: "0", ProbeAddr: "0", QPS: 50, Burst: 100, Concurrency: 4, Registry: registry,
	})
	if err != nil {
		return 0, err
	}
	mgrCtx, stopManager := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mgrCtx) }()
	// Stop the manager before the control plane: kube-apiserver otherwise waits on its open watches.
	defer func() { stopManager(); <-done }()
	syncCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		return 0, fmt.Errorf("the manager's cache did not sync")
	}
	return m.Run(), nil
}

func prometheusRegistry() *prometheus.Registry { return prometheus.NewRegistry() }
