package operator

import (
	"path/filepath"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ftcost/ftcost/internal/testenv"
)

// leaseDuration is controller-runtime's default: how long a standby waits for a Lease that was not
// released.
const leaseDuration = 15 * time.Second

// TestLeaderHandover stops the leader gracefully with a standby running and measures how long the
// standby takes to lead: it must not wait for the Lease to expire.
func TestLeaderHandover(t *testing.T) {
	args := []string{"--leader-elect", "--leader-election-namespace=" + testenv.OperatorNamespace,
		"--metrics-bind-address=0", "--health-probe-bind-address=0"}
	first, err := testenv.StartProcess(managerBin, kubeconfig, filepath.Join(workDir, "leader-1.log"), args...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = first.Stop(30 * time.Second) }()
	leader := waitHolder(t, "", 60*time.Second)

	second, err := testenv.StartProcess(managerBin, kubeconfig, filepath.Join(workDir, "leader-2.log"), args...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = second.Stop(30 * time.Second) }()
	// Let the standby start and find the Lease taken.
	time.Sleep(3 * time.Second)
	if h := holder(t); h != leader {
		t.Fatalf("the Lease moved to %q while its holder %q ran", h, leader)
	}

	stopped := time.Now()
	if err := first.Stop(30 * time.Second); err != nil {
		t.Fatalf("the leader did not stop cleanly: %v", err)
	}
	exited := time.Since(stopped)
	next := waitHolder(t, leader, 2*leaseDuration)
	handover := time.Since(stopped)
	t.Logf("Handover: the leader exited %v after SIGTERM; %q led %v after SIGTERM", exited.Round(time.Millisecond), next, handover.Round(time.Millisecond))
	if handover >= leaseDuration {
		t.Errorf("handover took %v, as long as waiting out the %v Lease: it was not released", handover, leaseDuration)
	}
}

// holder is the Lease's holder now ("" when released).
func holder(t *testing.T) string {
	t.Helper()
	l := &coordinationv1.Lease{}
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: testenv.OperatorNamespace, Name: "manager.ftcost.io"}, l); err != nil {
		return ""
	}
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// waitHolder waits until someone other than not (and not nobody) holds the Lease.
func waitHolder(t *testing.T, not string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if h := holder(t); h != "" && h != not {
			return h
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no new holder of Lease manager.ftcost.io within %v", timeout)
	return ""
}
