// Command local runs ftcost on an embedded control plane: etcd and kube-apiserver from
// bin/controlplane (built by `make controlplane`), the CRDs and the default PriceCatalog installed,
// the manager in-process, and a kubeconfig written for kubectl. It runs until interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/catalog"
	"github.com/ftcost/ftcost/internal/manager"
	"github.com/ftcost/ftcost/internal/scheme"
)

func main() {
	var opts manager.Options
	opts.BindFlags(flag.CommandLine)
	assets := flag.String("assets-dir", "bin/controlplane", "Folder holding kube-apiserver and etcd.")
	crds := flag.String("crd-dir", "config/crd/bases", "Folder holding the CRDs to install.")
	dir := flag.String("local-dir", "bin/local", "Folder the kubeconfig is written to.")
	zapOpts := zap.Options{Development: true}
	zapOpts.BindFlags(flag.CommandLine)
	// Locally, serve metrics on loopback only, as plain HTTP (nobody else can reach them, and curl
	// needs no token), and skip the probes a kubelet would call.
	_ = flag.Set("metrics-bind-address", "127.0.0.1:8080")
	_ = flag.Set("metrics-secure", "false")
	_ = flag.Set("health-probe-bind-address", "0")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	if err := run(ctrl.SetupSignalHandler(), opts, *assets, *crds, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, opts manager.Options, assets, crds, dir string) error {
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		return fmt.Errorf("no kube-apiserver in %s: run 'make controlplane' first", assets)
	}
	env := &envtest.Environment{CRDDirectoryPaths: []string{crds}, ErrorIfCRDPathMissing: true, BinaryAssetsDirectory: assets}
	fmt.Println("Starting etcd and kube-apiserver from", assets)
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("starting the control plane: %w", err)
	}
	defer func() {
		fmt.Println("Stopping the control plane")
		_ = env.Stop()
	}()

	user, err := env.AddUser(envtest.User{Name: "ftcost-local-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("creating a local user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	kcPath, _ := filepath.Abs(filepath.Join(dir, "kubeconfig"))
	if err := os.WriteFile(kcPath, kubeconfig, 0o600); err != nil {
		return err
	}

	c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		return err
	}
	if err := c.Create(ctx, catalog.FromEngine(engine.BuiltinCatalog(), "default")); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("installing the default PriceCatalog: %w", err)
	}

	mgr, err := manager.New(ctx, cfg, opts)
	if err != nil {
		return err
	}
	fmt.Printf(`
ftcost is running on a local control plane at %s
  export KUBECONFIG=%s
  kubectl apply -k config/samples
  kubectl get fte -o wide
Press Ctrl-C to stop.
`, cfg.Host, kcPath)
	if err := mgr.Start(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
