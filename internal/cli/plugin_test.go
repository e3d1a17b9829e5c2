package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestKrewManifest renders dist/ftcost.yaml as krew-release-bot does for a tag and checks that it is
// a krew Plugin whose every platform runs this binary under the plugin's name, from the archive
// `make dist` builds for it.
func TestKrewManifest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "dist", "ftcost.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	uriAndSha := regexp.MustCompile(`\{\{ addURIAndSha "([^"]+)" \.TagName \}\}`)
	rendered := uriAndSha.ReplaceAllString(string(data), "uri: $1\n    sha256: \""+strings.Repeat("0", 64)+"\"")
	rendered = strings.ReplaceAll(rendered, "{{ .TagName }}", "v0.1.0")
	var plugin struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			Version          string `json:"version"`
			ShortDescription string `json:"shortDescription"`
			Platforms        []struct {
				Selector struct {
					MatchLabels map[string]string `json:"matchLabels"`
				} `json:"selector"`
				URI    string `json:"uri"`
				Sha256 string `json:"sha256"`
				Bin    string `json:"bin"`
			} `json:"platforms"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(rendered), &plugin); err != nil {
		t.Fatalf("rendered manifest does not parse: %v\n%s", err, rendered)
	}
	if plugin.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || plugin.Kind != "Plugin" ||
		plugin.Metadata.Name != strings.TrimPrefix(PluginName, "kubectl-") || plugin.Spec.Version != "v0.1.0" {
		t.Errorf("header: %s %s %s %s", plugin.APIVersion, plugin.Kind, plugin.Metadata.Name, plugin.Spec.Version)
	}
	if len(plugin.Spec.Platforms) != 4 {
		t.Fatalf("got %d platforms, want linux and darwin on amd64 and arm64", len(plugin.Spec.Platforms))
	}
	for _, p := range plugin.Spec.Platforms {
		osName, arch := p.Selector.MatchLabels["os"], p.Selector.MatchLabels["arch"]
		wantURI := "https://github.com/ftcost/ftcost/releases/download/v0.1.0/kubectl-ftcost_" + osName + "_" + arch + ".tar.gz"
		if p.URI != wantURI || p.Bin != PluginName || len(p.Sha256) != 64 {
			t.Errorf("%s/%s: uri %q bin %q; want %q and %q", osName, arch, p.URI, p.Bin, wantURI, PluginName)
		}
	}
}
