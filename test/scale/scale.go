// Package scale measures the operator at scale against a plain client, on the local control plane
// from bin/: the manager runs as its own process (the built cmd/manager, with its default flags and
// the identity config/default deploys) so its CPU profile and peak RSS are its own. `make bench`
// runs it (TestBench); TestSmoke runs it on a handful of estimates in `make test`.
package scale

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/estimate"
	"github.com/ftcost/ftcost/internal/evaluation"
	"github.com/ftcost/ftcost/internal/testenv"
)

// Config says what to measure.
type Config struct {
	// N estimates per phase, Rounds repetitions, Workers client goroutines (the baseline's and the
	// creator's).
	N, Rounds, Workers int
	// ManagerArgs are added to the manager's flags; empty runs its defaults.
	ManagerArgs []string
	// ManagerEnv is added to the manager process's environment ("NAME=value"), after what
	// config/default's Deployment sets (testenv.ManagerEnv), so it overrides that.
	ManagerEnv []string
	// SyncPeriod is the restarted manager's --sync-period, the "forced resync" of the quiet phase.
	SyncPeriod time.Duration
	// Profile takes CPU profiles of the manager during the first round's convergence and fan-out,
	// and of kube-apiserver during its patch baseline, convergence and fan-out.
	Profile bool
	// Dir receives the manager logs and the profile.
	Dir string
	// Log receives progress lines.
	Log io.Writer
}

// Round is one round's measurements.
type Round struct {
	// Baseline: a plain client creating N estimates and patching each status once; BaselinePatch:
	// the same client patching N statuses (what a catalog change costs at least).
	Baseline, BaselinePatch time.Duration
	// Converge: N estimates created at once until all are Ready at their generation, the manager
	// already running.
	Converge time.Duration
	// ConvergeCPU, FanOutCPU: the manager's CPU time (user and system) in those phases.
	ConvergeCPU, FanOutCPU time.Duration
	// RestartReconciles, RestartWrites: what a restarted manager did with N converged estimates;
	// ResyncReconciles, ResyncWrites: what it did during a forced resync afterwards.
	RestartReconciles, RestartWrites, ResyncReconciles, ResyncWrites int
	// QuietModified: changes to the estimates a watch saw from the restart to after the resync, plus
	// the objects of the quiet states (StatesNamespace, the Stale catalog) whose resourceVersion moved.
	QuietModified int
	// FanOut: one catalog price change until all N estimates carry the new catalog generation.
	FanOut time.Duration
	// PeakRSS: the larger of the two manager processes' peak resident set size.
	PeakRSS int64
	// SoftMemoryLimit: the restarted manager's Go soft memory limit, in bytes.
	SoftMemoryLimit float64
	// BaselinePatchBusy, FanOutBusy: the share of the machine's CPU time that was busy (all
	// processes: the control plane, the manager, this client) during those phases.
	BaselinePatchBusy, FanOutBusy float64
}

// phase measures the machine's CPU over a phase of the benchmark.
type phase struct{ busy, total, self time.Duration }

func startPhase() phase {
	var p phase
	p.busy, p.total, _ = testenv.MachineCPU()
	p.self, _ = testenv.CPUTimeOf(os.Getpid())
	return p
}

// end returns the share of the machine's CPU that was busy since the phase started, the busy CPU
// time of all processes, and this process's own (the client's and the watch's).
func (p phase) end() (share float64, busy, self time.Duration) {
	b, t, err := testenv.MachineCPU()
	s, _ := testenv.CPUTimeOf(os.Getpid())
	if err != nil || t <= p.total {
		return 0, 0, s - p.self
	}
	return float64(b-p.busy) / float64(t-p.total), b - p.busy, s - p.self
}

// Harness is a control plane with the operator's RBAC installed and a manager binary built.
type Harness struct {
	cfg        Config
	env        *testenv.Env
	bin        string
	kubeconfig string // the operator's ServiceAccount
	scrapeTok  string // a ServiceAccount bound to ftcost-metrics-reader
	// c is the unthrottled plain client (a ServiceAccount, so API Priority and Fairness treats it as
	// it treats the operator).
	c client.WithWatch
}

