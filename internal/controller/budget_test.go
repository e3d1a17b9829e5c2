package controller_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/engine"
	"github.com/ftcost/ftcost/internal/budget"
	"github.com/ftcost/ftcost/internal/controller"
	"github.com/ftcost/ftcost/internal/gate"
)

// budgetPolicy creates a CostPolicy with a monthly budget of amount USD for ns alone.
func budgetPolicy(g Gomega, t *testing.T, ns, amount string) *ftv1.CostPolicy {
	p := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "budget-" + ns}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: labelNamespace(g, ns)},
		Budget:            &ftv1.TeamBudget{Amount: ftv1.Decimal(amount)}}}
	create(g, t, env.Client, p)
	return p
}

// budgetedBot creates the budget of budgetPolicy and the support bot in ns, and waits until it is
// Approved: a 1-GPU Job on it commits 1.62 USD.
func budgetedBot(g Gomega, t *testing.T, ns, amount string) (*ftv1.CostPolicy, *ftv1.FineTuneEstimate) {
	p := budgetPolicy(g, t, ns, amount)
	obj := supportBot(ns, "bot")
	create(g, t, env.Client, obj)
	estimated(g, key(obj), approvedReason(ftv1.ReasonApproved))
	return p, obj
}

// chargedLastMonth moves p's first charge to period last, released an hour before it ended: the
// ledger as the gate wrote it last month, once the month has turned.
func chargedLastMonth(g Gomega, p *ftv1.CostPolicy, last budget.Period) {
	g.Eventually(func() error {
		if err := env.Client.Get(ctx, key(p), p); err != nil {
			return err
		}
		p.Status.Budget.Charges[0].Period = last.Name
		p.Status.Budget.Charges[0].ReleasedAt = metav1.NewTime(last.End.Add(-time.Hour))
		return env.Client.Status().Update(ctx, p)
	}).WithTimeout(timeout).Should(Succeed())
}

// ledger waits until p's status.budget satisfies done and returns it.
func ledger(g Gomega, p *ftv1.CostPolicy, done func(*ftv1.BudgetStatus) bool) *ftv1.BudgetStatus {
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(p), p)).To(Succeed())
		g.Expect(p.Status.Budget).NotTo(BeNil())
		g.Expect(done(p.Status.Budget)).To(BeTrue(), "status.budget: %+v", p.Status.Budget)
	}).WithTimeout(timeout).Should(Succeed())
	return p.Status.Budget
}

func currentIs(committed, spent, remaining string) func(*ftv1.BudgetStatus) bool {
	return func(b *ftv1.BudgetStatus) bool {
		return b.CurrentTotal != nil && b.CurrentTotal.Committed == ftv1.Decimal(committed) &&
			b.CurrentTotal.Spent == ftv1.Decimal(spent) && b.CurrentTotal.Remaining == ftv1.SignedDecimal(remaining)
	}
}

// completeJob marks j finished after running ran, its pods gone: the run is priced from the Job.
func completeJob(g Gomega, j *batchv1.Job, ran time.Duration) {
	start := metav1.NewTime(time.Now().Add(-ran - time.Minute).Truncate(time.Second))
	end := metav1.NewTime(start.Add(ran))
	g.Eventually(func() error {
		if err := env.Client.Get(ctx, key(j), j); err != nil {
			return err
		}
		j.Status = batchv1.JobStatus{StartTime: &start, Succeeded: 1, CompletionTime: &end, Conditions: []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: end},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: end}}}
		return env.Client.Status().Update(ctx, j)
	}).WithTimeout(timeout).Should(Succeed())
}

