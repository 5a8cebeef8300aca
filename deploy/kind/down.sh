#!/usr/bin/env bash
# npm run kind:down — delete the kind cluster made by kind:up (and every volume in it).
set -euo pipefail
CLUSTER="${CLUSTER:-murmur}"
command -v kind >/dev/null || { echo "kind:down needs kind" >&2; exit 1; }
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  kind delete cluster --name "$CLUSTER"
else
  echo "no kind cluster named $CLUSTER"
fi
