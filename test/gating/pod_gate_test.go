package gating

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
)

// The tests of this file are issue 23's "Opt-in only": a GPU Pod (bare, or a Deployment's) that names
// no estimate runs unchecked, and a labelled one whose owner is not a gated kind runs at once.

// gpuPodSpec asks for gpus nvidia.com/gpu in its one container.
func gpuPodSpec(gpus int64) corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{Name: "train", Image: "ghcr.io/example/train:v1",
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(gpus, resource.DecimalSI)}}}}}
}

func gpuPod(ns, name, estimate string, gpus int64) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: gpuPodSpec(gpus)}
	if estimate != "" {
		p.Labels = map[string]string{gate.EstimateLabel: estimate}
	}
	return p
}

func hasPodGate(p *corev1.Pod) bool {
	return slices.ContainsFunc(p.Spec.SchedulingGates, func(g corev1.PodSchedulingGate) bool { return g.Name == gate.EstimateLabel })
}

// requiredPolicy is a CostPolicy that requires the estimate label in namespaces labelled
// required-id=id, except those labelled env=sandbox (matchLabels and a NotIn expression).
func requiredPolicy(t *testing.T, id string) {
	t.Helper()
	p := &ftv1.CostPolicy{ObjectMeta: metav1.ObjectMeta{Name: "estimates-required-" + id}, Spec: ftv1.CostPolicySpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"required-id": id},
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"sandbox"}}}},
		EstimateLabel: ftv1.EstimateLabelRequired,
	}}
	NewWithT(t).Expect(k.Create(ctx, p)).To(Succeed())
	t.Cleanup(func() { _ = k.Delete(ctx, p) })
}

