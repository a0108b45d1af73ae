{{/* Upstream's naming: the release name when it contains the chart name, truncated to 26 characters. */}}
{{- define "kps.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 26 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 26 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* A subchart's fullname (grafana, kube-state-metrics, prometheus-node-exporter): "<release>-<chart>". */}}
{{- define "kps.subchart" -}}
{{- $release := .root.Release.Name -}}
{{- if contains .chart $release -}}
{{- $release | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" $release .chart | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kps.labels" -}}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.Version | quote }}
app.kubernetes.io/part-of: kube-prometheus-stack
chart: {{ .Chart.Name }}-{{ .Chart.Version }}
release: {{ .Release.Name | quote }}
heritage: {{ .Release.Service | quote }}
{{- end -}}

{{/* Container security context every pod here uses: Pod Security restricted. */}}
{{- define "kps.restricted" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{- define "kps.podSecurity" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* A selector that is the release's label, or everything. */}}
{{- define "kps.selector" -}}
{{- if .nilUsesHelmValues }}
matchLabels:
  release: {{ .root.Release.Name | quote }}
{{- else }} {}
{{- end }}
{{- end -}}

{{- define "kps.webhookClientConfig" -}}
{{- if .root.Values.testbed.webhook.url }}
url: {{ .root.Values.testbed.webhook.url | quote }}
{{- else }}
service:
  namespace: {{ .root.Release.Namespace }}
  name: {{ .service }}
  path: {{ .path }}
{{- end }}
{{- with .root.Values.testbed.webhook.caBundle }}
caBundle: {{ . }}
{{- end }}
{{- end -}}

{{- define "kps.grafanaLabels" -}}
app.kubernetes.io/name: grafana
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: grafana-10.1.4
{{- end -}}

{{/* grafana.ini from the `grafana."grafana.ini"` map: top-level keys first, then one [section] per map. */}}
{{- define "kps.grafanaIni" -}}
{{- $ini := index .Values.grafana "grafana.ini" | default dict -}}
{{- range $key, $value := $ini }}
{{- if not (kindIs "map" $value) }}
{{ $key }} = {{ $value }}
{{- end }}
{{- end }}
{{- range $section, $values := $ini }}
{{- if kindIs "map" $values }}
[{{ $section }}]
{{- range $key, $value := $values }}
{{ $key }} = {{ $value }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
