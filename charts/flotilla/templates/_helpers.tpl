{{/*
Named templates shared by every manifest. Per-component helpers take (dict "root" $ "component" NAME).
*/}}

{{- define "flotilla.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-flotilla, or fullnameOverride; components append "-<component>", so keep room for it. */}}
{{- define "flotilla.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The Kubernetes name of one component's Deployment, Service and PVC (also its DNS name in the namespace). */}}
{{- define "flotilla.componentName" -}}
{{- printf "%s-%s" (include "flotilla.fullname" .root) .component -}}
{{- end -}}

{{- define "flotilla.selectorLabels" -}}
app.kubernetes.io/name: {{ include "flotilla.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "flotilla.labels" -}}
{{ include "flotilla.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* flotilla/<component>:<tag>, the names the root Dockerfile's targets are built under. */}}
{{- define "flotilla.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.repository .component (default .root.Chart.AppVersion .root.Values.image.tag) -}}
{{- end -}}

{{- define "flotilla.redisUrl" -}}
{{- printf "redis://%s:6379/0" (include "flotilla.componentName" (dict "root" . "component" "redis")) -}}
{{- end -}}

{{/* Environment every service reads (shared/settings.py). */}}
{{- define "flotilla.serviceEnv" -}}
- name: FLOTILLA_REDIS_URL
  value: {{ include "flotilla.redisUrl" . | quote }}
- name: FLOTILLA_DATA_DIR
  value: /data
- name: PERSISTENCE
  value: {{ ternary "1" "0" .Values.persistence.enabled | quote }}
- name: FLOTILLA_DEFAULT_REGION
  value: {{ .Values.config.defaultRegion | quote }}
- name: FLOTILLA_ENFORCE_SIGV4
  value: {{ ternary "1" "0" .Values.config.enforceSigv4 | quote }}
- name: FLOTILLA_CREDENTIALS
  value: {{ .Values.config.credentials | quote }}
- name: FLOTILLA_LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: FLOTILLA_EXTERNAL_URL
  value: {{ .Values.config.externalUrl | quote }}
- name: FLOTILLA_INTERNAL_URL
  value: {{ printf "http://%s:4566" (include "flotilla.componentName" (dict "root" . "component" "gateway")) | quote }}
- name: FLOTILLA_SQS_ENDPOINT_STRATEGY
  value: {{ .Values.config.sqsEndpointStrategy | quote }}
{{- end -}}

{{/* Environment of Lambda, EC2 and RDS: where their sibling containers go and the label that finds them again. */}}
{{- define "flotilla.dockerEnv" -}}
- name: FLOTILLA_DOCKER_NETWORK
  value: {{ .Values.docker.network | quote }}
- name: FLOTILLA_DOCKER_LABELS
  value: {{ printf "flotilla.fleet=%s" (include "flotilla.fullname" .) | quote }}
{{- end -}}

{{/* Extra environment from a values map (services.<name>.env, gateway.env). */}}
{{- define "flotilla.extraEnv" -}}
{{- range $key, $value := . }}
- name: {{ $key }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* Readiness and liveness probes on one path of port 4566. */}}
{{- define "flotilla.probes" -}}
readinessProbe:
  httpGet:
    path: {{ .path }}
    port: http
  {{- toYaml .root.Values.probes.readiness | nindent 2 }}
livenessProbe:
  httpGet:
    path: {{ .path }}
    port: http
  {{- toYaml .root.Values.probes.liveness | nindent 2 }}
{{- end -}}

{{/* The component's data volume: its PVC when persistence is on, else an emptyDir. */}}
{{- define "flotilla.dataVolume" -}}
- name: data
{{- if .root.Values.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "flotilla.componentName" . }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by every pod. Service links off: they would inject FLOTILLA_<SVC>_PORT=tcp://...
     variables that shared/settings.py reads as service options. */}}
{{- define "flotilla.podCommon" -}}
enableServiceLinks: false
{{- if .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml .Values.imagePullSecrets | nindent 2 }}
{{- end }}
{{- if .Values.nodeSelector }}
nodeSelector:
  {{- toYaml .Values.nodeSelector | nindent 2 }}
{{- end }}
{{- if .Values.tolerations }}
tolerations:
  {{- toYaml .Values.tolerations | nindent 2 }}
{{- end }}
{{- end -}}
