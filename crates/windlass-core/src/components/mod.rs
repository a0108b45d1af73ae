//! Platform components: the upstream charts windlass installs before the
//! platform's own objects (cert-manager, the gateway controller, the monitoring
//! and logging stacks, ...). Pure: the catalog (`catalog`), the values windlass
//! sets (`values`), and the resolution of both with the spec's
//! `platform.components` and `platform.charts` into `Component`s the plan turns
//! into units (`crds.<name>`, `component.<name>`). Fetching charts and running
//! helm happen at the edge (windlass-cluster).

mod agreement;
pub mod catalog;
pub mod values;

use serde_json::Value;

pub use catalog::{ComponentName, CrdSource, GateKind, Home, PodSecurity};

use crate::defaults as d;
use crate::spec::{ComponentSpec, PlatformSpec, TrafficMode};

/// Where a chart comes from, resolved (mirror or per-component repository applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRef {
    /// `oci://HOST/PATH` or `https://HOST/PATH` (an HTTP chart repository).
    pub repository: String,
    pub name: String,
    pub version: String,
}

impl ChartRef {
    pub fn is_oci(&self) -> bool {
        self.repository.starts_with("oci://")
    }

    /// What `helm` takes as the chart argument: the full OCI reference, or the
    /// chart name (then with `--repo <repository>`).
    pub fn reference(&self) -> String {
        if self.is_oci() {
            format!("{}/{}", self.repository.trim_end_matches('/'), self.name)
        } else {
            self.name.clone()
        }
    }
}

/// One enabled component with every default decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub name: ComponentName,
    pub chart: ChartRef,
    pub release: String,
    pub namespace: String,
    /// The Pod Security level of its namespace: the most permissive any
    /// component in that namespace needs.
    pub pod_security: PodSecurity,
    /// Values windlass sets, with the spec's extra values merged over them.
    pub values: Value,
    /// The spec added values (checked against the chart's `values.schema.json` at install).
    pub extra_values: bool,
    /// Enabled components that must be ready first.
    pub needs: Vec<ComponentName>,
    /// Whether it needs the monitoring stack's CRDs (it renders ServiceMonitors).
    pub needs_monitoring_crds: bool,
    pub crds: CrdSource,
    pub gates: Vec<GateKind>,
}

impl Component {
    pub fn entry(&self) -> &'static catalog::Entry {
        self.name.entry()
    }

    /// Whether windlass creates (and labels) the namespace: never Kubernetes' own.
    pub fn owns_namespace(&self) -> bool {
        !(self.namespace == "default" || self.namespace.starts_with("kube-"))
    }
}

/// What `windlass render` writes beside a component unit's own objects, as
/// `release.yaml`: the release `up` installs, its chart, where its CRDs come from
/// and the units it waits for (its values go in `values.yaml`, exactly as helm
/// gets them).
pub fn release_description(c: &Component, needs: &[crate::unit::UnitId]) -> Value {
    let crds = match c.crds {
        CrdSource::None => "none".to_string(),
        CrdSource::CrdsDir => {
            "the chart's crds/ directories (unit crds.NAME applies them; helm runs with --skip-crds)".to_string()
        }
        CrdSource::Template(value) => {
            format!("templates switched on by `{value}` (unit crds.NAME applies them; the release runs with it off)")
        }
    };
    serde_json::json!({
        "release": c.release,
        "namespace": c.namespace,
        "chart": {
            "repository": c.chart.repository,
            "name": c.chart.name,
            "version": c.chart.version,
        },
        "needs": needs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "crds": crds,
    })
}

/// What people open of a component: Grafana, through the platform's Gateway.
pub fn urls(platform: &crate::model::Platform, component: &Component) -> Vec<String> {
    match component.name {
        ComponentName::KubePrometheusStack => vec![format!("https://{}", values::grafana_host(platform))],
        _ => Vec::new(),
    }
}

