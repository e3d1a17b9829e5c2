package controller_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/manager"
	"github.com/ftcost/ftcost/internal/testenv"
)

// create creates obj and deletes it when the test ends.
func create(g Gomega, t *testing.T, c client.Client, obj client.Object) {
	t.Helper()
	g.Expect(c.Create(ctx, obj)).To(Succeed())
	t.Cleanup(func() { _ = env.Client.Delete(ctx, obj) })
}

func approved(obj *ftv1.FineTuneEstimate) *metav1.Condition {
	return meta.FindStatusCondition(obj.Status.Conditions, ftv1.ConditionApproved)
}

func approvedReason(reason string) func(*ftv1.FineTuneEstimate) bool {
	return func(obj *ftv1.FineTuneEstimate) bool {
		c := approved(obj)
		return c != nil && c.Reason == reason
	}
}

// storeAroundSchema creates obj with the CRD's maxAge rules lifted for a moment, as a catalog stored
// before the schema checked maxAge (or written straight to etcd) would be, then puts them back.
func storeAroundSchema(g Gomega, t *testing.T, obj *ftv1.PriceCatalog) {
	t.Helper()
	admin, err := client.New(env.Config, client.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(apiextensionsv1.AddToScheme(admin.Scheme())).To(Succeed())
	crd := &apiextensionsv1.CustomResourceDefinition{}
	name := types.NamespacedName{Name: "pricecatalogs.ftcost.io"}
	edit := func(lift bool) {
		g.Eventually(func(g Gomega) {
			g.Expect(admin.Get(ctx, name, crd)).To(Succeed())
			spec := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
			maxAge := spec.Properties["maxAge"]
			if lift {
				maxAge.Pattern, maxAge.XValidations = "", nil
			} else {
				maxAge = original
			}
			spec.Properties["maxAge"] = maxAge
			crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"] = spec
			g.Expect(admin.Update(ctx, crd)).To(Succeed())
		}).WithTimeout(timeout).Should(Succeed())
	}
	g.Expect(admin.Get(ctx, name, crd)).To(Succeed())
	original = crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties["maxAge"]
	edit(true)
	t.Cleanup(func() { _ = env.Client.Delete(ctx, obj) })
	g.Eventually(func() error { return env.Client.Create(ctx, obj.DeepCopy()) }).WithTimeout(timeout).Should(Succeed())
	edit(false)
	g.Eventually(func() bool {
		probe := testenv.SmallCatalog("schema-probe")
		probe.Spec.MaxAge = ptr.To[ftv1.Duration]("30d")
		err := env.Client.Create(ctx, probe)
		if err == nil {
			_ = env.Client.Delete(ctx, probe)
		}
		return apierrors.IsInvalid(err)
	}).WithTimeout(timeout).Should(BeTrue(), "the CRD's maxAge rules are back")
}

var original apiextensionsv1.JSONSchemaProps

// A catalog the manager cannot use is Ready=False for that catalog alone: the estimates priced with
// it say so, prices in the good catalogs still flow, and a restarted manager still syncs its caches.
// (With maxAge a metav1.Duration the catalog informer could not decode the list, so the first two
// checks timed out and a restart failed on cache sync.)
func TestUnreadableCatalogIsContained(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	good := testenv.SmallCatalog("contained-good")
	create(g, t, env.Client, good)
	bad := testenv.SmallCatalog("contained-bad")
	bad.Spec.MaxAge = ptr.To[ftv1.Duration]("forever")
	storeAroundSchema(g, t, bad)

	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(bad), bad)).To(Succeed())
		c := meta.FindStatusCondition(bad.Status.Conditions, ftv1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(ftv1.ReasonInvalidEntries))
		g.Expect(c.Message).To(ContainSubstring(`spec.maxAge: Invalid value: "forever"`))
	}).WithTimeout(timeout).Should(Succeed())

	onGood, onBad := supportBot(ns, "on-good"), supportBot(ns, "on-bad")
	onGood.Spec.PriceCatalogRef, onBad.Spec.PriceCatalogRef = good.Name, bad.Name
	create(g, t, env.Client, onGood)
	create(g, t, env.Client, onBad)
	g.Expect(estimated(g, key(onGood), ready).Status.UpfrontCost).To(Equal("1001.25"))
	got := estimated(g, key(onBad), readyReason(ftv1.ReasonInvalidSpec))
	g.Expect(meta.FindStatusCondition(got.Status.Conditions, ftv1.ConditionReady).Message).To(ContainSubstring("spec.maxAge"))
	g.Expect(approved(got).Status).To(Equal(metav1.ConditionFalse))

	// A price change in the good catalog still reaches its estimate: 0.5 GPU-hours at 4.98.
	g.Eventually(func() error {
		if err := env.Client.Get(ctx, key(good), good); err != nil {
			return err
		}
		good.Spec.Providers[0].GPUPrices[0].PricePerGPUHour = "4.98"
		return env.Client.Update(ctx, good)
	}).WithTimeout(timeout).Should(Succeed())
	estimated(g, key(onGood), func(o *ftv1.FineTuneEstimate) bool { return o.Status.UpfrontCost == "1002.49" })

	// A restart: a second manager lists every catalog, the unreadable one included, and syncs.
	mgr, err := manager.New(ctx, operatorConfig, manager.Options{MetricsAddr: "0", ProbeAddr: "0", QPS: 50, Burst: 100,
		Concurrency: 1, Registry: prometheus.NewRegistry(), SkipNameValidation: true})
	g.Expect(err).NotTo(HaveOccurred())
	stop, err := testenv.RunManager(ctx, mgr)
	g.Expect(err).NotTo(HaveOccurred(), "a restarted manager must sync its caches next to an unreadable catalog")
	stop()
}

