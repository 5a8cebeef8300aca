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

{{/*
postgres://<user>:$(POSTGRES_PASSWORD)@<host>:5432/<db>; Kubernetes expands $(VAR) in env values.
`user` is the owner (murmur, the migrate Job's) or a service's role (murmur_<service>).
*/}}
{{- define "murmur.pgUrl" -}}
{{ printf "postgres://%s:$(POSTGRES_PASSWORD)@%s:5432/%s" .user .host .db }}
{{- end -}}

{{/*
The nodes of one Postgres cluster as the services see them: its primary's host and its replicas'
hosts. The chart's StatefulSets: pod 0 and pods 1..n of the headless Service. CloudNativePG: the
operator's `<cluster>-rw` Service (always the current primary) and `<cluster>-ro` (every replica,
load-balanced per connection). The services probe each node's role either way (pg_is_in_recovery).
*/}}
{{- define "murmur.pgNodes" -}}
{{- $cnpg := .root.Values.postgres.cloudnativePg -}}
{{- $hosts := list -}}
{{- if $cnpg.enabled -}}
{{- $suffix := ternary (printf ".%s" $cnpg.namespace) "" (not (empty $cnpg.namespace)) -}}
{{- $hosts = append $hosts (printf "%s-rw%s" .name $suffix) -}}
{{- if gt (int .replicas) 0 -}}
{{- $hosts = append $hosts (printf "%s-ro%s" .name $suffix) -}}
{{- end -}}
{{- else -}}
{{- range $r := until (int (add1 .replicas)) -}}
{{- $hosts = append $hosts (printf "%s-%d.%s" $.name $r $.name) -}}
{{- end -}}
{{- end -}}
{{- toJson $hosts -}}
{{- end -}}

{{/* The SHARDS JSON: one entry per physical shard cluster, its primary and replicas. */}}
{{- define "murmur.shards" -}}
{{- $root := .root -}}
{{- $user := .user -}}
{{- $shards := list -}}
{{- range $i := until (int $root.Values.postgres.shards.count) -}}
{{- $hosts := include "murmur.pgNodes" (dict "name" (printf "pg-shard-%d" $i) "replicas" $root.Values.postgres.shards.replicas "root" $root) | fromJsonArray -}}
{{- $replicas := list -}}
{{- range $h := rest $hosts -}}
{{- $replicas = append $replicas (include "murmur.pgUrl" (dict "user" $user "host" $h "db" "murmur_posts")) -}}
{{- end -}}
{{- $shards = append $shards (dict "primary" (include "murmur.pgUrl" (dict "user" $user "host" (first $hosts) "db" "murmur_posts")) "replicas" $replicas) -}}
{{- end -}}
{{- toJson $shards -}}
{{- end -}}

{{- define "murmur.mainHosts" -}}
{{- include "murmur.pgNodes" (dict "name" "pg-main" "replicas" .Values.postgres.main.replicas "root" .) -}}
{{- end -}}

{{- define "murmur.replicaUrls" -}}
{{- $user := .user -}}
{{- $urls := list -}}
{{- range $h := rest (include "murmur.mainHosts" .root | fromJsonArray) -}}
{{- $urls = append $urls (include "murmur.pgUrl" (dict "user" $user "host" $h "db" "murmur")) -}}
{{- end -}}
{{- join "," $urls -}}
{{- end -}}

{{/*
The Postgres env of a process: (dict "root" $ "service" "<service>") connects as that service's
role (murmur_<service>, DML only, see files/scripts/app-roles.sh); "service" "" as the owner, which
only the migrate Job does.
*/}}
{{- define "murmur.dbEnv" -}}
{{- $user := ternary (printf "murmur_%s" .service) "murmur" (not (empty .service)) -}}
{{- $key := ternary (printf "%s-password" .service) "password" (not (empty .service)) -}}
{{- $ctx := dict "root" .root "user" $user -}}
- name: POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef: { name: murmur-postgres, key: {{ $key }} }
- name: DATABASE_URL
  value: {{ include "murmur.pgUrl" (dict "user" $user "host" (first (include "murmur.mainHosts" .root | fromJsonArray)) "db" "murmur") | quote }}
- name: DATABASE_REPLICA_URLS
  value: {{ include "murmur.replicaUrls" $ctx | quote }}
- name: SHARDS
  value: {{ include "murmur.shards" $ctx | quote }}
{{- end -}}

{{/*
The Redis env of a service's processes: its own ACL user (files/scripts/users-acl.sh) on both
Redis servers, its password from the murmur-redis Secret.
*/}}
{{- define "murmur.redisEnv" -}}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef: { name: murmur-redis, key: {{ .service }} }
- name: REDIS_URL
  value: {{ printf "redis://%s:$(REDIS_PASSWORD)@redis:6379" .service | quote }}
- name: CACHE_REDIS_URL
  value: {{ printf "redis://%s:$(REDIS_PASSWORD)@redis-cache:6379" .service | quote }}
{{- end -}}

{{/*
Services start once the migrate Job has run: murmur_migrations has rows on every primary, read
as the service's own role (so its grants are there too). (dict "root" $ "service" "<service>")
*/}}
{{- define "murmur.waitForMigrations" -}}
- name: wait-for-migrations
  image: {{ printf "%s:%s" .root.Values.postgres.image.repository .root.Values.postgres.image.tag }}
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

{{/* values.schema.json checks each bound; only the template can compare them. */}}
{{- define "murmur.hpa" -}}
{{- if gt (int .hpa.minReplicas) (int .hpa.maxReplicas) }}
{{- fail (printf "%s: hpa.minReplicas (%d) is above hpa.maxReplicas (%d)" .name (int .hpa.minReplicas) (int .hpa.maxReplicas)) }}
{{- end -}}
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

{{/*
The gateway's nginx.conf: files/nginx.conf (generated by tools/deploy-checks/render-edge-configs.ts)
through tpl for the namespace and the rate limits, with gateway.clusterDomain. The ConfigMap and
the pods' checksum/nginx both use it, so any change to it rolls the pods.
*/}}
{{- /* The upstream directive of gateway.loadBalancing (round robin is NGINX's default: none). */}}
{{- define "murmur.gateway.lb" -}}
{{- $lb := .Values.gateway.loadBalancing -}}
{{- if eq $lb "least_conn" -}}least_conn;
{{- else if eq $lb "ip_hash" -}}ip_hash;
{{- else if eq $lb "hash_user" -}}hash $murmur_user consistent;
{{- else -}}# round robin (NGINX's default)
{{- end -}}
{{- end -}}

{{- define "murmur.gatewayNginxConf" -}}
{{- tpl (.Files.Get "files/nginx.conf") . | replace "svc.cluster.local" (printf "svc.%s" .Values.gateway.clusterDomain) -}}
{{- end -}}
