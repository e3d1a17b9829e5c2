package dist

import (
	"flag"
	"fmt"
	"net"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/ftcost/ftcost/internal/manager"
)

// TestServiceMonitorScrapesTheManager renders the chart's ServiceMonitor and follows it as the
// Prometheus Operator would: its port names a port of the metrics Service, whose target is the
// container port the manager's --metrics-bind-address listens on (the chart's arguments parsed with
// the manager's own flags); its scheme is what --metrics-secure serves; it sends Prometheus's token
// over TLS and keeps the metrics' namespace label; and the API server (SubjectAccessReview) lets
// that ServiceAccount GET /metrics through the rendered binding.
func TestServiceMonitorScrapesTheManager(t *testing.T) {
	vals := map[string]any{}
	if err := yaml.Unmarshal([]byte(`metrics: {serviceMonitor: {enabled: true, prometheusServiceAccount: {name: kps-prometheus, namespace: observability}}}`), &vals); err != nil {
		t.Fatal(err)
	}
	objs, _ := render(t, "ftcost-system", vals)
	d, m := managerOf(t, objs)

	var opts manager.Options
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	opts.BindFlags(fs)
	if err := fs.Parse(d.Spec.Template.Spec.Containers[0].Args); err != nil {
		t.Fatalf("the chart's manager arguments: %v", err)
	}
	_, bindPort, err := net.SplitHostPort(opts.MetricsAddr)
	if err != nil {
		t.Fatalf("--metrics-bind-address=%q: %v", opts.MetricsAddr, err)
	}

	var sm monitoringv1.ServiceMonitor
	fromU(t, m[monitor], &sm)
	var svc corev1.Service
	fromU(t, m[service], &svc)
	if len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("ServiceMonitor endpoints %+v: want one", sm.Spec.Endpoints)
	}
	ep := sm.Spec.Endpoints[0]

	var svcPort *corev1.ServicePort
	for i, p := range svc.Spec.Ports {
		if p.Name == ep.Port {
			svcPort = &svc.Spec.Ports[i]
		}
	}
	if svcPort == nil {
		t.Fatalf("the ServiceMonitor scrapes port %q; the Service has %+v", ep.Port, svc.Spec.Ports)
	}
	var containerPort int32
	for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
		if (svcPort.TargetPort.Type == intstr.String && p.Name == svcPort.TargetPort.StrVal) ||
			(svcPort.TargetPort.Type == intstr.Int && p.ContainerPort == svcPort.TargetPort.IntVal) {
			containerPort = p.ContainerPort
		}
	}
	if containerPort == 0 || fmt.Sprint(containerPort) != bindPort {
		t.Errorf("Service port %q targets container port %d; the manager listens on %s", svcPort.Name, containerPort, opts.MetricsAddr)
	}

	wantScheme := "http"
	if opts.MetricsSecure {
		wantScheme = "https"
	}
	if ep.Scheme == nil || string(*ep.Scheme) != wantScheme {
		t.Errorf("ServiceMonitor scheme %v; the manager serves %s (--metrics-secure=%v)", ep.Scheme, wantScheme, opts.MetricsSecure)
	}
	if opts.MetricsSecure {
		//nolint:staticcheck // bearerTokenFile is deprecated but still read by Prometheus Operator; either way of passing the token passes.
		if ep.BearerTokenFile != "/var/run/secrets/kubernetes.io/serviceaccount/token" && ep.Authorization == nil {
			t.Errorf("the ServiceMonitor sends no token; the manager answers 401 without one")
		}
		if ep.TLSConfig == nil {
			t.Errorf("the ServiceMonitor has no tlsConfig for the manager's self-signed certificate")
		}
	}
	if !ep.HonorLabels {
		t.Errorf("honorLabels is off: the metrics' namespace label would become exported_namespace")
	}
	sel := sm.Spec.Selector.MatchLabels
	for k, v := range sel {
		if svc.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s, which the Service lacks", k, v)
		}
	}

	// The binding, on the API server: Prometheus's ServiceAccount may GET /metrics, and only that.
	var binding rbacv1.ClusterRoleBinding
	fromU(t, m["ClusterRoleBinding/ftcost-prometheus-metrics-reader"], &binding)
	if len(binding.Subjects) != 1 || binding.Subjects[0].Name != "kps-prometheus" || binding.Subjects[0].Namespace != "observability" {
		t.Fatalf("binding subjects %+v: want the ServiceAccount observability/kps-prometheus", binding.Subjects)
	}
	var role rbacv1.ClusterRole
	fromU(t, m["ClusterRole/"+binding.RoleRef.Name], &role)
	role.Name, binding.RoleRef.Name, binding.Name = "monitor-test-reader", "monitor-test-reader", "monitor-test-reader"
	role.ResourceVersion, binding.ResourceVersion = "", ""
	if err := env.Client.Create(ctx, &role); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Client.Delete(ctx, &role) }()
	if err := env.Client.Create(ctx, &binding); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Client.Delete(ctx, &binding) }()
	allowed := func(path string) bool {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:                  "system:serviceaccount:observability:kps-prometheus",
			Groups:                []string{"system:serviceaccounts", "system:authenticated"},
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: path, Verb: "get"},
		}}
		if err := env.Client.Create(ctx, sar); err != nil {
			t.Fatal(err)
		}
		return sar.Status.Allowed
	}
	// The API server's authorizer sees a new binding once its informer has: wait for it (a busy
	// machine takes a moment), then ask for what it must not grant.
	deadline := time.Now().Add(30 * time.Second)
	for !allowed("/metrics") {
		if time.Now().After(deadline) {
			t.Fatal("Prometheus's ServiceAccount may not GET /metrics, 30 s after the binding was created")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if allowed("/debug/pprof/") {
		t.Error("Prometheus's ServiceAccount may GET /debug/pprof/: the binding grants more than /metrics")
	}
}
