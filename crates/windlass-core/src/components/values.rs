//! The chart values windlass sets, typed per chart (only the keys windlass sets;
//! the chart's own defaults hold for the rest). Built from the model, so they
//! agree with what the content pack renders: the `release` label the
//! Prometheus selectors match, the dashboard and rule sidecars' labels, the
//! datasource uids, the Alertmanager and blackbox configuration Secrets, the log
//! stream labels (see `agreement`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::catalog::ComponentName;
use crate::content::defaults as cd;
use crate::defaults as d;
use crate::model::Platform;

/// How long Prometheus keeps samples.
pub const PROMETHEUS_RETENTION: &str = "15d";
/// Prometheus stops writing before the volume fills.
pub const PROMETHEUS_RETENTION_SIZE: &str = "45GB";
pub const PROMETHEUS_VOLUME: &str = "50Gi";
pub const ALERTMANAGER_VOLUME: &str = "2Gi";
pub const EVALUATION_INTERVAL: &str = "30s";
/// How long Loki keeps logs (31 days).
pub const LOKI_RETENTION: &str = "744h";
pub const LOKI_VOLUME: &str = "20Gi";
pub const LOKI_PORT: u16 = 3100;
/// The date Loki's schema v13 starts from; never changes once logs are written.
pub const LOKI_SCHEMA_FROM: &str = "2025-01-01";
pub const VAULT_VOLUME: &str = "10Gi";
/// The Grafana Service of kube-prometheus-stack: `<release>-grafana`, port 80.
pub const GRAFANA_PORT: u16 = 80;
/// Alertmanager's Service: `<release>-alertmanager`, port 9093.
pub const ALERTMANAGER_PORT: u16 = 9093;

#[derive(Serialize)]
struct On {
    enabled: bool,
}

const ON: On = On { enabled: true };
const OFF: On = On { enabled: false };

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct MatchLabels {
    match_labels: BTreeMap<String, String>,
}

fn release_selector(platform: &Platform) -> MatchLabels {
    MatchLabels {
        match_labels: BTreeMap::from([(
            crate::render::RELEASE_LABEL.to_string(),
            platform.monitoring.release.clone(),
        )]),
    }
}

/// `http://NAME.NAMESPACE.svc:PORT`
pub fn service_url(name: &str, namespace: &str, port: u16) -> String {
    format!("http://{name}.{namespace}.svc:{port}")
}

pub fn grafana_service(platform: &Platform) -> String {
    format!("{}-grafana", platform.monitoring.release)
}

pub fn grafana_host(platform: &Platform) -> String {
    format!("{GRAFANA_HOST_PREFIX}{}", platform.domain)
}

/// What Grafana's host puts before the platform domain.
pub const GRAFANA_HOST_PREFIX: &str = "grafana.";

fn loki_url(platform: &Platform) -> String {
    service_url(
        ComponentName::Loki.entry().release,
        &platform.monitoring.namespace,
        LOKI_PORT,
    )
}

fn alertmanager_url(platform: &Platform) -> String {
    service_url(
        &format!("{}-alertmanager", platform.monitoring.release),
        &platform.monitoring.namespace,
        ALERTMANAGER_PORT,
    )
}

