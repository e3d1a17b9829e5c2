// Package cli tests ftcost's cluster commands (get, chart, explain), in-process and as the kubectl
// plugin, against a real kube-apiserver: kubectl's connection flags (--kubeconfig, --context, -n,
// -A), the server's own Table of the CRD's printer columns, and kubectl's output formats. No
// controller runs; each estimate's status is the one evaluation.Evaluate gives, written as the operator
// would write it.
package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
	"github.com/ftcost/ftcost/internal/estimate"
	"github.com/ftcost/ftcost/internal/evaluation"
	"github.com/ftcost/ftcost/internal/testenv"
)

var (
	env *testenv.Env
	// kubeconfig has two contexts: "broken", the current one, points at a port nothing listens on,
	// so only commands that honour --context reach "envtest", whose namespace is team-a.
	kubeconfig string
	cacheDir   string
)

func TestMain(m *testing.M) {
	testenv.Main(m, func(ctx context.Context, m *testing.M) (int, error) {
		var err error
		if env, err = testenv.Start(); err != nil {
			return 0, err
		}
		defer func() { _ = env.Stop() }()
		dir, err := os.MkdirTemp("", "ftcost-cli-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		cacheDir = filepath.Join(dir, "cache")
		if kubeconfig, err = writeKubeconfig(dir); err != nil {
			return 0, err
		}
		if err := populate(ctx, env.Client); err != nil {
			return 0, err
		}
		return m.Run(), nil
	})
}

func writeKubeconfig(dir string) (string, error) {
	user, err := env.Env.AddUser(envtest.User{Name: "cli-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", err
	}
	raw, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	cfg, err := clientcmd.Load(raw)
	if err != nil {
		return "", err
	}
	good := cfg.Contexts[cfg.CurrentContext]
	cfg.Contexts = map[string]*clientcmdapi.Context{
		"envtest": {Cluster: good.Cluster, AuthInfo: good.AuthInfo, Namespace: "team-a"},
		"broken":  {Cluster: "nowhere", AuthInfo: good.AuthInfo},
	}
	cfg.Clusters["nowhere"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}
	cfg.CurrentContext = "broken"
	path := filepath.Join(dir, "kubeconfig")
	return path, clientcmd.WriteToFile(*cfg, path)
}

// The cluster's estimates:
//   - team-a/support-bot: the article's example 1, break-even 20.0, built-in prices.
//   - team-a/low-traffic: 100 requests a month, API cheaper, never breaks even.
//   - team-b/premium-bot: example 1 priced with PriceCatalog "premium" (H100 at 4.98), break-even 20.0.
func populate(ctx context.Context, c client.Client) error {
	for _, ns := range []string{"team-a", "team-b"} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return err
		}
	}
	premium := catalog.FromEngine(engine.BuiltinCatalog(), "premium")
	for i := range premium.Spec.Providers {
		if premium.Spec.Providers[i].Name == "runpod" {
			for j := range premium.Spec.Providers[i].GPUPrices {
				premium.Spec.Providers[i].GPUPrices[j].PricePerGPUHour = "4.98"
			}
		}
	}
	premium.TypeMeta = metav1.TypeMeta{}
	if err := c.Create(ctx, premium); err != nil {
		return err
	}
	low := testenv.SupportBot("team-a", "low-traffic")
	low.Spec.Usage.RequestsPerMonth = 100
	pb := testenv.SupportBot("team-b", "premium-bot")
	pb.Spec.PriceCatalogRef = "premium"
	pb.Labels = map[string]string{"tier": "premium"}
	pb.Spec.HorizonMonths = ptr.To[int32](24)
	for _, fte := range []*ftv1.FineTuneEstimate{testenv.SupportBot("team-a", "support-bot"), low, pb} {
		if err := c.Create(ctx, fte); err != nil {
			return err
		}
		if err := writeStatus(ctx, c, fte); err != nil {
			return err
		}
	}
	return nil
}

// writeStatus computes fte's status with the cluster's catalogs and writes it, as the operator does.
func writeStatus(ctx context.Context, c client.Client, fte *ftv1.FineTuneEstimate) error {
	get := func(name string) (*ftv1.PriceCatalog, bool, error) {
		pc := &ftv1.PriceCatalog{}
		err := c.Get(ctx, client.ObjectKey{Name: name}, pc)
		if client.IgnoreNotFound(err) != nil {
			return nil, false, err
		}
		return pc, err == nil, nil
	}
	pc, found, err := get(estimate.CatalogRef(&fte.Spec))
	if err != nil {
		return err
	}
	if !found {
		pc = nil
	}
	fte.Status = *evaluation.Evaluate(&evaluation.Inputs{Estimate: fte, Catalog: pc, Now: time.Now()}).Status
	return c.Status().Update(ctx, fte)
}