/// Whether `name` is enabled for this spec: the spec's `enabled`, else the catalog default.
pub fn is_enabled(name: ComponentName, p: &PlatformSpec) -> bool {
    if let Some(on) = p.components.get(name.as_str()).and_then(|c| c.enabled) {
        return on;
    }
    match name.entry().default_on {
        catalog::DefaultOn::Always => true,
        catalog::DefaultOn::GatewayMode => p.traffic.mode == TrafficMode::Gateway,
        catalog::DefaultOn::IngressMode => p.traffic.mode == TrafficMode::Ingress,
        catalog::DefaultOn::Never => false,
    }
}

/// Where a component lives when the spec says nothing: for a component the
/// spec no longer has (`down` still has to find its release).
pub fn default_home(name: ComponentName) -> &'static str {
    let entry = name.entry();
    match entry.home {
        Home::Fixed(ns) => ns,
        Home::Monitoring => d::MONITORING_NAMESPACE,
        Home::Traffic => match entry.default_on {
            catalog::DefaultOn::IngressMode => d::INGRESS_CONTROLLER_NAMESPACE,
            _ => d::GATEWAY_CONTROLLER_NAMESPACE,
        },
    }
}

fn home(name: ComponentName, p: &PlatformSpec) -> String {
    match name.entry().home {
        Home::Fixed(ns) => ns.to_string(),
        Home::Monitoring => p
            .monitoring
            .namespace
            .clone()
            .unwrap_or_else(|| default_home(name).to_string()),
        Home::Traffic => p.traffic.namespace.clone().unwrap_or_else(|| {
            match p.traffic.mode {
                TrafficMode::Gateway => d::GATEWAY_CONTROLLER_NAMESPACE,
                TrafficMode::Ingress => d::INGRESS_CONTROLLER_NAMESPACE,
            }
            .to_string()
        }),
    }
}

/// The namespaces of the enabled components, for validation (apps may not use them).
pub fn namespaces(p: &PlatformSpec) -> Vec<(ComponentName, String)> {
    ComponentName::ALL
        .into_iter()
        .filter(|c| is_enabled(*c, p))
        .map(|c| (c, home(c, p)))
        .collect()
}

/// The enabled components in catalog order (which is also a dependency order).
pub fn resolve(platform: &crate::model::Platform, p: &PlatformSpec) -> Vec<Component> {
    let enabled = |c: ComponentName| is_enabled(c, p);
    let on: Vec<ComponentName> = ComponentName::ALL.into_iter().filter(|c| enabled(*c)).collect();
    let level_of = |ns: &str| {
        on.iter()
            .filter(|c| home(**c, p) == ns)
            .map(|c| c.entry().pod_security)
            .max()
            .unwrap_or(PodSecurity::Restricted)
    };
    on.iter()
        .map(|&name| {
            let entry = name.entry();
            let spec = p.components.get(name.as_str()).cloned().unwrap_or_default();
            let mut values = values::values(name, platform, &enabled);
            if let Some(extra) = &spec.values {
                merge(&mut values, Value::Object(extra.clone()));
            }
            let namespace = home(name, p);
            // The monitoring stack's release name is also the `release` label its selectors match.
            let release = match name {
                ComponentName::KubePrometheusStack => platform.monitoring.release.clone(),
                _ => entry.release.to_string(),
            };
            Component {
                name,
                chart: chart_ref(name, &spec, p),
                release,
                pod_security: level_of(&namespace),
                namespace,
                values,
                extra_values: spec.values.as_ref().is_some_and(|v| !v.is_empty()),
                needs: entry.needs.iter().copied().filter(|n| enabled(*n)).collect(),
                needs_monitoring_crds: renders_monitors(name) && enabled(ComponentName::KubePrometheusStack),
                crds: entry.crds,
                gates: entry.gates.to_vec(),
            }
        })
        .collect()
}

