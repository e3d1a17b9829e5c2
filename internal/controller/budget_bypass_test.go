package controller_test

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/budget"
	"github.com/ftcost/ftcost/internal/controller"
	"github.com/ftcost/ftcost/internal/gate"
)

// The tests of this file try the ways a team could spend past its CostPolicy budget (issue 26) that
// the operator itself must stop: those the admission policies stop are tried as a namespace edit
// user in test/gating.

// chargeOf is the ledger's charge of the workload uid, and whether there is one.
func chargeOf(st *ftv1.BudgetStatus, uid string) (ftv1.BudgetCharge, bool) {
	for _, c := range st.Charges {
		if c.UID == uid {
			return c, true
		}
	}
	return ftv1.BudgetCharge{}, false
}

// accruedPast waits until the estimate's release of j has accrued more than least USD.
func accruedPast(g Gomega, obj *ftv1.FineTuneEstimate, j *batchv1.Job, least string) {
	estimated(g, key(obj), func(o *ftv1.FineTuneEstimate) bool {
		for _, rel := range o.Status.Releases {
			if rel.UID == string(j.UID) && rel.AccruedCost != "" {
				return mustMoney(string(rel.AccruedCost)).Cmp(mustMoney(least)) > 0
			}
		}
		return false
	})
}

// A run that goes on past its spend cap has spent more than it committed: a Job released on a 1.62
// USD cap whose pod has run 10 hours (24.90 USD at 2.49) leaves nothing of a 4.00 budget, so the next
// Job is held, though the two caps (3.24) would fit. The figures count the overrun too.
func TestBudgetCountsWhatRunningWorkAccrued(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	p, obj := budgetedBot(g, t, ns, "4.00")
	long := gated(g, suspendedJob(g, t, ns, "long", obj.Name, 1, 1, ""), releasedJob)
	runningPods(g, long, 1, 1, time.Now().Add(-10*time.Hour))
	accruedPast(g, obj, long, "24.89")

	next := gated(g, suspendedJob(g, t, ns, "next", obj.Name, 1, 1, ""), func(j *batchv1.Job) bool {
		return j.Annotations[gate.GateAnnotation] != ""
	})
	g.Expect(next.Annotations).To(HaveKeyWithValue(controller.GateReasonAnnotation, ftv1.ReasonBudgetExhausted),
		"the gate's message: %s", next.Annotations[gate.GateMessageAnnotation])
	g.Expect(next.Annotations[gate.GateMessageAnnotation]).To(ContainSubstring("and Job next would commit 1.62"))
	ledger(g, p, func(b *ftv1.BudgetStatus) bool {
		return b.CurrentTotal != nil && mustMoney(string(b.CurrentTotal.Committed)).Cmp(mustMoney("24.89")) > 0 &&
			mustMoney(string(b.CurrentTotal.Remaining)).Sign() < 0
	})
}

// A commitment made for a workload under an older, cheaper plan (the gate committed, then failed to
// record the release, and the plan changed before its retry) is not a licence for the dearer one: the
// release commits its own spend cap, and a budget without room for it holds it.
func TestBudgetRecommitsADearerCap(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	p, obj := budgetedBot(g, t, ns, "2.00")
	gated(g, suspendedJob(g, t, ns, "first", obj.Name, 1, 1, ""), releasedJob)
	ledger(g, p, currentIs("1.62", "0.00", "0.38"))

	later := gated(g, suspendedJob(g, t, ns, "later", "later", 1, 1, ""), heldSaying("does not exist"))
	d, err := controller.CommitBudgets(ctx, env.Client, budget.Request{Namespace: ns, Estimate: "later", Kind: "Job",
		Name: later.Name, UID: string(later.UID), Cap: mustMoney("0.01"), Now: time.Now()})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d).To(BeNil(), "0.01 fits in 0.38")
	create(g, t, env.Client, supportBot(ns, "later"))
	gated(g, later, heldSaying("committed 1.62 + spent 0.00 leaves 0.38, and Job later would commit 1.62"))
	g.Expect(later.Annotations).To(HaveKeyWithValue(controller.HeldForBudgetAnnotation, "1.62"))
}

// agedCharges moves the released time of p's open charges back by d, as the ledger stands d later.
func agedCharges(g Gomega, p *ftv1.CostPolicy, d time.Duration) {
	g.Eventually(func() error {
		if err := env.Client.Get(ctx, key(p), p); err != nil {
			return err
		}
		for i := range p.Status.Budget.Charges {
			c := &p.Status.Budget.Charges[i]
			c.ReleasedAt = metav1.NewTime(c.ReleasedAt.Add(-d))
		}
		return env.Client.Status().Update(ctx, p)
	}).WithTimeout(timeout).Should(Succeed())
}

