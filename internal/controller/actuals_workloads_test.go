package controller_test

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/testenv"
	"github.com/ftcost/ftcost/internal/workload"
)

// createWorkload creates a workload of gvk from YAML in ns; a client learns a kind from discovery,
// which may take a moment right after its CRD is installed.
func createWorkload(g Gomega, gvk schema.GroupVersionKind, ns, name, doc string, labels map[string]string, owner *unstructured.Unstructured) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	g.Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
	u.SetGroupVersionKind(gvk)
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetLabels(labels)
	if owner != nil {
		u.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: owner.GetAPIVersion(), Kind: owner.GetKind(),
			Name: owner.GetName(), UID: owner.GetUID(), Controller: ptr.To(true)}})
	}
	g.Eventually(func() error { return env.Client.Create(ctx, u) }).WithTimeout(timeout).WithPolling(200 * time.Millisecond).Should(Succeed())
	return u
}

// finishWorkload writes the workload's status (envtest runs none of the projects' controllers).
func finishWorkload(g Gomega, u *unstructured.Unstructured, status string) {
	st := map[string]any{}
	g.Expect(yaml.Unmarshal([]byte(status), &st)).To(Succeed())
	u.Object["status"] = st
	g.Expect(env.Client.Status().Update(ctx, u)).To(Succeed())
}

// ranPods creates pods with labels (and a controller, when given) that each ran gpus for the given
// time from start, as a kubelet would report.
func ranPods(g Gomega, ns, prefix string, labels map[string]string, controller *unstructured.Unstructured, start time.Time, gpus int64, ran ...time.Duration) {
	for i, d := range ran {
		n := corev1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(gpus, resource.DecimalSI)}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", prefix, i), Namespace: ns, Labels: labels},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, AutomountServiceAccountToken: ptr.To(false),
				Containers: []corev1.Container{{Name: "train", Image: "trainer:1", Resources: corev1.ResourceRequirements{Limits: n, Requests: n}}}},
		}
		if controller != nil {
			pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: controller.GetAPIVersion(), Kind: controller.GetKind(),
				Name: controller.GetName(), UID: controller.GetUID(), Controller: ptr.To(true)}}
		}
		g.Expect(env.Client.Create(ctx, pod)).To(Succeed())
		pod.Status = corev1.PodStatus{Phase: corev1.PodSucceeded, StartTime: &metav1.Time{Time: start},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "train", Image: "trainer:1", State: corev1.ContainerState{
				Terminated: &corev1.ContainerStateTerminated{StartedAt: metav1.NewTime(start), FinishedAt: metav1.NewTime(start.Add(d))}}}}}
		g.Expect(env.Client.Status().Update(ctx, pod)).To(Succeed())
	}
}

func gvkOf(kind string) schema.GroupVersionKind {
	k, ok := workload.Named(kind)
	if !ok {
		panic("no kind " + kind)
	}
	return k.GVK
}

