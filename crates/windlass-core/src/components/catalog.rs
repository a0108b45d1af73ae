//! The component catalog: one entry per platform component windlass can install,
//! with its chart pinned by version, where it runs, what it needs, the CRDs it
//! brings and how its readiness is proven beyond its pods. Every default of a
//! component is here; the values windlass sets are in `values`.

use std::fmt;
use std::str::FromStr;

/// A component, by the name the spec uses under `platform.components`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ComponentName {
    CertManager,
    EnvoyGateway,
    IngressNginx,
    KubePrometheusStack,
    Loki,
    Alloy,
    BlackboxExporter,
    MetricsServer,
    Reloader,
    Vault,
    VaultSecretsOperator,
}

impl ComponentName {
    pub const ALL: [ComponentName; 11] = [
        ComponentName::CertManager,
        ComponentName::EnvoyGateway,
        ComponentName::IngressNginx,
        ComponentName::KubePrometheusStack,
        ComponentName::Loki,
        ComponentName::Alloy,
        ComponentName::BlackboxExporter,
        ComponentName::MetricsServer,
        ComponentName::Reloader,
        ComponentName::Vault,
        ComponentName::VaultSecretsOperator,
    ];

    pub fn as_str(self) -> &'static str {
        self.entry().name
    }

    pub fn entry(self) -> &'static Entry {
        &CATALOG[self as usize]
    }
}

impl fmt::Display for ComponentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ComponentName {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        ComponentName::ALL.into_iter().find(|c| c.as_str() == s).ok_or(())
    }
}

/// Pod Security Admission level a component's namespace enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PodSecurity {
    Restricted,
    Baseline,
    /// Host namespaces and host paths (node-exporter, the log collector).
    Privileged,
}

impl PodSecurity {
    pub fn as_str(self) -> &'static str {
        match self {
            PodSecurity::Restricted => "restricted",
            PodSecurity::Baseline => "baseline",
            PodSecurity::Privileged => "privileged",
        }
    }
}

/// Where a component's namespace comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    /// A fixed namespace.
    Fixed(&'static str),
    /// `platform.monitoring.namespace`.
    Monitoring,
    /// `platform.traffic.namespace`.
    Traffic,
}

/// When a component is on without the spec saying so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultOn {
    Always,
    /// In gateway traffic mode.
    GatewayMode,
    /// In ingress traffic mode.
    IngressMode,
    /// Only when the spec enables it.
    Never,
}

/// How a component's chart carries its CRDs, which windlass installs as their
/// own unit (`crds.<component>`) before the release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrdSource {
    /// The chart brings none.
    None,
    /// In the chart's `crds/` directories (its own or a subchart's): helm installs them
    /// only once and never upgrades them, so windlass applies them and installs with `--skip-crds`.
    CrdsDir,
    /// As templates switched on by this boolean value (e.g. `crds.enabled`): windlass
    /// renders them with the value on, applies them, and installs the release with it off.
    Template(&'static str),
}

/// A check that the component does its job, after its pods are ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateKind {
    /// The component's admission webhook answers: a server-side dry run of an object it
    /// intercepts is admitted.
    WebhookAdmits,
    /// An aggregated API the component serves is `Available`.
    ApiServiceAvailable(&'static str),
}

#[derive(Debug)]
pub struct Entry {
    pub name: &'static str,
    /// What it is, for people (`status`, errors).
    pub about: &'static str,
    /// Chart name in its repository.
    pub chart: &'static str,
    /// The upstream repository: `oci://...` (the chart is `<repository>/<chart>`) or an HTTP chart repository.
    pub repository: &'static str,
    /// The pinned chart version.
    pub version: &'static str,
    /// Helm release name; the objects' names derive from it, and the content pack relies on some of them.
    pub release: &'static str,
    pub home: Home,
    pub pod_security: PodSecurity,
    pub default_on: DefaultOn,
    /// Other components that must be ready first (when they are enabled).
    pub needs: &'static [ComponentName],
    pub crds: CrdSource,
    pub gates: &'static [GateKind],
    /// The APIs it serves (its CRDs, its admission webhook, its controller): an API
    /// group (`cert-manager.io`) or one kind of a group (`networking.k8s.io/Ingress`).
    /// An object of one of them waits for the component (`plan::Plan::object_needs`).
    pub serves: &'static [&'static str],
    /// Upstream retired it: installable, but `status` says so.
    pub retired: bool,
}

