package dist

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ftcost/ftcost/internal/testenv"
)

// TestImage builds the manager's image as `make image` does (ko, no Docker, no registry: the base
// comes from an OCI layout the script writes) into a scratch folder, and reads the OCI layout: one
// linux image whose entrypoint is the manager, running as 65532:65532 (config/manager's
// securityContext asks for non-root 65532), labelled with the version it was built as, and whose one
// layer holds the binary. `make ko` installs ko from the Go module proxy when it is missing.
func TestImage(t *testing.T) {
	root := testenv.RepoRoot()
	install := exec.Command("make", "ko")
	install.Dir = root
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("make ko: %v\n%s", err, out)
	}
	ko, err := exec.Command("make", "-s", "--no-print-directory", "-C", root, "print-ko").Output()
	if err != nil {
		t.Fatalf("make print-ko: %v", err)
	}
	// ko takes the layout's path for a repository name: lower case only (t.TempDir has the test's name).
	dir, err := os.MkdirTemp("", "ftcost-image-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	layout := filepath.Join(dir, "image")
	cmd := exec.Command(filepath.Join(root, "hack", "image.sh"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "KO="+strings.TrimSpace(string(ko)), "VERSION=v9.8.7-test", "IMAGE_DIR="+layout,
		"TARBALL="+filepath.Join(dir, "image.tar"), "KOCACHE="+filepath.Join(dir, "kocache"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/image.sh: %v\n%s", err, out)
	}

	blob := func(digest string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:")))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var index struct {
		Manifests []struct{ Digest, MediaType string }
	}
	b, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("index.json (%v): want one manifest:\n%s", err, b)
	}
	var manifest struct {
		Config struct{ Digest string }
		Layers []struct{ Size int64 }
	}
	if err := json.Unmarshal(blob(index.Manifests[0].Digest), &manifest); err != nil {
		t.Fatal(err)
	}
	var config struct {
		OS, Architecture string
		Config           struct {
			User       string
			Entrypoint []string
			Labels     map[string]string
		}
	}
	if err := json.Unmarshal(blob(manifest.Config.Digest), &config); err != nil {
		t.Fatal(err)
	}
	c := config.Config
	if config.OS != "linux" || c.User != "65532:65532" || len(c.Entrypoint) != 1 || filepath.Base(c.Entrypoint[0]) != "manager" ||
		c.Labels["org.opencontainers.image.version"] != "v9.8.7-test" {
		t.Errorf("image config %+v (os %s): want linux, user 65532:65532, the manager as entrypoint, version label v9.8.7-test", c, config.OS)
	}
	// The empty base adds no layer: the one layer is ko's, with the binary (tens of MB).
	if len(manifest.Layers) < 1 || manifest.Layers[len(manifest.Layers)-1].Size < 10<<20 {
		t.Errorf("layers %+v: want the manager binary's layer", manifest.Layers)
	}
	if _, err := os.Stat(filepath.Join(dir, "image.tar")); err != nil {
		t.Errorf("no tarball: %v", err)
	}
}
