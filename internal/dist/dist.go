// Package dist renders what ftcost ships from config/: dist/install.yaml (config/default as one
// file, as kubebuilder's build-installer makes it) and the Helm chart in dist/chart, whose templates
// are config/'s objects with the values a chart user sets put in. config/ stays the one source:
// `make chart build-installer` regenerates both, `make verify` and test/dist fail when they drift.
package dist

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

const installerHeader = `# ftcost: the namespace ftcost-system, CRDs, RBAC, the manager and the admission policies, in the
# order they must be applied; one apply on a fresh cluster (Kubernetes >= 1.36):
#   kubectl apply --server-side -f install.yaml
# The manager creates the PriceCatalog "default" when it starts and finds none; removing this file's
# objects keeps it unless the CRDs go too (docs/upgrade.md).
# Generated from config/default by 'make build-installer'; do not edit.
`

// Render runs kustomize on config/<dir> under root.
func Render(root, dir string) (resmap.ResMap, error) {
	opts := krusty.MakeDefaultOptions()
	// The kustomization's sortOptions decide the order, as for kubectl apply -k.
	opts.Reorder = krusty.ReorderOptionUnspecified
	k := krusty.MakeKustomizer(opts)
	m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(root, "config", dir))
	if err != nil {
		return nil, fmt.Errorf("kustomize build config/%s: %w", dir, err)
	}
	return m, nil
}

// Installer returns config/default as one YAML stream. A non-empty image ("name:tag") replaces the
// manager's image, as `kustomize edit set image` would.
func Installer(root, image string) ([]byte, error) {
	m, err := Render(root, "default")
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.WriteString(installerHeader)
	for i, r := range m.Resources() {
		obj, err := r.Map()
		if err != nil {
			return nil, err
		}
		if image != "" && r.GetKind() == "Deployment" {
			for _, c := range containers(obj) {
				c["image"] = image
			}
		}
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(b)
	}
	return out.Bytes(), nil
}

// containers returns the containers of a Deployment's pod template, as maps that alias obj.
func containers(obj map[string]any) []map[string]any {
	spec, _ := obj["spec"].(map[string]any)
	tmpl, _ := spec["template"].(map[string]any)
	pod, _ := tmpl["spec"].(map[string]any)
	list, _ := pod["containers"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, c := range list {
		if m, ok := c.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// WriteChart replaces the folder dir with the chart's files.
func WriteChart(dir string, files map[string][]byte) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for name, b := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// toYAML marshals obj, escaping text Helm would take for a template action: a CEL expression's
// "{{" (an object literal in a MutatingAdmissionPolicy) is printed through a template string.
func toYAML(obj map[string]any) (string, error) {
	b, err := yaml.Marshal(obj)
	if err != nil {
		return "", err
	}
	return helmEscaper.Replace(string(b)), nil
}

var helmEscaper = strings.NewReplacer("{{", `{{ "{{" }}`, "}}", `{{ "}}" }}`)

// substitute replaces each line that holds a sentinel with the sentinel's template, indented as
// the line was; the template gets that indentation to nindent what it includes.
func substitute(text string, subs map[string]func(indent int) string) (string, error) {
	lines := strings.Split(text, "\n")
	seen := map[string]bool{}
	for i, line := range lines {
		for sentinel, tmpl := range subs {
			if !strings.Contains(line, sentinel) {
				continue
			}
			seen[sentinel] = true
			indent := len(line) - len(strings.TrimLeft(line, " "))
			pad := strings.Repeat(" ", indent)
			repl := strings.Split(tmpl(indent), "\n")
			for j := range repl {
				repl[j] = pad + repl[j]
			}
			lines[i] = strings.Join(repl, "\n")
		}
	}
	for sentinel := range subs {
		if !seen[sentinel] {
			return "", fmt.Errorf("internal error: sentinel %s not found in\n%s", sentinel, text)
		}
	}
	return strings.Join(lines, "\n"), nil
}