// TestActualsOfWorkloadKinds installs the CRDs of JobSet, TrainJob, PyTorchJob and RayJob while
// the manager runs: it starts measuring them, and a finished run of each is counted once, to the
// cent, from the pods that are its own (by UID label, by controller, through the TrainJob's JobSet)
// or, for the RayJob whose pods are gone, from its spec.
func TestActualsOfWorkloadKinds(t *testing.T) {
	g := NewWithT(t)
	paths, err := testenv.WorkloadCRDs("JobSet", "TrainJob", "PyTorchJob", "RayJob")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: paths, ErrorIfPathMissing: true})
	g.Expect(err).NotTo(HaveOccurred())

	ns := namespace(t)
	pc := testenv.SmallCatalog("actuals-kinds")
	create(g, t, env.Client, pc)
	obj := supportBot(ns, "tuned")
	obj.Spec.PriceCatalogRef = pc.Name
	create(g, t, env.Client, obj)
	est := estimated(g, key(obj), ready)
	g.Expect(est.Status.PricePerGPUHour).To(Equal("2.49"))
	gated := map[string]string{gate.EstimateLabel: obj.Name}
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	at := func(d time.Duration) string { return start.Add(d).UTC().Format(time.RFC3339) }

	// JobSet: 2 workers of 2 GPUs, 30 and 24 min = 1.8 GPU-hours, 4.48. A pod of another JobSet of
	// the same name (another UID) is not its own.
	js := createWorkload(g, gvkOf("JobSet"), ns, "js-a", `spec: {replicatedJobs: [{name: workers, replicas: 2, template: {spec: {
  parallelism: 1, completions: 1, template: {spec: {restartPolicy: Never, containers: [{name: train, image: "trainer:1",
  resources: {limits: {nvidia.com/gpu: "2"}}}]}}}}}]}`, gated, nil)
	ranPods(g, ns, "js-a", map[string]string{workload.JobSetUIDLabel: string(js.GetUID()), "jobset.sigs.k8s.io/jobset-name": "js-a"}, nil, start, 2, 30*time.Minute, 24*time.Minute)
	ranPods(g, ns, "js-a-old", map[string]string{workload.JobSetUIDLabel: "an-earlier-uid", "jobset.sigs.k8s.io/jobset-name": "js-a"}, nil, start, 8, time.Hour)
	finishWorkload(g, js, `{terminalState: Completed, conditions: [
  {type: Suspended, status: "False", reason: ResumeJobs, message: jobset is resumed, lastTransitionTime: "`+at(0)+`"},
  {type: Completed, status: "True", reason: AllJobsCompleted, message: jobset completed successfully, lastTransitionTime: "`+at(31*time.Minute)+`"}]}`)
	est = runsRecorded(g, key(obj), 1)
	run := est.Status.Actuals.LastRuns[0]
	g.Expect([]any{run.Kind, run.Name, run.UID, run.Outcome, run.Source, run.GPUHours, run.Cost}).To(Equal(
		[]any{"JobSet", "js-a", string(js.GetUID()), ftv1.RunSucceeded, ftv1.UsageSourcePods, "1.8", "4.48"}))
	g.Expect([]time.Time{run.StartTime.Time, run.EndTime.Time}).To(Equal([]time.Time{start, start.Add(31 * time.Minute)}))

	// PyTorchJob: master and worker of 1 GPU, 40 and 38 min = 1.3 GPU-hours, 3.24. Its pods carry
	// only its name; a leftover pod of the same labels that it does not control is not its own.
	pt := createWorkload(g, gvkOf("PyTorchJob"), ns, "pt-a", `spec: {pytorchReplicaSpecs: {
  Master: {replicas: 1, template: {spec: {containers: [{name: pytorch, image: "trainer:1", resources: {limits: {nvidia.com/gpu: "1"}}}]}}},
  Worker: {replicas: 1, template: {spec: {containers: [{name: pytorch, image: "trainer:1", resources: {limits: {nvidia.com/gpu: "1"}}}]}}}}}`, gated, nil)
	ptLabels := map[string]string{workload.PyTorchJobNameLabel: "pt-a", workload.PyTorchOperatorLabel: workload.PyTorchOperatorName}
	ranPods(g, ns, "pt-a", ptLabels, pt, start, 1, 40*time.Minute, 38*time.Minute)
	ranPods(g, ns, "pt-a-leftover", ptLabels, nil, start, 4, time.Hour)
	finishWorkload(g, pt, `{startTime: "`+at(0)+`", completionTime: "`+at(41*time.Minute)+`", conditions: [
  {type: Running, status: "False", reason: PyTorchJobSucceeded, lastTransitionTime: "`+at(41*time.Minute)+`"},
  {type: Succeeded, status: "True", reason: PyTorchJobSucceeded, lastTransitionTime: "`+at(41*time.Minute)+`"}]}`)
	est = runsRecorded(g, key(obj), 2)
	run = est.Status.Actuals.LastRuns[1]
	g.Expect([]any{run.Kind, run.Name, run.UID, run.Outcome, run.Source, run.GPUHours, run.Cost}).To(Equal(
		[]any{"PyTorchJob", "pt-a", string(pt.GetUID()), ftv1.RunSucceeded, ftv1.UsageSourcePods, "1.3", "3.24"}))

	// TrainJob, failed: it runs as the JobSet of its name, which it controls; 2 nodes of 4 GPUs for
	// 15 min = 2 GPU-hours, 4.98. The JobSet inherited the estimate label and finished too: it is
	// counted in the TrainJob's run, not as a run of its own.
	tj := createWorkload(g, gvkOf("TrainJob"), ns, "tj-a", `spec: {runtimeRef: {name: torch-distributed},
  trainer: {numNodes: 2, resourcesPerNode: {limits: {nvidia.com/gpu: "4"}}}}`, gated, nil)
	child := createWorkload(g, gvkOf("JobSet"), ns, "tj-a", `spec: {replicatedJobs: [{name: node, replicas: 1, template: {spec: {
  parallelism: 2, template: {spec: {restartPolicy: Never, containers: [{name: node, image: "trainer:1"}]}}}}}]}`, gated, tj)
	ranPods(g, ns, "tj-a", map[string]string{workload.JobSetUIDLabel: string(child.GetUID()), "jobset.sigs.k8s.io/jobset-name": "tj-a"}, nil, start, 4, 15*time.Minute, 15*time.Minute)
	finishWorkload(g, child, `{terminalState: Failed, conditions: [{type: Failed, status: "True", reason: FailedJobs, message: jobset failed, lastTransitionTime: "`+at(16*time.Minute)+`"}]}`)
	finishWorkload(g, tj, `{conditions: [
  {type: Suspended, status: "False", reason: Resumed, message: TrainJob is resumed, lastTransitionTime: "`+at(0)+`"},
  {type: Failed, status: "True", reason: FailedJobs, message: jobset failed, lastTransitionTime: "`+at(16*time.Minute)+`"}]}`)
	est = runsRecorded(g, key(obj), 3)
	run = est.Status.Actuals.LastRuns[2]
	g.Expect([]any{run.Kind, run.Name, run.UID, run.Outcome, run.Source, run.GPUHours, run.Cost}).To(Equal(
		[]any{"TrainJob", "tj-a", string(tj.GetUID()), ftv1.RunFailed, ftv1.UsageSourcePods, "2", "4.98"}))

	// RayJob whose cluster and pods are gone: 20 min x (head 0 + 2 workers x 1 GPU) = 0.666667
	// GPU-hours, 1.66.
	rj := createWorkload(g, gvkOf("RayJob"), ns, "rj-a", `spec: {entrypoint: python train.py, rayClusterSpec: {
  headGroupSpec: {rayStartParams: {}, template: {spec: {containers: [{name: head, image: "ray:2"}]}}},
  workerGroupSpecs: [{groupName: gpu, replicas: 2, minReplicas: 0, maxReplicas: 2, rayStartParams: {},
    template: {spec: {containers: [{name: worker, image: "ray:2", resources: {limits: {nvidia.com/gpu: "1"}}}]}}}]}}`, gated, nil)
	finishWorkload(g, rj, `{jobDeploymentStatus: Complete, jobStatus: SUCCEEDED, rayClusterName: rj-a-x7k2p,
  startTime: "`+at(0)+`", endTime: "`+at(20*time.Minute)+`"}`)
	est = runsRecorded(g, key(obj), 4)
	a := est.Status.Actuals
	run = a.LastRuns[3]
	g.Expect([]any{run.Kind, run.Name, run.UID, run.Outcome, run.Source, run.GPUHours, run.Cost}).To(Equal(
		[]any{"RayJob", "rj-a", string(rj.GetUID()), ftv1.RunSucceeded, ftv1.UsageSourceWorkload, "0.666667", "1.66"}))
	g.Expect([]string{a.GPUHours, a.Spend}).To(Equal([]string{"5.766667", "14.36"}))

	g.Eventually(func(g Gomega) {
		g.Expect(eventNotes(g, ns, obj.Name)).To(ContainElements(
			ContainSubstring("JobSet js-a Succeeded: actual 1.8 GPU-hours"),
			ContainSubstring("PyTorchJob pt-a Succeeded: actual 1.3 GPU-hours"),
			ContainSubstring("TrainJob tj-a Failed: actual 2 GPU-hours"),
			"RayJob rj-a Succeeded: actual 0.666667 GPU-hours vs 0.5 estimated, +33%, cost 1.66 USD; spent 14.36 over 4 runs"))
	}).WithTimeout(timeout).Should(Succeed())

	// Counted once: touching the finished workloads makes them reconcile again, and nothing is added.
	for _, u := range []*unstructured.Unstructured{js, pt, tj, child, rj} {
		patch := []byte(`{"metadata": {"annotations": {"touched": "` + time.Now().String() + `"}}}`)
		target := &unstructured.Unstructured{}
		target.SetGroupVersionKind(u.GroupVersionKind())
		target.SetNamespace(ns)
		target.SetName(u.GetName())
		g.Expect(env.Client.Patch(ctx, target, client.RawPatch(types.MergePatchType, patch))).To(Succeed())
	}
	g.Consistently(func(g Gomega) {
		cur := &ftv1.FineTuneEstimate{}
		g.Expect(env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: obj.Name}, cur)).To(Succeed())
		g.Expect(cur.Status.Actuals.Runs).To(BeEquivalentTo(4))
		g.Expect(cur.Status.Actuals.Spend).To(Equal("14.36"))
	}).WithTimeout(2 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())

	// A JobSet that is not labelled, whose Job template is: the JobSet is not measured, and its
	// labelled Job is a run of its own: 1 pod x 2 GPUs x 30 min = 1 GPU-hour, 2.49.
	unlabelled := createWorkload(g, gvkOf("JobSet"), ns, "js-b", `spec: {replicatedJobs: [{name: node, replicas: 1, template: {spec: {
  template: {spec: {restartPolicy: Never, containers: [{name: node, image: "trainer:1"}]}}}}}]}`, nil, nil)
	job := createWorkload(g, batchv1.SchemeGroupVersion.WithKind("Job"), ns, "js-b-node-0", `spec: {template: {spec: {
  restartPolicy: Never, containers: [{name: node, image: "trainer:1"}]}}}`, gated, unlabelled)
	ranPods(g, ns, "js-b-node-0", map[string]string{"batch.kubernetes.io/controller-uid": string(job.GetUID())}, nil, start, 2, 30*time.Minute)
	finishWorkload(g, job, `{startTime: "`+at(0)+`", completionTime: "`+at(31*time.Minute)+`", succeeded: 1, conditions: [
  {type: SuccessCriteriaMet, status: "True", lastTransitionTime: "`+at(31*time.Minute)+`"},
  {type: Complete, status: "True", lastTransitionTime: "`+at(31*time.Minute)+`"}]}`)
	est = runsRecorded(g, key(obj), 5)
	run = est.Status.Actuals.LastRuns[4]
	g.Expect([]any{run.Kind, run.Name, run.UID, run.Outcome, run.Source, run.GPUHours, run.Cost}).To(Equal(
		[]any{"Job", "js-b-node-0", string(job.GetUID()), ftv1.RunSucceeded, ftv1.UsageSourcePods, "1", "2.49"}))
}