// Setup starts the control plane, installs config/default's RBAC and the PriceCatalog "default",
// and builds the manager.
func Setup(ctx context.Context, cfg Config) (*Harness, error) {
	if cfg.Workers == 0 {
		cfg.Workers = 16
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	// The manager runs with the environment its Deployment gives it (the Go runtime's settings),
	// then ManagerEnv's.
	deployed, err := testenv.ManagerEnv()
	if err != nil {
		return nil, err
	}
	cfg.ManagerEnv = append(deployed, cfg.ManagerEnv...)
	h := &Harness{cfg: cfg}
	if h.bin, err = testenv.BuildManager(cfg.Dir); err != nil {
		return nil, err
	}
	if h.env, err = testenv.Start(); err != nil {
		return nil, err
	}
	if err := h.setup(ctx); err != nil {
		_ = h.env.Stop()
		return nil, err
	}
	return h, nil
}

// Config is what the harness runs with: the Config given, the Deployment's environment added.
func (h *Harness) Config() Config { return h.cfg }

func (h *Harness) setup(ctx context.Context) error {
	env := h.env
	if err := env.InstallOperatorRBAC(ctx); err != nil {
		return err
	}
	tok, err := env.ServiceAccountToken(ctx, testenv.OperatorNamespace, testenv.OperatorServiceAccountName)
	if err != nil {
		return err
	}
	h.kubeconfig = filepath.Join(h.cfg.Dir, "kubeconfig")
	if err := env.WriteKubeconfig(h.kubeconfig, tok); err != nil {
		return err
	}
	writer := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "bench-writer"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{ftv1.GroupVersion.Group}, Resources: []string{"finetuneestimates", "finetuneestimates/status", "pricecatalogs"},
			Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}},
	}}
	if err := env.Client.Create(ctx, writer); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	for sa, role := range map[string]string{"writer": "bench-writer", "scraper": "ftcost-metrics-reader"} {
		b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bench-" + sa},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "ftcost-bench", Name: sa}}}
		if err := env.Client.Create(ctx, b); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	wtok, err := env.ServiceAccountToken(ctx, "ftcost-bench", "writer")
	if err != nil {
		return err
	}
	if h.scrapeTok, err = env.ServiceAccountToken(ctx, "ftcost-bench", "scraper"); err != nil {
		return err
	}
	rc := env.TokenConfig(wtok)
	rc.QPS = -1 // no client-side rate limit
	if h.c, err = client.NewWithWatch(rc, client.Options{Scheme: env.Scheme}); err != nil {
		return err
	}
	// The PriceCatalog "default" as config/ deploys it.
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "catalog", "default.yaml"))
	if err != nil {
		return err
	}
	pc := &ftv1.PriceCatalog{}
	if err := yaml.UnmarshalStrict(data, pc); err != nil {
		return fmt.Errorf("config/catalog/default.yaml: %w", err)
	}
	if err := env.Client.Create(ctx, pc); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	// A warm-up estimate, so a starting manager has something to reconcile: its first reconcile
	// says the workers run.
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench-warmup"}}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	if err := h.c.Create(ctx, testenv.SupportBot("bench-warmup", "warmup")); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return h.quietStates(ctx, pc)
}

// StatesNamespace holds the estimates in the states a restart must leave alone (issue 27, item 4),
// StateEstimates of each, created once and kept through every round.
const (
	StatesNamespace = "bench-states"
	StateEstimates  = 10
	// StaleCatalog is a copy of the default catalog whose prices are older than its maxAge.
	StaleCatalog = "bench-stale"
)

