package controller_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"

	"github.com/ftcost/ftcost/internal/manager"
	"github.com/ftcost/ftcost/internal/testenv"
)

// spendInterval is the suite manager's --spend-interval.
const spendInterval = 2 * time.Second

// One control plane and one running manager for the suite, as a cluster would have.
var (
	env *testenv.Env
	// operatorConfig impersonates the operator's ServiceAccount, bound to config/rbac/role.yaml only.
	operatorConfig *rest.Config
	registry       *prometheus.Registry
	ctx            context.Context
)

func TestMain(m *testing.M) { testenv.Main(m, run) }

func run(suiteCtx context.Context, m *testing.M) (int, error) {
	ctx = suiteCtx
	var err error
	if env, err = testenv.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = env.Stop() }()
	registry = prometheus.NewRegistry()
	// The manager runs with exactly the ClusterRole config/ deploys it with.
	var stop func()
	operatorConfig, stop, err = env.RunOperator(ctx, manager.Options{
		MetricsAddr: "0", ProbeAddr: "0", QPS: 50, Burst: 100, Concurrency: 4, Registry: registry,
		// Without Kueue's CRDs: the gate holds work with a queue name itself (TestQueueNameWithoutKueue).
		EnableJobGate: true,
		// Accrued spend written every 2 s rather than every minute (TestLiveSpend*).
		SpendInterval: spendInterval,
	})
	if err != nil {
		return 0, err
	}
	defer stop()
	return m.Run(), nil
}
