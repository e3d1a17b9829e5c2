package dist

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"sigs.k8s.io/yaml"
)

// Sentinels put into objects where a template goes, replaced line by line after marshalling.
const (
	sNamespace = "__FTCOST_NAMESPACE__"
	sLabels    = "__FTCOST_LABELS__"
	sKeep      = "__FTCOST_KEEP__"
	sReplicas  = "__FTCOST_REPLICAS__"
	sImage     = "__FTCOST_IMAGE__"
	sPull      = "__FTCOST_PULL_POLICY__"
	sArgs      = "__FTCOST_ARGS__"
	sResources = "__FTCOST_RESOURCES__"
	sPodExtras = "__FTCOST_POD_EXTRAS__"
	sInterval  = "__FTCOST_INTERVAL__"
	sMonLabels = "__FTCOST_MONITOR_LABELS__"
	sPromName  = "__FTCOST_PROMETHEUS_SA__"
	sPromNS    = "__FTCOST_PROMETHEUS_NS__"
)

// kustomization is the part of a kustomization.yaml the chart reads.
type kustomization struct {
	Namespace  string `json:"namespace"`
	NamePrefix string `json:"namePrefix"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

func readKustomization(root, dir string) (*kustomization, error) {
	b, err := os.ReadFile(filepath.Join(root, "config", dir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	k := &kustomization{}
	if err := yaml.Unmarshal(b, k); err != nil {
		return nil, fmt.Errorf("config/%s/kustomization.yaml: %w", dir, err)
	}
	return k, nil
}

// jobGateOn is when the chart runs the suspend gate: it patches workloads, which the admission
// policies confine to clearing the suspend switch of labelled ones, so it needs both values; and
// without the gate nobody would release the workloads the policies hold.
const jobGateOn = "and .Values.jobGate.enabled .Values.admissionPolicies.enabled"

// chartObject is one template: an object of config/ and the values that switch it on.
type chartObject struct {
	obj  map[string]any
	cond string // a Helm condition, "" for always
	// extra sentinel substitutions for this object
	subs map[string]func(indent int) string
}

// Chart returns the files of dist/chart, by path inside the chart.
func Chart(root string) (map[string][]byte, error) {
	def, err := readKustomization(root, "default")
	if err != nil {
		return nil, err
	}
	mgr, err := readKustomization(root, "manager")
	if err != nil {
		return nil, err
	}
	if len(mgr.Images) != 1 || mgr.Images[0].NewTag == "" {
		return nil, fmt.Errorf("config/manager/kustomization.yaml: want one images: entry with a newTag, the release the chart ships")
	}
	img := mgr.Images[0]
	repo := img.NewName
	if repo == "" {
		repo = img.Name
	}

	rendered, err := Render(root, "default")
	if err != nil {
		return nil, err
	}
	var objs []chartObject
	seen := map[string]bool{}
	var resources any
	for _, r := range rendered.Resources() {
		obj, err := r.Map()
		if err != nil {
			return nil, err
		}
		seen[r.GetKind()+"/"+r.GetName()] = true
		switch kind := r.GetKind(); {
		case kind == "Namespace":
			// helm install --namespace NS --create-namespace makes it.
			continue
		case kind == "CustomResourceDefinition":
			setPath(obj, []string{"metadata", "annotations", sKeep}, "")
			objs = append(objs, chartObject{obj: obj, cond: ".Values.crds.install", subs: map[string]func(int) string{
				sKeep: func(int) string { return "{{- if .Values.crds.keep }}\nhelm.sh/resource-policy: keep\n{{- end }}" },
			}})
		case kind == "ClusterRole" && r.GetName() == def.NamePrefix+JobGateRoleName,
			kind == "ClusterRoleBinding" && r.GetName() == def.NamePrefix+"job-gate-rolebinding":
			// The gate's patch on workloads, only where the gate runs with the policies confining it.
			objs = append(objs, chartObject{obj: obj, cond: jobGateOn})
		case kind == "Service":
			objs = append(objs, chartObject{obj: obj, cond: ".Values.metrics.enabled"})
		case kind == "Deployment":
			co, res, err := deployment(obj)
			if err != nil {
				return nil, err
			}
			resources = res
			objs = append(objs, co)
		case strings.Contains(kind, "AdmissionPolicy"):
			// Without the suspend gate nobody would release the workloads these policies hold.
			objs = append(objs, chartObject{obj: obj, cond: jobGateOn})
		default:
			objs = append(objs, chartObject{obj: obj})
		}
	}
	if resources == nil {
		return nil, fmt.Errorf("config/default renders no Deployment")
	}

	// What config/default leaves to separate kustomizations, behind values. (The admission policies
	// of config/vap are part of config/default.)
	check, err := readObject(root, "kueue/admissioncheck.yaml")
	if err != nil {
		return nil, err
	}
	objs = append(objs, chartObject{obj: check, cond: "and .Values.kueue.admissionCheck.enabled .Values.kueue.admissionCheck.create"})
	monitor, err := readObject(root, "prometheus/monitor.yaml")
	if err != nil {
		return nil, err
	}
	meta := monitor["metadata"].(map[string]any)
	meta["name"] = def.NamePrefix + meta["name"].(string)
	meta["namespace"] = def.Namespace
	for _, ep := range monitor["spec"].(map[string]any)["endpoints"].([]any) {
		ep.(map[string]any)["interval"] = sInterval
	}
	setPath(monitor, []string{"metadata", "labels", sMonLabels}, "")
	objs = append(objs, chartObject{obj: monitor, cond: "and .Values.metrics.enabled .Values.metrics.serviceMonitor.enabled", subs: map[string]func(int) string{
		sMonLabels: func(indent int) string {
			return fmt.Sprintf("{{- with .Values.metrics.serviceMonitor.labels }}\n{{- toYaml . | nindent %d }}\n{{- end }}", indent)
		},
	}})

	// ... and the binding that lets Prometheus's ServiceAccount GET /metrics.
	reader, err := readObject(root, "prometheus/metrics_reader_binding.yaml")
	if err != nil {
		return nil, err
	}
	reader["metadata"].(map[string]any)["name"] = def.NamePrefix + reader["metadata"].(map[string]any)["name"].(string)
	roleRef := reader["roleRef"].(map[string]any)
	roleRef["name"] = def.NamePrefix + roleRef["name"].(string)
	reader["subjects"] = []any{map[string]any{"kind": "ServiceAccount", "name": sPromName, "namespace": sPromNS}}
	objs = append(objs, chartObject{obj: reader, cond: "and .Values.metrics.enabled .Values.metrics.serviceMonitor.enabled"})

	files := map[string][]byte{}
	for _, co := range objs {
		name, text, err := template1(co, def.Namespace)
		if err != nil {
			return nil, err
		}
		if _, dup := files[name]; dup {
			return nil, fmt.Errorf("two objects map to %s", name)
		}
		files[name] = []byte(text)
	}

	resYAML, err := yaml.Marshal(map[string]any{"resources": resources})
	if err != nil {
		return nil, err
	}
	params := map[string]string{
		"AppVersion": img.NewTag,
		"Version":    strings.TrimPrefix(img.NewTag, "v"),
		"Repository": repo,
		"Resources":  strings.TrimSpace(string(resYAML)),
		"Namespace":  def.Namespace,
	}
	for name, tmpl := range staticFiles {
		var b bytes.Buffer
		t := template.Must(template.New(name).Delims("[[", "]]").Parse(tmpl))
		if err := t.Execute(&b, params); err != nil {
			return nil, err
		}
		files[name] = b.Bytes()
	}
	dashboard, err := os.ReadFile(filepath.Join(root, "config", "grafana", "ftcost-dashboard.json"))
	if err != nil {
		return nil, err
	}
	files["files/ftcost-dashboard.json"] = dashboard
	return files, nil
}

// readObject reads the one object of a file under config/.
func readObject(root, path string) (map[string]any, error) {
	b, err := os.ReadFile(filepath.Join(root, "config", filepath.FromSlash(path)))
	if err != nil {
		return nil, err
	}
	obj := map[string]any{}
	if err := yaml.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("config/%s: %w", path, err)
	}
	return obj, nil
}

// template1 turns one object into a template file: the release's namespace for config's, the
// chart's labels, and the object's own substitutions, inside its condition.
func template1(co chartObject, namespace string) (string, string, error) {
	obj := co.obj
	replaceNamespace(obj, namespace)
	setPath(obj, []string{"metadata", "labels", sLabels}, "")
	text, err := toYAML(obj)
	if err != nil {
		return "", "", err
	}
	subs := map[string]func(int) string{
		sLabels: func(indent int) string { return fmt.Sprintf(`{{- include "ftcost.labels" . | nindent %d }}`, indent) },
	}
	for k, v := range co.subs {
		subs[k] = v
	}
	text, err = substitute(text, subs)
	if err != nil {
		return "", "", err
	}
	// A plain replacement: the namespace is a DNS label, valid inside any YAML scalar.
	text = strings.ReplaceAll(text, sNamespace, "{{ .Release.Namespace }}")
	text = strings.ReplaceAll(text, sInterval, "{{ .Values.metrics.serviceMonitor.interval }}")
	text = strings.ReplaceAll(text, sPromName, "{{ .Values.metrics.serviceMonitor.prometheusServiceAccount.name }}")
	text = strings.ReplaceAll(text, sPromNS, "{{ .Values.metrics.serviceMonitor.prometheusServiceAccount.namespace }}")
	if co.cond != "" {
		text = "{{- if " + co.cond + " }}\n" + text + "{{- end }}\n"
	}
	meta := obj["metadata"].(map[string]any)
	name := fmt.Sprintf("templates/%s-%s.yaml", strings.ToLower(obj["kind"].(string)), meta["name"])
	return name, "# Generated from config/ by 'make chart'; do not edit.\n" + text, nil
}

// replaceNamespace puts the release's namespace where config/ names its own: metadata.namespace,
// subjects, and service account user names.
func replaceNamespace(v any, namespace string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = replaceNamespace(e, namespace)
		}
	case []any:
		for i, e := range t {
			t[i] = replaceNamespace(e, namespace)
		}
	case string:
		if t == namespace {
			return sNamespace
		}
		if t == "'"+namespace+"'" {
			return "'" + sNamespace + "'" // a CEL string literal: the admission policies' operatorNamespace
		}
		return strings.ReplaceAll(t, "system:serviceaccount:"+namespace+":", "system:serviceaccount:"+sNamespace+":")
	}
	return v
}

// setPath sets obj[path...] = v, making the maps on the way.
func setPath(obj map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := obj[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[k] = next
		}
		obj = next
	}
	obj[path[len(path)-1]] = v
}

// deployment templates the manager's Deployment: replicas, image, args, resources and pod
// placement come from values; everything else (security contexts, probes, ports) from config/.
// It returns the container's resources, the default of values.resources.
func deployment(obj map[string]any) (chartObject, any, error) {
	cs := containers(obj)
	if len(cs) != 1 {
		return chartObject{}, nil, fmt.Errorf("the Deployment has %d containers, want 1", len(cs))
	}
	c := cs[0]
	spec := obj["spec"].(map[string]any)
	spec["replicas"] = sReplicas
	c["image"], c["imagePullPolicy"] = sImage, sPull
	resources := c["resources"]
	c["resources"] = sResources
	var args []string
	for _, a := range c["args"].([]any) {
		args = append(args, a.(string))
	}
	c["args"] = []any{sArgs}
	pod := spec["template"].(map[string]any)["spec"].(map[string]any)
	pod[sPodExtras] = ""

	argsTmpl := func(int) string {
		var b strings.Builder
		for _, a := range args {
			name, value, _ := strings.Cut(a, "=")
			switch name {
			case "--leader-elect":
				b.WriteString("{{- if .Values.leaderElection.enabled }}\n- --leader-elect\n{{- end }}\n")
			case "--metrics-bind-address":
				fmt.Fprintf(&b, "- --metrics-bind-address={{ if .Values.metrics.enabled }}%s{{ else }}0{{ end }}\n", value)
			case "--enable-job-gate", "--enable-kueue-admission-check", "--create-default-catalog":
				// set from values below
			default:
				q, _ := yaml.Marshal(a)
				fmt.Fprintf(&b, "- %s\n", strings.TrimSpace(string(q)))
			}
		}
		b.WriteString("- --enable-job-gate={{ " + jobGateOn + " }}\n")
		b.WriteString("- --create-default-catalog={{ .Values.priceCatalog.create }}\n")
		b.WriteString("- --enable-kueue-admission-check={{ .Values.kueue.admissionCheck.enabled }}\n")
		b.WriteString("{{- range .Values.extraArgs }}\n- {{ . | quote }}\n{{- end }}")
		return b.String()
	}
	return chartObject{obj: obj, subs: map[string]func(int) string{
		sReplicas: func(int) string { return "replicas: {{ .Values.replicas }}" },
		sImage: func(int) string {
			return `image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"`
		},
		sPull: func(int) string { return "imagePullPolicy: {{ .Values.image.pullPolicy }}" },
		sArgs: argsTmpl,
		sResources: func(indent int) string {
			return fmt.Sprintf("resources:\n  {{- toYaml .Values.resources | nindent %d }}", indent+2)
		},
		sPodExtras: func(indent int) string {
			var b strings.Builder
			for _, f := range []string{"imagePullSecrets", "nodeSelector", "tolerations", "affinity"} {
				fmt.Fprintf(&b, "{{- with .Values.%s }}\n%s:\n  {{- toYaml . | nindent %d }}\n{{- end }}\n", f, f, indent+2)
			}
			return strings.TrimSuffix(b.String(), "\n")
		},
	}}, resources, nil
}