// Deleting the estimate of a running Job (the edit role may) and creating another of the same name
// does not take the Job's commitment back: a commitment is taken back only when its workload never
// ran. While the Job runs, the next is held; once the Job is deleted, unmeasured for want of the
// estimate that released it, it is charged its cap.
func TestBudgetChargeOutlivesItsEstimate(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	p, obj := budgetedBot(g, t, ns, "2.00")
	first := gated(g, suspendedJob(g, t, ns, "first", obj.Name, 1, 1, ""), releasedJob)
	ledger(g, p, currentIs("1.62", "0.00", "0.38"))

	g.Expect(env.Client.Delete(ctx, obj)).To(Succeed())
	g.Eventually(func() bool { return apierrors.IsNotFound(env.Client.Get(ctx, key(obj), &ftv1.FineTuneEstimate{})) }).
		WithTimeout(timeout).Should(BeTrue())
	obj = supportBot(ns, "bot")
	create(g, t, env.Client, obj)
	estimated(g, key(obj), approvedReason(ftv1.ReasonApproved))
	// Three minutes on, past the grace a commitment has to be recorded on its estimate.
	agedCharges(g, p, 3*time.Minute)
	g.Consistently(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(p), p)).To(Succeed())
		c, ok := chargeOf(p.Status.Budget, string(first.UID))
		g.Expect(ok).To(BeTrue(), "the running Job's commitment was taken back: %+v", p.Status.Budget.Charges)
		g.Expect(c.State).To(Equal(ftv1.ChargeCommitted))
	}).WithTimeout(3 * time.Second).Should(Succeed())
	next := gated(g, suspendedJob(g, t, ns, "next", obj.Name, 1, 1, ""), heldSaying("committed 1.62 + spent 0.00 leaves 0.38"))

	g.Expect(env.Client.Delete(ctx, first, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
	g.Eventually(func() bool { return apierrors.IsNotFound(env.Client.Get(ctx, key(first), &batchv1.Job{})) }).
		WithTimeout(timeout).Should(BeTrue())
	// The budget reconciler looks at the open charges every two minutes; a change of the policy wakes it now.
	g.Eventually(func() error {
		if err := env.Client.Get(ctx, key(p), p); err != nil {
			return err
		}
		p.Annotations = map[string]string{"ftcost.io/test-wake": "1"}
		return env.Client.Update(ctx, p)
	}).WithTimeout(timeout).Should(Succeed())
	st := ledger(g, p, func(b *ftv1.BudgetStatus) bool {
		c, ok := chargeOf(b, string(first.UID))
		return ok && c.State == ftv1.ChargeSpent
	})
	c, _ := chargeOf(st, string(first.UID))
	g.Expect([]ftv1.Decimal{c.Committed, c.Actual}).To(Equal([]ftv1.Decimal{"1.62", "1.62"}))
	gated(g, next, heldSaying("committed 0.00 + spent 1.62 leaves 0.38"))
}

// A second estimate in the namespace, a second policy, or a Job recreated under the name of one that
// finished does not multiply the budget: the budget is the namespace's, every policy that selects it
// must have room (a commitment another refused is taken back), and charges are keyed by UID.
func TestBudgetIsTheNamespaces(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	tight := budgetPolicy(g, t, ns, "2.00")
	// Named to come first, so that its commitment is made before the tight policy refuses.
	wide := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "a-wide-" + ns}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: tight.Spec.NamespaceSelector, Budget: &ftv1.TeamBudget{Amount: "100.00"}}}
	create(g, t, env.Client, wide)
	a, b := supportBot(ns, "a"), supportBot(ns, "b")
	create(g, t, env.Client, a)
	create(g, t, env.Client, b)
	estimated(g, key(a), approvedReason(ftv1.ReasonApproved))
	estimated(g, key(b), approvedReason(ftv1.ReasonApproved))

	first := gated(g, suspendedJob(g, t, ns, "first", a.Name, 1, 1, ""), releasedJob)
	onB := gated(g, suspendedJob(g, t, ns, "on-b", b.Name, 1, 1, ""),
		heldSaying("CostPolicy "+tight.Name+": namespace "+ns+"'s budget for "))
	ledger(g, wide, currentIs("1.62", "0.00", "98.38"))
	g.Consistently(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(wide), wide)).To(Succeed())
		_, ok := chargeOf(wide.Status.Budget, string(onB.UID))
		g.Expect(ok).To(BeFalse(), "the wide policy keeps a commitment the tight one refused")
	}).WithTimeout(2 * time.Second).Should(Succeed())

	// The first run finishes at 0.42 (10 minutes of 1 GPU); the Job is deleted and created again
	// under its name: a new workload, committed afresh, behind the older held one.
	completeJob(g, first, 10*time.Minute)
	ledger(g, tight, currentIs("0.00", "0.42", "1.58"))
	g.Expect(env.Client.Delete(ctx, first, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
	g.Eventually(func() bool { return apierrors.IsNotFound(env.Client.Get(ctx, key(first), &batchv1.Job{})) }).
		WithTimeout(timeout).Should(BeTrue())
	again := gated(g, suspendedJob(g, t, ns, "first", a.Name, 1, 1, ""), heldSaying("committed 0.00 + spent 0.42 leaves 1.58"))
	g.Expect(again.UID).NotTo(Equal(first.UID))
	gated(g, onB, heldSaying("committed 0.00 + spent 0.42 leaves 1.58"))
	st := ledger(g, tight, currentIs("0.00", "0.42", "1.58"))
	c, ok := chargeOf(st, string(first.UID))
	g.Expect(ok).To(BeTrue())
	g.Expect([]any{c.State, c.Actual}).To(Equal([]any{ftv1.ChargeSpent, ftv1.Decimal("0.42")}))
}

// HOLE (design): a Job deleted with --cascade=orphan leaves its pods running, and its charge turns
// Spent at what it had accrued when it was deleted; the pods run on, uncharged and unmeasured (the
// spend reconciler measures the pods of workloads that exist), and the budget's room returns.
// envtest runs no garbage collector, so the Job's pods stay after a background deletion, as an
// orphaning deletion leaves them in a cluster.
func TestBudgetOrphanedPodsStayCharged(t *testing.T) {
	t.Skip("HOLE: a workload deleted with --cascade=orphan is charged what it had accrued while its pods run on, uncharged " +
		"(design decision: measure a deleted workload's pods until they end, or charge its cap)")
	g := NewWithT(t)
	ns := namespace(t)
	p, obj := budgetedBot(g, t, ns, "2.00")
	first := gated(g, suspendedJob(g, t, ns, "first", obj.Name, 1, 1, ""), releasedJob)
	runningPods(g, first, 1, 1, time.Now().Add(-time.Minute))
	accruedPast(g, obj, first, "0.00")

	g.Expect(env.Client.Delete(ctx, first, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
	ledger(g, p, func(b *ftv1.BudgetStatus) bool {
		c, ok := chargeOf(b, string(first.UID))
		return ok && c.State == ftv1.ChargeSpent
	})
	next := suspendedJob(g, t, ns, "next", obj.Name, 1, 1, "")
	g.Consistently(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(next), next)).To(Succeed())
		g.Expect(releasedJob(next)).To(BeFalse(), "the pods of Job first run on, and Job next was released")
	}).WithTimeout(5 * time.Second).Should(Succeed())
}