func labelledNamespace(t *testing.T, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "gpu-", Labels: labels}}
	NewWithT(t).Expect(k.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// TestEstimateRequiredForAccelerators: where a CostPolicy says estimateLabel: Required, a namespace
// edit user's Pods and workloads that ask for accelerators without the label are refused, saying
// where to add it; elsewhere, and without accelerators, they are not.
func TestEstimateRequiredForAccelerators(t *testing.T) {
	id := fmt.Sprint(time.Now().UnixNano())
	requiredPolicy(t, id)
	required := labelledNamespace(t, map[string]string{"required-id": id})
	notSelected := labelledNamespace(t, nil)
	sandbox := labelledNamespace(t, map[string]string{"required-id": id, "env": "sandbox"})
	users := map[string]client.Client{}
	for _, ns := range []string{required, notSelected, sandbox} {
		users[ns] = namespaceEditor(t, ns)
	}
	podTemplate := func(labels map[string]string, gpus int64) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: gpuPodSpec(gpus)}
	}
	withApp := map[string]string{"app": "train"}
	withEstimate := map[string]string{"app": "train", gate.EstimateLabel: "support-bot"}
	deployment := func(ns string, labels map[string]string) client.Object {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "serve-"}, Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: withApp}, Template: podTemplate(labels, 1)}}
	}
	job := func(ns string, own, template map[string]string) client.Object {
		tpl := podTemplate(template, 1)
		tpl.Spec.RestartPolicy = corev1.RestartPolicyNever
		return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "train-", Labels: own},
			Spec: batchv1.JobSpec{Template: tpl}}
	}
	cronJob := func(ns string, own, jobLabels, template map[string]string) client.Object {
		tpl := podTemplate(template, 1)
		tpl.Spec.RestartPolicy = corev1.RestartPolicyNever
		return &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "nightly-", Labels: own},
			Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: jobLabels}, Spec: batchv1.JobSpec{Template: tpl}}}}
	}
	initGPU := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: required, GenerateName: "warmup-"}, Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{gpuPodSpec(1).Containers[0]}, Containers: []corev1.Container{{Name: "main", Image: "x"}}}}
	noGPU := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: required, GenerateName: "web-"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}}

	denied := map[string]struct {
		obj  client.Object
		says []string
	}{
		"a bare GPU Pod": {gpuPod(required, "bare", "", 1),
			[]string{"this Pod asks for accelerators", "requires the label ftcost.io/estimate in namespace " + required, "add ftcost.io/estimate: <the name of a FineTuneEstimate of this namespace> to metadata.labels"}},
		"a Pod asking in an init container": {initGPU, []string{"this Pod asks for accelerators", "to metadata.labels"}},
		"a GPU Deployment":                  {deployment(required, withApp), []string{"the pods of this Deployment ask for accelerators", "to spec.template.metadata.labels"}},
		// (A Job with no labels of its own takes its template's: the API server defaults them.)
		"a Job labelled only on its template": {job(required, withApp, withEstimate),
			[]string{"the pods of this Job ask", "to metadata.labels"}},
		"a Job labelled only on itself": {job(required, withEstimate, withApp), []string{"to spec.template.metadata.labels"}},
		"a CronJob labelled only at its top": {cronJob(required, withEstimate, nil, withApp),
			[]string{"the pods of this CronJob ask", "to spec.jobTemplate.spec.template.metadata.labels and to spec.jobTemplate.metadata.labels"}},
	}
	for name, tc := range denied {
		t.Run("denied: "+name, func(t *testing.T) {
			forbidden(NewWithT(t), users[required].Create(ctx, tc.obj), tc.says...)
		})
	}
	allowed := map[string]client.Object{
		"a Pod without accelerators":                             noGPU,
		"a GPU Deployment labelled on its template":              deployment(required, withEstimate),
		"a GPU Pod in a namespace not selected":                  gpuPod(notSelected, "bare", "", 1),
		"a GPU Pod in a namespace NotIn excludes":                gpuPod(sandbox, "bare", "", 1),
		"a GPU Deployment in a namespace not selected":           deployment(notSelected, withApp),
		"a CronJob labelled on its jobTemplate and pod template": cronJob(required, nil, withEstimate, withEstimate),
	}
	for name, obj := range allowed {
		t.Run("allowed: "+name, func(t *testing.T) {
			NewWithT(t).Expect(users[obj.GetNamespace()].Create(ctx, obj)).To(Succeed())
		})
	}
	t.Run("allowed: a labelled GPU Pod, created held by the pod gate", func(t *testing.T) {
		g := NewWithT(t)
		p := gpuPod(required, "labelled", "absent", 1)
		g.Expect(users[required].Create(ctx, p)).To(Succeed())
		g.Expect(hasPodGate(p)).To(BeTrue(), "schedulingGates: %v", p.Spec.SchedulingGates)
	})
}