// Under Enforce an estimate is not Approved while the catalog that priced it is Stale, and is again
// once the catalog is fresh; under Advisory staleness does not change Approved (the gates still wait).
func TestStaleCatalogHoldsApprovalUnderEnforce(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	pc := testenv.SmallCatalog("stale-enforce")
	pc.Spec.MaxAge = ptr.To[ftv1.Duration]("24h") // its prices date from 2026-01-01
	create(g, t, env.Client, pc)
	enforce, advisory := supportBot(ns, "enforce"), supportBot(ns, "advisory")
	enforce.Spec.Policy, advisory.Spec.Policy = ftv1.PolicyEnforce, ftv1.PolicyAdvisory
	for _, o := range []*ftv1.FineTuneEstimate{enforce, advisory} {
		o.Spec.PriceCatalogRef = pc.Name
		create(g, t, env.Client, o)
	}
	got := estimated(g, key(enforce), approvedReason(ftv1.ReasonPricesStale))
	g.Expect(approved(got).Status).To(Equal(metav1.ConditionFalse))
	g.Expect(approved(got).Message).To(ContainSubstring(`PriceCatalog "stale-enforce": effectiveDate 2026-01-01 of provider runpod is older than maxAge 24h0m0s`))
	g.Expect(ready(got)).To(BeTrue(), "the figures are computed; only the verdict waits")
	estimated(g, key(advisory), approvedReason(ftv1.ReasonApproved))

	g.Eventually(func() error {
		if err := env.Client.Get(ctx, key(pc), pc); err != nil {
			return err
		}
		pc.Spec.MaxAge = nil
		return env.Client.Update(ctx, pc)
	}).WithTimeout(timeout).Should(Succeed())
	estimated(g, key(enforce), approvedReason(ftv1.ReasonApproved))
}

// Staleness counts only the prices an estimate uses: an old price of an API model the estimate does
// not compare with makes the catalog Stale, and the estimate stays Approved under Enforce. Once one
// of its own prices is old, it is held, and the message names that price.
func TestStaleIsPerPrice(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	today := time.Now().UTC().Format(time.DateOnly)
	pc := testenv.SmallCatalog("stale-per-price")
	pc.Spec.MaxAge = ptr.To[ftv1.Duration]("720h")
	pc.Spec.Providers[0].EffectiveDate, pc.Spec.APIModels[0].EffectiveDate = today, today
	pc.Spec.APIModels = append(pc.Spec.APIModels, ftv1.CatalogAPIModel{Name: "grok-3", InputPricePerMillionTokens: "3",
		OutputPricePerMillionTokens: "15", Provenance: ftv1.Provenance{EffectiveDate: "2025-06-02"}})
	create(g, t, env.Client, pc)
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(pc), pc)).To(Succeed())
		stale := meta.FindStatusCondition(pc.Status.Conditions, ftv1.ConditionStale)
		g.Expect(stale).NotTo(BeNil())
		g.Expect(stale.Message).To(ContainSubstring("grok-3"))
	}).WithTimeout(timeout).Should(Succeed())

	fresh := supportBot(ns, "fresh")
	fresh.Spec.Policy, fresh.Spec.PriceCatalogRef = ftv1.PolicyEnforce, pc.Name
	create(g, t, env.Client, fresh)
	estimated(g, key(fresh), approvedReason(ftv1.ReasonApproved))

	old := supportBot(ns, "compares-with-grok")
	old.Spec.Policy, old.Spec.PriceCatalogRef = ftv1.PolicyEnforce, pc.Name
	old.Spec.API = ftv1.APIPricing{Model: "grok-3"}
	create(g, t, env.Client, old)
	got := estimated(g, key(old), approvedReason(ftv1.ReasonPricesStale))
	g.Expect(approved(got).Message).To(ContainSubstring("effectiveDate 2025-06-02 of API model grok-3 is older than maxAge 720h0m0s"))
	g.Expect(approved(got).Message).NotTo(ContainSubstring("runpod"))
}