// HOLE (design): a charge stays in the period of its release (docs/budgets.md), so a run released
// on the last day of a month on a small cap that runs all of the next month spends the next month's
// GPUs without taking anything of its budget: the overrun shows in last month's figures only.
func TestBudgetOverrunAcrossPeriods(t *testing.T) {
	t.Skip("HOLE: what a run released last month accrues this month past its cap counts against last month only (design decision: charge the overrun to the period it accrues in)")
	g := NewWithT(t)
	ns := namespace(t)
	p, obj := budgetedBot(g, t, ns, "4.00")
	old := gated(g, suspendedJob(g, t, ns, "old", obj.Name, 1, 1, ""), releasedJob)
	now := budget.PeriodAt(ftv1.BudgetMonth, time.UTC, time.Now())
	last := budget.Previous(ftv1.BudgetMonth, time.UTC, now)
	// Released an hour before this month began, as the ledger has it once the month has turned; its
	// pod has run since then, 10 hours of this month at least.
	chargedLastMonth(g, p, last)
	runningPods(g, old, 1, 1, time.Now().Add(-10*time.Hour))
	accruedPast(g, obj, old, "24.89")
	next := suspendedJob(g, t, ns, "next", obj.Name, 1, 1, "")
	g.Consistently(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(next), next)).To(Succeed())
		g.Expect(releasedJob(next)).To(BeFalse(), "this month's 24.90 USD of Job old counted nowhere in this month")
	}).WithTimeout(5 * time.Second).Should(Succeed())
}

