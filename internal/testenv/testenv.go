// Package testenv starts a real kube-apiserver and etcd (envtest) with ftcost's CRDs installed, for
// tests of everything the API server decides. The binaries come from bin/controlplane, built from
// the Go module proxy by hack/build-controlplane.sh (make controlplane), or from KUBEBUILDER_ASSETS.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/scheme"
)

// RepoRoot is the repository's top folder, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Env is a running control plane with a client for ftcost's types.
type Env struct {
	Env    *envtest.Environment
	Config *rest.Config
	Client client.Client
	Scheme *k8sruntime.Scheme
}

// Scheme returns a scheme with the built-in types and ftcost's.
func Scheme() *k8sruntime.Scheme { return scheme.New() }

// Start starts etcd and kube-apiserver with the CRDs of config/crd/bases installed. Call Stop when done.
func Start() (*Env, error) { return StartWith() }

// StartWith is Start with the CRDs of extraCRDDirs installed as well (e.g. Kueue's, from the module cache).
func StartWith(extraCRDDirs ...string) (*Env, error) {
	root := RepoRoot()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(root, "bin", "controlplane")
	}
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		return nil, fmt.Errorf("no kube-apiserver in %s: run 'make controlplane' (or 'make test') first: %w", assets, err)
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     append([]string{filepath.Join(root, "config", "crd", "bases")}, extraCRDDirs...),
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting envtest: %w", err)
	}
	s := Scheme()
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &Env{Env: env, Config: cfg, Client: c, Scheme: s}, nil
}

// Stop stops the control plane.
func (e *Env) Stop() error { return e.Env.Stop() }

// GVK of ftcost's kinds, for unstructured objects in tests.
var (
	FineTuneEstimateGVK = schema.GroupVersionKind{Group: ftv1.GroupVersion.Group, Version: ftv1.GroupVersion.Version, Kind: "FineTuneEstimate"}
	PriceCatalogGVK     = schema.GroupVersionKind{Group: ftv1.GroupVersion.Group, Version: ftv1.GroupVersion.Version, Kind: "PriceCatalog"}
)