// impersonate returns a client acting as user (in system:authenticated), as kubectl --as does.
func impersonate(g Gomega, user string) client.Client {
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	return c
}

// installRoles applies config/rbac's roles for users of the API (not the operator's own).
func installRoles(g Gomega, t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", f))
		g.Expect(err).NotTo(HaveOccurred())
		role := &rbacv1.ClusterRole{}
		g.Expect(yaml.UnmarshalStrict(data, role)).To(Succeed(), f)
		if err := env.Client.Create(ctx, role); !apierrors.IsAlreadyExists(err) {
			g.Expect(err).NotTo(HaveOccurred(), f)
		}
	}
}

// aggregatedInto lists the ClusterRoles of config/rbac labelled to aggregate into a built-in role, and
// checks that none of them lets anyone write CostPolicies.
func aggregatedInto(g Gomega, builtin string) []string {
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "rbac", "*_role.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		g.Expect(err).NotTo(HaveOccurred())
		role := &rbacv1.ClusterRole{}
		if yaml.Unmarshal(data, role) != nil || role.Kind != "ClusterRole" || role.Labels["rbac.authorization.k8s.io/aggregate-to-"+builtin] != "true" {
			continue
		}
		for _, rule := range role.Rules {
			if slices.Contains(rule.Resources, "costpolicies") || slices.Contains(rule.Resources, "*") {
				g.Expect(rule.Verbs).To(ConsistOf("get", "list", "watch"), "%s aggregates into %s and must only read costpolicies", f, builtin)
			}
		}
		out = append(out, role.Name)
	}
	g.Expect(out).NotTo(BeEmpty())
	return out
}

func bind(g Gomega, t *testing.T, ns, user, clusterRole string) {
	t.Helper()
	meta := metav1.ObjectMeta{GenerateName: user + "-"}
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole}
	subjects := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}
	if ns == "" {
		create(g, t, env.Client, &rbacv1.ClusterRoleBinding{ObjectMeta: meta, RoleRef: ref, Subjects: subjects})
		return
	}
	meta.Namespace = ns
	create(g, t, env.Client, &rbacv1.RoleBinding{ObjectMeta: meta, RoleRef: ref, Subjects: subjects})
}

