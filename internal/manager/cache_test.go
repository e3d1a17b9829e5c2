package manager_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/manager"
	"github.com/ftcost/ftcost/internal/testenv"
)

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// A tenant's estimates with the largest annotations the API server takes (250 KB each) and many
// labels cost the manager's cache what plain estimates cost: the cached objects are the same size,
// the live heap grows alike, and the status writes leave the tenant's annotations on the server.
// Without the cache transforms the 100 large estimates alone held 25 MB.
func TestTenantMetadataIsNotCached(t *testing.T) {
	g := NewWithT(t)
	ctrl.SetLogger(logr.Discard())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env, err := testenv.Start()
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = env.Stop() }()
	mgr, err := manager.New(ctx, env.Config, manager.Options{MetricsAddr: "0", ProbeAddr: "0", Concurrency: 4,
		Registry: prometheus.NewRegistry(), SkipNameValidation: true})
	g.Expect(err).NotTo(HaveOccurred())
	stop, err := testenv.RunManager(ctx, mgr)
	g.Expect(err).NotTo(HaveOccurred())
	defer stop()

	n := envN()
	big := strings.Repeat("x", 250<<10)
	labels := map[string]string{}
	for i := range 100 {
		labels[fmt.Sprintf("tenant.example.com/label-%03d", i)] = strings.Repeat("v", 63)
	}
	create := func(ns, prefix string, large bool) {
		g.Expect(env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		for i := range n {
			o := testenv.SupportBot(ns, fmt.Sprintf("%s-%03d", prefix, i))
			o.Annotations = map[string]string{"ftcost.io/note": "kept"}
			if large {
				o.Annotations["notes.example.com/big"] = big
				o.Labels = labels
			}
			g.Expect(env.Client.Create(ctx, o)).To(Succeed())
		}
	}
	// cached waits until the cache holds ns's n estimates, each with its status written.
	cached := func(ns string) []ftv1.FineTuneEstimate {
		list := &ftv1.FineTuneEstimateList{}
		g.Eventually(func(g Gomega) {
			g.Expect(mgr.GetCache().List(ctx, list, client.InNamespace(ns))).To(Succeed())
			g.Expect(list.Items).To(HaveLen(n))
			for _, o := range list.Items {
				g.Expect(meta.IsStatusConditionTrue(o.Status.Conditions, ftv1.ConditionReady)).To(BeTrue(), o.Name)
			}
		}).WithTimeout(2 * time.Minute).WithPolling(200 * time.Millisecond).Should(Succeed())
		return list.Items
	}

	heap0 := liveHeap()
	create("plain", "p", false)
	plain := cached("plain")
	heap1 := liveHeap()
	create("large", "l", true)
	large := cached("large")
	heap2 := liveHeap()
	grewPlain, grewLarge := int64(heap1)-int64(heap0), int64(heap2)-int64(heap1)
	t.Logf("live heap: +%.1f MB for %d plain estimates, +%.1f MB for %d with a 250 KB annotation and 100 labels each (%.1f MB of metadata on the server)",
		float64(grewPlain)/1e6, n, float64(grewLarge)/1e6, n, float64(n*(len(big)+100*(29+63)))/1e6)
	// The plain ones also paid for the first informers' and workers' start; allow 4 MB of noise.
	g.Expect(grewLarge).To(BeNumerically("<", max(grewPlain, 0)+4<<20), "the large estimates' metadata reached the cache")

	size := func(o *ftv1.FineTuneEstimate) int {
		c := o.DeepCopy()
		c.Name, c.Namespace, c.ResourceVersion, c.UID, c.CreationTimestamp = "", "", "", "", metav1.Time{}
		for i := range c.Status.Conditions {
			c.Status.Conditions[i].LastTransitionTime = metav1.Time{}
		}
		data, err := json.Marshal(c)
		g.Expect(err).NotTo(HaveOccurred())
		return len(data)
	}
	for i := range large {
		g.Expect(large[i].Annotations).To(Equal(map[string]string{"ftcost.io/note": "kept"}), "the operator's own annotations are kept")
		g.Expect(large[i].Labels).To(BeEmpty())
		g.Expect(size(&large[i])).To(Equal(size(&plain[i])), "cached size of %s against %s", large[i].Name, plain[i].Name)
	}
	// The status writes (merge patches of the status) left the tenant's metadata on the server.
	stored := &ftv1.FineTuneEstimate{}
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(&large[0]), stored)).To(Succeed())
	g.Expect(stored.Annotations).To(HaveKeyWithValue("notes.example.com/big", big))
	g.Expect(stored.Labels).To(Equal(labels))
	g.Expect(stored.ManagedFields).NotTo(BeEmpty())
}

// envN is how many estimates of each kind: FTCOST_CACHE_N, default 100 (docs/operator.md's figure
// is from 1,000).
func envN() int {
	if v, err := strconv.Atoi(os.Getenv("FTCOST_CACHE_N")); err == nil {
		return v
	}
	return 100
}
