#!/usr/bin/env bash
# Offline checks of the deployment files (make check-deploy). Needs only Go:
# deploy_test.go validates docker-compose.yaml against the Compose schema
# (compose-go), decodes every Kubernetes manifest strictly into the k8s.io/api
# types and reads the Dockerfile; grafana_test.go checks the Grafana
# provisioning and dashboards; alerts_test.go the alert rules. -short leaves out the part that runs every
# panel query on a live ClickHouse (make test runs it). When docker, kubectl
# or kustomize happen to be installed, their own renderers run too.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

"$GO" vet ./deploy/
"$GO" test -short -count=1 ./deploy/

# The alert rules: promtool when installed (make promtool puts it under .local/).
PROMTOOL=${PROMTOOL:-$(command -v promtool || ls "$PWD"/.local/promtool/usr/bin/promtool 2>/dev/null || true)}
if [ -n "$PROMTOOL" ]; then
  (cd deploy/alerts && "$PROMTOOL" check rules arrears.rules.yaml >/dev/null && "$PROMTOOL" test rules arrears.rules.test.yaml >/dev/null) \
    && echo "promtool check/test rules deploy/alerts: ok"
fi
if command -v kustomize >/dev/null; then
  kustomize build deploy/k8s >/dev/null && echo "kustomize build deploy/k8s: ok"
elif command -v kubectl >/dev/null; then
  kubectl kustomize deploy/k8s >/dev/null && echo "kubectl kustomize deploy/k8s: ok"
fi
if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
  docker compose -f deploy/docker-compose.yaml --profile monitoring --profile secure config --quiet && echo "docker compose config: ok"
fi
