{{- define "alloy.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "alloy.selectorLabels" -}}
app.kubernetes.io/name: alloy
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "alloy.labels" -}}
{{ include "alloy.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: alloy
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
