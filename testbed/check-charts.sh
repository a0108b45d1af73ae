#!/bin/bash
# Renders every chart the running test bed serves (defaults, and with the value keys
# windlass sets) and server-side dry-runs each rendering against the bed, in one
# namespace enforcing Pod Security `restricted` and one `privileged` (node-exporter,
# Alloy's /var/log mount, and Loki, whose chart sets no seccomp profile).
#
#   testbed/check-charts.sh [OUTPUT_DIR]     (after `cargo xtask testbed up`)
#
# Dry runs merge with what is installed: a release of the same chart already on the
# bed can make a rendering fail that a fresh bed admits.
set -u
cd "$(dirname "$0")/.."
eval "$(cargo xtask testbed env 2>/dev/null)"
RUN="${WINDLASS_TESTBED_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/windlass/testbed}/run"
D=$(sed -n 's/.*"served_charts": "\(.*\)".*/\1/p' "$RUN/state.json")
[ -d "$D" ] || { echo "no packaged charts: is the test bed up?"; exit 2; }
OUT=${1:-$(mktemp -d)}; mkdir -p "$OUT"
cat > "$OUT/loki-schema.yaml" <<'YAML'
loki:
  schemaConfig:
    configs:
      - from: "2024-04-01"
        store: tsdb
        object_store: filesystem
        schema: v13
        index:
          prefix: index_
          period: 24h
YAML
for ns in restricted-check privileged-check; do kubectl create ns $ns >/dev/null 2>&1; done
kubectl label ns restricted-check --overwrite pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest >/dev/null
kubectl label ns privileged-check --overwrite pod-security.kubernetes.io/enforce=privileged >/dev/null
fail=0
t() { # name release ns tgz args...
  local name=$1 rel=$2 ns=$3 tgz=$4; shift 4
  if helm template "$rel" "$D/$tgz" -n "$ns" --include-crds "$@" > "$OUT/$name.yaml" 2> "$OUT/$name.err"; then
    if kubectl apply --server-side --force-conflicts --dry-run=server -f "$OUT/$name.yaml" > "$OUT/$name.apply" 2>&1; then
      echo "ok   $name ($(grep -c '^kind:' "$OUT/$name.yaml") objects, ns $ns)"
    else echo "FAIL apply $name"; grep -v "serverside-applied" "$OUT/$name.apply" | tail -5; fail=1; fi
  else echo "FAIL template $name"; cat "$OUT/$name.err"; fail=1; fi
}
WH="https://$WINDLASS_TESTBED_WEBHOOK/validate"
# upstream charts
t cert-manager-default cert-manager restricted-check cert-manager-v1.21.2.tgz
t cert-manager-set cert-manager restricted-check cert-manager-v1.21.2.tgz --set crds.enabled=true --set config.enableGatewayAPI=true --set webhook.url.host=$WINDLASS_TESTBED_WEBHOOK
# crds.enabled (the default) installs Gateway API v1.6.1 experimental-channel CRDs, which
# the bed's safe-upgrades ValidatingAdmissionPolicy (Gateway API v1.7.0 standard) refuses.
t gateway-nocrds-default eg restricted-check gateway-helm-v1.9.1.tgz --set crds.enabled=false
t metrics-server-default metrics-server restricted-check metrics-server-3.13.1.tgz
t loki-single loki privileged-check loki-6.55.0.tgz --set deploymentMode=SingleBinary --set loki.storage.type=filesystem --set singleBinary.replicas=1 --set read.replicas=0 --set write.replicas=0 --set backend.replicas=0 --set loki.commonConfig.replication_factor=1 --set minio.enabled=false --set chunksCache.enabled=false --set resultsCache.enabled=false --set loki.auth_enabled=false -f "$OUT/loki-schema.yaml"
# fixtures
t kps-default kube-prometheus-stack privileged-check kube-prometheus-stack-89.0.0.tgz
t kps-restricted kube-prometheus-stack restricted-check kube-prometheus-stack-89.0.0.tgz --set nodeExporter.enabled=false
t kps-set kube-prometheus-stack privileged-check kube-prometheus-stack-89.0.0.tgz --set crds.enabled=false --set defaultRules.create=false \
  --set prometheus.prometheusSpec.retention=15d --set prometheus.prometheusSpec.retentionSize=9GB --set prometheus.prometheusSpec.scrapeInterval=30s \
  --set prometheus.prometheusSpec.evaluationInterval=30s --set prometheus.prometheusSpec.externalUrl=https://prometheus.example.com \
  --set prometheus.prometheusSpec.ruleSelectorNilUsesHelmValues=false --set prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues=false \
  --set prometheus.prometheusSpec.podMonitorSelectorNilUsesHelmValues=false --set prometheus.prometheusSpec.probeSelectorNilUsesHelmValues=false \
  --set prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage=10Gi \
  --set alertmanager.alertmanagerSpec.configSecret=windlass-alertmanager --set 'alertmanager.alertmanagerSpec.secrets={smtp}' \
  --set alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.resources.requests.storage=1Gi \
  --set grafana.defaultDashboardsEnabled=false --set 'grafana.additionalDataSources[0].name=Loki' --set 'grafana.additionalDataSources[0].type=loki' \
  --set 'grafana.additionalDataSources[0].uid=loki' --set 'grafana.additionalDataSources[0].url=http://loki.logging:3100' \
  --set 'grafana\.ini.server.root_url=https://grafana.example.com' --set 'grafana\.ini.analytics.check_for_updates=false' \
  --set grafana.sidecar.dashboards.label=grafana_dashboard --set-string grafana.sidecar.dashboards.labelValue=1 --set grafana.sidecar.dashboards.searchNamespace=ALL \
  --set grafana.sidecar.dashboards.folderAnnotation=grafana_folder --set grafana.sidecar.dashboards.provider.foldersFromFilesStructure=true \
  --set grafana.sidecar.datasources.defaultDatasourceEnabled=true --set grafana.sidecar.datasources.uid=prom \
  --set prometheusOperator.admissionWebhooks.failurePolicy=Fail --set testbed.webhook.url=$WH --set testbed.neverReady=true
