package dist

// staticFiles are the chart's own files, Go templates with [[ ]] delimiters filled from config/
// (the release tag, the image, the manager's resources); Helm's {{ }} pass through.
var staticFiles = map[string]string{
	"Chart.yaml": `# Generated from config/ by 'make chart'; do not edit.
apiVersion: v2
name: ftcost
description: Estimates what fine-tuning an LLM costs against paying an API, and gates training Jobs and Kueue Workloads on the verdict.
type: application
# The chart's version follows the manager's release (config/manager's images: newTag).
version: [[ .Version ]]
appVersion: "[[ .AppVersion ]]"
# What the default values install needs: the admission policies (admissionPolicies.enabled) include a
# MutatingAdmissionPolicy, admissionregistration.k8s.io/v1 since Kubernetes 1.36.
kubeVersion: ">=1.36.0-0"
home: https://github.com/ftcost/ftcost
sources:
- https://github.com/ftcost/ftcost
keywords:
- llm
- fine-tuning
- cost
- kueue
annotations:
  licenses: Apache-2.0
`,
	".helmignore": `# Generated from config/ by 'make chart'; do not edit.
.DS_Store
*.swp
*.bak
`,
	"values.yaml": `# Generated from config/ by 'make chart'; do not edit (the defaults come from config/).
image:
  repository: [[ .Repository ]]
  # tag defaults to the chart's appVersion.
  tag: ""
  pullPolicy: IfNotPresent
imagePullSecrets: []

# replicas of the manager; with leader election only one reconciles, the others wait.
replicas: 1
leaderElection:
  enabled: true

# The manager's resources (defaults from config/manager/manager.yaml).
[[ .Resources ]]

nodeSelector: {}
tolerations: []
affinity: {}

# crds.install installs ftcost's CRDs before the rest of the release (the chart applies no custom
# resource, so one helm install works on a fresh cluster); crds.keep leaves them (and every estimate
# and catalog) in place on helm uninstall. docs/upgrade.md: upgrading and removing CRDs.
crds:
  install: true
  keep: true

# priceCatalog.create lets the manager create the PriceCatalog "default" (the built-in prices, which
# estimates that name no catalog are priced with) when it starts and finds none
# (--create-default-catalog). The catalog is not part of the release: helm uninstall keeps it and
# any prices imported into it.
priceCatalog:
  create: true

# jobGate.enabled releases suspended workloads labelled ftcost.io/estimate once their estimate is
# Approved. It needs admissionPolicies.enabled: only then does the chart grant the manager patch on
# Jobs, JobSets, TrainJobs, PyTorchJobs and RayJobs (docs/reliability.md, "Permissions").
jobGate:
  enabled: true

# admissionPolicies.enabled installs the admission policies of the Job gate: a MutatingAdmissionPolicy
# that stores labelled workloads suspended (needs Kubernetes >= 1.36) and ValidatingAdmissionPolicies
# (>= 1.30) that let only the operator clear the switch and confine the operator's own writes. Off
# also turns the Job gate off.
admissionPolicies:
  enabled: true

kueue:
  admissionCheck:
    # enabled serves Kueue AdmissionChecks with controllerName ftcost.io/cost-gate (needs Kueue >= v0.15).
    enabled: false
    # create also installs the AdmissionCheck "ftcost-cost-gate" for ClusterQueues to require.
    create: true

metrics:
  # enabled serves Prometheus metrics over HTTPS on :8443 (port "https" of the Service
  # ftcost-controller-manager-metrics-service) to callers the API server authenticates and that are
  # bound to the ClusterRole ftcost-metrics-reader.
  enabled: true
  serviceMonitor:
    # enabled creates a ServiceMonitor (needs the Prometheus Operator's CRDs) that scrapes the port
    # "https" with Prometheus's ServiceAccount token (the manager's certificate is self-signed unless
    # mounted, so TLS verification is skipped) and honorLabels, and binds ftcost-metrics-reader to
    # that ServiceAccount.
    enabled: false
    interval: 30s
    # labels your Prometheus selects ServiceMonitors by, e.g. release: kube-prometheus-stack.
    labels: {}
    # prometheusServiceAccount is the ServiceAccount Prometheus scrapes with: prometheus-k8s in
    # monitoring for kube-prometheus, RELEASE-kube-prometheus-prometheus for kube-prometheus-stack.
    prometheusServiceAccount:
      name: prometheus-k8s
      namespace: monitoring

grafana:
  dashboard:
    # enabled ships config/grafana's dashboard as a ConfigMap for the Grafana sidecar.
    enabled: false
    # namespace of the ConfigMap; empty means the release's.
    namespace: ""
    labels:
      grafana_dashboard: "1"

# extraArgs are appended to the manager's arguments, e.g. --max-concurrent-reconciles=8.
extraArgs: []
`,
	"values.schema.json": `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "image": {
      "type": "object",
      "additionalProperties": false,
      "required": ["repository"],
      "properties": {
        "repository": {"type": "string", "minLength": 1},
        "tag": {"type": "string"},
        "pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]}
      }
    },
    "imagePullSecrets": {"type": "array", "items": {"type": "object"}},
    "replicas": {"type": "integer", "minimum": 0},
    "leaderElection": {"$ref": "#/definitions/toggle"},
    "resources": {"type": "object"},
    "nodeSelector": {"type": "object", "additionalProperties": {"type": "string"}},
    "tolerations": {"type": "array"},
    "affinity": {"type": "object"},
    "crds": {
      "type": "object",
      "additionalProperties": false,
      "properties": {"install": {"type": "boolean"}, "keep": {"type": "boolean"}}
    },
    "priceCatalog": {
      "type": "object",
      "additionalProperties": false,
      "properties": {"create": {"type": "boolean"}}
    },
    "jobGate": {"$ref": "#/definitions/toggle"},
    "admissionPolicies": {"$ref": "#/definitions/toggle"},
    "kueue": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "admissionCheck": {
          "type": "object",
          "additionalProperties": false,
          "properties": {"enabled": {"type": "boolean"}, "create": {"type": "boolean"}}
        }
      }
    },
    "metrics": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "enabled": {"type": "boolean"},
        "serviceMonitor": {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "enabled": {"type": "boolean"},
            "interval": {"type": "string", "pattern": "^([0-9]+(ms|s|m|h))+$"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "prometheusServiceAccount": {
              "type": "object",
              "additionalProperties": false,
              "required": ["name", "namespace"],
              "properties": {"name": {"type": "string", "minLength": 1}, "namespace": {"type": "string", "minLength": 1}}
            }
          }
        }
      }
    },
    "grafana": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "dashboard": {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "enabled": {"type": "boolean"},
            "namespace": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}}
          }
        }
      }
    },
    "extraArgs": {"type": "array", "items": {"type": "string", "pattern": "^--"}},
    "global": {"type": "object"}
  },
  "definitions": {
    "toggle": {
      "type": "object",
      "additionalProperties": false,
      "properties": {"enabled": {"type": "boolean"}}
    }
  }
}
`,
	"templates/_helpers.tpl": `{{/* Generated from config/ by 'make chart'; do not edit. */}}
{{/* Labels Helm adds to every object, beside config/'s own. */}}
{{- define "ftcost.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
`,
	"templates/configmap-ftcost-grafana-dashboard.yaml": `# Generated from config/ by 'make chart'; do not edit.
{{- if .Values.grafana.dashboard.enabled }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: ftcost-grafana-dashboard
  namespace: {{ .Values.grafana.dashboard.namespace | default .Release.Namespace }}
  labels:
    app.kubernetes.io/part-of: ftcost
    {{- include "ftcost.labels" . | nindent 4 }}
    {{- with .Values.grafana.dashboard.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
data:
  ftcost-dashboard.json: |-
    {{- .Files.Get "files/ftcost-dashboard.json" | nindent 4 }}
{{- end }}
`,
	"templates/NOTES.txt": `ftcost {{ .Chart.AppVersion }} is installed in namespace {{ .Release.Namespace }}.

Estimate a fine-tuning run:
  kubectl apply -n default -f https://raw.githubusercontent.com/ftcost/ftcost/{{ .Chart.AppVersion }}/config/samples/support-bot.yaml
  kubectl get fte -n default -o wide
  kubectl wait -n default --for=condition=Approved fte/support-bot
{{- if and .Values.jobGate.enabled .Values.admissionPolicies.enabled }}

Gate a training Job on it: create the Job with suspend: true and the label ftcost.io/estimate: NAME.
{{- end }}
{{- if .Values.kueue.admissionCheck.enabled }}

Kueue: require the AdmissionCheck ftcost-cost-gate in your ClusterQueue's admissionChecksStrategy.
{{- end }}
{{- if and .Values.jobGate.enabled (not .Values.admissionPolicies.enabled) }}

The Job gate is off: it needs admissionPolicies.enabled (the policies confine its patch on workloads).
{{- end }}
{{- /* Empty when the namespace does not exist yet: helm renders before --create-namespace makes it. */}}
{{- $enforce := dig "metadata" "labels" "pod-security.kubernetes.io/enforce" "" (lookup "v1" "Namespace" "" .Release.Namespace) }}
{{- if ne $enforce "restricted" }}

Namespace {{ .Release.Namespace }} does not enforce the restricted Pod Security Standard (helm's
--create-namespace sets no labels); the manager meets it, so enforce it:
  kubectl label namespace {{ .Release.Namespace }} pod-security.kubernetes.io/enforce=restricted
{{- end }}
{{- if ne .Release.Namespace "[[ .Namespace ]]" }}
{{- if and .Values.admissionPolicies.enabled .Values.jobGate.enabled }}

Note: the namespace is not [[ .Namespace ]]; the admission policy names the operator's service account
system:serviceaccount:{{ .Release.Namespace }}:ftcost-controller-manager accordingly.
{{- end }}
{{- end }}
`,
}