// HOLE (design): a policy has one ledger of at most 1,000 charges for all the namespaces it selects,
// so one team that releases 1,000 workloads in a period (on caps of 0.00 USD, from an estimate of a
// few examples) holds every other team's releases with BudgetLedgerFull, whatever their own budget.
// The ledger here is filled as the gate would have filled it.
func TestBudgetLedgerIsNotOneTeams(t *testing.T) {
	t.Skip("HOLE: one namespace can fill the ledger a policy shares with others and hold their releases " +
		"(design decision: a bound per namespace, or folding spent charges into per-namespace totals)")
	g := NewWithT(t)
	greedy, other := namespace(t), namespace(t)
	labelNamespace(g, greedy)
	labelNamespace(g, other)
	shared := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "ledger-" + other}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "ftcost.io/test-overrun",
			Operator: metav1.LabelSelectorOpIn, Values: []string{greedy, other}}}},
		Budget: &ftv1.TeamBudget{Amount: "100.00"}}}
	create(g, t, env.Client, shared)
	ledger(g, shared, currentIs("0.00", "0.00", "200.00"))
	now := time.Now()
	g.Eventually(func() error {
		if err := env.Client.Get(ctx, key(shared), shared); err != nil {
			return err
		}
		shared.Status.Budget.Charges = nil
		for i := range ftv1.MaxBudgetCharges {
			shared.Status.Budget.Charges = append(shared.Status.Budget.Charges, ftv1.BudgetCharge{
				Period: budget.PeriodAt(ftv1.BudgetMonth, time.UTC, now).Name, Namespace: greedy, Estimate: "tiny", Kind: "Job",
				Name: fmt.Sprintf("tiny-%d", i), UID: fmt.Sprintf("tiny-%d", i), State: ftv1.ChargeCommitted, Committed: "0.00",
				ReleasedAt: metav1.NewTime(now.Truncate(time.Second))})
		}
		return env.Client.Status().Update(ctx, shared)
	}).WithTimeout(timeout).Should(Succeed())
	obj := supportBot(other, "bot")
	create(g, t, env.Client, obj)
	estimated(g, key(obj), approvedReason(ftv1.ReasonApproved))
	gated(g, suspendedJob(g, t, other, "mine", obj.Name, 1, 1, ""), releasedJob)
}

// A workload whose cap alone is more than the whole budget can never be released under it: held,
// it does not keep younger workloads waiting behind it, or one namespace could hold the budget it
// shares with others (per: Policy) for good with a single Job on a large plan.
func TestBudgetQueueIsNotBlockedByWhatCannotFit(t *testing.T) {
	g := NewWithT(t)
	greedy, other := namespace(t), namespace(t)
	labelNamespace(g, greedy)
	labelNamespace(g, other)
	shared := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "shared-" + other}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "ftcost.io/test-overrun",
			Operator: metav1.LabelSelectorOpIn, Values: []string{greedy, other}}}},
		Budget: &ftv1.TeamBudget{Amount: "4.00", Per: ftv1.BudgetPerPolicy}}}
	create(g, t, env.Client, shared)
	big := supportBot(greedy, "big")
	big.Spec.Dataset.Examples = 100000
	create(g, t, env.Client, big)
	estimated(g, key(big), approvedReason(ftv1.ReasonApproved))
	huge := gated(g, suspendedJob(g, t, greedy, "huge", big.Name, 1, 1, ""), heldSaying("CostPolicy "+shared.Name+": Job huge would commit"))
	g.Expect(huge.Annotations[gate.GateMessageAnnotation]).To(ContainSubstring("Job huge would commit 16.19, more than the shared " +
		"budget of 4.00 USD for a whole month: it cannot be released under it"))
	g.Expect(huge.Annotations).To(HaveKeyWithValue(controller.GateReasonAnnotation, ftv1.ReasonBudgetTooSmall))
	g.Expect(huge.Annotations).NotTo(HaveKey(controller.HeldForBudgetAnnotation))
	time.Sleep(1100 * time.Millisecond) // creation timestamps are to the second

	obj := supportBot(other, "bot")
	create(g, t, env.Client, obj)
	estimated(g, key(obj), approvedReason(ftv1.ReasonApproved))
	gated(g, suspendedJob(g, t, other, "small", obj.Name, 1, 1, ""), releasedJob)
}

// HOLE (design): a budget holds releases; it does not stop a run. Under a CostPolicy overrun Warn
// (the default) a Job released on a cap that fits runs on past the whole budget: its overrun holds
// the next release (TestBudgetCountsWhatRunningWorkAccrued), but only overrun: Suspend stops it,
// at its own cap plus overrunPercent. An estimate of a few examples makes that cap as small as 0.00.
func TestBudgetStopsARunPastIt(t *testing.T) {
	t.Skip("HOLE: a running workload is not suspended when the namespace's budget is used up; without overrun: Suspend it runs on " +
		"(design decision: suspend released work past the budget, or make overrun: Suspend the default under a budget)")
	g := NewWithT(t)
	ns := namespace(t)
	budgetPolicy(g, t, ns, "4.00")
	obj := supportBot(ns, "bot")
	create(g, t, env.Client, obj)
	estimated(g, key(obj), approvedReason(ftv1.ReasonApproved))
	long := gated(g, suspendedJob(g, t, ns, "long", obj.Name, 1, 1, ""), releasedJob)
	runningPods(g, long, 1, 1, time.Now().Add(-10*time.Hour))
	accruedPast(g, obj, long, "24.89")
	gated(g, long, func(j *batchv1.Job) bool { return !releasedJob(j) })
}
