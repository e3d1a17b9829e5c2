package operator

import (
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/testenv"
)

const budgetTimeout = 60 * time.Second

// startManager runs the manager binary (the Job gate on, no leader election: two of them are both
// active, the worst case for counting) and stops it when the test ends.
func startManager(t *testing.T, name string) *testenv.Process {
	t.Helper()
	p, err := testenv.StartProcess(managerBin, kubeconfig, filepath.Join(workDir, name+".log"),
		"--metrics-bind-address=0", "--health-probe-bind-address=0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(30 * time.Second) })
	return p
}

// budgetJob creates a suspended Job of one GPU labelled for estimate.
func budgetJob(g Gomega, ns, name, estimate string) *batchv1.Job {
	gpu := corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{gate.EstimateLabel: estimate}},
		Spec: batchv1.JobSpec{Suspend: ptr.To(true), Parallelism: ptr.To[int32](1), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "train", Image: "trainer:1",
				Resources: corev1.ResourceRequirements{Limits: gpu, Requests: gpu}}}}}},
	}
	g.Expect(env.Client.Create(ctx, j)).To(Succeed())
	return j
}

func waitReleased(g Gomega, j *batchv1.Job) {
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(j), j)).To(Succeed())
		g.Expect(ptr.Deref(j.Spec.Suspend, true)).To(BeFalse())
	}).WithTimeout(budgetTimeout).Should(Succeed())
}

// complete marks j succeeded after ran, its pods gone.
func complete(g Gomega, j *batchv1.Job, ran time.Duration) {
	start := metav1.NewTime(time.Now().Add(-ran - time.Minute).Truncate(time.Second))
	end := metav1.NewTime(start.Add(ran))
	g.Eventually(func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(j), j); err != nil {
			return err
		}
		j.Status = batchv1.JobStatus{StartTime: &start, Succeeded: 1, CompletionTime: &end, Conditions: []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: end},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: end}}}
		return env.Client.Status().Update(ctx, j)
	}).WithTimeout(budgetTimeout).Should(Succeed())
}

// A budget's ledger counts each run once across a restart mid-period, a run that finished while no
// manager ran, and two managers running at once: a released Job commits its 1.62 USD spend cap; the
// manager stops, the Job finishes (20 minutes of one GPU at 2.49: 0.83 USD), a new manager starts
// and replaces the commitment by 0.83; then two managers together release and record a second Job
// (10 minutes: 0.42 USD). The ledger holds two charges, spent 1.25, the same as the estimate's
// status.actuals, and 10.00 - 1.25 remains.
func TestBudgetSurvivesRestarts(t *testing.T) {
	g := NewWithT(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "budget-", Labels: map[string]string{"team": "budget-restarts"}}}
	g.Expect(env.Client.Create(ctx, ns)).To(Succeed())
	p := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "budget-restarts"}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "budget-restarts"}},
		Budget:            &ftv1.TeamBudget{Amount: "10.00"}}}
	g.Expect(env.Client.Create(ctx, p)).To(Succeed())
	t.Cleanup(func() { _ = env.Client.Delete(ctx, p) })
	est := testenv.SupportBot(ns.Name, "bot")
	g.Expect(env.Client.Create(ctx, est)).To(Succeed())

	first := startManager(t, "budget-1")
	j1 := budgetJob(g, ns.Name, "one", est.Name)
	waitReleased(g, j1)
	current := func(committed, spent, remaining string) {
		g.Eventually(func(g Gomega) {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(p), p)).To(Succeed())
			g.Expect(p.Status.Budget).NotTo(BeNil())
			g.Expect(p.Status.Budget.CurrentTotal).NotTo(BeNil())
			g.Expect(*p.Status.Budget.CurrentTotal).To(And(HaveField("Committed", ftv1.Decimal(committed)),
				HaveField("Spent", ftv1.Decimal(spent)), HaveField("Remaining", ftv1.SignedDecimal(remaining))))
		}).WithTimeout(budgetTimeout).Should(Succeed())
	}
	current("1.62", "0.00", "8.38")

	// Down mid-period; the run finishes meanwhile.
	g.Expect(first.Stop(30 * time.Second)).To(Succeed())
	complete(g, j1, 20*time.Minute)
	startManager(t, "budget-2")
	current("0.00", "0.83", "9.17")

	// A second manager beside it: both see the next release and its finish.
	startManager(t, "budget-3")
	j2 := budgetJob(g, ns.Name, "two", est.Name)
	waitReleased(g, j2)
	current("1.62", "0.83", "7.55")
	complete(g, j2, 10*time.Minute)
	current("0.00", "1.25", "8.75")
	// The ledger is trued up before the estimate records the run (a crash between them loses no
	// charge), so the estimate's actuals may follow a moment later.
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(est), est)).To(Succeed())
		g.Expect(est.Status.Actuals).NotTo(BeNil())
		g.Expect(est.Status.Actuals.Runs).To(Equal(int32(2)))
	}).WithTimeout(budgetTimeout).Should(Succeed())

	g.Consistently(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(p), p)).To(Succeed())
		g.Expect(p.Status.Budget.Charges).To(HaveLen(2))
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(est), est)).To(Succeed())
		g.Expect(est.Status.Actuals).NotTo(BeNil())
		g.Expect([]any{est.Status.Actuals.Runs, est.Status.Actuals.Spend}).To(Equal([]any{int32(2), "1.25"}))
		g.Expect(p.Status.Budget.CurrentTotal.Spent).To(Equal(ftv1.Decimal(est.Status.Actuals.Spend)))
	}).WithTimeout(5 * time.Second).Should(Succeed())
}