// quietStates creates what the quiet phase runs besides converged estimates: a Stale catalog with
// Enforce estimates priced by it (PricesStale), estimates over their budget with actuals recorded
// that are over it too (written as the actuals reconciler writes them, before any manager runs),
// Calibrated estimates reading a measured profile, and a CostPolicy all of them break.
func (h *Harness) quietStates(ctx context.Context, def *ftv1.PriceCatalog) error {
	if err := h.namespace(ctx, StatesNamespace); err != nil {
		return err
	}
	stale := &ftv1.PriceCatalog{ObjectMeta: metav1.ObjectMeta{Name: StaleCatalog}, Spec: *def.Spec.DeepCopy()}
	stale.Spec.MaxAge = ptr.To[ftv1.Duration]("24h")
	if err := h.env.Client.Create(ctx, stale); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	// A CostPolicy every estimate of the namespace breaks (PolicyViolated).
	policy := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: StatesNamespace}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: StatesNamespace}},
		MaxUpfrontCost:    testenv.Dec("500")}}
	if err := h.env.Client.Create(ctx, policy); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	// A ThroughputProfile with three runs of the namespace, read by its Calibrated estimates.
	profile := &ftv1.ThroughputProfile{ObjectMeta: metav1.ObjectMeta{Name: estimate.ProfileName("llama-13b", ftv1.MethodLoRA, "h100")},
		Spec: ftv1.ThroughputProfileSpec{Model: "llama-13b", Method: ftv1.MethodLoRA, GPUType: "H100"}}
	switch err := h.env.Client.Create(ctx, profile); {
	case apierrors.IsAlreadyExists(err):
	case err != nil:
		return err
	default:
		profile.Status = ftv1.ThroughputProfileStatus{Samples: 3, Sum: "3345.8552", SumOfSquares: "3733305.94", TokensPerGPUSecond: "1115.2851",
			SpreadPercent: "4", RecentRuns: []ftv1.ProfileRun{
				{UID: "bench-a", Estimate: StatesNamespace + "/measured", Namespace: StatesNamespace, TokensPerGPUSecond: "1120.0717"},
				{UID: "bench-b", Estimate: StatesNamespace + "/measured", Namespace: StatesNamespace, TokensPerGPUSecond: "1157.4074"},
				{UID: "bench-c", Estimate: StatesNamespace + "/measured", Namespace: StatesNamespace, TokensPerGPUSecond: "1068.3761"}}}
		if err := h.env.Client.Status().Update(ctx, profile); err != nil {
			return fmt.Errorf("measuring the profile: %w", err)
		}
	}
	for i := range StateEstimates {
		o := testenv.SupportBot(StatesNamespace, fmt.Sprintf("calibrated-%02d", i))
		o.Spec.Training.Estimator, o.Spec.Dataset.TokensPerExample = ftv1.EstimatorCalibrated, ptr.To[int64](500)
		if err := h.c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	for i := range StateEstimates {
		// Enforce: a Stale price turns Approved False (PricesStale), whose transition time a restart keeps.
		o := testenv.SupportBot(StatesNamespace, fmt.Sprintf("stale-%02d", i))
		o.Spec.PriceCatalogRef, o.Spec.Policy = StaleCatalog, ftv1.PolicyEnforce
		if err := h.c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		o = testenv.SupportBot(StatesNamespace, fmt.Sprintf("spent-%02d", i))
		o.Spec.Budget = &ftv1.Budget{MaxUpfrontCost: testenv.Dec("500")}
		if err := h.c.Create(ctx, o); err != nil {
			if apierrors.IsAlreadyExists(err) {
				continue
			}
			return err
		}
		actuals := []byte(`{"status":{"actuals":{"runs":2,"gpuHours":"1.5","spend":"612.40"}}}`)
		if err := h.c.Status().Patch(ctx, o, client.RawPatch(types.MergePatchType, actuals)); err != nil {
			return fmt.Errorf("recording actuals: %w", err)
		}
	}
	return nil
}

// quietObjects are the estimates of StatesNamespace: 3 x StateEstimates, and the warm-up estimate.
const quietObjects = 3*StateEstimates + 1

// stateVersions are the resourceVersions of StatesNamespace's estimates and of the Stale catalog.
func (h *Harness) stateVersions(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	list := &ftv1.FineTuneEstimateList{}
	if err := h.c.List(ctx, list, client.InNamespace(StatesNamespace)); err != nil {
		return nil, err
	}
	for _, o := range list.Items {
		out[o.Name] = o.ResourceVersion
	}
	pc := &ftv1.PriceCatalog{}
	if err := h.c.Get(ctx, types.NamespacedName{Name: StaleCatalog}, pc); err != nil {
		return nil, err
	}
	if !meta.IsStatusConditionTrue(pc.Status.Conditions, ftv1.ConditionStale) {
		return nil, fmt.Errorf("PriceCatalog %s is not Stale: %+v", StaleCatalog, pc.Status.Conditions)
	}
	out["PriceCatalog/"+StaleCatalog] = pc.ResourceVersion
	return out, nil
}

