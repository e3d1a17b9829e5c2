package workload

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func kind(t *testing.T, k string) Kind {
	t.Helper()
	for _, row := range Kinds {
		if row.GVK.Kind == k {
			return row
		}
	}
	t.Fatalf("no kind %s", k)
	return Kind{}
}

func obj(spec, status map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	if status != nil {
		u.Object["status"] = status
	}
	return u
}

func cond(typ, status string) map[string]any { return map[string]any{"type": typ, "status": status} }

func TestKinds(t *testing.T) {
	cases := map[string]struct {
		kind      string
		obj       *unstructured.Unstructured
		suspended bool
		started   bool
	}{
		"Job held":                      {"Job", obj(map[string]any{"suspend": true}, nil), true, false},
		"Job suspended condition":       {"Job", obj(map[string]any{"suspend": true}, map[string]any{"conditions": []any{cond("Suspended", "True")}}), true, false},
		"Job running":                   {"Job", obj(map[string]any{"suspend": false}, map[string]any{"startTime": "2026-01-01T00:00:00Z"}), false, true},
		"Job complete":                  {"Job", obj(map[string]any{"suspend": true}, map[string]any{"conditions": []any{cond("Complete", "True")}}), true, true},
		"Job failed False is not done":  {"Job", obj(map[string]any{"suspend": true}, map[string]any{"conditions": []any{cond("Failed", "False")}}), true, false},
		"JobSet no suspend field":       {"JobSet", obj(map[string]any{}, nil), false, false},
		"JobSet completed":              {"JobSet", obj(map[string]any{"suspend": true}, map[string]any{"conditions": []any{cond("Completed", "True")}}), true, true},
		"JobSet terminal":               {"JobSet", obj(map[string]any{"suspend": true}, map[string]any{"terminalState": "Failed"}), true, true},
		"TrainJob held":                 {"TrainJob", obj(map[string]any{"suspend": true}, map[string]any{"conditions": []any{cond("Suspended", "True")}}), true, false},
		"TrainJob complete":             {"TrainJob", obj(map[string]any{"suspend": true}, map[string]any{"conditions": []any{cond("Complete", "True")}}), true, true},
		"PyTorchJob runPolicy.suspend":  {"PyTorchJob", obj(map[string]any{"runPolicy": map[string]any{"suspend": true}}, map[string]any{"conditions": []any{cond("Created", "True")}}), true, false},
		"PyTorchJob spec.suspend is no": {"PyTorchJob", obj(map[string]any{"suspend": true}, nil), false, false},
		"PyTorchJob running":            {"PyTorchJob", obj(map[string]any{}, map[string]any{"conditions": []any{cond("Running", "True")}}), false, true},
		"RayJob new":                    {"RayJob", obj(map[string]any{"suspend": true}, map[string]any{"jobDeploymentStatus": ""}), true, false},
		"RayJob suspended":              {"RayJob", obj(map[string]any{"suspend": true}, map[string]any{"jobDeploymentStatus": "Suspended"}), true, false},
		"RayJob running":                {"RayJob", obj(map[string]any{"suspend": false}, map[string]any{"jobDeploymentStatus": "Running"}), false, true},
		"RayJob suspending":             {"RayJob", obj(map[string]any{"suspend": true}, map[string]any{"jobDeploymentStatus": "Suspending"}), true, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			k := kind(t, tc.kind)
			if got := k.Suspended(tc.obj); got != tc.suspended {
				t.Errorf("Suspended = %v, want %v", got, tc.suspended)
			}
			if got := k.Started(tc.obj); got != tc.started {
				t.Errorf("Started = %v, want %v", got, tc.started)
			}
		})
	}
}

func TestSetSuspendCreatesThePath(t *testing.T) {
	k := kind(t, "PyTorchJob")
	u := obj(map[string]any{}, nil)
	if err := k.SetSuspend(u, false); err != nil {
		t.Fatal(err)
	}
	if v, found, _ := unstructured.NestedBool(u.Object, "spec", "runPolicy", "suspend"); !found || v {
		t.Errorf("spec.runPolicy.suspend = %v (found %v), want false", v, found)
	}
}

func TestKindOfAndCRDName(t *testing.T) {
	seen := map[schema.GroupKind]bool{}
	for _, k := range Kinds {
		if seen[k.GVK.GroupKind()] {
			t.Errorf("%s listed twice", k.GVK.GroupKind())
		}
		seen[k.GVK.GroupKind()] = true
		if got, ok := KindOf(k.GVK.GroupKind()); !ok || got.Resource != k.Resource {
			t.Errorf("KindOf(%s) = %v, %v", k.GVK.GroupKind(), got.Resource, ok)
		}
	}
	if _, ok := KindOf(schema.GroupKind{Group: "kubeflow.org", Kind: "MPIJob"}); ok {
		t.Error("MPIJob is not gated")
	}
	if got := kind(t, "JobSet").CRDName(); got != "jobsets.jobset.x-k8s.io" {
		t.Errorf("CRDName = %q", got)
	}
	if got := kind(t, "Job").CRDName(); got != "" {
		t.Errorf("Job CRDName = %q, want none", got)
	}
}

// TestKindsHaveOneHome: no Go file outside this package names a kind's API group or kind in a
// string (tests aside), so a kind is described here only; the RBAC markers name their groups
// unquoted.
func TestKindsHaveOneHome(t *testing.T) {
	var needles []string
	for _, k := range Kinds {
		needles = append(needles, `Kind: "`+k.GVK.Kind+`"`, `"`+k.GVK.Kind+`List"`, `"`+k.Resource+`"`)
		if !k.BuiltIn() {
			needles = append(needles, `"`+k.GVK.Group+`"`)
		}
	}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin" || path == filepath.Join(root, "internal", "workload")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if strings.Contains(string(src), n) {
				t.Errorf("%s names %s: describe the kind in internal/workload", path, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