/// Components whose values switch on a ServiceMonitor (a monitoring.coreos.com object).
fn renders_monitors(name: ComponentName) -> bool {
    matches!(name, ComponentName::CertManager | ComponentName::IngressNginx)
}

fn chart_ref(name: ComponentName, spec: &ComponentSpec, p: &PlatformSpec) -> ChartRef {
    let entry = name.entry();
    let repository = spec
        .repository
        .clone()
        .or_else(|| p.charts.mirror.clone())
        .unwrap_or_else(|| entry.repository.to_string());
    ChartRef {
        repository: repository.trim_end_matches('/').to_string(),
        name: entry.chart.to_string(),
        version: spec.version.clone().unwrap_or_else(|| entry.version.to_string()),
    }
}

/// Deep merge: mappings key by key, anything else (lists, scalars, null) replaces.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// An object the component's admission webhook intercepts, for a server-side
/// dry run that proves the webhook answers (`GateKind::WebhookAdmits`).
pub fn webhook_probe(component: &Component) -> Option<Value> {
    let name = "windlass-webhook-probe";
    Some(match component.name {
        ComponentName::CertManager => serde_json::json!({
            "apiVersion": "cert-manager.io/v1",
            "kind": "Issuer",
            "metadata": {"name": name, "namespace": component.namespace},
            "spec": {"selfSigned": {}},
        }),
        ComponentName::KubePrometheusStack => serde_json::json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": name, "namespace": component.namespace},
            "spec": {"groups": [{"name": "windlass-webhook-probe", "rules": [
                {"record": "windlass:webhook_probe", "expr": "vector(1)"}
            ]}]},
        }),
        ComponentName::IngressNginx => serde_json::json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": name, "namespace": component.namespace},
            "spec": {
                "ingressClassName": component.values.pointer("/controller/ingressClassResource/name").cloned().unwrap_or(Value::Null),
                "rules": [{"host": "webhook-probe.invalid", "http": {"paths": [{
                    "path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": name, "port": {"number": 80}}}
                }]}}]
            },
        }),
        _ => return None,
    })
}

/// Values the content pack or the install itself relies on: the spec may not
/// change them under `values` (each with why).
pub fn protected_values(name: ComponentName) -> &'static [(&'static str, &'static str)] {
    const CRDS: (&str, &str) = ("crds.enabled", "windlass installs the CRDs as their own unit");
    match name {
        ComponentName::CertManager => &[
            CRDS,
            (
                "config.enableGatewayAPI",
                "HTTP-01 challenges go through the platform's Gateway",
            ),
        ],
        ComponentName::KubePrometheusStack => &[
            CRDS,
            (
                "prometheus.prometheusSpec.ruleSelector",
                "windlass's PrometheusRules carry the `release` label",
            ),
            (
                "prometheus.prometheusSpec.serviceMonitorSelector",
                "windlass's ServiceMonitors carry the `release` label",
            ),
            (
                "prometheus.prometheusSpec.probeSelector",
                "windlass's uptime Probes carry the `release` label",
            ),
            (
                "alertmanager.alertmanagerSpec.configSecret",
                "windlass renders the Alertmanager configuration from `observability.alerting`",
            ),
            (
                "grafana.sidecar.dashboards.label",
                "windlass's dashboards carry this label",
            ),
            (
                "grafana.sidecar.dashboards.labelValue",
                "windlass's dashboards carry this label value",
            ),
            (
                "grafana.sidecar.datasources.uid",
                "windlass's dashboards query this datasource uid",
            ),
        ],
        ComponentName::Loki => &[
            ("sidecar.rules.label", "windlass's log alert rules carry this label"),
            (
                "sidecar.rules.labelValue",
                "windlass's log alert rules carry this label value",
            ),
        ],
        ComponentName::Alloy => &[(
            "alloy.configMap.content",
            "log alerts select on the stream labels this pipeline sets",
        )],
        ComponentName::BlackboxExporter => &[(
            "configExistingSecretName",
            "windlass renders the probe modules into this Secret",
        )],
        _ => &[],
    }
}