// TestPodGate: a labelled Pod that no gated workload controls is created with the scheduling gate
// ftcost.io/estimate; a namespace edit user cannot remove it; the operator removes it once the
// estimate is Approved and the Pod fits the plan, and never from a Pod larger than the plan. A Job's
// Pods are left to the Job's suspend gate, and a user cannot pass a bare Pod off as a Job's.
func TestPodGate(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t)
	bob := namespaceEditor(t, ns)

	small := gpuPod(ns, "small", "later", 1)
	g.Expect(bob.Create(ctx, small)).To(Succeed())
	g.Expect(hasPodGate(small)).To(BeTrue(), "schedulingGates: %v", small.Spec.SchedulingGates)
	large := gpuPod(ns, "large", "later", 64)
	g.Expect(bob.Create(ctx, large)).To(Succeed())
	g.Expect(hasPodGate(large)).To(BeTrue())

	forbidden(g, bob.Patch(ctx, small.DeepCopy(), client.RawPatch(types.JSONPatchType, []byte(`[{"op":"remove","path":"/spec/schedulingGates/0"}]`))),
		"scheduling gate ftcost.io/estimate", "removed by the ftcost operator", `FineTuneEstimate "later"`)
	cur := &corev1.Pod{}
	g.Expect(k.Get(ctx, key(small), cur)).To(Succeed())
	g.Expect(hasPodGate(cur)).To(BeTrue())
	// Relabelling leaves the gate: the Pod stays held whatever its labels say.
	g.Expect(bob.Patch(ctx, small.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"ftcost.io/estimate":null}}}`)))).To(Succeed())
	g.Expect(k.Get(ctx, key(small), cur)).To(Succeed())
	g.Expect(hasPodGate(cur)).To(BeTrue())
	forbidden(g, bob.Patch(ctx, small.DeepCopy(), client.RawPatch(types.JSONPatchType, []byte(`[{"op":"remove","path":"/spec/schedulingGates/0"}]`))),
		"removed by the ftcost operator")
	g.Expect(bob.Patch(ctx, small.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"ftcost.io/estimate":"later"}}}`)))).To(Succeed())

	// Not yet estimated: held.
	g.Consistently(func(g Gomega) {
		g.Expect(k.Get(ctx, key(small), cur)).To(Succeed())
		g.Expect(hasPodGate(cur)).To(BeTrue())
	}).WithTimeout(2 * time.Second).Should(Succeed())

	est := estimated(t, supportBot(ns, "later", ftv1.PolicyEnforce))
	g.Expect(est.Status.GPUCount).To(BeNumerically("<", 64))
	g.Eventually(func(g Gomega) {
		g.Expect(k.Get(ctx, key(small), cur)).To(Succeed())
		g.Expect(hasPodGate(cur)).To(BeFalse(), "schedulingGates: %v", cur.Spec.SchedulingGates)
	}).WithTimeout(timeout).Should(Succeed())
	// The large Pod asks for more than the plan: it stays gated.
	g.Consistently(func(g Gomega) {
		g.Expect(k.Get(ctx, key(large), cur)).To(Succeed())
		g.Expect(hasPodGate(cur)).To(BeTrue())
	}).WithTimeout(3 * time.Second).Should(Succeed())

	// The operator's token may remove the gate and nothing else: not relabel a Pod, nor change what it runs.
	operator := operatorClient(t)
	forbidden(g, operator.Patch(ctx, large.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"ftcost.io/estimate":"other"}}}`))),
		"may only remove the scheduling gate of a Pod, not change metadata.labels")
	forbidden(g, operator.Patch(ctx, large.DeepCopy(), client.RawPatch(types.JSONPatchType, []byte(`[{"op":"replace","path":"/spec/containers/0/image","value":"evil:latest"}]`))),
		"not change spec.containers")
	g.Expect(bob.Patch(ctx, large.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"team":"ml"}}}`)))).To(Succeed(),
		"the user may still annotate a gated Pod")

	// A Job's Pods: created by the Job controller, not gated twice; a user's Pod claiming the Job is refused.
	tpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{gate.EstimateLabel: "later"}}, Spec: gpuPodSpec(1)}
	tpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "train", Labels: map[string]string{gate.EstimateLabel: "later"}},
		Spec: batchv1.JobSpec{Template: tpl}}
	g.Expect(bob.Create(ctx, j)).To(Succeed())
	ofJob := func(name string) *corev1.Pod {
		p := gpuPod(ns, name, "later", 1)
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: j.Name, UID: j.UID,
			Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
		return p
	}
	jobController, err := impersonating("system:serviceaccount:kube-system:job-controller")
	g.Expect(err).NotTo(HaveOccurred())
	jobPod := ofJob("train-0")
	g.Expect(jobController.Create(ctx, jobPod)).To(Succeed())
	g.Expect(hasPodGate(jobPod)).To(BeFalse(), "a Job's Pod is held by the Job's suspend switch: schedulingGates %v", jobPod.Spec.SchedulingGates)
	forbidden(g, bob.Create(ctx, ofJob("forged")), "created by that workload's controller only")

	// A Deployment's Pod, created by the ReplicaSet controller: gated like a bare one.
	rsController, err := impersonating("system:serviceaccount:kube-system:replicaset-controller")
	g.Expect(err).NotTo(HaveOccurred())
	ofReplicaSet := gpuPod(ns, "serve-abc12", "later", 1)
	ofReplicaSet.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "serve-abc", UID: "0b5b8c1e-1111-4a4a-9c9c-000000000001",
		Controller: ptr.To(true)}}
	g.Expect(rsController.Create(ctx, ofReplicaSet)).To(Succeed())
	g.Expect(hasPodGate(ofReplicaSet)).To(BeTrue(), "a ReplicaSet's Pod is held by the pod gate")
}

