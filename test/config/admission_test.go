package config

import (
	"maps"
	"slices"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	kresource "sigs.k8s.io/kustomize/api/resource"

	ftv1 "github.com/ftcost/ftcost/api/v1alpha1"
	"github.com/ftcost/ftcost/internal/gate"
	"github.com/ftcost/ftcost/internal/workload"
)

// TestAdmissionPoliciesInDefault: config/default installs the policies of config/vap with their
// bindings, names the operator's rendered ServiceAccount in them (filled in by kustomize), every
// workload policy and the operator's ClusterRole cover exactly the kinds of workload.Kinds, and the
// estimate policies match the ftcost.io resources they guard.
func TestAdmissionPoliciesInDefault(t *testing.T) {
	rs := render(t, "default")
	operator := "'system:serviceaccount:' + variables.operatorNamespace + ':' + variables.operatorName"
	var rules [][]admissionv1.NamedRuleWithOperations
	estimatePolicies := map[string][]string{
		prefix + "plan-freeze":   {"ftcost.io/finetuneestimates"},
		prefix + "estimate-keep": {"ftcost.io/finetuneestimates"},
		prefix + "status-writes": {"ftcost.io/finetuneestimates/status", "ftcost.io/pricecatalogs/status", "ftcost.io/throughputprofiles/status"},
	}
	workloadPolicies := []string{prefix + "suspend-guard", prefix + "operator-writes", prefix + "gate-state", prefix + "scale-guard"}
	for _, name := range append(slices.Sorted(maps.Keys(estimatePolicies)), workloadPolicies...) {
		var p admissionv1.ValidatingAdmissionPolicy
		decode(t, find(t, rs, "ValidatingAdmissionPolicy", name), &p)
		var b admissionv1.ValidatingAdmissionPolicyBinding
		decode(t, find(t, rs, "ValidatingAdmissionPolicyBinding", name), &b)
		if b.Spec.PolicyName != name || !slices.Equal(b.Spec.ValidationActions, []admissionv1.ValidationAction{admissionv1.Deny}) {
			t.Errorf("binding %s: policyName %q, actions %v", name, b.Spec.PolicyName, b.Spec.ValidationActions)
		}
		vars := map[string]string{}
		for _, v := range p.Spec.Variables {
			vars[v.Name] = v.Expression
		}
		if vars["operatorNamespace"] != "'"+namespace+"'" || vars["operatorName"] != "'"+saName+"'" {
			t.Errorf("%s names the operator %s/%s, want '%s'/'%s'", name, vars["operatorNamespace"], vars["operatorName"], namespace, saName)
		}
		// plan-freeze and estimate-keep exempt no operator, so they build no user name of it.
		if name != prefix+"plan-freeze" && name != prefix+"estimate-keep" && !strings.Contains(vars["operator"]+vars["isOperator"], operator) {
			t.Errorf("%s does not build the operator's user name from the two variables", name)
		}
		if got := gate.OperatorServiceAccount; got != "system:serviceaccount:"+namespace+":"+saName {
			t.Errorf("gate.OperatorServiceAccount = %q, out of step with config/default", got)
		}
		if want, ok := estimatePolicies[name]; ok {
			var got []string
			for _, r := range p.Spec.MatchConstraints.ResourceRules {
				for _, res := range r.Resources {
					got = append(got, r.APIGroups[0]+"/"+res)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s matches %v, want %v", name, got, want)
			}
			continue
		}
		rules = append(rules, p.Spec.MatchConstraints.ResourceRules)
	}
	podPolicies := []string{prefix + "estimate-required", prefix + "pod-gate-guard"}
	// Every policy config/default installs is one of the above.
	for _, r := range rs {
		if r.GetKind() == "ValidatingAdmissionPolicy" && !slices.Contains(workloadPolicies, r.GetName()) && estimatePolicies[r.GetName()] == nil &&
			!slices.Contains(podPolicies, r.GetName()) {
			t.Errorf("config/default installs ValidatingAdmissionPolicy %s, which this test does not know", r.GetName())
		}
	}
	var m admissionv1.MutatingAdmissionPolicy
	decode(t, find(t, rs, "MutatingAdmissionPolicy", prefix+"hold-at-creation"), &m)
	var mb admissionv1.MutatingAdmissionPolicyBinding
	decode(t, find(t, rs, "MutatingAdmissionPolicyBinding", prefix+"hold-at-creation"), &mb)
	if mb.Spec.PolicyName != m.Name {
		t.Errorf("MutatingAdmissionPolicyBinding names policy %q, want %q", mb.Spec.PolicyName, m.Name)
	}
	rules = append(rules, m.Spec.MatchConstraints.ResourceRules)

	var want []string
	for _, k := range workload.Kinds {
		want = append(want, k.GVK.Group+"/"+k.Resource)
	}
	slices.Sort(want)
	for i, rs := range rules {
		var got []string
		for _, r := range rs {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					got = append(got, g+"/"+res)
				}
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("policy %d matches %v, want the kinds of workload.Kinds %v", i, got, want)
		}
	}

	// The gate's patch on workloads comes from its own ClusterRole (config/no-job-gate and the chart
	// leave it out with the gate), never from manager-role.
	var role, core rbacv1.ClusterRole
	decode(t, find(t, rs, "ClusterRole", prefix+"job-gate-role"), &role)
	decode(t, find(t, rs, "ClusterRole", prefix+"manager-role"), &core)
	podGatePolicies(t, rs, operator)
	for _, k := range workload.Kinds {
		if !covers(role.Rules, k.GVK.Group, k.Resource, "patch") {
			t.Errorf("the job-gate ClusterRole cannot patch %s.%s", k.Resource, k.GVK.Group)
		}
		if covers(core.Rules, k.GVK.Group, k.Resource, "patch") {
			t.Errorf("manager-role grants patch on %s.%s; only the job-gate role may", k.Resource, k.GVK.Group)
		}
	}
}