// A namespace's budget of 4.00 USD a month holds 1-GPU runs of the support bot (spend cap 1.62
// each): two are released and commit 3.24 (81%: a Warning Event); the next two are held, naming the
// policy, the period, the figures and when it resets. When the first run finishes at 0.42 USD its
// actual replaces its commitment and the older held Job, not the younger, takes the room; raising
// the budget releases the other. Every figure is the sum of the ledger, and the ledger's actual is
// the run the estimate recorded.
func TestBudgetHoldsAndReleasesInCreationOrder(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	p, obj := budgetedBot(g, t, ns, "4.00")

	first := gated(g, suspendedJob(g, t, ns, "first", obj.Name, 1, 1, ""), releasedJob)
	gated(g, suspendedJob(g, t, ns, "second", obj.Name, 1, 1, ""), releasedJob)
	st := ledger(g, p, currentIs("3.24", "0.00", "0.76"))
	period := st.Current
	g.Expect(period).To(Equal(time.Now().UTC().Format("2006-01")))
	g.Eventually(func(g Gomega) {
		g.Expect(strings.Join(warnings(g, "default", ftv1.EventBudgetNearlyUsed), "\n")).To(ContainSubstring(
			"namespace " + ns + " used 81.0% of its 4.00 USD budget for " + period + " (committed 3.24, spent 0.00, remaining 0.76)"))
	}).WithTimeout(timeout).Should(Succeed())

	third := suspendedJob(g, t, ns, "third", obj.Name, 1, 1, "")
	gated(g, third, heldSaying("CostPolicy "+p.Name+": namespace "+ns+"'s budget for "+period+
		" is 4.00 USD; committed 3.24 + spent 0.00 leaves 0.76, and Job third would commit 1.62; the period resets at "))
	g.Expect(third.Annotations).To(HaveKeyWithValue(controller.HeldForBudgetAnnotation, "1.62"))
	time.Sleep(1100 * time.Millisecond) // creation timestamps are to the second
	fourth := suspendedJob(g, t, ns, "fourth", obj.Name, 1, 1, "")
	gated(g, fourth, heldSaying("older held workloads wait for 1.62"))

	// 10 minutes of 1 GPU at 2.49: 0.415, 0.42 USD. 0.42 + 1.62 leaves 1.96: room for one.
	completeJob(g, first, 10*time.Minute)
	gated(g, third, releasedJob)
	g.Expect(third.Annotations).NotTo(HaveKey(controller.HeldForBudgetAnnotation))
	st = ledger(g, p, currentIs("3.24", "0.42", "0.34"))
	gated(g, fourth, heldSaying("committed 3.24 + spent 0.42 leaves 0.34"))

	est := runsRecorded(g, key(obj), 1)
	g.Expect(est.Status.Actuals.LastRuns[0].Cost).To(Equal("0.42"))
	byUID := map[string]ftv1.BudgetCharge{}
	for _, c := range st.Charges {
		byUID[c.UID] = c
	}
	g.Expect(byUID).To(HaveLen(3))
	g.Expect(byUID[string(first.UID)]).To(And(
		HaveField("State", ftv1.ChargeSpent), HaveField("Actual", ftv1.Decimal(est.Status.Actuals.LastRuns[0].Cost)),
		HaveField("Committed", ftv1.Decimal("1.62")), HaveField("Period", period), HaveField("Estimate", obj.Name)))
	// The figures are the ledger's sums, and the commitments are the releases' spend caps.
	var committed engine.Money
	for _, rel := range est.Status.Releases {
		c := byUID[rel.UID]
		g.Expect(c.State).To(Equal(ftv1.ChargeCommitted))
		g.Expect(c.Committed).To(Equal(rel.SpendCap))
		committed = committed.Add(budget.Used(c, nil))
	}
	g.Expect(ftv1.Decimal(committed.String())).To(Equal(st.CurrentTotal.Committed))

	// A raised budget makes room for the last.
	g.Eventually(func() error {
		if err := env.Client.Get(ctx, key(p), p); err != nil {
			return err
		}
		p.Spec.Budget.Amount = "6.00"
		return env.Client.Update(ctx, p)
	}).WithTimeout(timeout).Should(Succeed())
	gated(g, fourth, releasedJob)
	ledger(g, p, currentIs("4.86", "0.42", "0.72"))
	cond := meta.FindStatusCondition(p.Status.Conditions, ftv1.ConditionReady)
	g.Expect([]any{cond.Status, cond.Reason, cond.ObservedGeneration}).To(Equal([]any{metav1.ConditionTrue, ftv1.ReasonBudgetReady, p.Generation}))
}

