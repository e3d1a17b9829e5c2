package dist

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/ftcost/ftcost/internal/workload"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// The ClusterRoles config/rbac deploys, split by feature from controller-gen's config/rbac/role.yaml
// (every RBAC marker): the suspend gate's patch on workloads is granted by its own role, which the
// chart leaves out when the gate or the admission policies that confine it are off, and
// config/no-job-gate deletes. role.yaml itself is the union, kept as controller-gen writes it.
const (
	ManagerRoleFile = "manager_role.yaml"
	JobGateRoleFile = "job_gate_role.yaml"
	// JobGateRoleName is the role's name in config/ (kustomize prefixes it with ftcost-).
	JobGateRoleName = "job-gate-role"
)

const rbacHeader = "# Generated from config/rbac/role.yaml (the controllers' RBAC markers) by 'make manifests'; do not edit.\n"

// SplitRole splits role (controller-gen's manager-role) into the rules every manager needs and the
// gates': patch on each workload kind of workload.Kinds (the suspend gate) and on Pods (the pod gate
// removes its scheduling gate); both run only with the job gate.
func SplitRole(role *rbacv1.ClusterRole) (core, jobGate *rbacv1.ClusterRole) {
	gated := func(group, resource string) bool {
		return group == "" && resource == "pods" ||
			slices.ContainsFunc(workload.Kinds, func(k workload.Kind) bool { return k.GVK.Group == group && k.Resource == resource })
	}
	writes := func(v string) bool { return v == "patch" }
	core = &rbacv1.ClusterRole{TypeMeta: role.TypeMeta, ObjectMeta: role.ObjectMeta}
	jobGate = &rbacv1.ClusterRole{TypeMeta: role.TypeMeta}
	jobGate.Name = JobGateRoleName
	for _, r := range role.Rules {
		if !slices.ContainsFunc(r.Verbs, writes) || len(r.APIGroups) != 1 || len(r.NonResourceURLs) > 0 || len(r.ResourceNames) > 0 {
			core.Rules = append(core.Rules, r)
			continue
		}
		var kept, moved []string
		for _, res := range r.Resources {
			if gated(r.APIGroups[0], res) {
				moved = append(moved, res)
			} else {
				kept = append(kept, res)
			}
		}
		if len(kept) > 0 {
			k := *r.DeepCopy()
			k.Resources = kept
			core.Rules = append(core.Rules, k)
		}
		if len(moved) == 0 {
			continue
		}
		rest := slices.DeleteFunc(slices.Clone(r.Verbs), writes)
		if len(rest) > 0 {
			core.Rules = append(core.Rules, rbacv1.PolicyRule{APIGroups: r.APIGroups, Resources: moved, Verbs: rest})
		}
		jobGate.Rules = append(jobGate.Rules, rbacv1.PolicyRule{APIGroups: r.APIGroups, Resources: moved,
			Verbs: slices.DeleteFunc(slices.Clone(r.Verbs), func(v string) bool { return !writes(v) })})
	}
	return core, jobGate
}

// RBAC returns the split roles' files, by name in config/rbac.
func RBAC(root string) (map[string][]byte, error) {
	b, err := os.ReadFile(filepath.Join(root, "config", "rbac", "role.yaml"))
	if err != nil {
		return nil, err
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.UnmarshalStrict(b, role); err != nil {
		return nil, fmt.Errorf("config/rbac/role.yaml: %w", err)
	}
	core, jobGate := SplitRole(role)
	if len(jobGate.Rules) == 0 {
		return nil, fmt.Errorf("config/rbac/role.yaml grants patch on none of the gate's workload kinds")
	}
	out := map[string][]byte{}
	for name, r := range map[string]*rbacv1.ClusterRole{ManagerRoleFile: core, JobGateRoleFile: jobGate} {
		y, err := yaml.Marshal(r)
		if err != nil {
			return nil, err
		}
		out[name] = append([]byte(rbacHeader), y...)
	}
	return out, nil
}

// WriteRBAC writes RBAC's files into config/rbac.
func WriteRBAC(root string) error {
	files, err := RBAC(root)
	if err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(root, "config", "rbac", name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
