{{/* Labels of every object; `name` and `component` as in deploy/k8s. */}}
{{- define "murmur.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: murmur
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "murmur.selector" -}}
app.kubernetes.io/name: {{ .name }}
{{- end -}}

{{- define "murmur.image" -}}
{{ printf "%s:%s" .Values.image.repository .Values.image.tag }}
{{- end -}}

{{- define "murmur.podSecurity" -}}
runAsNonRoot: true
runAsUser: {{ . }}
runAsGroup: {{ . }}
fsGroup: {{ . }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "murmur.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* postgres://murmur:$(POSTGRES_PASSWORD)@<host>:5432/<db>; Kubernetes expands $(VAR) in env values. */}}
{{- define "murmur.pgUrl" -}}
{{ printf "postgres://murmur:$(POSTGRES_PASSWORD)@%s:5432/%s" .host .db }}
{{- end -}}

{{/* The SHARDS JSON: one entry per physical shard cluster, its primary and replicas. */}}
{{- define "murmur.shards" -}}
{{- $shards := list -}}
{{- range $i := until (int .Values.postgres.shards.count) -}}
{{- $name := printf "pg-shard-%d" $i -}}
{{- $replicas := list -}}
{{- range $r := until (int $.Values.postgres.shards.replicas) -}}
{{- $replicas = append $replicas (include "murmur.pgUrl" (dict "host" (printf "%s-%d.%s" $name (add1 $r) $name) "db" "murmur_posts")) -}}
{{- end -}}
{{- $shards = append $shards (dict "primary" (include "murmur.pgUrl" (dict "host" (printf "%s-0.%s" $name $name) "db" "murmur_posts")) "replicas" $replicas) -}}
{{- end -}}
{{- toJson $shards -}}
{{- end -}}

{{- define "murmur.replicaUrls" -}}
{{- $urls := list -}}
{{- range $r := until (int .Values.postgres.main.replicas) -}}
{{- $urls = append $urls (include "murmur.pgUrl" (dict "host" (printf "pg-main-%d.pg-main" (add1 $r)) "db" "murmur")) -}}
{{- end -}}
{{- join "," $urls -}}
{{- end -}}

{{- define "murmur.dbEnv" -}}
- name: POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef: { name: murmur-postgres, key: password }
- name: DATABASE_URL
  value: {{ include "murmur.pgUrl" (dict "host" "pg-main-0.pg-main" "db" "murmur") | quote }}
- name: DATABASE_REPLICA_URLS
  value: {{ include "murmur.replicaUrls" . | quote }}
- name: SHARDS
  value: {{ include "murmur.shards" . | quote }}
{{- end -}}

{{/* Services start once the migrate Job has run: murmur_migrations has rows on every primary. */}}
{{- define "murmur.waitForMigrations" -}}
- name: wait-for-migrations
  image: {{ printf "%s:%s" .Values.postgres.image.repository .Values.postgres.image.tag }}
  imagePullPolicy: IfNotPresent
  command:
    - bash
    - -c
    - |
      for url in "$DATABASE_URL" $(echo "$SHARDS" | grep -o 'postgres://[^"]*'); do until [ "$(psql "$url" -tAc 'select count(*) from murmur_migrations' 2>/dev/null)" -gt 0 ] 2>/dev/null; do echo "waiting for the migrate Job (${url##*@})"; sleep 2; done; done
  env:
    {{- include "murmur.dbEnv" . | nindent 4 }}
  resources:
    requests: { cpu: 10m, memory: 32Mi }
    limits: { cpu: 100m, memory: 64Mi }
  securityContext:
    {{- include "murmur.containerSecurity" . | nindent 4 }}
{{- end -}}

{{- define "murmur.hpa" -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .name }}
  labels:
    {{- include "murmur.labels" (dict "name" .name "component" "autoscaling" "root" .root) | nindent 4 }}
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: {{ .name }} }
  minReplicas: {{ .hpa.minReplicas }}
  maxReplicas: {{ .hpa.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: { type: Utilization, averageUtilization: {{ .hpa.cpuUtilization }} }
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 120
      policies: [{ type: Pods, value: 1, periodSeconds: 60 }]
{{- end -}}

{{- define "murmur.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  labels:
    {{- include "murmur.labels" (dict "name" .name "component" "availability" "root" .root) | nindent 4 }}
spec:
  minAvailable: 1
  selector:
    matchLabels:
      {{- include "murmur.selector" . | nindent 6 }}
{{- end -}}