// changed counts the objects whose resourceVersion moved between two stateVersions.
func changed(before, after map[string]string) (n int, names []string) {
	for k, v := range before {
		if after[k] != v {
			n++
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return n, names
}

// Stop stops the control plane.
func (h *Harness) Stop() error { return h.env.Stop() }

func (h *Harness) logf(format string, args ...any) {
	_, _ = fmt.Fprintf(h.cfg.Log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// Run measures cfg.Rounds rounds.
func (h *Harness) Run(ctx context.Context) ([]Round, error) {
	var rounds []Round
	for r := 1; r <= h.cfg.Rounds; r++ {
		round, err := h.round(ctx, r)
		if err != nil {
			return rounds, fmt.Errorf("round %d: %w", r, err)
		}
		rounds = append(rounds, round)
	}
	return rounds, nil
}

// estimates are N variants of the article's support bot (one per dataset size).
func estimates(ns string, n int) []*ftv1.FineTuneEstimate {
	objs := make([]*ftv1.FineTuneEstimate, n)
	for i := range objs {
		objs[i] = testenv.SupportBot(ns, fmt.Sprintf("fte-%05d", i))
		objs[i].Spec.Dataset.Examples = int64(5000 + i)
	}
	return objs
}

// parallel runs f for 0..n-1 on the harness's workers and returns how long it took.
func (h *Harness) parallel(n int, f func(i int) error) (time.Duration, error) {
	start := time.Now()
	work := make(chan int)
	errs := make(chan error, h.cfg.Workers)
	var wg sync.WaitGroup
	for range h.cfg.Workers {
		wg.Go(func() {
			for i := range work {
				if err := f(i); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	d := time.Since(start)
	select {
	case err := <-errs:
		return d, err
	default:
		return d, nil
	}
}

func (h *Harness) namespace(ctx context.Context, name string) error {
	err := h.env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// baseline times a plain client: create and patch the status of N estimates, then patch N statuses.
func (h *Harness) baseline(ctx context.Context, ns string, profileAPIServer bool) (createPatch, patch time.Duration, patchBusy float64, err error) {
	if err := h.namespace(ctx, ns); err != nil {
		return 0, 0, 0, err
	}
	pc := &ftv1.PriceCatalog{}
	if err := h.c.Get(ctx, types.NamespacedName{Name: ftv1.DefaultCatalogName}, pc); err != nil {
		return 0, 0, 0, err
	}
	objs := estimates(ns, h.cfg.N)
	// The status the operator would write, computed before the clock starts; the second patch
	// changes it as a catalog change would.
	first, second := make([][]byte, len(objs)), make([][]byte, len(objs))
	for i, o := range objs {
		c := o.DeepCopy()
		c.Generation = 1
		st := evaluation.Evaluate(&evaluation.Inputs{Estimate: c, Catalog: pc, Now: time.Now()}).Status
		var err error
		if first[i], err = json.Marshal(map[string]any{"status": st}); err != nil {
			return 0, 0, 0, err
		}
		if st.Pricing != nil {
			st.Pricing.CatalogGeneration++
		}
		if second[i], err = json.Marshal(map[string]any{"status": st}); err != nil {
			return 0, 0, 0, err
		}
	}
	createPatch, err = h.parallel(len(objs), func(i int) error {
		o := objs[i].DeepCopy()
		if err := h.c.Create(ctx, o); err != nil {
			return err
		}
		return h.c.Status().Patch(ctx, o, client.RawPatch(types.MergePatchType, first[i]))
	})
	if err != nil {
		return 0, 0, 0, err
	}
	var profile sync.WaitGroup
	if profileAPIServer {
		// As long as the creates and patches before took, about as long as the patches take (they
		// took 0.8-1.2 times as long in the runs of docs/benchmarks.md); a longer window would take in
		// the deletes that follow.
		secs := max(1, int(createPatch.Seconds()))
		profile.Go(func() { h.apiServerProfile(ctx, secs, "apiserver-baseline-patch-cpu.pprof") })
	}
	ph := startPhase()
	patch, err = h.parallel(len(objs), func(i int) error {
		return h.c.Status().Patch(ctx, objs[i].DeepCopy(), client.RawPatch(types.MergePatchType, second[i]))
	})
	if err != nil {
		return 0, 0, 0, err
	}
	patchBusy, all, self := ph.end()
	profile.Wait()
	h.logf("baseline patch: machine CPU %v busy, of which this client %v", all.Round(10*time.Millisecond), self.Round(10*time.Millisecond))
	return createPatch, patch, patchBusy, h.deleteAll(ctx, objs)
}

// deleteAll deletes the estimates one by one on the workers: a deletecollection of 10,000 outlives
// the API server's 60 s request timeout.
func (h *Harness) deleteAll(ctx context.Context, objs []*ftv1.FineTuneEstimate) error {
	_, err := h.parallel(len(objs), func(i int) error {
		return client.IgnoreNotFound(h.c.Delete(ctx, objs[i].DeepCopy()))
	})
	return err
}

// manager is a running manager process and where to scrape it.
type manager struct {
	p              *testenv.Process
	metrics, pprof string
}

func (h *Harness) startManager(ctx context.Context, name string, extra ...string) (*manager, error) {
	maddr, err := testenv.FreeAddr()
	if err != nil {
		return nil, err
	}
	paddr, err := testenv.FreeAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{"--metrics-bind-address=" + maddr, "--health-probe-bind-address=0", "--pprof-bind-address=" + paddr},
		h.cfg.ManagerArgs...)
	args = append(args, extra...)
	p, err := testenv.StartProcessWithEnv(h.bin, h.kubeconfig, filepath.Join(h.cfg.Dir, name+".log"), h.cfg.ManagerEnv, args...)
	if err != nil {
		return nil, err
	}
	return &manager{p: p, metrics: "https://" + maddr + "/metrics", pprof: "http://" + paddr}, nil
}

// counters are the manager's own metrics the harness reads.
type counters struct {
	// reconciles of FineTuneEstimates, and the depth of their workqueue.
	reconciles, depth int
	// writes: write requests (PUT, PATCH, DELETE) its client has sent; conflicts: answers 409.
	writes, conflicts int
	// goSys: the memory the Go runtime holds from the OS; heapInuse: its heap spans in use;
	// memLimit: its soft memory limit (GOMEMLIMIT or what the manager set).
	goSys, heapInuse, memLimit float64
}

// scrape sums the manager's counters.
func (h *Harness) scrape(ctx context.Context, m *manager) (counters, error) {
	var c counters
	code, body, err := testenv.Get(ctx, m.metrics, h.scrapeTok)
	if err != nil {
		return c, err
	}
	if code != 200 {
		return c, fmt.Errorf("GET %s: %d", m.metrics, code)
	}
	s := bufio.NewScanner(strings.NewReader(body))
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, perr := strconv.ParseFloat(line[i+1:], 64)
		if perr != nil {
			continue
		}
		series := line[:i]
		switch {
		case strings.HasPrefix(series, "controller_runtime_reconcile_total{") && strings.Contains(series, `controller="finetuneestimate"`):
			c.reconciles += int(v)
		case strings.HasPrefix(series, "workqueue_depth{") && strings.Contains(series, `name="finetuneestimate"`):
			c.depth += int(v)
		case series == "go_memstats_sys_bytes":
			c.goSys = v
		case series == "go_memstats_heap_inuse_bytes":
			c.heapInuse = v
		case series == "go_gc_gomemlimit_bytes":
			c.memLimit = v
		case strings.HasPrefix(series, "rest_client_requests_total{"):
			if strings.Contains(series, `code="409"`) {
				c.conflicts += int(v)
			}
			// Not POST: the metrics endpoint's own TokenReview and SubjectAccessReview for our
			// scrape are POSTs. Status writes are PATCHes.
			for _, w := range []string{"PUT", "PATCH", "DELETE"} {
				if strings.Contains(series, `method="`+w+`"`) {
					c.writes += int(v)
				}
			}
		}
	}
	return c, nil
}

// settle waits until the manager has reconciled at least min estimates and its queue is empty.
func (h *Harness) settle(ctx context.Context, m *manager, min int, timeout time.Duration) (reconciles, writes int, err error) {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-m.p.Exited():
			return 0, 0, fmt.Errorf("the manager exited; see %s", h.cfg.Dir)
		default:
		}
		c, err := h.scrape(ctx, m)
		if err == nil && c.reconciles >= min && c.depth == 0 {
			return c.reconciles, c.writes, nil
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("manager not settled after %v (reconciles %d of %d, depth %d, err %v)", timeout, c.reconciles, min, c.depth, err)
		}
		time.Sleep(time.Second) // a scrape lists every estimate: Prometheus scrapes every 15-60 s, not 10 times a second
	}
}

// tracker follows a namespace's estimates through one watch.
type tracker struct {
	mu        sync.Mutex
	objs      map[string]*ftv1.FineTuneEstimate
	pred      func(*ftv1.FineTuneEstimate) bool
	satisfied map[string]bool
	want      int
	done      chan struct{}
	// modified counts the changes the watch has seen to existing estimates.
	modified int
}

func (h *Harness) track(ctx context.Context, ns string) (*tracker, error) {
	list := &ftv1.FineTuneEstimateList{}
	if err := h.c.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	t := &tracker{objs: map[string]*ftv1.FineTuneEstimate{}}
	for i := range list.Items {
		t.objs[list.Items[i].Name] = &list.Items[i]
	}
	rv := list.ResourceVersion
	w, err := h.c.Watch(ctx, &ftv1.FineTuneEstimateList{}, client.InNamespace(ns), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			for ev := range w.ResultChan() {
				o, ok := ev.Object.(*ftv1.FineTuneEstimate)
				if !ok {
					continue
				}
				rv = o.ResourceVersion
				t.update(o, ev.Type == watch.Deleted)
			}
			if ctx.Err() != nil {
				return
			}
			// The server ended the watch; resume where it stopped.
			if w, err = h.c.Watch(ctx, &ftv1.FineTuneEstimateList{}, client.InNamespace(ns), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}}); err != nil {
				return
			}
		}
	}()
	return t, nil
}

func (t *tracker) modifications() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.modified
}

func (t *tracker) update(o *ftv1.FineTuneEstimate, deleted bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if deleted {
		delete(t.objs, o.Name)
	} else {
		if _, ok := t.objs[o.Name]; ok {
			t.modified++
		}
		t.objs[o.Name] = o
	}
	if t.pred == nil {
		return
	}
	if !deleted && t.pred(o) {
		t.satisfied[o.Name] = true
	} else {
		delete(t.satisfied, o.Name)
	}
	if len(t.satisfied) >= t.want && t.done != nil {
		close(t.done)
		t.done = nil
	}
}

// await returns once want estimates satisfy pred.
func (t *tracker) await(pred func(*ftv1.FineTuneEstimate) bool, want int, timeout time.Duration) error {
	t.mu.Lock()
	t.pred, t.want, t.satisfied = pred, want, map[string]bool{}
	for name, o := range t.objs {
		if pred(o) {
			t.satisfied[name] = true
		}
	}
	done := make(chan struct{})
	if len(t.satisfied) >= want {
		close(done)
	} else {
		t.done = done
	}
	t.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-time.After(timeout):
		t.mu.Lock()
		defer t.mu.Unlock()
		for name, o := range t.objs {
			if !t.satisfied[name] {
				return fmt.Errorf("%d of %d estimates (%d seen) got there within %v; %s is at generation %d with conditions %+v, pricing %+v",
					len(t.satisfied), want, len(t.objs), timeout, name, o.Generation, o.Status.Conditions, o.Status.Pricing)
			}
		}
		return fmt.Errorf("%d of %d estimates (%d seen) got there within %v", len(t.satisfied), want, len(t.objs), timeout)
	}
}

