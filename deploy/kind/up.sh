#!/usr/bin/env bash
# npm run kind:up — Murmur on a local kind cluster:
#   1. create the cluster from deploy/kind/kind-config.yaml (gateway → 127.0.0.1:8080; Jaeger by port-forward)
#   2. build the image (Dockerfile) and load it into the nodes
#   3. install metrics-server (with --kubelet-insecure-tls, which kind's kubelet certs need) for the HPAs
#   4. install Murmur: the Helm chart (default) or the kustomize overlay (DEPLOY_WITH=kubectl)
#   5. wait for migrations and rollouts, print the URLs
# Environment: CLUSTER (murmur), DEPLOY_WITH (helm|kubectl), LOADTEST=1 (in-cluster k6 run),
#              IMAGE_TAG (0.1.0), METRICS_SERVER_VERSION (v0.8.0), SKIP_BUILD=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CLUSTER="${CLUSTER:-murmur}"
DEPLOY_WITH="${DEPLOY_WITH:-helm}"
NAMESPACE=murmur
IMAGE="murmur:${IMAGE_TAG:-0.1.0}"
METRICS_SERVER_VERSION="${METRICS_SERVER_VERSION:-v0.8.0}"
CONTEXT="kind-${CLUSTER}"

step() { printf '\n\033[1m▸ %s\033[0m\n' "$*"; }
need() { command -v "$1" >/dev/null || { echo "kind:up needs $1 ($2)" >&2; exit 1; }; }
need docker 'https://docs.docker.com/get-docker/'
need kind 'https://kind.sigs.k8s.io/docs/user/quick-start/#installation'
need kubectl 'https://kubernetes.io/docs/tasks/tools/'
[ "$DEPLOY_WITH" = helm ] && need helm 'https://helm.sh/docs/intro/install/'
kc() { kubectl --context "$CONTEXT" "$@"; }

step "cluster $CLUSTER"
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  echo "exists"
else
  kind create cluster --name "$CLUSTER" --config "$ROOT/deploy/kind/kind-config.yaml" --wait 120s
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  step "image $IMAGE (for this machine's architecture; buildx --platform for others)"
  docker build -t "$IMAGE" "$ROOT"
fi
step "load $IMAGE into the nodes"
kind load docker-image "$IMAGE" --name "$CLUSTER"

step "metrics-server $METRICS_SERVER_VERSION"
kc apply -f "https://github.com/kubernetes-sigs/metrics-server/releases/download/${METRICS_SERVER_VERSION}/components.yaml"
if ! kc -n kube-system get deployment metrics-server -o jsonpath='{.spec.template.spec.containers[0].args}' | grep -q kubelet-insecure-tls; then
  kc -n kube-system patch deployment metrics-server --type=json \
    -p '[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"}]'
fi

kc create namespace "$NAMESPACE" --dry-run=client -o yaml | kc apply -f -

if [ "${LOADTEST:-0}" = 1 ]; then
  step "k6 scripts → ConfigMaps k6-scripts, k6-lib"
  kc -n "$NAMESPACE" create configmap k6-scripts --from-file="$ROOT/loadtests/k6" --dry-run=client -o yaml | kc apply -f -
  kc -n "$NAMESPACE" create configmap k6-lib --from-file="$ROOT/loadtests/k6/lib" --dry-run=client -o yaml | kc apply -f -
fi

if [ "$DEPLOY_WITH" = helm ]; then
  step "helm upgrade --install murmur"
  helm lint "$ROOT/deploy/helm/murmur"
  helm upgrade --install murmur "$ROOT/deploy/helm/murmur" --kube-context "$CONTEXT" -n "$NAMESPACE" \
    --set image.tag="${IMAGE#*:}" \
    --set gateway.service.type=NodePort --set gateway.service.nodePort=30080 \
    --set loadtest.enabled="$([ "${LOADTEST:-0}" = 1 ] && echo true || echo false)"
  REVISION="$(helm list --kube-context "$CONTEXT" -n "$NAMESPACE" --filter '^murmur$' -o json | grep -o '"revision":"[0-9]*"' | grep -o '[0-9][0-9]*')"
  MIGRATE_JOB="migrate-${REVISION}"
else
  OVERLAY="$ROOT/deploy/k8s/overlays/kind"
  [ "${LOADTEST:-0}" = 1 ] && OVERLAY="$ROOT/deploy/k8s/overlays/kind-loadtest"
  # Random passwords, made once and kept across re-runs; a key an older Secret lacks is added.
  secret_keys() { # <secret> <key>...: every key the Secret lacks, with a new random value
    local secret="$1" key args=()
    shift
    for key in "$@"; do
      if [ -z "$(kc -n "$NAMESPACE" get secret "$secret" -o "jsonpath={.data['$key']}" 2>/dev/null)" ]; then
        args+=("--from-literal=$key=$(openssl rand -hex 16)")
      fi
    done
    [ ${#args[@]} -eq 0 ] && return
    step "Secret $secret: ${args[*]%%=*}"
    kc -n "$NAMESPACE" get secret "$secret" >/dev/null 2>&1 || kc -n "$NAMESPACE" create secret generic "$secret"
    kc -n "$NAMESPACE" create secret generic "$secret" "${args[@]}" --dry-run=client -o json \
      | kc -n "$NAMESPACE" patch secret "$secret" --type merge --patch-file /dev/stdin
  }
  secret_keys murmur-postgres password replication-password \
    user-password post-password feed-password leaderboard-password
  secret_keys murmur-redis probe user post feed leaderboard
  step "kubectl apply -k ${OVERLAY#"$ROOT"/}"
  # A Job's pod template is immutable: replace the finished migrate Job so it runs again.
  kc -n "$NAMESPACE" delete job migrate --ignore-not-found
  kc apply -k "$OVERLAY"
  MIGRATE_JOB=migrate
fi

step "waiting for migrations ($MIGRATE_JOB) and rollouts"
kc -n "$NAMESPACE" wait --for=condition=complete "job/$MIGRATE_JOB" --timeout=10m
for d in user post feed leaderboard feed-worker leaderboard-worker post-worker gateway jaeger; do
  kc -n "$NAMESPACE" rollout status "deployment/$d" --timeout=5m
done

step "ready"
cat <<MSG
  API (NGINX gateway):  http://localhost:8080        curl -s http://localhost:8080/nginx/health
  Jaeger UI:            kubectl --context $CONTEXT -n $NAMESPACE port-forward svc/jaeger 16686:16686   # then http://localhost:16686
  Autoscaling:          kubectl --context $CONTEXT -n $NAMESPACE get hpa
  Load test logs:       kubectl --context $CONTEXT -n $NAMESPACE logs -f job/$([ "$DEPLOY_WITH" = helm ] && echo "k6-<revision>" || echo k6-mixed)   (LOADTEST=1)
  Tear down:            npm run kind:down
MSG