// kindCase is where one kind's recipe asks for a GPU and where its pod template takes the label.
type kindCase struct {
	file, gpu, label, where string
}

var requiredKinds = []kindCase{
	{"job.yaml", "/spec/template/spec/containers/0/resources", "/spec/template/metadata", "spec.template.metadata.labels"},
	{"jobset.yaml", "/spec/replicatedJobs/0/template/spec/template/spec/containers/0/resources", "/spec/replicatedJobs/0/template/spec/template/metadata",
		"spec.replicatedJobs[workers].template.spec.template.metadata.labels"},
	{"pytorchjob.yaml", "/spec/pytorchReplicaSpecs/Master/template/spec/containers/0/resources", "/spec/pytorchReplicaSpecs/Master/template/metadata",
		"spec.pytorchReplicaSpecs.Master.template.metadata.labels"},
	{"rayjob.yaml", "/spec/rayClusterSpec/headGroupSpec/template/spec/containers/0/resources", "/spec/rayClusterSpec/headGroupSpec/template/metadata",
		"spec.rayClusterSpec.headGroupSpec.template.metadata.labels"},
	// A TrainJob asks in spec.trainer.resourcesPerNode (the recipe asks for one GPU); its pod templates
	// are its runtime's, so only its own label is checked.
	{"trainjob.yaml", "", "", "metadata.labels"},
}

// patched is u with a JSON patch applied.
func patched(t *testing.T, u *unstructured.Unstructured, patch string) *unstructured.Unstructured {
	t.Helper()
	doc, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	p, err := jsonpatch.DecodePatch([]byte(patch))
	if err != nil {
		t.Fatal(err)
	}
	if doc, err = p.Apply(doc); err != nil {
		t.Fatal(err)
	}
	out := &unstructured.Unstructured{}
	if err := json.Unmarshal(doc, &out.Object); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEstimateRequiredForEveryKind: in a Required namespace, every gated kind's recipe asking for a
// GPU is refused until its pod template carries the label (a TrainJob: until it does), naming the
// path; as written (no GPU), each is allowed, so the policy reads every kind's templates.
func TestEstimateRequiredForEveryKind(t *testing.T) {
	installRayJob(t)
	id := fmt.Sprint(time.Now().UnixNano())
	requiredPolicy(t, id)
	ns := labelledNamespace(t, map[string]string{"required-id": id})
	bob := namespaceEditor(t, ns)
	for _, kc := range requiredKinds {
		t.Run(kc.file, func(t *testing.T) {
			g := NewWithT(t)
			base, _ := recipe(t, kc.file, ns)
			base = withEstimate(base, "support-bot")
			if kc.gpu == "" {
				g.Expect(bob.Create(ctx, base.DeepCopy())).To(Succeed())
				unlabelled := base.DeepCopy()
				unlabelled.SetLabels(nil)
				forbidden(g, bob.Create(ctx, unlabelled), "requires the label ftcost.io/estimate", "to "+kc.where)
				return
			}
			// (A CRD just installed, as RayJob's, is served a moment later.)
			g.Eventually(func() error { return bob.Create(ctx, base.DeepCopy()) }).WithTimeout(timeout).Should(Succeed(), "as written, without accelerators")
			gpu := patched(t, base, `[{"op":"add","path":"`+kc.gpu+`","value":{"limits":{"nvidia.com/gpu":"1"}}}]`)
			forbidden(g, bob.Create(ctx, gpu.DeepCopy()), "ask for accelerators", "add ftcost.io/estimate: <the name of a FineTuneEstimate of this namespace> to "+kc.where)
			labelled := patched(t, gpu, `[{"op":"add","path":"`+kc.label+`","value":{"labels":{"ftcost.io/estimate":"support-bot"}}}]`)
			g.Expect(bob.Create(ctx, labelled)).To(Succeed())
		})
	}
}