// Separation of duties: the platform team's CostPolicy bounds a team's estimates, the team (with the
// built-in edit or admin role, even cluster-wide edit) can neither change the policy nor escape it by
// relabelling its namespace, and raising its own API price to approve its spend is PolicyViolated.
func TestCostPolicySeparatesDuties(t *testing.T) {
	g := NewWithT(t)
	installRoles(g, t, "finetuneestimate_editor_role.yaml", "finetuneestimate_viewer_role.yaml",
		"costpolicy_viewer_role.yaml", "costpolicy_admin_role.yaml")
	ns := namespace(t)
	g.Eventually(func() error {
		n := &corev1.Namespace{}
		if err := env.Client.Get(ctx, types.NamespacedName{Name: ns}, n); err != nil {
			return err
		}
		n.Labels = map[string]string{"ftcost.io/team": ns}
		return env.Client.Update(ctx, n)
	}).WithTimeout(timeout).Should(Succeed())
	// envtest runs no kube-controller-manager, so nothing aggregates roles into edit and admin: bind
	// what aggregation would add (every config/rbac role labelled aggregate-to-edit or -admin) too.
	for user, role := range map[string]string{"team-editor": "edit", "team-admin": "admin"} {
		bind(g, t, ns, user, role)
		for _, r := range aggregatedInto(g, role) {
			bind(g, t, ns, user, r)
		}
	}
	bind(g, t, "", "cluster-editor", "edit")
	for _, r := range aggregatedInto(g, "edit") {
		bind(g, t, "", "cluster-editor", r)
	}
	bind(g, t, "", "platform", "costpolicy-admin-role")
	team, platform := impersonate(g, "team-editor"), impersonate(g, "platform")

	pc := testenv.SmallCatalog(ns + "-prices")
	create(g, t, env.Client, pc)
	policy := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: ns + "-limits"}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector:           &metav1.LabelSelector{MatchLabels: map[string]string{"ftcost.io/team": ns}},
		MaxUpfrontCost:              dec("5000"),
		RequiredPolicy:              ftv1.PolicyEnforce,
		AllowedProviders:            []string{"runpod"},
		MaxAPIPriceDeviationPercent: dec("50"), // support-bot quotes 0.005 a request; the catalog says 0.0075
	}}
	g.Eventually(func() error { return platform.Create(ctx, policy) }).WithTimeout(timeout).Should(Succeed(), "the platform team writes policies")
	t.Cleanup(func() { _ = env.Client.Delete(ctx, policy) })

	obj := supportBot(ns, "support-bot")
	obj.Spec.PriceCatalogRef, obj.Spec.Policy = pc.Name, ftv1.PolicyEnforce
	// The built-in edit role aggregates finetuneestimate-editor-role a moment after it is created.
	g.Eventually(func() error { return team.Create(ctx, obj) }).WithTimeout(timeout).Should(Succeed())
	got := estimated(g, key(obj), approvedReason(ftv1.ReasonApproved))
	g.Expect(got.Status.CostPolicies).To(Equal([]string{policy.Name}))

	// The team raises its API price to make fine-tuning pay off: the policy says no.
	edit := func(c client.Client, mutate func(*ftv1.FineTuneEstimate)) {
		g.Eventually(func() error {
			if err := c.Get(ctx, key(obj), obj); err != nil {
				return err
			}
			mutate(obj)
			return c.Update(ctx, obj)
		}).WithTimeout(timeout).Should(Succeed())
	}
	edit(team, func(o *ftv1.FineTuneEstimate) { o.Spec.API.CostPerRequest = dec("0.05") })
	got = estimated(g, key(obj), approvedReason(ftv1.ReasonPolicyViolated))
	g.Expect(approved(got).Status).To(Equal(metav1.ConditionFalse))
	g.Expect(approved(got).Message).To(ContainSubstring("CostPolicy " + policy.Name + " maxAPIPriceDeviationPercent"))
	g.Expect(got.Status.Recommendation).To(Equal(ftv1.RecommendationFineTune), "the figures still say what the spec says")

	// Switching to Advisory, or to another provider, is a violation too.
	edit(team, func(o *ftv1.FineTuneEstimate) {
		o.Spec.API.CostPerRequest, o.Spec.Policy = dec("0.005"), ftv1.PolicyAdvisory
	})
	got = estimated(g, key(obj), approvedReason(ftv1.ReasonPolicyViolated))
	g.Expect(approved(got).Message).To(ContainSubstring("requiredPolicy: spec.policy must be Enforce, not Advisory"))
	edit(team, func(o *ftv1.FineTuneEstimate) { o.Spec.Policy = ftv1.PolicyEnforce })
	estimated(g, key(obj), approvedReason(ftv1.ReasonApproved))

	// Nobody but the platform team may touch the policy, nor the namespace's labels.
	for _, user := range []string{"team-editor", "team-admin", "cluster-editor"} {
		c := impersonate(g, user)
		p := &ftv1.CostPolicy{}
		if err := c.Get(ctx, key(policy), p); err != nil {
			g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: %v", user, err)
			p = policy.DeepCopy()
		}
		p.Spec.MaxUpfrontCost = dec("1000000")
		g.Expect(apierrors.IsForbidden(c.Update(ctx, p))).To(BeTrue(), "%s must not raise the limit", user)
		g.Expect(apierrors.IsForbidden(c.Delete(ctx, p))).To(BeTrue(), "%s must not delete the policy", user)
		p.Status.Budget = &ftv1.BudgetStatus{}
		g.Expect(apierrors.IsForbidden(c.Status().Update(ctx, p))).To(BeTrue(), "%s must not reset the policy's budget ledger", user)
		mine := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: user + "-own"}, Spec: ftv1.CostPolicySpec{
			NamespaceSelector: &metav1.LabelSelector{}, MaxUpfrontCost: dec("1")}}
		g.Expect(apierrors.IsForbidden(c.Create(ctx, mine))).To(BeTrue(), "%s must not create policies", user)
		n := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{}}}
		g.Expect(apierrors.IsForbidden(c.Patch(ctx, n, client.Merge))).To(BeTrue(), "%s must not relabel the namespace", user)
	}

	// The platform team lowers the limit: the estimate is re-checked at once.
	g.Eventually(func() error {
		if err := platform.Get(ctx, key(policy), policy); err != nil {
			return err
		}
		policy.Spec.MaxUpfrontCost = dec("1000")
		return platform.Update(ctx, policy)
	}).WithTimeout(timeout).Should(Succeed())
	got = estimated(g, key(obj), approvedReason(ftv1.ReasonPolicyViolated))
	g.Expect(approved(got).Message).To(ContainSubstring("maxUpfrontCost: upfront cost 1001.25 USD exceeds the limit of 1000 USD"))

	// A namespace the policy no longer selects (an admin relabels it) is no longer bound by it.
	g.Eventually(func() error {
		n := &corev1.Namespace{}
		if err := env.Client.Get(ctx, types.NamespacedName{Name: ns}, n); err != nil {
			return err
		}
		n.Labels = nil
		return env.Client.Update(ctx, n)
	}).WithTimeout(timeout).Should(Succeed())
	got = estimated(g, key(obj), approvedReason(ftv1.ReasonApproved))
	g.Expect(got.Status.CostPolicies).To(BeEmpty())
}
