// Package faults runs the manager as a separate process (the binary cmd/manager builds) against a
// real kube-apiserver and hurts it: SIGKILL in the middle of a batch, two replicas with leader
// election and the leader killed, and many writers changing one spec at once. Every test checks that
// nothing is lost or regresses: each estimate ends with the status the CLI computes for it.
package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/evaluation"
	"github.com/ftcost/ftcost/internal/testenv"
)

var (
	env        *testenv.Env
	ctx        context.Context
	managerBin string
	kubeconfig string
)

func TestMain(m *testing.M) { testenv.Main(m, run) }

func run(suiteCtx context.Context, m *testing.M) (int, error) {
	ctx = suiteCtx
	dir, err := os.MkdirTemp("", "ftcost-faults-")
	if err != nil {
		return 0, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	managerBin = filepath.Join(dir, "manager")
	build := exec.CommandContext(ctx, "go", "build", "-o", managerBin, "./cmd/manager")
	build.Dir = testenv.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("building the manager: %v\n%s", err, out)
	}
	if env, err = testenv.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = env.Stop() }()
	admin, err := env.Env.AddUser(envtest.User{Name: "faults-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return 0, err
	}
	data, err := admin.KubeConfig()
	if err != nil {
		return 0, err
	}
	kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, data, 0o600); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// process is a manager running as its own OS process.
type process struct{ cmd *exec.Cmd }

// startManager runs the manager binary; it is SIGKILLed when the test ends if still running.
func startManager(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(managerBin, append([]string{"--kubeconfig", kubeconfig, "--metrics-bind-address=0",
		"--health-probe-bind-address=0", "--enable-job-gate=false"}, args...)...)
	logs, err := os.Create(filepath.Join(t.TempDir(), "manager.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd}
	t.Cleanup(func() { p.kill(); _ = logs.Close() })
	return p
}

// kill sends SIGKILL: no deferred cleanup, no lease release, no graceful shutdown.
func (p *process) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

func namespace(g Gomega) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "faults-"}}
	g.Expect(env.Client.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// estimates returns n distinct estimates (examples vary, so figures differ).
func estimates(ns string, n int) []*ftv1.FineTuneEstimate {
	out := make([]*ftv1.FineTuneEstimate, n)
	for i := range out {
		o := testenv.SupportBot(ns, fmt.Sprintf("e-%03d", i))
		o.Spec.Dataset.Examples = int64(1000 + 97*i)
		out[i] = o
	}
	return out
}

// offline is what the CLI computes for obj (no PriceCatalog objects exist here: the built-in prices).
func offline(g Gomega, obj *ftv1.FineTuneEstimate) *ftv1.FineTuneEstimateStatus {
	return evaluation.Evaluate(&evaluation.Inputs{Estimate: obj, Now: time.Now()}).Status
}

var ignoreTimes = cmpopts.IgnoreFields(metav1.Condition{}, "LastTransitionTime")

// settled waits until every estimate of ns is estimated for its generation and equals the CLI's
// figures; it returns how many differ at the deadline (0 on success).
func settled(g Gomega, ns string, n int, within time.Duration) {
	g.Eventually(func(g Gomega) {
		list := &ftv1.FineTuneEstimateList{}
		g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		g.Expect(list.Items).To(HaveLen(n))
		differ := 0
		for i := range list.Items {
			o := &list.Items[i]
			if o.Status.ObservedGeneration != o.Generation || cmp.Diff(*offline(g, o), o.Status, ignoreTimes) != "" {
				differ++
			}
		}
		g.Expect(differ).To(BeZero(), "estimates that differ from the CLI")
	}).WithTimeout(within).WithPolling(250 * time.Millisecond).Should(Succeed())
}

func countEstimated(g Gomega, ns string) int {
	list := &ftv1.FineTuneEstimateList{}
	g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	done := 0
	for _, o := range list.Items {
		if o.Status.ObservedGeneration == o.Generation {
			done++
		}
	}
	return done
}

// SIGKILL in the middle of a batch loses nothing: the restarted manager estimates the rest, and every
// estimate ends equal to what the CLI computes.
func TestSIGKILLMidBatch(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(g)
	const n = 300
	first := startManager(t)
	for _, o := range estimates(ns, n) {
		g.Expect(env.Client.Create(ctx, o)).To(Succeed())
	}
	g.Eventually(func(g Gomega) int { return countEstimated(g, ns) }).WithTimeout(2*time.Minute).
		WithPolling(20*time.Millisecond).Should(BeNumerically(">=", 1), "the first manager starts estimating")
	first.kill()
	t.Logf("killed the manager with %d of %d estimated", countEstimated(g, ns), n)
	startManager(t)
	settled(g, ns, n, 3*time.Minute)
}

// Two replicas elect a leader; SIGKILL the leader and the other takes over within the Lease's
// duration (15 s), estimating what was created meanwhile.
func TestLeaderFailover(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(g)
	args := []string{"--leader-elect", "--leader-election-namespace=" + ns}
	leader := startManager(t, args...)
	lease := &coordinationv1.Lease{}
	g.Eventually(func() error {
		return env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "manager.ftcost.io"}, lease)
	}).WithTimeout(time.Minute).Should(Succeed(), "the first replica takes the Lease")
	holder := *lease.Spec.HolderIdentity
	startManager(t, args...) // the standby
	before := estimates(ns, 1)[0]
	g.Expect(env.Client.Create(ctx, before)).To(Succeed())
	settled(g, ns, 1, time.Minute)

	leader.kill()
	after := testenv.SupportBot(ns, "after-failover")
	g.Expect(env.Client.Create(ctx, after)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(lease), lease)).To(Succeed())
		g.Expect(*lease.Spec.HolderIdentity).NotTo(Equal(holder))
	}).WithTimeout(time.Minute).Should(Succeed(), "the standby takes the Lease")
	settled(g, ns, 2, time.Minute)
}

// Many writers (10 x 30 patches) change one spec at once: status.observedGeneration never goes backwards, and the last
// generation ends estimated with the CLI's figures.
func TestConcurrentWritersNeverRegress(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(g)
	startManager(t)
	obj := testenv.SupportBot(ns, "contended")
	g.Expect(env.Client.Create(ctx, obj)).To(Succeed())
	key := client.ObjectKeyFromObject(obj)

	watcher, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	w, err := watcher.Watch(ctx, &ftv1.FineTuneEstimateList{}, client.InNamespace(ns))
	g.Expect(err).NotTo(HaveOccurred())
	defer w.Stop()
	var seen []int64
	var mu sync.Mutex
	go func() {
		for ev := range w.ResultChan() {
			if o, ok := ev.Object.(*ftv1.FineTuneEstimate); ok {
				mu.Lock()
				seen = append(seen, o.Status.ObservedGeneration)
				mu.Unlock()
			}
		}
	}()

	const writers, writes = 10, 30
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			for j := range writes {
				// A merge patch, as kubectl patch sends it: no resourceVersion, so every write lands.
				o := &ftv1.FineTuneEstimate{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
				patch := fmt.Appendf(nil, `{"spec":{"dataset":{"examples":%d}}}`, 1000+i*writes+j)
				if err := env.Client.Patch(ctx, o, client.RawPatch(types.MergePatchType, patch)); err != nil {
					t.Errorf("writer %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
	settled(g, ns, 1, time.Minute)
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(seen); i++ {
		g.Expect(seen[i]).To(BeNumerically(">=", seen[i-1]), "observedGeneration went back from %d to %d", seen[i-1], seen[i])
	}
	t.Logf("%d watch events, observedGeneration %d at the end", len(seen), seen[len(seen)-1])
}