t kps-noextras kube-prometheus-stack restricted-check kube-prometheus-stack-89.0.0.tgz --set grafana.enabled=false --set nodeExporter.enabled=false --set kubeStateMetrics.enabled=false --set prometheusOperator.admissionWebhooks.enabled=false
t alloy-default alloy restricted-check alloy-1.4.0.tgz
t alloy-set alloy privileged-check alloy-1.4.0.tgz --set-string alloy.configMap.content='logging { level = "info" }' --set controller.type=daemonset --set alloy.mounts.varlog=true --set serviceMonitor.enabled=true
t alloy-deploy alloy restricted-check alloy-1.4.0.tgz --set controller.type=deployment --set alloy.configMap.create=false
t blackbox-default prometheus-blackbox-exporter restricted-check prometheus-blackbox-exporter-11.4.0.tgz
t blackbox-set prometheus-blackbox-exporter restricted-check prometheus-blackbox-exporter-11.4.0.tgz --set configExistingSecretName=blackbox-config --set serviceMonitor.enabled=true --set fullnameOverride=blackbox
t reloader-default reloader restricted-check reloader-2.2.5.tgz
t reloader-set reloader restricted-check reloader-2.2.5.tgz --set reloader.watchGlobally=false --set reloader.reloadOnCreate=true --set reloader.serviceMonitor.enabled=true
t ingress-nginx-default ingress-nginx restricted-check ingress-nginx-4.13.3.tgz
t ingress-nginx-set ingress-nginx restricted-check ingress-nginx-4.13.3.tgz --set controller.ingressClassResource.name=nginx-test --set controller.ingressClassResource.default=true --set controller.ingressClassResource.controllerValue=k8s.io/ingress-nginx-test --set controller.metrics.enabled=true --set controller.metrics.serviceMonitor.enabled=true --set controller.admissionWebhooks.enabled=true --set testbed.webhook.url=$WH
t vault-default vault restricted-check vault-0.31.0.tgz
t vault-set vault restricted-check vault-0.31.0.tgz --set server.standalone.enabled=true --set server.dataStorage.enabled=true --set server.dataStorage.size=5Gi --set server.dataStorage.storageClass=standard --set injector.enabled=true --set ui.enabled=true --set testbed.webhook.url=$WH
t vault-dev vault restricted-check vault-0.31.0.tgz --set server.dev.enabled=true --set injector.enabled=false
t vso-default vault-secrets-operator restricted-check vault-secrets-operator-1.0.1.tgz
kubectl delete namespace restricted-check privileged-check --wait=false >/dev/null
echo "renderings in $OUT"
exit $fail