// Eight releases race for the last dollars of a budget with room for one: each commits with one
// status update carrying the policy's resourceVersion, retried on a conflict as the gate's requeue
// would; exactly one passes. Through the gate, two Jobs created together: one runs, one waits.
func TestBudgetRaceForTheLastDollars(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	p := budgetPolicy(g, t, ns, "2.00")
	ledger(g, p, currentIs("0.00", "0.00", "2.00"))

	var wg sync.WaitGroup
	results := make([]*gate.Decision, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := budget.Request{Namespace: ns, Estimate: "bot", Kind: "Job", Name: "racer", UID: "racer-" + string(rune('a'+i)),
				Cap: mustMoney("1.62"), Now: time.Now()}
			for {
				d, err := controller.CommitBudgets(ctx, env.Client, req)
				if apierrors.IsConflict(err) {
					continue
				}
				g.Expect(err).NotTo(HaveOccurred())
				results[i] = d
				if d == nil {
					results[i] = &gate.Decision{Outcome: gate.Approved}
				}
				return
			}
		}()
	}
	wg.Wait()
	passed := 0
	for _, d := range results {
		if d.Outcome == gate.Approved {
			passed++
		} else {
			g.Expect(d.Reason).To(Equal(ftv1.ReasonBudgetExhausted))
		}
	}
	g.Expect(passed).To(Equal(1))
	g.Expect(env.Client.Get(ctx, key(p), p)).To(Succeed())
	g.Expect(p.Status.Budget.Charges).To(HaveLen(1))

	// Through the gate: the racers' charge taken back, room for one of two Jobs created together.
	g.Eventually(func() error {
		if err := env.Client.Get(ctx, key(p), p); err != nil {
			return err
		}
		p.Status.Budget.Charges = nil
		return env.Client.Status().Update(ctx, p)
	}).WithTimeout(timeout).Should(Succeed())
	obj := supportBot(ns, "bot")
	create(g, t, env.Client, obj)
	estimated(g, key(obj), approvedReason(ftv1.ReasonApproved))
	a := suspendedJob(g, t, ns, "a", obj.Name, 1, 1, "")
	b := suspendedJob(g, t, ns, "b", obj.Name, 1, 1, "")
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(a), a)).To(Succeed())
		g.Expect(env.Client.Get(ctx, key(b), b)).To(Succeed())
		g.Expect(a.Annotations[gate.GateAnnotation] != "" && b.Annotations[gate.GateAnnotation] != "").To(BeTrue())
	}).WithTimeout(timeout).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(a), a)).To(Succeed())
		g.Expect(env.Client.Get(ctx, key(b), b)).To(Succeed())
		running := 0
		for _, j := range []*batchv1.Job{a, b} {
			if !ptr.Deref(j.Spec.Suspend, true) {
				running++
			}
		}
		g.Expect(running).To(Equal(1))
	}).WithTimeout(3 * time.Second).Should(Succeed())
	ledger(g, p, currentIs("1.62", "0.00", "0.38"))
}

// A budget whose time zone the IANA database does not know is not Ready, says which field, and
// holds the releases it governs.
func TestBudgetUnknownTimeZone(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	p := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "budget-" + ns}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: labelNamespace(g, ns)},
		Budget:            &ftv1.TeamBudget{Amount: "100", TimeZone: "Mars/Olympus_Mons"}}}
	create(g, t, env.Client, p)
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, key(p), p)).To(Succeed())
		c := meta.FindStatusCondition(p.Status.Conditions, ftv1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect([]any{c.Status, c.Reason}).To(Equal([]any{metav1.ConditionFalse, ftv1.ReasonUnknownTimeZone}))
		g.Expect(c.Message).To(ContainSubstring(`spec.budget.timeZone "Mars/Olympus_Mons"`))
	}).WithTimeout(timeout).Should(Succeed())
	obj := supportBot(ns, "bot")
	create(g, t, env.Client, obj)
	estimated(g, key(obj), approvedReason(ftv1.ReasonApproved))
	gated(g, suspendedJob(g, t, ns, "waits", obj.Name, 1, 1, ""), heldSaying(`spec.budget.timeZone "Mars/Olympus_Mons" is not a time zone`))
	// A budget needs an amount; the API server says which field.
	bad := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "no-amount-" + ns}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{}, Budget: &ftv1.TeamBudget{Amount: "-5"}}}
	err := env.Client.Create(ctx, bad)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.budget.amount"))
	_ = client.IgnoreNotFound(env.Client.Delete(ctx, bad))
}