fn to_value(v: impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The values windlass sets for `component` (CRDs off where the chart templates them:
/// windlass installs those as their own unit).
pub fn values(component: ComponentName, platform: &Platform, enabled: &dyn Fn(ComponentName) -> bool) -> Value {
    match component {
        ComponentName::CertManager => to_value(cert_manager(platform, enabled)),
        ComponentName::EnvoyGateway => to_value(envoy_gateway()),
        ComponentName::IngressNginx => to_value(ingress_nginx(platform, enabled)),
        ComponentName::KubePrometheusStack => to_value(kube_prometheus_stack(platform, enabled)),
        ComponentName::Loki => to_value(loki(platform)),
        ComponentName::Alloy => to_value(alloy(platform)),
        ComponentName::BlackboxExporter => to_value(blackbox()),
        ComponentName::MetricsServer => to_value(metrics_server()),
        ComponentName::Reloader => to_value(reloader()),
        ComponentName::Vault => to_value(vault()),
        ComponentName::VaultSecretsOperator => to_value(vault_secrets_operator(enabled)),
    }
}

// cert-manager ----------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertManager {
    crds: On,
    /// The controller's configuration file: Gateway API support makes HTTP-01
    /// challenges go through the platform's Gateway (an HTTPRoute per challenge).
    config: CertManagerConfig,
    prometheus: CertManagerPrometheus,
    /// Off: the chart's post-install Job (`cmctl check api`, a pod and an image pull
    /// helm waits for) checks what windlass's own gate already proves — a dry run
    /// through the webhook is admitted (`GateKind::WebhookAdmits`).
    startupapicheck: On,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertManagerConfig {
    api_version: &'static str,
    kind: &'static str,
    pub enable_gateway_api: bool,
}

#[derive(Serialize)]
struct CertManagerPrometheus {
    enabled: bool,
    servicemonitor: ServiceMonitorValues,
}

#[derive(Serialize)]
struct ServiceMonitorValues {
    enabled: bool,
    labels: BTreeMap<String, String>,
}

fn service_monitor(platform: &Platform, enabled: &dyn Fn(ComponentName) -> bool) -> ServiceMonitorValues {
    let on = enabled(ComponentName::KubePrometheusStack);
    ServiceMonitorValues {
        enabled: on,
        labels: if on {
            release_selector(platform).match_labels
        } else {
            BTreeMap::new()
        },
    }
}

fn cert_manager(platform: &Platform, enabled: &dyn Fn(ComponentName) -> bool) -> CertManager {
    CertManager {
        crds: OFF,
        config: CertManagerConfig {
            api_version: "controller.config.cert-manager.io/v1alpha1",
            kind: "ControllerConfiguration",
            enable_gateway_api: true,
        },
        prometheus: CertManagerPrometheus {
            enabled: true,
            servicemonitor: service_monitor(platform, enabled),
        },
        startupapicheck: OFF,
    }
}

// Envoy Gateway ---------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EnvoyGateway {
    deployment: EgDeployment,
}

#[derive(Serialize)]
struct EgDeployment {
    replicas: u32,
}

fn envoy_gateway() -> EnvoyGateway {
    EnvoyGateway {
        deployment: EgDeployment { replicas: 1 },
    }
}

// ingress-nginx ---------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IngressNginx {
    controller: NginxController,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NginxController {
    ingress_class_resource: IngressClassResource,
    metrics: NginxMetrics,
    admission_webhooks: On,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IngressClassResource {
    name: String,
    default: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NginxMetrics {
    enabled: bool,
    service_monitor: ServiceMonitorValues,
}

fn ingress_nginx(platform: &Platform, enabled: &dyn Fn(ComponentName) -> bool) -> IngressNginx {
    IngressNginx {
        controller: NginxController {
            ingress_class_resource: IngressClassResource {
                name: platform.traffic.class.clone(),
                default: false,
            },
            metrics: NginxMetrics {
                enabled: true,
                service_monitor: service_monitor(platform, enabled),
            },
            admission_webhooks: ON,
        },
    }
}

// kube-prometheus-stack -------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubePrometheusStack {
    crds: On,
    default_rules: DefaultRules,
    pub prometheus: Prometheus,
    pub alertmanager: Alertmanager,
    pub grafana: Grafana,
    node_exporter: On,
    kube_state_metrics: On,
    prometheus_operator: PrometheusOperator,
}

/// windlass ships its own rules for what the chart's default rules cover.
#[derive(Serialize)]
struct DefaultRules {
    create: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prometheus {
    pub prometheus_spec: PrometheusSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusSpec {
    retention: &'static str,
    retention_size: &'static str,
    scrape_interval: &'static str,
    evaluation_interval: &'static str,
    external_url: String,
    rule_selector_nil_uses_helm_values: bool,
    service_monitor_selector_nil_uses_helm_values: bool,
    pod_monitor_selector_nil_uses_helm_values: bool,
    probe_selector_nil_uses_helm_values: bool,
    pub rule_selector: MatchLabelsPub,
    pub service_monitor_selector: MatchLabelsPub,
    pub pod_monitor_selector: MatchLabelsPub,
    pub probe_selector: MatchLabelsPub,
    /// Every namespace: app rules and monitors live in the apps' namespaces.
    rule_namespace_selector: BTreeMap<String, String>,
    service_monitor_namespace_selector: BTreeMap<String, String>,
    probe_namespace_selector: BTreeMap<String, String>,
    storage_spec: StorageSpec,
}

#[derive(Serialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct MatchLabelsPub {
    pub match_labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StorageSpec {
    volume_claim_template: VolumeClaimTemplate,
}

#[derive(Serialize)]
struct VolumeClaimTemplate {
    spec: ClaimSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClaimSpec {
    access_modes: [&'static str; 1],
    resources: ClaimResources,
}

#[derive(Serialize)]
struct ClaimResources {
    requests: BTreeMap<&'static str, &'static str>,
}

fn storage(size: &'static str) -> StorageSpec {
    StorageSpec {
        volume_claim_template: VolumeClaimTemplate {
            spec: ClaimSpec {
                access_modes: ["ReadWriteOnce"],
                resources: ClaimResources {
                    requests: BTreeMap::from([("storage", size)]),
                },
            },
        },
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alertmanager {
    pub alertmanager_spec: AlertmanagerSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerSpec {
    /// The Secret windlass renders from `observability.alerting`.
    pub config_secret: &'static str,
    /// Secrets the receivers read credentials from, mounted under /etc/alertmanager/secrets.
    pub secrets: Vec<String>,
    storage: StorageSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grafana {
    enabled: bool,
    default_dashboards_enabled: bool,
    pub sidecar: GrafanaSidecar,
    pub additional_data_sources: Vec<DataSource>,
    #[serde(rename = "grafana.ini")]
    ini: GrafanaIni,
}

#[derive(Serialize)]
pub struct GrafanaSidecar {
    pub dashboards: DashboardSidecar,
    pub datasources: DatasourceSidecar,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardSidecar {
    enabled: bool,
    pub label: &'static str,
    pub label_value: &'static str,
    /// windlass puts dashboards next to their apps.
    search_namespace: &'static str,
    pub folder_annotation: &'static str,
    provider: DashboardProvider,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DashboardProvider {
    folders_from_files_structure: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasourceSidecar {
    default_datasource_enabled: bool,
    /// uid of the Prometheus datasource the chart provisions.
    pub uid: &'static str,
}

#[derive(Serialize)]
pub struct DataSource {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub uid: &'static str,
    pub url: String,
    access: &'static str,
}

#[derive(Serialize)]
struct GrafanaIni {
    server: GrafanaServer,
}

#[derive(Serialize)]
struct GrafanaServer {
    root_url: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PrometheusOperator {
    admission_webhooks: AdmissionWebhooks,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AdmissionWebhooks {
    enabled: bool,
    failure_policy: &'static str,
}

pub fn kube_prometheus_stack(platform: &Platform, enabled: &dyn Fn(ComponentName) -> bool) -> KubePrometheusStack {
    let select = || MatchLabelsPub {
        match_labels: release_selector(platform).match_labels,
    };
    let mut data_sources = Vec::new();
    if enabled(ComponentName::Loki) {
        data_sources.push(DataSource {
            name: "Loki",
            kind: "loki",
            uid: cd::LOKI_DATASOURCE_UID,
            url: loki_url(platform),
            access: "proxy",
        });
    }
    KubePrometheusStack {
        crds: OFF,
        default_rules: DefaultRules { create: false },
        prometheus: Prometheus {
            prometheus_spec: PrometheusSpec {
                retention: PROMETHEUS_RETENTION,
                retention_size: PROMETHEUS_RETENTION_SIZE,
                scrape_interval: d::SCRAPE_INTERVAL,
                evaluation_interval: EVALUATION_INTERVAL,
                external_url: format!("https://prometheus.{}", platform.domain),
                rule_selector_nil_uses_helm_values: false,
                service_monitor_selector_nil_uses_helm_values: false,
                pod_monitor_selector_nil_uses_helm_values: false,
                probe_selector_nil_uses_helm_values: false,
                rule_selector: select(),
                service_monitor_selector: select(),
                pod_monitor_selector: select(),
                probe_selector: select(),
                rule_namespace_selector: BTreeMap::new(),
                service_monitor_namespace_selector: BTreeMap::new(),
                probe_namespace_selector: BTreeMap::new(),
                storage_spec: storage(PROMETHEUS_VOLUME),
            },
        },
        alertmanager: Alertmanager {
            alertmanager_spec: AlertmanagerSpec {
                config_secret: cd::ALERTMANAGER_CONFIG_SECRET,
                secrets: crate::content::alertmanager::mounted_secrets(&platform.observability.alerting),
                storage: storage(ALERTMANAGER_VOLUME),
            },
        },
        grafana: Grafana {
            enabled: true,
            default_dashboards_enabled: false,
            sidecar: GrafanaSidecar {
                dashboards: DashboardSidecar {
                    enabled: true,
                    label: cd::DASHBOARD_LABEL,
                    label_value: cd::DASHBOARD_LABEL_VALUE,
                    search_namespace: "ALL",
                    folder_annotation: cd::DASHBOARD_FOLDER_ANNOTATION,
                    provider: DashboardProvider {
                        folders_from_files_structure: true,
                    },
                },
                datasources: DatasourceSidecar {
                    default_datasource_enabled: true,
                    uid: cd::PROMETHEUS_DATASOURCE_UID,
                },
            },
            additional_data_sources: data_sources,
            ini: GrafanaIni {
                server: GrafanaServer {
                    root_url: format!("https://{}", grafana_host(platform)),
                },
            },
        },
        node_exporter: ON,
        kube_state_metrics: ON,
        prometheus_operator: PrometheusOperator {
            admission_webhooks: AdmissionWebhooks {
                enabled: true,
                failure_policy: "Fail",
            },
        },
    }
}

// Loki ------------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Loki {
    deployment_mode: &'static str,
    loki: LokiConfig,
    single_binary: SingleBinary,
    read: Replicas,
    write: Replicas,
    backend: Replicas,
    chunks_cache: On,
    results_cache: On,
    gateway: On,
    loki_canary: On,
    test: On,
    minio: On,
    pub sidecar: LokiSidecar,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
struct LokiConfig {
    auth_enabled: bool,
    #[serde(rename = "commonConfig")]
    common_config: LokiCommon,
    storage: LokiStorage,
    #[serde(rename = "schemaConfig")]
    schema_config: LokiSchemaConfig,
    limits_config: LokiLimits,
    compactor: LokiCompactor,
    #[serde(rename = "rulerConfig")]
    ruler_config: LokiRuler,
}

#[derive(Serialize)]
struct LokiCommon {
    replication_factor: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LokiStorage {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct LokiSchemaConfig {
    configs: Vec<LokiSchema>,
}

#[derive(Serialize)]
struct LokiSchema {
    from: &'static str,
    store: &'static str,
    object_store: &'static str,
    schema: &'static str,
    index: LokiIndex,
}

#[derive(Serialize)]
struct LokiIndex {
    prefix: &'static str,
    period: &'static str,
}

#[derive(Serialize)]
struct LokiLimits {
    retention_period: &'static str,
}

#[derive(Serialize)]
struct LokiCompactor {
    retention_enabled: bool,
    delete_request_store: &'static str,
}

#[derive(Serialize)]
struct LokiRuler {
    alertmanager_url: String,
    enable_api: bool,
    enable_alertmanager_v2: bool,
    storage: LokiRulerStorage,
}

#[derive(Serialize)]
struct LokiRulerStorage {
    #[serde(rename = "type")]
    kind: &'static str,
    local: LokiRulerLocal,
}

#[derive(Serialize)]
struct LokiRulerLocal {
    directory: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SingleBinary {
    replicas: u32,
    persistence: LokiPersistence,
}

#[derive(Serialize)]
struct LokiPersistence {
    enabled: bool,
    size: &'static str,
}

#[derive(Serialize)]
struct Replicas {
    replicas: u32,
}

#[derive(Serialize)]
pub struct LokiSidecar {
    pub rules: RuleSidecar,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSidecar {
    enabled: bool,
    pub label: &'static str,
    pub label_value: &'static str,
    search_namespace: &'static str,
    folder: &'static str,
}

/// Where the rules sidecar writes and the ruler reads (single tenant: `fake`).
const LOKI_RULES_DIR: &str = "/rules";

pub fn loki(platform: &Platform) -> Loki {
    Loki {
        deployment_mode: "SingleBinary",
        loki: LokiConfig {
            auth_enabled: false,
            common_config: LokiCommon { replication_factor: 1 },
            storage: LokiStorage { kind: "filesystem" },
            schema_config: LokiSchemaConfig {
                configs: vec![LokiSchema {
                    from: LOKI_SCHEMA_FROM,
                    store: "tsdb",
                    object_store: "filesystem",
                    schema: "v13",
                    index: LokiIndex {
                        prefix: "index_",
                        period: "24h",
                    },
                }],
            },
            limits_config: LokiLimits {
                retention_period: LOKI_RETENTION,
            },
            compactor: LokiCompactor {
                retention_enabled: true,
                delete_request_store: "filesystem",
            },
            ruler_config: LokiRuler {
                alertmanager_url: alertmanager_url(platform),
                enable_api: true,
                enable_alertmanager_v2: true,
                storage: LokiRulerStorage {
                    kind: "local",
                    local: LokiRulerLocal {
                        directory: LOKI_RULES_DIR,
                    },
                },
            },
        },
        single_binary: SingleBinary {
            replicas: 1,
            persistence: LokiPersistence {
                enabled: true,
                size: LOKI_VOLUME,
            },
        },
        read: Replicas { replicas: 0 },
        write: Replicas { replicas: 0 },
        backend: Replicas { replicas: 0 },
        chunks_cache: OFF,
        results_cache: OFF,
        gateway: OFF,
        loki_canary: OFF,
        test: OFF,
        minio: OFF,
        sidecar: LokiSidecar {
            rules: RuleSidecar {
                enabled: true,
                label: cd::LOKI_RULE_LABEL,
                label_value: cd::LOKI_RULE_LABEL_VALUE,
                search_namespace: "ALL",
                folder: LOKI_RULES_DIR,
            },
        },
    }
}

// Alloy -----------------------------------------------------------------------

/// One relabel rule of the log pipeline: a pod's discovery label becomes a stream label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamLabel {
    /// The stream label the logs carry (`namespace`, `app`, ...).
    pub label: &'static str,
    /// Where it comes from: the Kubernetes discovery meta label.
    pub source: String,
}

/// `__meta_kubernetes_pod_label_<label>` with the label's name sanitised as Prometheus does.
pub fn pod_label_meta(label: &str) -> String {
    let clean: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("__meta_kubernetes_pod_label_{clean}")
}

/// The stream labels every pod's logs get: what log alerts and dashboards select on.
pub fn stream_labels() -> Vec<StreamLabel> {
    vec![
        StreamLabel {
            label: cd::LOG_LABEL_NAMESPACE,
            source: "__meta_kubernetes_namespace".to_string(),
        },
        StreamLabel {
            label: cd::LOG_LABEL_APP,
            source: pod_label_meta(d::LABEL_NAME),
        },
        StreamLabel {
            label: "pod",
            source: "__meta_kubernetes_pod_name".to_string(),
        },
        StreamLabel {
            label: "container",
            source: "__meta_kubernetes_pod_container_name".to_string(),
        },
    ]
}

/// The Alloy pipeline: pods on this node, relabelled, tailed through the API, pushed to Loki.
pub fn alloy_config(platform: &Platform) -> String {
    let mut rules = String::new();
    for l in stream_labels() {
        rules.push_str(&format!(
            "  rule {{\n    source_labels = [{:?}]\n    target_label  = {:?}\n  }}\n",
            l.source, l.label
        ));
    }
    format!(
        "// Written by windlass: every pod's logs on this node, labelled, to Loki.\n\
         discovery.kubernetes \"pods\" {{\n  role = \"pod\"\n  selectors {{\n    role  = \"pod\"\n    field = \"spec.nodeName=\" + sys.env(\"HOSTNAME\")\n  }}\n}}\n\n\
         discovery.relabel \"pods\" {{\n  targets = discovery.kubernetes.pods.targets\n{rules}}}\n\n\
         loki.source.kubernetes \"pods\" {{\n  targets    = discovery.relabel.pods.output\n  forward_to = [loki.write.default.receiver]\n}}\n\n\
         loki.write \"default\" {{\n  endpoint {{\n    url = {:?}\n  }}\n}}\n",
        format!("{}/loki/api/v1/push", loki_url(platform))
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Alloy {
    alloy: AlloyValues,
    controller: AlloyController,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlloyValues {
    config_map: AlloyConfigMap,
    mounts: AlloyMounts,
}

#[derive(Serialize)]
struct AlloyConfigMap {
    create: bool,
    content: String,
}

#[derive(Serialize)]
struct AlloyMounts {
    varlog: bool,
}

#[derive(Serialize)]
struct AlloyController {
    #[serde(rename = "type")]
    kind: &'static str,
}

fn alloy(platform: &Platform) -> Alloy {
    Alloy {
        alloy: AlloyValues {
            config_map: AlloyConfigMap {
                create: true,
                content: alloy_config(platform),
            },
            mounts: AlloyMounts { varlog: true },
        },
        controller: AlloyController { kind: "daemonset" },
    }
}

// blackbox-exporter -----------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Blackbox {
    /// The module config windlass renders (see `content::probes`).
    pub config_existing_secret_name: &'static str,
    service_monitor: On,
}

pub fn blackbox() -> Blackbox {
    Blackbox {
        config_existing_secret_name: cd::BLACKBOX_CONFIG_SECRET,
        service_monitor: OFF,
    }
}

// metrics-server --------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MetricsServer {
    api_service: ApiServiceValues,
}

#[derive(Serialize)]
struct ApiServiceValues {
    create: bool,
}

fn metrics_server() -> MetricsServer {
    MetricsServer {
        api_service: ApiServiceValues { create: true },
    }
}

// Reloader --------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Reloader {
    reloader: ReloaderValues,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReloaderValues {
    watch_globally: bool,
    reload_on_create: bool,
}

fn reloader() -> Reloader {
    Reloader {
        reloader: ReloaderValues {
            watch_globally: true,
            reload_on_create: false,
        },
    }
}

// Vault -----------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Vault {
    server: VaultServer,
    injector: On,
    ui: On,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VaultServer {
    standalone: On,
    data_storage: VaultStorage,
}

#[derive(Serialize)]
struct VaultStorage {
    enabled: bool,
    size: &'static str,
}

fn vault() -> Vault {
    Vault {
        server: VaultServer {
            standalone: ON,
            data_storage: VaultStorage {
                enabled: true,
                size: VAULT_VOLUME,
            },
        },
        // windlass reads Vault through the operator, never through injected sidecars.
        injector: OFF,
        ui: ON,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VaultSecretsOperator {
    default_vault_connection: VaultConnection,
}

#[derive(Serialize)]
struct VaultConnection {
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
}

fn vault_secrets_operator(enabled: &dyn Fn(ComponentName) -> bool) -> VaultSecretsOperator {
    let vault = enabled(ComponentName::Vault);
    VaultSecretsOperator {
        default_vault_connection: VaultConnection {
            enabled: vault,
            address: vault.then(|| crate::defaults::VAULT_ADDRESS.to_string()),
        },
    }
}
