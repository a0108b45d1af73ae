//! Every default windlass decides, defined once. Rendering and validation refer
//! to these names; a reviewer finds the production policy in one file.

/// Spec version and the field manager / managed-by value.
pub const MANAGER: &str = "windlass";

// Labels (app.kubernetes.io/*). Selectors use only NAME and INSTANCE: they never change.
pub const LABEL_NAME: &str = "app.kubernetes.io/name";
pub const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
pub const LABEL_VERSION: &str = "app.kubernetes.io/version";
pub const LABEL_COMPONENT: &str = "app.kubernetes.io/component";
pub const LABEL_PART_OF: &str = "app.kubernetes.io/part-of";
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const LABEL_ENVIRONMENT: &str = "windlass.dev/environment";
/// The namespace label every namespace carries since Kubernetes 1.22 (used by NetworkPolicies).
pub const LABEL_NAMESPACE_NAME: &str = "kubernetes.io/metadata.name";

/// Pod Security Admission level enforced, audited and warned on every app namespace.
pub const POD_SECURITY_LEVEL: &str = "restricted";

// Traffic.
pub const GATEWAY_CLASS: &str = "eg";
pub const GATEWAY_CONTROLLER_NAMESPACE: &str = "envoy-gateway-system";
pub const INGRESS_CLASS: &str = "nginx";
pub const INGRESS_CONTROLLER_NAMESPACE: &str = "ingress-nginx";

// Monitoring.
pub const MONITORING_NAMESPACE: &str = "monitoring";
pub const MONITORING_RELEASE: &str = "kube-prometheus-stack";
pub const SCRAPE_INTERVAL: &str = "30s";
pub const SCRAPE_TIMEOUT: &str = "10s";

// TLS.
pub const SELF_SIGNED_CA_ISSUER: &str = "windlass-selfsigned-ca";
pub const SELF_SIGNED_BOOTSTRAP_ISSUER: &str = "windlass-selfsigned";
pub const CERT_MANAGER_NAMESPACE: &str = "cert-manager";
pub const LETSENCRYPT_PROD_SERVER: &str = "https://acme-v02.api.letsencrypt.org/directory";
pub const LETSENCRYPT_STAGING_SERVER: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

// Ports, named for what they serve: a mesh or gateway reads the protocol from the name.
/// The app's port when it speaks HTTP (a web app, HTTP probes, or metrics on it).
pub const PORT_HTTP: &str = "http";
/// The app's port when its protocol is not known (a database, a queue).
pub const PORT_TCP: &str = "tcp";
/// A separate port serving Prometheus metrics.
pub const PORT_METRICS: &str = "metrics";
pub const APP_PROTOCOL_HTTP: &str = "http";

// Workload.
pub const RUN_AS_USER: i64 = 10001;
pub const CPU_REQUEST: &str = "100m";
pub const MEMORY_REQUEST: &str = "128Mi";
pub const CPU_LIMIT: &str = "1";
/// Memory limit when none is given: this multiple of the request.
pub const MEMORY_LIMIT_FACTOR: u128 = 2;
pub const HPA_CPU_TARGET: u32 = 70;
pub const REVISION_HISTORY: i32 = 5;
pub const TERMINATION_GRACE_SECONDS: i64 = 30;
/// Seconds the pod keeps serving after it is removed from endpoints, so in-flight requests finish.
pub const PRESTOP_SLEEP_SECONDS: i64 = 5;
pub const MIN_READY_SECONDS: i32 = 5;
pub const MAX_SURGE: &str = "25%";
pub const PROGRESS_DEADLINE_SECONDS: i32 = 600;
pub const PDB_MAX_UNAVAILABLE: u32 = 1;
pub const DATA_MOUNT_PATH: &str = "/data";
pub const TMP_MOUNT_PATH: &str = "/tmp";
/// Local disk an app container may fill (logs and its writable layer: the root file
/// system is read-only) before the kubelet evicts it instead of the node filling up.
pub const EPHEMERAL_STORAGE_LIMIT: &str = "1Gi";
/// The bound of `/tmp` and of each writable path (emptyDir volumes).
pub const EMPTY_DIR_SIZE_LIMIT: &str = "1Gi";

// CronJob.
pub const CRON_SUCCESS_HISTORY: i32 = 3;
pub const CRON_FAILED_HISTORY: i32 = 3;
pub const CRON_BACKOFF_LIMIT: i32 = 2;
pub const CRON_STARTING_DEADLINE_SECONDS: i64 = 300;

// LimitRange defaults for containers that do not set their own (sidecars, init containers).
pub const LIMITRANGE_CPU_REQUEST: &str = "50m";
pub const LIMITRANGE_MEMORY_REQUEST: &str = "64Mi";
pub const LIMITRANGE_CPU_LIMIT: &str = "500m";
pub const LIMITRANGE_MEMORY_LIMIT: &str = "256Mi";

/// Probe timing. The three probes share the endpoint but never the timing:
/// startup tolerates a slow boot, readiness reacts fast, liveness is slow to
/// kill (a database under load must not be restarted by a 1 s timeout).
pub mod probes {
    use crate::model::ProbeTiming;

    pub const STARTUP: ProbeTiming = ProbeTiming {
        initial_delay_seconds: 0,
        period_seconds: 5,
        timeout_seconds: 3,
        failure_threshold: 60,
    };
    pub const READINESS: ProbeTiming = ProbeTiming {
        initial_delay_seconds: 0,
        period_seconds: 10,
        timeout_seconds: 3,
        failure_threshold: 3,
    };
    pub const LIVENESS: ProbeTiming = ProbeTiming {
        initial_delay_seconds: 0,
        period_seconds: 20,
        timeout_seconds: 10,
        failure_threshold: 6,
    };
}

/// The `vault` component's in-cluster address (its chart's Service in namespace `vault`).
pub const VAULT_ADDRESS: &str = "http://vault.vault.svc:8200";
/// Mount of Vault's Kubernetes auth method.
pub const VAULT_AUTH_MOUNT: &str = "kubernetes";
/// How often the Vault Secrets Operator reads a secret again.
pub const VAULT_REFRESH_AFTER: &str = "60s";
/// The audience of the ServiceAccount tokens apps log in to Vault with.
pub const VAULT_AUDIENCE: &str = "vault";
