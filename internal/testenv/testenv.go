// Package testenv starts a real kube-apiserver and etcd (envtest) with ftcost's CRDs installed, for
// tests of everything the API server decides. The binaries come from bin/controlplane, built from
// the Go module proxy by hack/build-controlplane.sh (make controlplane), or from KUBEBUILDER_ASSETS.
package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/yaml"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
	ftmanager "github.com/ftcost/ftcost/internal/manager"
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
		// On two busy cores (CI runs two test packages at once) kube-apiserver can take a minute.
		ControlPlaneStartTimeout: 3 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
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

// OperatorConfig installs the ClusterRole the operator is deployed with (config/rbac/role.yaml,
// generated from the controllers' RBAC markers), binds it to the operator's ServiceAccount (gate.OperatorServiceAccount), and returns a config
// that impersonates that user and nothing more, so a manager started with it proves the role is
// enough: the API server refuses anything the role does not grant.
func (e *Env) OperatorConfig(ctx context.Context) (*rest.Config, error) {
	data, err := os.ReadFile(filepath.Join(RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		return nil, err
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.UnmarshalStrict(data, role); err != nil {
		return nil, fmt.Errorf("config/rbac/role.yaml: %w", err)
	}
	role.Name = "ftcost-manager-role"
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "ftcost-manager-rolebinding"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: gate.OperatorServiceAccount}},
	}
	for _, o := range []client.Object{role, binding} {
		if err := e.Client.Create(ctx, o); err != nil {
			return nil, err
		}
	}
	return e.AsOperator(), nil
}

// RunManager starts mgr and waits for its caches. stop ends it and waits until it has; call it
// before Stop, or kube-apiserver waits on the manager's open watches when it shuts down.
func RunManager(ctx context.Context, mgr manager.Manager) (stop func(), err error) {
	mgrCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = mgr.Start(mgrCtx); close(done) }()
	stop = func() { cancel(); <-done }
	syncCtx, cancelSync := context.WithTimeout(ctx, 30*time.Second)
	defer cancelSync()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		stop()
		return nil, fmt.Errorf("the manager's cache did not sync")
	}
	return stop, nil
}

// RunOperator runs ftcost's manager with opts as the operator's ServiceAccount (exactly the
// ClusterRole config/ deploys it with), and returns its credentials and how to stop it.
func (e *Env) RunOperator(ctx context.Context, opts ftmanager.Options) (cfg *rest.Config, stop func(), err error) {
	if cfg, err = e.OperatorConfig(ctx); err != nil {
		return nil, nil, err
	}
	mgr, err := ftmanager.New(ctx, cfg, opts)
	if err != nil {
		return nil, nil, err
	}
	if stop, err = RunManager(ctx, mgr); err != nil {
		return nil, nil, err
	}
	return cfg, stop, nil
}

// Main is a suite's TestMain: it logs to stderr, runs run with a context cancelled afterwards, and
// exits with its code (1 when it fails to set the suite up).
func Main(m *testing.M, run func(ctx context.Context, m *testing.M) (int, error)) {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	ctx, cancel := context.WithCancel(context.Background())
	code, err := run(ctx, m)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}
