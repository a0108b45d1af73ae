//! The typed `windlass.yaml`, exactly as a person writes it (after the chosen
//! environment's overlay is merged). Defaults are decided later, in `model`.
//! Doc comments here become the JSON Schema descriptions editors show.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::components::{ChartsSpec, ComponentsSpec};
use super::observability::{AppAlertsSpec, ObservabilitySpec};
use super::shorthand::{Scalar, Shorthand};
use super::values::{Port, Quantity};

/// The only spec version this windlass reads.
pub const API_VERSION: &str = "windlass.dev/v1alpha1";

/// A windlass platform: shared settings, apps, and per-environment overlays.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "windlass platform spec")]
pub struct PlatformFile {
    /// Spec version: `windlass.dev/v1alpha1`.
    pub api_version: String,
    /// Always `Platform`.
    pub kind: String,
    pub platform: PlatformSpec,
    /// Environment used when `--env` is not given. Defaults to the first one under `environments`.
    #[serde(default)]
    pub default_environment: Option<String>,
    /// Apps by name (a DNS-1123 label: lowercase letters, digits, `-`).
    #[serde(default)]
    pub apps: IndexMap<String, AppSpec>,
    /// Per-environment overlays merged over the base: mappings merge key by key,
    /// lists and scalars replace, and `null` removes a setting.
    #[serde(default)]
    pub environments: IndexMap<String, EnvironmentOverlay>,
    /// Alert routing, log alerts, uptime checks and dashboards.
    #[serde(default)]
    pub observability: ObservabilitySpec,
}