// readyAtGeneration: the estimate was computed for its current spec.
func readyAtGeneration(o *ftv1.FineTuneEstimate) bool {
	c := meta.FindStatusCondition(o.Status.Conditions, ftv1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == o.Generation
}

func (h *Harness) round(ctx context.Context, r int) (Round, error) {
	var out Round
	var err error
	n := h.cfg.N
	timeout := time.Minute + time.Duration(n)*100*time.Millisecond

	h.logf("round %d: baseline, %d estimates", r, n)
	if out.Baseline, out.BaselinePatch, out.BaselinePatchBusy, err = h.baseline(ctx, fmt.Sprintf("bench-baseline-%d", r), h.cfg.Profile && r == 1); err != nil {
		return out, fmt.Errorf("baseline: %w", err)
	}
	h.logf("round %d: baseline create+patch %v, patch %v (machine %.0f%% busy)", r, out.Baseline.Round(time.Millisecond),
		out.BaselinePatch.Round(time.Millisecond), 100*out.BaselinePatchBusy)

	// Convergence: the manager runs (its workers started), then N estimates arrive at once.
	ns := fmt.Sprintf("bench-operator-%d", r)
	if err := h.namespace(ctx, ns); err != nil {
		return out, err
	}
	first, err := h.startManager(ctx, fmt.Sprintf("manager-%d-converge", r))
	if err != nil {
		return out, err
	}
	defer func() { _ = first.p.Stop(time.Minute) }()
	if _, _, err := h.settle(ctx, first, 1, 2*time.Minute); err != nil {
		return out, err
	}
	t, err := h.track(ctx, ns)
	if err != nil {
		return out, err
	}
	var profile sync.WaitGroup
	if h.cfg.Profile && r == 1 {
		// CPU samples are taken only while the manager runs, so a window longer than the
		// convergence costs wall time, not accuracy.
		secs := int(2*out.Baseline.Seconds()) + 5
		profile.Go(func() { h.profile(ctx, first, secs, "manager-cpu.pprof") })
		// The API server's window ends before the convergence would at the baseline's pace: a longer
		// one would take in the restart that follows.
		profile.Go(func() {
			h.apiServerProfile(ctx, max(1, int(out.Baseline.Seconds())), "apiserver-converge-cpu.pprof")
		})
	}
	cpu0, _ := first.p.CPUTime()
	objs := estimates(ns, n)
	start := time.Now()
	if _, err := h.parallel(n, func(i int) error { return h.c.Create(ctx, objs[i]) }); err != nil {
		return out, fmt.Errorf("creating: %w", err)
	}
	if err := t.await(readyAtGeneration, n, timeout); err != nil {
		return out, fmt.Errorf("convergence: %w", err)
	}
	out.Converge = time.Since(start)
	cpu1, _ := first.p.CPUTime()
	out.ConvergeCPU = cpu1 - cpu0
	profile.Wait()
	if h.cfg.Profile && r == 1 {
		h.heapProfile(ctx, first)
	}
	rss1, _ := first.p.PeakRSS()
	h.logf("round %d: converged in %v (%.2fx), manager CPU %v, peak RSS %.1f MiB", r, out.Converge.Round(time.Millisecond),
		out.Converge.Seconds()/out.Baseline.Seconds(), out.ConvergeCPU, float64(rss1)/(1<<20))
	if err := first.p.Stop(time.Minute); err != nil {
		return out, fmt.Errorf("stopping the manager: %w", err)
	}

	// Quiet: a restarted manager reconciles every estimate and writes nothing, and so does a
	// forced resync.
	second, err := h.startManager(ctx, fmt.Sprintf("manager-%d-restart", r), "--sync-period="+h.cfg.SyncPeriod.String())
	if err != nil {
		return out, err
	}
	defer func() { _ = second.p.Stop(time.Minute) }()
	states0, err := h.stateVersions(ctx)
	if err != nil {
		return out, err
	}
	restartStart, modified0 := time.Now(), t.modifications()
	if out.RestartReconciles, out.RestartWrites, err = h.settle(ctx, second, n+quietObjects, timeout); err != nil {
		return out, fmt.Errorf("restart: %w", err)
	}
	// Wait out at least one resync period after the caches synced.
	time.Sleep(h.cfg.SyncPeriod + h.cfg.SyncPeriod/2 - time.Since(restartStart)%h.cfg.SyncPeriod + time.Second)
	quiet, err := h.scrape(ctx, second)
	if err != nil {
		return out, err
	}
	out.ResyncReconciles, out.ResyncWrites = quiet.reconciles-out.RestartReconciles, quiet.writes-out.RestartWrites
	out.QuietModified = t.modifications() - modified0
	states1, err := h.stateVersions(ctx)
	if err != nil {
		return out, err
	}
	if n, names := changed(states0, states1); n > 0 {
		out.QuietModified += n
		h.logf("round %d: changed by the restart or resync: %s", r, strings.Join(names, ", "))
	}
	out.SoftMemoryLimit = quiet.memLimit
	rssRestart, _ := second.p.PeakRSS()
	h.logf("round %d: restart %d reconciles, %d writes; resync %d reconciles, %d writes; %d objects changed; peak RSS %.1f MiB (Go runtime holds %.1f MiB, soft limit %.1f MiB)", r,
		out.RestartReconciles, out.RestartWrites, out.ResyncReconciles, out.ResyncWrites, out.QuietModified, float64(rssRestart)/(1<<20),
		quiet.goSys/(1<<20), quiet.memLimit/(1<<20))
	if h.cfg.Profile && r == 1 {
		h.fetchProfile(ctx, second, "heap", "manager-restart-heap.pprof", "heap profile after the restart")
	}

	// Fan-out: one catalog price change reaches every estimate.
	if h.cfg.Profile && r == 1 {
		secs := int(2*out.BaselinePatch.Seconds()) + 5
		profile.Go(func() { h.profile(ctx, second, secs, "manager-fanout-cpu.pprof") })
		profile.Go(func() { h.apiServerProfile(ctx, secs, "apiserver-fanout-cpu.pprof") })
	}
	start, ph := time.Now(), startPhase()
	cpu0, _ = second.p.CPUTime()
	gen, err := h.changePrice(ctx)
	if err != nil {
		return out, err
	}
	if err := t.await(func(o *ftv1.FineTuneEstimate) bool {
		return readyAtGeneration(o) && o.Status.Pricing != nil && o.Status.Pricing.CatalogGeneration == gen
	}, n, timeout); err != nil {
		return out, fmt.Errorf("fan-out: %w", err)
	}
	out.FanOut = time.Since(start)
	var all, self time.Duration
	out.FanOutBusy, all, self = ph.end()
	cpu1, _ = second.p.CPUTime()
	out.FanOutCPU = cpu1 - cpu0
	h.logf("fan-out: machine CPU %v busy, of which the manager %v, this client's watch %v", all.Round(10*time.Millisecond),
		out.FanOutCPU.Round(10*time.Millisecond), self.Round(10*time.Millisecond))
	profile.Wait()
	h.logf("round %d: fan-out in %v (%.2fx of the patch baseline), manager CPU %v (machine %.0f%% busy)", r, out.FanOut.Round(time.Millisecond),
		out.FanOut.Seconds()/out.BaselinePatch.Seconds(), out.FanOutCPU, 100*out.FanOutBusy)
	if _, _, err := h.settle(ctx, second, 0, timeout); err == nil {
		if after, err := h.scrape(ctx, second); err == nil {
			h.logf("round %d: the fan-out took %d reconciles, %d write requests, %d conflicts; Go runtime holds %.1f MiB, heap in use %.1f MiB", r,
				after.reconciles-quiet.reconciles, after.writes-quiet.writes, after.conflicts-quiet.conflicts, after.goSys/(1<<20), after.heapInuse/(1<<20))
		}
	}
	rss2, _ := second.p.PeakRSS()
	out.PeakRSS = max(rss1, rss2)
	if err := second.p.Stop(time.Minute); err != nil {
		return out, fmt.Errorf("stopping the manager: %w", err)
	}
	return out, h.deleteAll(ctx, objs)
}

// changePrice raises runpod's first GPU price by a cent and returns the catalog's new generation.
// The clock starts before the update is sent.
func (h *Harness) changePrice(ctx context.Context) (int64, error) {
	pc := &ftv1.PriceCatalog{}
	if err := h.c.Get(ctx, types.NamespacedName{Name: ftv1.DefaultCatalogName}, pc); err != nil {
		return 0, err
	}
	i := slices.IndexFunc(pc.Spec.Providers, func(p ftv1.CatalogProvider) bool { return p.Name == "runpod" })
	if i < 0 || len(pc.Spec.Providers[i].GPUPrices) == 0 {
		return 0, fmt.Errorf("the default catalog has no runpod GPU price")
	}
	gp := &pc.Spec.Providers[i].GPUPrices[0]
	price, err := decimal.NewFromString(string(gp.PricePerGPUHour))
	if err != nil {
		return 0, err
	}
	gp.PricePerGPUHour = ftv1.Decimal(price.Add(decimal.New(1, -2)).String())
	if err := h.c.Update(ctx, pc); err != nil {
		return 0, err
	}
	return pc.Generation, nil
}

// heapProfile writes the manager's heap profile after convergence (what the caches hold) to
// Dir/manager-heap.pprof, after a GC so that in-use figures are live data.
func (h *Harness) heapProfile(ctx context.Context, m *manager) {
	h.fetchProfile(ctx, m, "heap?gc=1", "manager-heap.pprof", "heap profile")
}

// profile writes a CPU profile of secs seconds of the manager to Dir/file.
func (h *Harness) profile(ctx context.Context, m *manager, secs int, file string) {
	h.fetchProfile(ctx, m, fmt.Sprintf("profile?seconds=%d", secs), file, fmt.Sprintf("CPU profile (%d s)", secs))
}

// fetchProfile writes the manager's /debug/pprof/<query> to Dir/file; failures are logged, not fatal.
func (h *Harness) fetchProfile(ctx context.Context, m *manager, query, file, what string) {
	h.fetchProfileFrom(ctx, http.DefaultClient, m.pprof, query, file, what)
}

// apiServerProfile writes a CPU profile of secs seconds of kube-apiserver (its /debug/pprof, on by
// default, read as the cluster admin) to Dir/file.
func (h *Harness) apiServerProfile(ctx context.Context, secs int, file string) {
	c, err := rest.HTTPClientFor(h.env.Config)
	if err != nil {
		h.logf("kube-apiserver CPU profile failed: %v", err)
		return
	}
	h.fetchProfileFrom(ctx, c, strings.TrimSuffix(h.env.Config.Host, "/"), fmt.Sprintf("profile?seconds=%d", secs), file,
		fmt.Sprintf("kube-apiserver CPU profile (%d s)", secs))
}

// fetchProfileFrom writes base's /debug/pprof/<query> to Dir/file; failures are logged, not fatal.
func (h *Harness) fetchProfileFrom(ctx context.Context, c *http.Client, base, query, file, what string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/debug/pprof/"+query, nil)
	if err != nil {
		h.logf("%s failed: %v", what, err)
		return
	}
	resp, err := c.Do(req)
	if err != nil {
		h.logf("%s failed: %v", what, err)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		h.logf("%s failed: %d %v", what, resp.StatusCode, err)
		return
	}
	path := filepath.Join(h.cfg.Dir, file)
	if err := os.WriteFile(path, body, 0o644); err != nil {
		h.logf("writing the %s: %v", what, err)
		return
	}
	h.logf("%s written to %s", what, path)
}
