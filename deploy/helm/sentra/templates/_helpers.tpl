{{/* The release's base name, at most 63 characters (a DNS label). */}}
{{- define "sentra.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "sentra.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component (server or controller): never change after install. */}}
{{- define "sentra.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "sentra.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "sentra.secretName" -}}
{{- default (include "sentra.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{/* Environment shared by servers and controllers: the store, the bus, the token. */}}
{{- define "sentra.commonEnv" -}}
- name: NODE_ENV
  value: production
- name: SENTRA_DATABASE_URL
  valueFrom: { secretKeyRef: { name: {{ include "sentra.secretName" . }}, key: database-url } }
- name: SENTRA_REDIS_URL
  valueFrom: { secretKeyRef: { name: {{ include "sentra.secretName" . }}, key: redis-url } }
- name: SENTRA_ADMIN_TOKEN
  valueFrom: { secretKeyRef: { name: {{ include "sentra.secretName" . }}, key: admin-token, optional: true } }
{{- end -}}
