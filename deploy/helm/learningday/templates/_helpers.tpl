{{- define "learningday.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "learningday.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "learningday.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "learningday.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "learningday.secretName" -}}
{{- .Values.existingSecret | default (printf "%s-env" (include "learningday.fullname" .)) -}}
{{- end -}}

{{/* Environment shared by web, worker and the migration Job. */}}
{{- define "learningday.env" -}}
- name: LEARNINGDAY_TEMPORAL_ADDRESS
  value: {{ .Values.temporal.address | quote }}
- name: LEARNINGDAY_TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
- name: LEARNINGDAY_TEMPORAL_TASK_QUEUE
  value: {{ .Values.temporal.taskQueue | quote }}
- name: LEARNINGDAY_TEMPORAL_CHANNEL_TASK_QUEUE
  value: {{ .Values.temporal.channelTaskQueue | quote }}
{{- if .Values.temporal.apiKey.existingSecret }}
- name: LEARNINGDAY_TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.temporal.apiKey.existingSecret }}
      key: {{ .Values.temporal.apiKey.key }}
{{- end }}
{{- if .Values.temporal.mtls.existingSecret }}
- name: LEARNINGDAY_TEMPORAL_TLS_CERT
  value: /etc/temporal-tls/tls.crt
- name: LEARNINGDAY_TEMPORAL_TLS_KEY
  value: /etc/temporal-tls/tls.key
{{- end }}
{{- if .Values.policy }}
- name: LEARNINGDAY_POLICY_FILE
  value: /etc/learningday/policy.toml
{{- end }}
- name: LEARNINGDAY_DATA_DIR
  value: /var/lib/learningday
{{- end -}}

{{- define "learningday.envFrom" -}}
- configMapRef:
    name: {{ include "learningday.fullname" . }}-config
- secretRef:
    name: {{ include "learningday.secretName" . }}
{{- end -}}

{{- define "learningday.volumeMounts" -}}
- name: data
  mountPath: /var/lib/learningday
- name: tmp
  mountPath: /tmp
{{- if .Values.policy }}
- name: policy
  mountPath: /etc/learningday
  readOnly: true
{{- end }}
{{- if .Values.temporal.mtls.existingSecret }}
- name: temporal-tls
  mountPath: /etc/temporal-tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "learningday.volumes" -}}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- if .Values.policy }}
- name: policy
  configMap:
    name: {{ include "learningday.fullname" . }}-policy
{{- end }}
{{- if .Values.temporal.mtls.existingSecret }}
- name: temporal-tls
  secret:
    secretName: {{ .Values.temporal.mtls.existingSecret }}
{{- end }}
{{- end -}}