// podGatePolicies: estimate-required takes every CostPolicy as its param (a binding that finds none
// allows), matches Pods and every kind of workload.Kinds, and names exactly the accelerator resources
// of internal/workload; pod-gate-guard names the operator; the MutatingAdmissionPolicy pod-gate is
// bound under its prefixed name and matches Pods only.
func podGatePolicies(t *testing.T, rs []*kresource.Resource, operator string) {
	t.Helper()
	var req admissionv1.ValidatingAdmissionPolicy
	decode(t, find(t, rs, "ValidatingAdmissionPolicy", prefix+"estimate-required"), &req)
	if pk := req.Spec.ParamKind; pk == nil || pk.APIVersion != ftv1.GroupVersion.String() || pk.Kind != "CostPolicy" {
		t.Errorf("estimate-required paramKind %v, want CostPolicy %s", pk, ftv1.GroupVersion)
	}
	var reqB admissionv1.ValidatingAdmissionPolicyBinding
	decode(t, find(t, rs, "ValidatingAdmissionPolicyBinding", prefix+"estimate-required"), &reqB)
	if ref := reqB.Spec.ParamRef; reqB.Spec.PolicyName != req.Name || ref == nil || ref.Selector == nil ||
		len(ref.Selector.MatchLabels)+len(ref.Selector.MatchExpressions) != 0 || ref.ParameterNotFoundAction == nil ||
		*ref.ParameterNotFoundAction != admissionv1.AllowAction {
		t.Errorf("estimate-required binding: policy %q, paramRef %+v; want every CostPolicy, Allow when none", reqB.Spec.PolicyName, ref)
	}
	var matched []string
	for _, r := range req.Spec.MatchConstraints.ResourceRules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				matched = append(matched, g+"/"+res)
			}
		}
	}
	for _, want := range []string{"/pods", "apps/deployments", "apps/statefulsets", "batch/cronjobs"} {
		if !slices.Contains(matched, want) {
			t.Errorf("estimate-required does not match %s", want)
		}
	}
	for _, k := range workload.Kinds {
		if !slices.Contains(matched, k.GVK.Group+"/"+k.Resource) {
			t.Errorf("estimate-required does not match %s.%s", k.Resource, k.GVK.Group)
		}
	}
	var accel string
	for _, v := range req.Spec.Variables {
		if v.Name == "accelerators" {
			accel = v.Expression
		}
	}
	var want []string
	for _, r := range append(slices.Clone(workload.GPUResources), workload.OtherAccelerators...) {
		want = append(want, "'"+string(r)+"'")
	}
	if accel != "["+strings.Join(want, ", ")+"]" {
		t.Errorf("estimate-required's accelerators are %s, want workload.GPUResources and OtherAccelerators [%s]", accel, strings.Join(want, ", "))
	}

	var guard admissionv1.ValidatingAdmissionPolicy
	decode(t, find(t, rs, "ValidatingAdmissionPolicy", prefix+"pod-gate-guard"), &guard)
	var guardB admissionv1.ValidatingAdmissionPolicyBinding
	decode(t, find(t, rs, "ValidatingAdmissionPolicyBinding", prefix+"pod-gate-guard"), &guardB)
	if guardB.Spec.PolicyName != guard.Name || !slices.Equal(guardB.Spec.ValidationActions, []admissionv1.ValidationAction{admissionv1.Deny}) {
		t.Errorf("binding %s: policyName %q, actions %v", guard.Name, guardB.Spec.PolicyName, guardB.Spec.ValidationActions)
	}
	vars := map[string]string{}
	for _, v := range guard.Spec.Variables {
		vars[v.Name] = v.Expression
	}
	if vars["operatorNamespace"] != "'"+namespace+"'" || vars["operatorName"] != "'"+saName+"'" || vars["operator"] != operator {
		t.Errorf("pod-gate-guard names the operator %s/%s (%s)", vars["operatorNamespace"], vars["operatorName"], vars["operator"])
	}

	var m admissionv1.MutatingAdmissionPolicy
	decode(t, find(t, rs, "MutatingAdmissionPolicy", prefix+"pod-gate"), &m)
	var mb admissionv1.MutatingAdmissionPolicyBinding
	decode(t, find(t, rs, "MutatingAdmissionPolicyBinding", prefix+"pod-gate"), &mb)
	if mb.Spec.PolicyName != m.Name {
		t.Errorf("MutatingAdmissionPolicyBinding names policy %q, want %q", mb.Spec.PolicyName, m.Name)
	}
	if rr := m.Spec.MatchConstraints.ResourceRules; len(rr) != 1 || !slices.Equal(rr[0].Resources, []string{"pods"}) {
		t.Errorf("pod-gate matches %v, want pods only", rr)
	}
}
