package testenv

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ftcost/ftcost/internal/gate"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	kresource "sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// OperatorNamespace and OperatorServiceAccountName are where config/default deploys the manager.
const (
	OperatorNamespace          = "ftcost-system"
	OperatorServiceAccountName = "ftcost-controller-manager"
)

// BuildManager builds cmd/manager into dir and returns the binary's path.
func BuildManager(dir string) (string, error) {
	bin := filepath.Join(dir, "manager")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/manager")
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/manager: %v\n%s", err, out)
	}
	return bin, nil
}

// renderDefault is config/default rendered with kustomize, as deployed.
func renderDefault() ([]*kresource.Resource, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(RepoRoot(), "config", "default"))
	if err != nil {
		return nil, fmt.Errorf("kustomize build config/default: %w", err)
	}
	return m.Resources(), nil
}

// InstallOperatorRBAC creates what config/default deploys for the manager's identity: its Namespace,
// ServiceAccount, (Cluster)Roles and bindings, rendered with kustomize exactly as deployed. A
// manager run with OperatorToken then has the permissions of a real install, and no more.
func (e *Env) InstallOperatorRBAC(ctx context.Context) error {
	want := map[string]bool{"Namespace": true, "ServiceAccount": true, "ClusterRole": true,
		"ClusterRoleBinding": true, "Role": true, "RoleBinding": true}
	return e.installDefault(ctx, func(r *kresource.Resource) bool { return want[r.GetKind()] })
}

// InstallAdmissionPolicies creates config/default's admission policies and their bindings, rendered
// with kustomize as deployed (the operator's ServiceAccount filled in).
func (e *Env) InstallAdmissionPolicies(ctx context.Context) error {
	return e.installDefault(ctx, func(r *kresource.Resource) bool { return r.GetGvk().Group == "admissionregistration.k8s.io" })
}

// installDefault creates the objects of config/default that keep says yes to, Namespaces first (the
// rest live in them); one that exists already is left as it is.
func (e *Env) installDefault(ctx context.Context, keep func(*kresource.Resource) bool) error {
	rs, err := renderDefault()
	if err != nil {
		return err
	}
	slices.SortStableFunc(rs, func(a, b *kresource.Resource) int {
		return cmpBool(b.GetKind() == "Namespace", a.GetKind() == "Namespace")
	})
	for _, r := range rs {
		if !keep(r) {
			continue
		}
		data, err := r.Map()
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{Object: data}
		if err := e.Client.Create(ctx, u); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
	return nil
}

// AsOperator is e's config acting as the operator's ServiceAccount (gate.OperatorServiceAccount),
// with the groups a ServiceAccount's token carries.
func (e *Env) AsOperator() *rest.Config {
	cfg := rest.CopyConfig(e.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: gate.OperatorServiceAccount,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ftcost-system", "system:authenticated"}}
	return cfg
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// ServiceAccountToken creates namespace/name (and the namespace) if missing and returns a token
// for it from the TokenRequest API, as a pod's projected token would be.
func (e *Env) ServiceAccountToken(ctx context.Context, namespace, name string) (string, error) {
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}},
	} {
		if err := e.Client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return "", err
		}
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](24 * 3600)}}
	if err := e.Client.SubResource("token").Create(ctx, sa, tr); err != nil {
		return "", fmt.Errorf("requesting a token for %s/%s: %w", namespace, name, err)
	}
	return tr.Status.Token, nil
}

// TokenConfig is a client config for the API server that authenticates with token only.
func (e *Env) TokenConfig(token string) *rest.Config {
	return &rest.Config{Host: e.Config.Host, BearerToken: token,
		TLSClientConfig: rest.TLSClientConfig{CAData: e.Config.CAData}}
}

// WriteKubeconfig writes a kubeconfig for the API server that authenticates with token.
func (e *Env) WriteKubeconfig(path, token string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: e.Config.Host, CertificateAuthorityData: e.Config.CAData}
	kc.AuthInfos["user"] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "user"}
	kc.CurrentContext = "local"
	return clientcmd.WriteToFile(*kc, path)
}

// FreeAddr returns a loopback address with a port nobody listens on now.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// Process is a manager binary running as its own process.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// StartProcess runs bin with args and the kubeconfig, logging to logPath.
func StartProcess(bin, kubeconfig, logPath string, args ...string) (*Process, error) {
	return StartProcessWithEnv(bin, kubeconfig, logPath, nil, args...)
}