/// Whether a dotted path is set in a values mapping.
pub fn lookup<'a>(values: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(values, |v, k| v.as_object()?.get(k))
}

/// An exact chart version: `1.2.3` or `v1.2.3`, with an optional pre-release.
pub fn is_exact_version(v: &str) -> bool {
    let core = v.strip_prefix('v').unwrap_or(v);
    let core = core.split_once('+').map_or(core, |(c, _)| c);
    let (core, pre) = core.split_once('-').map_or((core, None), |(c, p)| (c, Some(p)));
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && pre.is_none_or(|p| {
            !p.is_empty()
                && p.split('.')
                    .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        })
}

/// Why a chart repository URL cannot be used, if it cannot.
pub fn repository_problem(url: &str) -> Option<&'static str> {
    let rest = url
        .strip_prefix("oci://")
        .or_else(|| url.strip_prefix("https://"))
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Some("a chart repository starts with `oci://` (a registry) or `https://` (an HTTP chart repository)");
    };
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Some("the repository names no host");
    }
    if host.contains('@') {
        return Some(
            "credentials in a repository URL end up in logs and in the cluster; log in with `helm registry login` or `helm repo add` instead",
        );
    }
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("the repository URL contains spaces or control characters");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_is_deep_for_mappings_and_replaces_the_rest() {
        let mut base = json!({"a": {"b": 1, "c": [1, 2]}, "d": "x"});
        merge(&mut base, json!({"a": {"c": [3], "e": true}, "d": null}));
        assert_eq!(base, json!({"a": {"b": 1, "c": [3], "e": true}, "d": null}));
    }

    #[test]
    fn the_default_home_is_where_a_spec_without_overrides_puts_each_component() {
        for mode in ["gateway", "ingress"] {
            let yaml = format!(
                "apiVersion: windlass.dev/v1alpha1\nkind: Platform\nplatform:\n  name: p\n  domain: p.example.com\n  \
                 email: ops@example.com\n  tls: letsencrypt-prod\n  traffic: {{ mode: {mode} }}\n  \
                 components: {{ vault: {{ enabled: true }}, vault-secrets-operator: {{ enabled: true }} }}\n"
            );
            let spec = crate::spec::load("windlass.yaml", &yaml).expect("a valid spec");
            let (_, file) = spec.environment(None).expect("the default environment");
            let homes = namespaces(&file.platform);
            assert!(homes.len() >= 9, "{mode}: {homes:?}");
            for (c, ns) in homes {
                assert_eq!(default_home(c), ns, "{mode}: {c:?}");
            }
        }
    }

    #[test]
    fn exact_versions() {
        for ok in ["1.2.3", "v1.21.2", "89.0.0", "1.0.0-rc.1", "1.0.0+build.5"] {
            assert!(is_exact_version(ok), "{ok}");
        }
        for bad in ["", "1.2", "^1.2.3", "1.2.x", "latest", "v1..2", "1.2.3-", ">=1.0.0"] {
            assert!(!is_exact_version(bad), "{bad}");
        }
    }

    #[test]
    fn repository_urls() {
        assert_eq!(repository_problem("oci://registry.internal/charts"), None);
        assert_eq!(repository_problem("https://charts.internal"), None);
        assert_eq!(repository_problem("http://127.0.0.1:8080"), None);
        assert!(repository_problem("registry.internal/charts").is_some());
        assert!(repository_problem("oci://").is_some());
        assert!(repository_problem("https://user:pw@charts.internal").is_some());
    }

    #[test]
    fn chart_references() {
        let oci = ChartRef {
            repository: "oci://r.example/charts".into(),
            name: "loki".into(),
            version: "1.0.0".into(),
        };
        assert_eq!(oci.reference(), "oci://r.example/charts/loki");
        let http = ChartRef {
            repository: "https://charts.example".into(),
            ..oci
        };
        assert_eq!(http.reference(), "loki");
    }
}
