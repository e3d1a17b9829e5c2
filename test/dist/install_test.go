package dist

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ftcost/ftcost/internal/dist"
	"github.com/ftcost/ftcost/internal/testenv"
)

// TestInstallerIsGenerated fails when dist/install.yaml differs from config/default.
func TestInstallerIsGenerated(t *testing.T) {
	want, err := dist.Installer(testenv.RepoRoot(), "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "dist", "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("dist/install.yaml is out of date; run 'make build-installer' (-generated +file):\n%s", cmp.Diff(string(want), string(got)))
	}
}

// TestInstallerApplies applies dist/install.yaml to the API server: the Namespace for real (the
// others need it), everything else as a server-side dry run.
func TestInstallerApplies(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "dist", "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeAll(t, b)
	kinds := map[string]int{}
	for _, u := range objs {
		kinds[u.GetKind()]++
		decodeStrict(t, u)
	}
	for kind, n := range map[string]int{"CustomResourceDefinition": 4, "Namespace": 1, "Deployment": 1, "ServiceAccount": 1,
		"ClusterRole": 9, "ClusterRoleBinding": 3, "ValidatingAdmissionPolicy": 9, "MutatingAdmissionPolicy": 2, "Role": 1, "RoleBinding": 1, "PriceCatalog": 0} {
		if kinds[kind] != n {
			t.Errorf("install.yaml has %d %s, want %d", kinds[kind], kind, n)
		}
	}
	// ftcost-system exists already (TestMain), as after a first apply.
	var rest = objs[:0:0]
	for _, u := range objs {
		if u.GetKind() != "Namespace" {
			rest = append(rest, u)
		} else if u.GetName() != "ftcost-system" {
			t.Errorf("install.yaml makes namespace %q", u.GetName())
		}
	}
	dryRunApply(t, rest)
}

// TestInstallerImage: IMG replaces the manager's image and nothing else.
func TestInstallerImage(t *testing.T) {
	def, err := dist.Installer(testenv.RepoRoot(), "")
	if err != nil {
		t.Fatal(err)
	}
	img, err := dist.Installer(testenv.RepoRoot(), "registry.example.com/ftcost-manager:v9.9.9")
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Replace(def, []byte("image: ftcost-manager:v0.1.0"), []byte("image: registry.example.com/ftcost-manager:v9.9.9"), 1)
	if !bytes.Contains(def, []byte("image: ftcost-manager:v0.1.0")) || !bytes.Equal(want, img) {
		t.Errorf("with IMG set, install.yaml differs by more than the image:\n%s", cmp.Diff(string(want), string(img)))
	}
}
