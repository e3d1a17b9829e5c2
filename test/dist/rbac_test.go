package dist

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/ftcost/ftcost/internal/dist"
	"github.com/ftcost/ftcost/internal/testenv"
)

// TestRBACSplitIsGenerated: config/rbac's per-feature roles are what 'make manifests' makes of
// role.yaml, and together grant exactly what role.yaml (every RBAC marker) grants.
func TestRBACSplitIsGenerated(t *testing.T) {
	root := testenv.RepoRoot()
	files, err := dist.RBAC(root)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(root, "config", "rbac", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, got) {
			t.Errorf("config/rbac/%s is out of date; run 'make manifests'", name)
		}
	}
	grants := func(files ...string) map[string]bool {
		out := map[string]bool{}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(root, "config", "rbac", f))
			if err != nil {
				t.Fatal(err)
			}
			var r rbacv1.ClusterRole
			if err := yaml.UnmarshalStrict(b, &r); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, rule := range r.Rules {
				for _, g := range rule.APIGroups {
					for _, res := range rule.Resources {
						for _, v := range rule.Verbs {
							out[g+"/"+res+"/"+v] = true
						}
					}
				}
			}
		}
		return out
	}
	union, split := grants("role.yaml"), grants(dist.ManagerRoleFile, dist.JobGateRoleFile)
	for k := range union {
		if !split[k] {
			t.Errorf("role.yaml grants %s, the split roles do not", k)
		}
	}
	for k := range split {
		if !union[k] {
			t.Errorf("the split roles grant %s, role.yaml does not", k)
		}
	}
	for k := range grants(dist.JobGateRoleFile) {
		if !slices.Contains([]string{"patch"}, k[bytes.LastIndexByte([]byte(k), '/')+1:]) {
			t.Errorf("the job-gate role grants %s; it is for patch only", k)
		}
	}
}
