package controllers_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ftcost/ftcost/internal/manager"
	"github.com/ftcost/ftcost/internal/testenv"
)

// One control plane and one running manager for the suite, as a cluster would have.
var (
	env *testenv.Env
	// operatorConfig impersonates the operator's ServiceAccount, bound to config/rbac/role.yaml only.
	operatorConfig *rest.Config
	registry       *prometheus.Registry
	ctx            context.Context
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
	// The manager runs with exactly the ClusterRole config/ deploys it with.
	if operatorConfig, err = env.OperatorConfig(ctx); err != nil {
		return 0, err
	}
	mgr, err := manager.New(ctx, operatorConfig, manager.Options{
		MetricsAddr: "0", ProbeAddr: "0", QPS: 50, Burst: 100, Concurrency: 4, Registry: registry,
	})
	if err != nil {
		return 0, err
	}
	stop, err := testenv.RunManager(ctx, mgr)
	if err != nil {
		return 0, err
	}
	defer stop()
	return m.Run(), nil
}

func prometheusRegistry() *prometheus.Registry { return prometheus.NewRegistry() }