func mustMoney(s string) engine.Money {
	m, err := engine.ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

// A period rollover while a run goes on: a Job released last month (its charge is in last month's
// ledger, as the gate wrote it then) still runs. This month starts empty, so a Job held while the
// charge counted against this month is released once it belongs to last month; when the old run
// finishes, its actual replaces its commitment in last month, and this month is untouched.
func TestBudgetPeriodRollover(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	p, obj := budgetedBot(g, t, ns, "2.00")
	old := gated(g, suspendedJob(g, t, ns, "old", obj.Name, 1, 1, ""), releasedJob)
	st := ledger(g, p, currentIs("1.62", "0.00", "0.38"))
	now := budget.PeriodAt(ftv1.BudgetMonth, time.UTC, time.Now())
	last := budget.Previous(ftv1.BudgetMonth, time.UTC, now)
	g.Expect(st.Current).To(Equal(now.Name))
	next := gated(g, suspendedJob(g, t, ns, "next", obj.Name, 1, 1, ""), heldSaying("committed 1.62 + spent 0.00 leaves 0.38"))

	// The old run's charge as it stands once the month has turned: last month's.
	chargedLastMonth(g, p, last)
	gated(g, next, releasedJob)
	ledger(g, p, func(b *ftv1.BudgetStatus) bool {
		return currentIs("1.62", "0.00", "0.38")(b) && len(b.Periods) == 2 && b.Periods[1].Period == last.Name &&
			b.Periods[1].Total.Committed == "1.62"
	})

	completeJob(g, old, 10*time.Minute)
	st = ledger(g, p, func(b *ftv1.BudgetStatus) bool {
		return len(b.Periods) == 2 && b.Periods[1].Total.Spent == "0.42" && b.Periods[1].Total.Committed == "0.00"
	})
	g.Expect(*st.CurrentTotal).To(And(HaveField("Committed", ftv1.Decimal("1.62")), HaveField("Spent", ftv1.Decimal("0.00"))))
}

// Jobs created before their estimate wait for it; when it is Approved they are all up for release at
// once, and the budget's room goes to them in creation order, not in the order they are reconciled.
func TestBudgetCreationOrderWhenTheEstimateArrives(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	budgetPolicy(g, t, ns, "4.00")
	var jobs []*batchv1.Job
	for _, name := range []string{"a", "b", "c"} {
		jobs = append(jobs, gated(g, suspendedJob(g, t, ns, name, "bot", 1, 1, ""), heldSaying("does not exist")))
		g.Expect(jobs[len(jobs)-1].Annotations).To(HaveKeyWithValue(controller.GateReasonAnnotation, gate.ReasonEstimateNotFound))
		time.Sleep(1100 * time.Millisecond) // creation timestamps are to the second
	}
	obj := supportBot(ns, "bot")
	create(g, t, env.Client, obj)
	gated(g, jobs[0], releasedJob)
	gated(g, jobs[1], releasedJob)
	gated(g, jobs[2], heldSaying("committed 3.24 + spent 0.00 leaves 0.76"))
	g.Expect(jobs[2].Annotations).To(HaveKeyWithValue(controller.GateReasonAnnotation, ftv1.ReasonBudgetExhausted))
	g.Expect(jobs[0].Annotations).NotTo(HaveKey(controller.GateReasonAnnotation))
}