// StartProcessWithEnv is StartProcess with env ("NAME=value") added to the process's environment
// only, e.g. the Go runtime settings a Deployment gives the manager; the control plane's processes
// do not see them.
func StartProcessWithEnv(bin, kubeconfig, logPath string, env []string, args ...string) (*Process, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+kubeconfig), env...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, err
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); _ = log.Close(); close(p.done) }()
	return p, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.done }

// Stop sends SIGTERM (a graceful shutdown) and waits up to timeout, then kills the process.
func (p *Process) Stop(timeout time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("manager did not stop within %v of SIGTERM", timeout)
	}
}

// PeakRSS is the process's peak resident set size so far (VmHWM), in bytes.
func (p *Process) PeakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// CPUTime is the CPU time (user and system) the process has used so far.
func (p *Process) CPUTime() (time.Duration, error) { return CPUTimeOf(p.Pid()) }

// CPUTimeOf is the CPU time (user and system) process pid has used so far.
func CPUTimeOf(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100, nil // USER_HZ is 100 on Linux
}

// Insecure is an HTTP client for the manager's self-signed metrics certificate.
var Insecure = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
	TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the manager's self-signed test certificate
}}

// Get fetches url with a bearer token (none when empty) and returns the status code and body.
func Get(ctx context.Context, url, token string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := Insecure.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// MachineCPU is the CPU time all processes have used (busy) and all cores have had (total, busy
// plus idle, I/O wait and steal) since boot, from /proc/stat: how busy the machine was between two reads.
func MachineCPU() (busy, total time.Duration, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("unexpected /proc/stat: %q", line)
	}
	var jiffies [8]int64
	for i := range jiffies {
		if jiffies[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %w", err)
		}
	}
	idle := jiffies[3] + jiffies[4] + jiffies[7] // idle, iowait, and time stolen by the hypervisor
	var all int64
	for _, j := range jiffies {
		all += j
	}
	return time.Duration(all-idle) * time.Second / 100, time.Duration(all) * time.Second / 100, nil
}

// ManagerEnv is the environment config/default's Deployment gives the manager container, each
// resourceFieldRef resolved from the container's resources as the kubelet resolves it (in bytes or
// cores, rounded up to the divisor; an unset request is 0; an unset limit, which the kubelet reads
// as the node's allocatable, is an error here): what the manager runs with in a cluster, for a
// manager started with StartProcessWithEnv.
func ManagerEnv() ([]string, error) {
	rs, err := renderDefault()
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if r.GetKind() != "Deployment" {
			continue
		}
		data, err := r.AsYAML()
		if err != nil {
			return nil, err
		}
		var d appsv1.Deployment
		if err := yaml.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("the Deployment %s: %w", r.GetName(), err)
		}
		for i := range d.Spec.Template.Spec.Containers {
			if c := &d.Spec.Template.Spec.Containers[i]; c.Name == "manager" {
				return containerEnv(c)
			}
		}
	}
	return nil, errors.New("config/default has no Deployment with a container named manager")
}

func containerEnv(c *corev1.Container) ([]string, error) {
	env := make([]string, 0, len(c.Env))
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		case e.ValueFrom.ResourceFieldRef != nil:
			v, err := resourceValue(c, e.ValueFrom.ResourceFieldRef)
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			}
			env = append(env, e.Name+"="+v)
		default:
			// fieldRef and the like name the pod; a process has none.
		}
	}
	return env, nil
}

// resourceValue is a container's requests.memory or limits.memory (or cpu) over the divisor,
// rounded up.
func resourceValue(c *corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	kind, name, ok := strings.Cut(ref.Resource, ".")
	var list corev1.ResourceList
	switch kind {
	case "requests":
		list = c.Resources.Requests
	case "limits":
		list = c.Resources.Limits
	}
	q, found := list[corev1.ResourceName(name)]
	switch {
	case !ok || (kind != "requests" && kind != "limits"):
		return "", fmt.Errorf("resourceFieldRef %q: not requests.<name> or limits.<name>", ref.Resource)
	case !found && kind == "requests":
		// A request the container does not set (nor a limit, which would default it) reads as 0.
		return "0", nil
	case !found:
		// The kubelet gives the node's allocatable, which a process here does not have.
		return "", fmt.Errorf("resourceFieldRef %q: the container sets no such limit", ref.Resource)
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if name == "cpu" {
		return strconv.FormatInt((q.MilliValue()+divisor.MilliValue()-1)/divisor.MilliValue(), 10), nil
	}
	return strconv.FormatInt((q.Value()+divisor.Value()-1)/divisor.Value(), 10), nil
}
