// Command local runs ftcost on an embedded control plane as the default install runs it: etcd and
// kube-apiserver from bin/controlplane (built by `make controlplane`), the CRDs, config/default's
// admission policies and the operator's RBAC installed, the manager in-process acting as its
// ServiceAccount with exactly that RBAC (it creates the default PriceCatalog, as in a cluster), and a
// kubeconfig written for kubectl (an administrator; `kubectl --as=alice` is a namespace editor of
// "ml", to try the gate as a team member would). It runs until interrupted, and exits non-zero as
// soon as the manager cannot start.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ftcost/ftcost/internal/manager"
	"github.com/ftcost/ftcost/internal/testenv"
	"github.com/ftcost/ftcost/internal/workload"
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
	_ = flag.Set("create-default-catalog", "true") // as config/manager deploys it
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "local: unexpected arguments %q (flags start with --)\n", flag.Args())
		os.Exit(2)
	}
	if err := run(ctrl.SetupSignalHandler(), opts, *assets, *crds, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, opts manager.Options, assets, crds, dir string) error {
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		return fmt.Errorf("no kube-apiserver in %s: run 'make controlplane' first", assets)
	}
	// Fail before starting anything when an address the manager must listen on is taken (another
	// demo, another program on 8080): the manager would otherwise fail after the control plane is up.
	if err := addressesFree(map[string]string{"--metrics-bind-address": opts.MetricsAddr,
		"--health-probe-bind-address": opts.ProbeAddr, "--pprof-bind-address": opts.PprofAddr}); err != nil {
		return err
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

	// The default install's admission policies and the manager's RBAC, and a namespace editor.
	c, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		return err
	}
	installed := &testenv.Env{Env: env, Config: cfg, Client: c, Scheme: testenv.Scheme()}
	if err := installed.InstallOperatorRBAC(ctx); err != nil {
		return fmt.Errorf("installing the operator's RBAC: %w", err)
	}
	if err := installed.InstallAdmissionPolicies(ctx); err != nil {
		return fmt.Errorf("installing the admission policies: %w", err)
	}
	if err := namespaceEditor(ctx, c, "ml", "alice"); err != nil {
		return err
	}
	mgr, err := manager.New(ctx, installed.AsOperator(), opts)
	if err != nil {
		return err
	}
	// "ftcost is running" (which hack/demo.sh waits for) only once the manager runs: its caches
	// synced and nothing failed to start.
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	select {
	case err := <-done:
		return fmt.Errorf("the manager did not start: %w", err)
	case <-mgr.Elected():
	}
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return fmt.Errorf("the manager's caches did not sync")
	}
	select {
	case err := <-done:
		return fmt.Errorf("the manager stopped: %w", err)
	default:
	}
	fmt.Printf(`
ftcost is running on a local control plane at %s
  export KUBECONFIG=%s
  kubectl apply -k config/samples
  kubectl get fte -o wide
  kubectl --as=alice -n ml ...   (a namespace editor, as a team member would try the gate)
Press Ctrl-C to stop.
`, cfg.Host, kcPath)
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("the manager stopped: %w", err)
	}
	return nil
}

// namespaceEditor creates namespace ns and gives user in it what the built-in "edit" role grants a
// team for its estimates and training work (an embedded control plane has no controller-manager to
// aggregate "edit" itself), as a platform team gives a team its namespace.
func namespaceEditor(ctx context.Context, c client.Client, ns, user string) error {
	all := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "local-team-edit"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"ftcost.io"}, Resources: []string{"finetuneestimates"}, Verbs: all},
		{APIGroups: []string{"batch"}, Resources: []string{"cronjobs"}, Verbs: all},
		{APIGroups: []string{"", "apps"}, Resources: []string{"pods", "deployments", "statefulsets"}, Verbs: all},
		{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"get", "list", "watch"}},
	}}
	for _, k := range workload.Kinds { // every gated kind
		role.Rules = append(role.Rules, rbacv1.PolicyRule{APIGroups: []string{k.GVK.Group}, Resources: []string{k.Resource}, Verbs: all})
	}
	objs := []client.Object{
		role,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: user + "-edit"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %s %s: %w", o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), err)
		}
	}
	return nil
}

// addressesFree fails naming the flag whose address something else listens on ("0" and "" are off).
func addressesFree(addrs map[string]string) error {
	for flagName, addr := range addrs {
		if addr == "" || addr == "0" {
			continue
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s=%s cannot be used: %w (another 'make demo' or program holds it; stop it, or pass another address, e.g. make demo ARGS=%s=127.0.0.1:18080)", flagName, addr, err, flagName)
		}
		_ = l.Close()
	}
	return nil
}
