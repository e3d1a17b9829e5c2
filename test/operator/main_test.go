// Package operator runs the manager binary as its own process against a real API server, with the
// identity and RBAC config/default deploys, and tests what only a running process shows: its metrics
// endpoint refuses scrapers the API server does not vouch for, and leadership passes quickly on a
// graceful shutdown.
package operator

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ftcost/ftcost/internal/testenv"
)

var (
	env        *testenv.Env
	ctx        context.Context
	managerBin string
	// kubeconfig authenticates as the operator's ServiceAccount.
	kubeconfig string
	workDir    string
)

func TestMain(m *testing.M) { testenv.Main(m, run) }

func run(suiteCtx context.Context, m *testing.M) (int, error) {
	ctx = suiteCtx
	var err error
	if workDir, err = os.MkdirTemp("", "ftcost-operator-"); err != nil {
		return 0, err
	}
	defer func() { _ = os.RemoveAll(workDir) }()
	if managerBin, err = testenv.BuildManager(workDir); err != nil {
		return 0, err
	}
	if env, err = testenv.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = env.Stop() }()
	if err := env.InstallOperatorRBAC(ctx); err != nil {
		return 0, err
	}
	token, err := env.ServiceAccountToken(ctx, testenv.OperatorNamespace, testenv.OperatorServiceAccountName)
	if err != nil {
		return 0, err
	}
	kubeconfig = filepath.Join(workDir, "kubeconfig")
	if err := env.WriteKubeconfig(kubeconfig, token); err != nil {
		return 0, err
	}
	return m.Run(), nil
}