use ComponentName as C;

/// Indexed by `ComponentName as usize`.
static CATALOG: [Entry; 11] = [
    Entry {
        name: "cert-manager",
        about: "certificates (ACME HTTP-01 through the Gateway API, the self-signed chain)",
        chart: "cert-manager",
        repository: "oci://quay.io/jetstack/charts",
        version: "v1.21.2",
        release: "cert-manager",
        home: Home::Fixed(crate::defaults::CERT_MANAGER_NAMESPACE),
        pod_security: PodSecurity::Restricted,
        default_on: DefaultOn::Always,
        needs: &[],
        crds: CrdSource::Template("crds.enabled"),
        gates: &[GateKind::WebhookAdmits],
        serves: &["cert-manager.io", "acme.cert-manager.io"],
        retired: false,
    },
    Entry {
        name: "envoy-gateway",
        about: "the Gateway API controller (Envoy Gateway) serving the platform's Gateway",
        chart: "gateway-helm",
        repository: "oci://docker.io/envoyproxy",
        version: "v1.9.1",
        release: "envoy-gateway",
        home: Home::Traffic,
        pod_security: PodSecurity::Baseline,
        default_on: DefaultOn::GatewayMode,
        needs: &[],
        crds: CrdSource::CrdsDir,
        gates: &[],
        serves: &["gateway.networking.k8s.io", "gateway.envoyproxy.io"],
        retired: false,
    },
    Entry {
        name: "ingress-nginx",
        about: "the Ingress controller for `traffic.mode: ingress` (retired upstream in March 2026)",
        chart: "ingress-nginx",
        repository: "https://kubernetes.github.io/ingress-nginx",
        version: "4.13.3",
        release: "ingress-nginx",
        home: Home::Traffic,
        pod_security: PodSecurity::Baseline,
        default_on: DefaultOn::IngressMode,
        needs: &[],
        crds: CrdSource::None,
        gates: &[GateKind::WebhookAdmits],
        serves: &["networking.k8s.io/Ingress"],
        retired: true,
    },
    Entry {
        name: "kube-prometheus-stack",
        about: "Prometheus, Alertmanager, Grafana, node-exporter and kube-state-metrics",
        chart: "kube-prometheus-stack",
        repository: "oci://ghcr.io/prometheus-community/charts",
        version: "89.0.0",
        release: crate::defaults::MONITORING_RELEASE,
        home: Home::Monitoring,
        // node-exporter reads the host's /proc and /sys in the host's namespaces.
        pod_security: PodSecurity::Privileged,
        default_on: DefaultOn::Always,
        needs: &[],
        crds: CrdSource::Template("crds.enabled"),
        gates: &[GateKind::WebhookAdmits],
        serves: &["monitoring.coreos.com"],
        retired: false,
    },
    Entry {
        name: "loki",
        about: "log storage and the log-alert ruler (single binary, filesystem storage)",
        chart: "loki",
        repository: "https://grafana.github.io/helm-charts",
        version: "6.55.0",
        release: "loki",
        home: Home::Monitoring,
        pod_security: PodSecurity::Baseline,
        default_on: DefaultOn::Always,
        needs: &[],
        crds: CrdSource::None,
        gates: &[],
        serves: &[],
        retired: false,
    },
    Entry {
        name: "alloy",
        about: "the log collector (a DaemonSet shipping every pod's logs to Loki)",
        chart: "alloy",
        repository: "https://grafana.github.io/helm-charts",
        version: "1.4.0",
        release: "alloy",
        home: Home::Monitoring,
        // Reads /var/log/pods on each node.
        pod_security: PodSecurity::Privileged,
        default_on: DefaultOn::Always,
        needs: &[C::Loki],
        crds: CrdSource::None,
        gates: &[],
        serves: &[],
        retired: false,
    },
    Entry {
        name: "blackbox-exporter",
        about: "uptime probes of every public host",
        chart: "prometheus-blackbox-exporter",
        repository: "oci://ghcr.io/prometheus-community/charts",
        version: "11.4.0",
        release: crate::content::defaults::BLACKBOX_SERVICE,
        home: Home::Monitoring,
        pod_security: PodSecurity::Restricted,
        default_on: DefaultOn::Always,
        needs: &[],
        crds: CrdSource::None,
        gates: &[],
        serves: &[],
        retired: false,
    },
    Entry {
        name: "metrics-server",
        about: "resource metrics for autoscaling (`kubectl top`, HPAs)",
        chart: "metrics-server",
        repository: "https://kubernetes-sigs.github.io/metrics-server",
        version: "3.13.1",
        release: "metrics-server",
        home: Home::Fixed("kube-system"),
        pod_security: PodSecurity::Privileged,
        default_on: DefaultOn::Always,
        needs: &[],
        crds: CrdSource::None,
        gates: &[GateKind::ApiServiceAvailable("v1beta1.metrics.k8s.io")],
        serves: &[],
        retired: false,
    },
    Entry {
        name: "reloader",
        about: "rolls workloads when a ConfigMap or Secret they use changes",
        chart: "reloader",
        repository: "https://stakater.github.io/stakater-charts",
        version: "2.2.5",
        release: "reloader",
        home: Home::Fixed("reloader"),
        pod_security: PodSecurity::Restricted,
        default_on: DefaultOn::Always,
        needs: &[],
        crds: CrdSource::None,
        gates: &[],
        serves: &[],
        retired: false,
    },
    Entry {
        name: "vault",
        about: "HashiCorp Vault (optional, for secrets kept outside the cluster's etcd)",
        chart: "vault",
        repository: "https://helm.releases.hashicorp.com",
        version: "0.31.0",
        release: "vault",
        home: Home::Fixed("vault"),
        pod_security: PodSecurity::Baseline,
        default_on: DefaultOn::Never,
        needs: &[],
        crds: CrdSource::None,
        gates: &[],
        serves: &[],
        retired: false,
    },
    Entry {
        name: "vault-secrets-operator",
        about: "syncs Vault secrets into Kubernetes Secrets (optional)",
        chart: "vault-secrets-operator",
        repository: "https://helm.releases.hashicorp.com",
        version: "1.0.1",
        release: "vault-secrets-operator",
        home: Home::Fixed("vault-secrets-operator-system"),
        pod_security: PodSecurity::Restricted,
        default_on: DefaultOn::Never,
        needs: &[C::Vault],
        crds: CrdSource::CrdsDir,
        gates: &[],
        serves: &["secrets.hashicorp.com"],
        retired: false,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_indexed_by_the_enum() {
        for c in ComponentName::ALL {
            assert_eq!(c.entry().name.parse::<ComponentName>(), Ok(c), "{c:?}");
        }
    }

    #[test]
    fn names_are_dns_labels_and_versions_are_exact() {
        for c in ComponentName::ALL {
            let e = c.entry();
            assert!(crate::spec::names::is_dns1123_label(e.name), "{}", e.name);
            assert!(crate::spec::names::is_dns1123_label(e.release), "{}", e.release);
            assert!(super::super::is_exact_version(e.version), "{}: {}", e.name, e.version);
            assert!(
                e.repository.starts_with("oci://") || e.repository.starts_with("https://"),
                "{}",
                e.repository
            );
        }
    }
}