/// What an environment may change: any part of `platform`, `apps` and `observability`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentOverlay {
    /// Overrides for `observability`.
    #[serde(default)]
    #[schemars(with = "serde_json::Value")]
    pub observability: Option<serde::de::IgnoredAny>,
    /// Overrides for `platform` (any subset of its fields).
    #[serde(default)]
    #[schemars(with = "serde_json::Value")]
    pub platform: Option<serde::de::IgnoredAny>,
    /// Overrides per app (any subset of an app's fields), or new apps for this environment only.
    #[serde(default)]
    #[schemars(with = "Option<IndexMap<String, serde_json::Value>>")]
    pub apps: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlatformSpec {
    /// Platform name (DNS-1123 label); the default namespace for apps and the `app.kubernetes.io/part-of` label.
    pub name: String,
    /// Base domain. A host without a dot (e.g. `www`) means `www.<domain>`.
    pub domain: String,
    /// ACME account e-mail, required for the Let's Encrypt issuers.
    #[serde(default)]
    pub email: Option<String>,
    /// Certificate issuer for every public host.
    #[serde(default)]
    pub tls: TlsIssuer,
    /// How traffic reaches apps.
    #[serde(default)]
    pub traffic: TrafficSpec,
    /// Namespace for apps that do not name one. Defaults to the platform name.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Where the monitoring stack runs and how it selects ServiceMonitors.
    #[serde(default)]
    pub monitoring: MonitoringSpec,
    /// Platform components windlass installs (cert-manager, the gateway, the monitoring
    /// and logging stacks, ...), by name: switch one off, pin another version, add values.
    #[serde(default)]
    pub components: ComponentsSpec,
    /// Where the components' charts come from (a mirror for air-gapped clusters).
    #[serde(default)]
    pub charts: ChartsSpec,
    /// Vault, for apps' `secretEnv: {vault: MOUNT/PATH#KEY}` (read through the Vault Secrets Operator).
    #[serde(default)]
    pub vault: VaultSpec,
    /// The environment's SOPS-encrypted secrets, for apps' `secretEnv: {sops: SECRET/KEY}`.
    #[serde(default)]
    pub secrets: SecretsSpec,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretsSpec {
    /// A SOPS-encrypted YAML file of named Secrets and their keys, relative to windlass.yaml,
    /// e.g. `secrets/{env}.sops.yaml` (`{env}` is the environment's name). `windlass secrets
    /// encrypt|edit` writes it; `up` decrypts it in memory.
    #[serde(default)]
    pub file: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VaultSpec {
    /// Vault's address, e.g. `https://vault.example.com:8200` (default: the `vault` component's
    /// in-cluster Service, when windlass installs it).
    #[serde(default)]
    pub address: Option<String>,
    /// Mount of Vault's Kubernetes auth method (default `kubernetes`). Each app logs in with its
    /// own ServiceAccount under the role named like the app.
    #[serde(default)]
    pub auth_mount: Option<String>,
    /// How often the operator reads each secret again, e.g. `60s`, `5m`, `1h` (default `60s`).
    #[serde(default)]
    pub refresh_after: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TlsIssuer {
    /// Let's Encrypt production (trusted certificates, strict rate limits).
    #[default]
    LetsencryptProd,
    /// Let's Encrypt staging (untrusted certificates, for trying things out).
    LetsencryptStaging,
    /// A local self-signed CA, for clusters without public DNS.
    SelfSigned,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrafficSpec {
    /// `gateway` (Gateway API HTTPRoutes, the default) or `ingress` (Ingress objects).
    #[serde(default)]
    pub mode: TrafficMode,
    /// GatewayClass (gateway mode, default `eg`, Envoy Gateway) or IngressClass (ingress mode, default `nginx`).
    #[serde(default)]
    pub class: Option<String>,
    /// Namespace where the gateway/ingress controller's proxies run: NetworkPolicies admit traffic
    /// from it. Default `envoy-gateway-system` (gateway) or `ingress-nginx` (ingress).
    #[serde(default)]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TrafficMode {
    #[default]
    Gateway,
    Ingress,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MonitoringSpec {
    /// Namespace of the monitoring stack (default `monitoring`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Helm release name of kube-prometheus-stack; its selectors match the `release` label (default `kube-prometheus-stack`).
    #[serde(default)]
    pub release: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AppKind {
    /// A Deployment serving HTTP on `port`, optionally public on `hosts`.
    #[default]
    Web,
    /// A Deployment without public traffic (queue consumers, background jobs).
    Worker,
    /// A CronJob running on `schedule`.
    Cron,
    /// A StatefulSet with stable identity and per-replica volumes (databases).
    Statefulset,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppSpec {
    /// `web` (default), `worker`, `cron` or `statefulset`.
    #[serde(default)]
    pub kind: AppKind,
    /// Container image with a tag or digest, e.g. `ghcr.io/acme/web:1.4.2`.
    pub image: String,
    /// Allow the `latest` tag (mutable, so rollbacks cannot restore it). Default false.
    #[serde(default)]
    pub allow_latest: bool,
    /// Container port serving HTTP (required for `web`).
    #[serde(default)]
    pub port: Option<Port>,
    /// Command (entrypoint) override.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Arguments.
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Public hosts. A name without a dot is a subdomain of `platform.domain`.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Public paths (default: one route for `/`). A route with `allowFrom` is only reachable from those CIDRs.
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
    /// Health endpoint for the probes: an HTTP path (`/healthz`), or `{path, port}`, `{tcp: true}`, `{command: [...]}`.
    #[serde(default)]
    pub health: Option<Shorthand<HealthSpec>>,
    /// Metrics endpoint scraped by Prometheus: a path (`/metrics`) or `{path, port}`.
    #[serde(default)]
    pub metrics: Option<Shorthand<MetricsSpec>>,
    /// Fixed replica count (not allowed together with `autoscaling`).
    #[serde(default)]
    pub replicas: Option<u32>,
    /// Horizontal autoscaling on CPU; the HPA then owns the replica count.
    #[serde(default)]
    pub autoscaling: Option<AutoscalingSpec>,
    /// Disruption budget: at most `maxUnavailable` pods (default 1) may be evicted at once.
    #[serde(default)]
    pub disruption: Option<DisruptionSpec>,
    /// CPU and memory requests and limits.
    #[serde(default)]
    pub resources: ResourcesSpec,
    /// Plain environment variables.
    #[serde(default)]
    pub env: IndexMap<String, Scalar>,
    /// Environment variables from Secrets: `NAME: secret-name/key` or `{secret, key}`, from the
    /// environment's SOPS file: `{sops: SECRET/KEY}`, or from Vault: `{vault: MOUNT/PATH#KEY}`.
    #[serde(default)]
    pub secret_env: IndexMap<String, Shorthand<EnvSecretRef>>,
    /// Configuration files mounted read-only into the container.
    #[serde(default)]
    pub config: Option<ConfigSpec>,
    /// Apps this app calls: they are deployed first and NetworkPolicies allow the traffic.
    #[serde(default)]
    pub needs: Vec<String>,
    /// Extra egress beyond DNS and `needs`, e.g. `{cidr: 0.0.0.0/0, ports: [443]}` for external APIs.
    #[serde(default)]
    pub egress: Vec<EgressRule>,
    /// A persistent volume (per replica for `statefulset`).
    #[serde(default)]
    pub persistence: Option<PersistenceSpec>,
    /// Cron schedule (required for `cron`), e.g. `*/15 * * * *`.
    #[serde(default)]
    pub schedule: Option<String>,
    /// Writable directories on the otherwise read-only root file system (`/tmp` is always writable).
    #[serde(default)]
    pub writable_paths: Vec<String>,
    /// UID the container runs as (non-root; default 10001).
    #[serde(default)]
    pub run_as_user: Option<i64>,
    /// Namespace (default: the platform namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Extra labels on every object of the app, e.g. `tier: frontend` (selectable with `--only tier=frontend`).
    #[serde(default)]
    pub labels: IndexMap<String, String>,
    /// Alert thresholds and durations for this app, and its service-level objectives.
    #[serde(default)]
    pub alerts: AppAlertsSpec,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RouteSpec {
    /// Path prefix, e.g. `/admin`.
    pub path: String,
    /// Only these source CIDRs may reach this path, e.g. `[10.0.0.0/8]`.
    #[serde(default)]
    pub allow_from: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HealthSpec {
    /// HTTP path answering 200 when healthy.
    #[serde(default)]
    pub path: Option<String>,
    /// HTTP path for the liveness probe alone: a shallow endpoint that answers while the
    /// process runs, without checking its dependencies (default: `path`, which
    /// `windlass check` reports as `liveness-checks-dependencies`).
    #[serde(default)]
    pub liveness: Option<String>,
    /// Port for the health check (default: the app port).
    #[serde(default)]
    pub port: Option<Port>,
    /// Probe by opening a TCP connection to the port instead of HTTP.
    #[serde(default)]
    pub tcp: bool,
    /// Probe by running this command in the container.
    #[serde(default)]
    pub command: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsSpec {
    /// HTTP path of the Prometheus metrics, e.g. `/metrics`.
    pub path: String,
    /// Port serving metrics (default: the app port).
    #[serde(default)]
    pub port: Option<Port>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AutoscalingSpec {
    /// Minimum replicas (at least 1; 2 or more keeps the app up during a drain).
    pub min: u32,
    /// Maximum replicas.
    pub max: u32,
    /// Target average CPU utilisation in percent of the request (default 70).
    #[serde(default)]
    pub cpu: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DisruptionSpec {
    /// Pods that may be down at once during voluntary disruptions (drains).
    #[serde(default)]
    pub max_unavailable: Option<u32>,
    /// Pods that must stay up; must be below the (minimum) replica count or drains block.
    #[serde(default)]
    pub min_available: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourcesSpec {
    /// CPU request, e.g. `100m` or `0.5`.
    #[serde(default)]
    pub cpu: Option<Quantity>,
    /// Memory request, e.g. `256Mi`.
    #[serde(default)]
    pub memory: Option<Quantity>,
    /// Limits (default: CPU 1, memory twice the request).
    #[serde(default)]
    pub limits: Option<LimitsSpec>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LimitsSpec {
    #[serde(default)]
    pub cpu: Option<Quantity>,
    #[serde(default)]
    pub memory: Option<Quantity>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Secret name (in the app's namespace).
    pub secret: String,
    /// Key within the Secret.
    pub key: String,
}

/// Where an app's secret environment variable comes from: a Secret's key
/// (`secret` and `key`) or a Vault secret's key (`vault`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvSecretRef {
    /// Secret name (in the app's namespace), with `key`.
    #[serde(default)]
    pub secret: Option<String>,
    /// Key within the Secret.
    #[serde(default)]
    pub key: Option<String>,
    /// A key of a Vault KV v2 secret, `MOUNT/PATH#KEY` (e.g. `kv/shop/db#password`), synced into
    /// a Secret by the Vault Secrets Operator, which restarts the app when it changes.
    #[serde(default)]
    pub vault: Option<String>,
    /// A key of a Secret in the environment's SOPS file (`platform.secrets.file`), `SECRET/KEY`
    /// (e.g. `postgres/password`); windlass decrypts it and owns the Secret the app reads.
    #[serde(default)]
    pub sops: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigSpec {
    /// Directory the files appear in (default `/etc/<app>`).
    #[serde(default)]
    pub mount_path: Option<String>,
    /// File name -> content.
    #[serde(default)]
    pub files: IndexMap<String, String>,
    /// File name -> `{sops: SECRET/KEY}`: a file whose content is a key of a Secret in the
    /// environment's SOPS file, mounted beside `files` from the Secret windlass makes.
    #[serde(default)]
    pub secret_files: IndexMap<String, SopsFileRef>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SopsFileRef {
    /// `SECRET/KEY` of the environment's SOPS file (`platform.secrets.file`).
    pub sops: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EgressRule {
    /// Destination CIDR, e.g. `0.0.0.0/0` or `10.20.0.0/16`.
    pub cidr: String,
    /// TCP ports (empty: all ports).
    #[serde(default)]
    pub ports: Vec<Port>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PersistenceSpec {
    /// Volume size, e.g. `10Gi`.
    pub size: Quantity,
    /// Where the volume is mounted (default `/data`).
    #[serde(default)]
    pub mount_path: Option<String>,
    /// StorageClass (default: the cluster default).
    #[serde(default)]
    pub storage_class: Option<String>,
    /// `ReadWriteOnce` (default) or `ReadWriteMany` (needed by a Deployment with more than one replica).
    #[serde(default)]
    pub access_mode: Option<AccessMode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum AccessMode {
    ReadWriteOnce,
    ReadWriteMany,
    ReadWriteOncePod,
}

impl AccessMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::ReadWriteOnce => "ReadWriteOnce",
            AccessMode::ReadWriteMany => "ReadWriteMany",
            AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
        }
    }
}
