//! The validated platform with every default decided: what each app is, where
//! it runs, how it is probed, scaled, protected and reached. Rendering reads
//! only this model, never the raw spec.

mod observability;

use std::collections::BTreeMap;

pub use self::observability::{
    AlertPolicy, AlertRoute, Alerting, AppAlerts, Cost, LatencySlo, LogAlert, Observability, PlatformAlerts, Receiver,
    ReceiverKind, Slo, Uptime,
};
use crate::defaults as d;
use crate::spec::quantity::parse_milli;
use crate::spec::values::Quantity;
use crate::spec::{AccessMode, AppKind, AppSpec, PlatformFile, TlsIssuer, TrafficMode};

#[derive(Debug, Clone)]
pub struct Platform {
    pub name: String,
    pub environment: String,
    pub domain: String,
    pub email: Option<String>,
    pub tls: TlsIssuer,
    pub traffic: Traffic,
    pub monitoring: Monitoring,
    /// Apps in spec order.
    pub apps: Vec<App>,
    /// Alert routing, platform log alerts, uptime checks, SLO window, platform alerts and prices.
    pub observability: Observability,
    /// The enabled platform components, in catalog order.
    pub components: Vec<crate::components::Component>,
    /// Vault as apps' `secretEnv: {vault: ...}` reach it.
    pub vault: Vault,
    /// `platform.secrets.file` with `{env}` replaced: relative to windlass.yaml.
    pub secrets_file: Option<String>,
    /// That file as read without a key, attached by the caller (`attach_secrets`) once
    /// it has read the file; apps' `{sops: ...}` references render from it.
    pub sealed: Option<std::sync::Arc<crate::secrets::Sealed>>,
    /// App name -> position in `apps`.
    index: BTreeMap<String, usize>,
    /// App name -> positions of the apps that need it, in spec order (a 10,000-app
    /// platform asks this once per app, so it is not a scan).
    needed_by: BTreeMap<String, Vec<usize>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    pub mode: TrafficMode,
    /// GatewayClass or IngressClass name.
    pub class: String,
    /// Namespace of the controller's proxies (allowed to reach app ports) and, in gateway mode, of the Gateway.
    pub namespace: String,
    /// Name of the shared Gateway (gateway mode).
    pub gateway_name: String,
    /// Public hosts served by a Gateway other than the first (gateway mode, more
    /// hosts than one Gateway's listeners hold): host -> Gateway index (1, 2, ...).
    pub host_gateway: BTreeMap<String, usize>,
}

/// Listeners one Gateway holds (Gateway API's limit).
pub const GATEWAY_LISTENERS: usize = 64;

impl Traffic {
    /// How many Gateways serve the platform's hosts.
    pub fn gateway_count(&self) -> usize {
        self.host_gateway.values().max().map_or(1, |i| i + 1)
    }

    /// The name of Gateway `index`: the platform's for the first, `NAME-2`, `NAME-3`, ... after it.
    pub fn gateway_name_at(&self, index: usize) -> String {
        if index == 0 {
            self.gateway_name.clone()
        } else {
            format!("{}-{}", self.gateway_name, index + 1)
        }
    }

    /// The index of the Gateway serving `host`.
    pub fn gateway_index(&self, host: &str) -> usize {
        self.host_gateway.get(host).copied().unwrap_or(0)
    }

    /// The name of the Gateway serving `host`.
    pub fn gateway_for(&self, host: &str) -> String {
        self.gateway_name_at(self.gateway_index(host))
    }
}

/// Which Gateway serves each public host, when one Gateway cannot hold them all:
/// the hosts sorted, the first 63 on the first Gateway (beside its plain HTTP
/// listener), then 64 per Gateway. Merged onto one address by the controller.
fn shard_hosts(mut hosts: Vec<String>) -> BTreeMap<String, usize> {
    hosts.sort_unstable();
    hosts.dedup();
    let first = GATEWAY_LISTENERS - 1;
    if hosts.len() <= first {
        return BTreeMap::new();
    }
    hosts
        .into_iter()
        .enumerate()
        .skip(first)
        .map(|(i, host)| (host, 1 + (i - first) / GATEWAY_LISTENERS))
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Monitoring {
    pub namespace: String,
    /// Value of the `release` label kube-prometheus-stack selects on.
    pub release: String,
}

#[derive(Debug, Clone)]
pub struct App {
    pub name: String,
    pub namespace: String,
    pub kind: AppKind,
    pub image: String,
    /// The image tag or digest, used as the `app.kubernetes.io/version` label value when it fits.
    pub version: Option<String>,
    /// The port the app serves on, named for what it serves.
    pub port: Option<AppPort>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    /// Fully qualified public hosts.
    pub hosts: Vec<String>,
    pub routes: Vec<Route>,
    pub probes: Option<ProbePolicy>,
    pub metrics: Option<Metrics>,
    pub scaling: Scaling,
    pub disruption: Disruption,
    pub resources: Resources,
    pub env: Vec<(String, String)>,
    pub secret_env: Vec<(String, EnvSecret)>,
    pub config: Option<ConfigFiles>,
    pub needs: Vec<String>,
    pub egress: Vec<Egress>,
    pub persistence: Option<Persistence>,
    pub schedule: Option<String>,
    pub writable_paths: Vec<String>,
    pub run_as_user: i64,
    pub labels: BTreeMap<String, String>,
    /// Alerts, SLOs and log alerts of the app.
    pub alerts: AppAlerts,
}

/// A port of the app's container and Service, named for what it serves: a mesh,
/// gateway or scraper reads the protocol from the name and `appProtocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppPort {
    pub number: u16,
    /// `http`, `tcp` or `metrics`.
    pub name: &'static str,
    /// Set only when the protocol is known.
    pub app_protocol: Option<&'static str>,
}

impl App {
    /// Every `{sops: SECRET/KEY}` of the app (environment variables, then config
    /// files), with the spec field that makes it.
    pub fn sops_refs(&self) -> impl Iterator<Item = (crate::source::FieldPath, &SopsRef)> + '_ {
        let app = || crate::source::FieldPath::root().key("apps").key(&self.name);
        let env = self.secret_env.iter().filter_map(move |(var, s)| match s {
            EnvSecret::Sops(r) => Some((app().key("secretEnv").key(var).key("sops"), r)),
            _ => None,
        });
        let files = self.config.iter().flat_map(move |c| {
            c.secret_files
                .iter()
                .map(move |(file, r)| (app().key("config").key("secretFiles").key(file).key("sops"), r))
        });
        env.chain(files)
    }

    /// The container and Service ports: the app's port, then a separate metrics port.
    pub fn ports(&self) -> Vec<AppPort> {
        let mut ports: Vec<AppPort> = self.port.into_iter().collect();
        if let Some(m) = &self.metrics
            && self.port.is_none_or(|p| p.number != m.port)
        {
            ports.push(AppPort {
                number: m.port,
                name: d::PORT_METRICS,
                app_protocol: Some(d::APP_PROTOCOL_HTTP),
            });
        }
        ports
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub path: String,
    pub allow_from: Vec<String>,
}

/// What the probes call. Always the pod itself: an HTTP path or TCP port on the pod, or a command in it.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeCheck {
    Http { path: String, port: u16 },
    Tcp { port: u16 },
    Exec { command: Vec<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeTiming {
    pub initial_delay_seconds: i32,
    pub period_seconds: i32,
    pub timeout_seconds: i32,
    pub failure_threshold: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProbePolicy {
    pub check: ProbeCheck,
    /// The liveness probe's own check (a shallow HTTP path), when it differs from `check`.
    pub liveness_check: Option<ProbeCheck>,
    pub startup: ProbeTiming,
    pub readiness: ProbeTiming,
    pub liveness: ProbeTiming,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub path: String,
    pub port: u16,
    /// Service/container port name the ServiceMonitor scrapes.
    pub port_name: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaling {
    Fixed(u32),
    /// An HPA owns the replica count; the workload never sets `replicas`.
    Auto {
        min: u32,
        max: u32,
        cpu_percent: u32,
    },
}

impl Scaling {
    /// The fewest replicas the app runs with.
    pub fn floor(self) -> u32 {
        match self {
            Scaling::Fixed(n) => n,
            Scaling::Auto { min, .. } => min,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disruption {
    MaxUnavailable(u32),
    MinAvailable(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resources {
    pub cpu_request: String,
    pub memory_request: String,
    pub cpu_limit: String,
    pub memory_limit: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SecretRef {
    pub secret: String,
    pub key: String,
}

/// Where an app's secret environment variable comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum EnvSecret {
    /// A key of a Secret someone else created (Reloader restarts the app when it changes).
    Secret(SecretRef),
    /// A key of a Vault KV v2 secret, synced into a Secret by the Vault Secrets Operator.
    Vault(VaultRef),
    /// A key of a Secret in the environment's SOPS file, applied by windlass.
    Sops(SopsRef),
}

/// `SECRET/KEY`: a key of a named Secret in the environment's SOPS file.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SopsRef {
    pub secret: String,
    pub key: String,
}

impl SopsRef {
    /// Reads `SECRET/KEY`; the error says what is wrong.
    pub fn parse(s: &str) -> Result<SopsRef, String> {
        let (secret, key) = s.split_once('/').ok_or("has no `/KEY` naming the key to read")?;
        if !crate::spec::names::is_dns1123_label(secret) {
            return Err(format!(
                "names the Secret `{secret}`, which is not a DNS-1123 label (lowercase letters, digits, `-`; at most 63)"
            ));
        }
        if !crate::spec::names::is_config_key(key) {
            return Err(format!(
                "names the key `{key}`, which is not a valid Secret key (letters, digits, `-`, `_`, `.`)"
            ));
        }
        Ok(SopsRef {
            secret: secret.to_string(),
            key: key.to_string(),
        })
    }
}

/// `MOUNT/PATH#KEY`: a key of the KV v2 secret at PATH under the secrets engine at MOUNT.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VaultRef {
    pub mount: String,
    pub path: String,
    pub key: String,
}

impl VaultRef {
    /// Reads `MOUNT/PATH#KEY`; the error says what is missing.
    pub fn parse(s: &str) -> Result<VaultRef, &'static str> {
        let (location, key) = s.rsplit_once('#').ok_or("has no `#KEY` naming the key to read")?;
        let (mount, path) = location
            .split_once('/')
            .ok_or("has no PATH after the mount (`MOUNT/PATH`)")?;
        if mount.is_empty() {
            return Err("has an empty mount");
        }
        if path.is_empty() || path.starts_with('/') || path.ends_with('/') || path.contains("//") {
            return Err("has an empty segment in its path");
        }
        if key.is_empty() {
            return Err("has an empty key after `#`");
        }
        Ok(VaultRef {
            mount: mount.to_string(),
            path: path.to_string(),
            key: key.to_string(),
        })
    }
}

/// How apps reach Vault through the operator (`platform.vault`, defaults decided).
#[derive(Debug, Clone, PartialEq)]
pub struct Vault {
    pub address: String,
    pub auth_mount: String,
    pub refresh_after: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFiles {
    pub mount_path: String,
    pub files: BTreeMap<String, String>,
    /// File name -> the key of the SOPS file it holds, in file-name order.
    pub secret_files: BTreeMap<String, SopsRef>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Egress {
    pub cidr: String,
    pub ports: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Persistence {
    pub size: String,
    pub mount_path: String,
    pub storage_class: Option<String>,
    pub access_mode: AccessMode,
}

impl Platform {
    /// Decides every default for one environment of a validated spec.
    pub fn build(spec: &PlatformFile, environment: &str) -> Platform {
        let p = &spec.platform;
        let traffic = Traffic {
            mode: p.traffic.mode,
            class: p.traffic.class.clone().unwrap_or_else(|| {
                match p.traffic.mode {
                    TrafficMode::Gateway => d::GATEWAY_CLASS,
                    TrafficMode::Ingress => d::INGRESS_CLASS,
                }
                .to_string()
            }),
            namespace: p.traffic.namespace.clone().unwrap_or_else(|| {
                match p.traffic.mode {
                    TrafficMode::Gateway => d::GATEWAY_CONTROLLER_NAMESPACE,
                    TrafficMode::Ingress => d::INGRESS_CONTROLLER_NAMESPACE,
                }
                .to_string()
            }),
            gateway_name: p.name.clone(),
            host_gateway: BTreeMap::new(),
        };
        let monitoring = Monitoring {
            namespace: p
                .monitoring
                .namespace
                .clone()
                .unwrap_or_else(|| d::MONITORING_NAMESPACE.to_string()),
            release: p
                .monitoring
                .release
                .clone()
                .unwrap_or_else(|| d::MONITORING_RELEASE.to_string()),
        };
        let default_ns = p.namespace.clone().unwrap_or_else(|| p.name.clone());
        let apps: Vec<App> = spec
            .apps
            .iter()
            .map(|(name, a)| build_app(name, a, &default_ns, &p.domain))
            .collect();
        let index = apps.iter().enumerate().map(|(i, a)| (a.name.clone(), i)).collect();
        let mut needed_by: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, a) in apps.iter().enumerate() {
            for need in &a.needs {
                let users = needed_by.entry(need.clone()).or_default();
                if users.last() != Some(&i) {
                    users.push(i);
                }
            }
        }
        let mut platform = Platform {
            name: p.name.clone(),
            environment: environment.to_string(),
            domain: p.domain.clone(),
            email: p.email.clone(),
            tls: p.tls,
            traffic,
            monitoring,
            apps,
            observability: observability::observability(&spec.observability),
            components: Vec::new(),
            vault: Vault {
                address: p.vault.address.clone().unwrap_or_else(|| d::VAULT_ADDRESS.to_string()),
                auth_mount: p
                    .vault
                    .auth_mount
                    .clone()
                    .unwrap_or_else(|| d::VAULT_AUTH_MOUNT.to_string()),
                refresh_after: p
                    .vault
                    .refresh_after
                    .clone()
                    .unwrap_or_else(|| d::VAULT_REFRESH_AFTER.to_string()),
            },
            secrets_file: p.secrets.file.as_ref().map(|f| f.replace("{env}", environment)),
            sealed: None,
            index,
            needed_by,
        };
        // The components' values read the rest of the model (domain, release, receivers).
        platform.components = crate::components::resolve(&platform, p);
        if platform.traffic.mode == TrafficMode::Gateway {
            let mut hosts: Vec<String> = platform.apps.iter().flat_map(|a| a.hosts.iter().cloned()).collect();
            if platform
                .component(crate::components::ComponentName::KubePrometheusStack)
                .is_some()
            {
                hosts.push(crate::components::values::grafana_host(&platform));
            }
            platform.traffic.host_gateway = shard_hosts(hosts);
        }
        platform
    }

    /// The component, when it is enabled.
    pub fn component(&self, name: crate::components::ComponentName) -> Option<&crate::components::Component> {
        self.components.iter().find(|c| c.name == name)
    }

    /// Whether any app reads the environment's SOPS file.
    pub fn uses_sops(&self) -> bool {
        self.apps.iter().any(|a| a.sops_refs().next().is_some())
    }

    /// Attaches the environment's SOPS file, read without a key, once every
    /// reference is checked against it (`secrets::check_refs`).
    pub fn attach_secrets(&mut self, sealed: crate::secrets::Sealed) {
        self.sealed = Some(std::sync::Arc::new(sealed));
    }

    pub fn app(&self, name: &str) -> Option<&App> {
        self.index.get(name).and_then(|i| self.apps.get(*i))
    }

    /// Apps that `need` the named app.
    pub fn dependents<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a App> + 'a {
        self.needed_by
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|i| self.apps.get(*i))
    }

    /// Every namespace apps run in, sorted.
    pub fn namespaces(&self) -> Vec<&str> {
        let mut ns: Vec<&str> = self.apps.iter().map(|a| a.namespace.as_str()).collect();
        ns.sort_unstable();
        ns.dedup();
        ns
    }
}

fn build_app(name: &str, a: &AppSpec, default_ns: &str, domain: &str) -> App {
    let namespace = a.namespace.clone().unwrap_or_else(|| default_ns.to_string());
    let version = version_label(&a.image);
    let hosts: Vec<String> = a.hosts.iter().map(|h| crate::spec::qualify_host(h, domain)).collect();
    let routes = if a.routes.is_empty() && !hosts.is_empty() {
        vec![Route {
            path: "/".to_string(),
            allow_from: Vec::new(),
        }]
    } else {
        a.routes
            .iter()
            .map(|r| Route {
                path: r.path.clone(),
                allow_from: r.allow_from.clone(),
            })
            .collect()
    };
    let probes = probe_policy(a);
    let app_port = a.port.map(|p| p.get());
    let metrics_port = a.metrics.as_ref().and_then(|m| m.0.port.map(|p| p.get()).or(app_port));
    let port = app_port.map(|number| {
        // The app's port speaks HTTP when it is a web app, answers HTTP probes or serves the metrics.
        let http_probe =
            matches!(&probes, Some(ProbePolicy { check: ProbeCheck::Http { port, .. }, .. }) if *port == number);
        if a.kind == AppKind::Web || http_probe || metrics_port == Some(number) {
            AppPort {
                number,
                name: d::PORT_HTTP,
                app_protocol: Some(d::APP_PROTOCOL_HTTP),
            }
        } else {
            AppPort {
                number,
                name: d::PORT_TCP,
                app_protocol: None,
            }
        }
    });
    let metrics = a.metrics.as_ref().and_then(|m| {
        let scraped = metrics_port?;
        let port_name = match port {
            Some(main) if main.number == scraped => main.name,
            _ => d::PORT_METRICS,
        };
        Some(Metrics {
            path: m.0.path.clone(),
            port: scraped,
            port_name,
        })
    });
    let scaling = match &a.autoscaling {
        Some(s) => Scaling::Auto {
            min: s.min,
            max: s.max,
            cpu_percent: s.cpu.unwrap_or(d::HPA_CPU_TARGET),
        },
        None => Scaling::Fixed(a.replicas.unwrap_or_else(|| crate::spec::default_replicas(a.kind))),
    };
    let disruption = match &a.disruption {
        Some(dis) => match (dis.max_unavailable, dis.min_available) {
            (_, Some(m)) => Disruption::MinAvailable(m),
            (Some(m), None) => Disruption::MaxUnavailable(m),
            (None, None) => Disruption::MaxUnavailable(d::PDB_MAX_UNAVAILABLE),
        },
        None => Disruption::MaxUnavailable(d::PDB_MAX_UNAVAILABLE),
    };
    let limits = a.resources.limits.clone().unwrap_or_default();
    let written =
        |q: &Option<Quantity>, default: &str| q.as_ref().map_or_else(|| default.to_string(), Quantity::to_string);
    // A defaulted request never exceeds an explicit limit: it comes down to the limit,
    // as Kubernetes does for a request left unset.
    let request = |q: &Option<Quantity>, limit: &Option<Quantity>, default: &str| match (q, limit) {
        (None, Some(l)) if parse_milli(default).is_some_and(|d| d > l.milli()) => l.to_string(),
        _ => written(q, default),
    };
    let memory_request = request(&a.resources.memory, &limits.memory, d::MEMORY_REQUEST);
    let memory_limit = match &limits.memory {
        Some(q) => q.to_string(),
        None => a
            .resources
            .memory
            .as_ref()
            .map(Quantity::milli)
            .or_else(|| parse_milli(d::MEMORY_REQUEST))
            .map_or_else(
                || memory_request.clone(),
                // Rounded up: never a limit below the request, even for sizes under a byte.
                |m| format_bytes((m * d::MEMORY_LIMIT_FACTOR).div_ceil(1000)),
            ),
    };
    let cpu_request = request(&a.resources.cpu, &limits.cpu, d::CPU_REQUEST);
    let cpu_limit = match &limits.cpu {
        Some(q) => q.to_string(),
        // Never default a limit below an explicit request.
        None => match (a.resources.cpu.as_ref().map(Quantity::milli), parse_milli(d::CPU_LIMIT)) {
            (Some(r), Some(l)) if r > l => cpu_request.clone(),
            _ => d::CPU_LIMIT.to_string(),
        },
    };
    let alerts = observability::app_alerts(&a.alerts, &crate::content::logs::own_streams(&namespace, name));
    App {
        name: name.to_string(),
        namespace,
        kind: a.kind,
        image: a.image.clone(),
        version,
        port,
        command: a.command.clone(),
        args: a.args.clone(),
        hosts,
        routes,
        probes,
        metrics,
        scaling,
        disruption,
        resources: Resources {
            cpu_request,
            memory_request,
            cpu_limit,
            memory_limit,
        },
        env: a.env.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect(),
        secret_env: a
            .secret_env
            .iter()
            .map(|(k, v)| {
                let r = &v.0;
                let source = match (&r.vault, &r.sops, &r.secret, &r.key) {
                    // Validated: a parsable `MOUNT/PATH#KEY` or `SECRET/KEY`, or both `secret` and `key`.
                    (Some(vault), _, _, _) => EnvSecret::Vault(VaultRef::parse(vault).unwrap_or_default()),
                    (None, Some(sops), _, _) => EnvSecret::Sops(SopsRef::parse(sops).unwrap_or_default()),
                    (None, None, secret, key) => EnvSecret::Secret(SecretRef {
                        secret: secret.clone().unwrap_or_default(),
                        key: key.clone().unwrap_or_default(),
                    }),
                };
                (k.clone(), source)
            })
            .collect(),
        config: a.config.as_ref().map(|c| ConfigFiles {
            mount_path: c.mount_path.clone().unwrap_or_else(|| format!("/etc/{name}")),
            files: c.files.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            // Validated: each a parsable `SECRET/KEY`.
            secret_files: c
                .secret_files
                .iter()
                .map(|(k, r)| (k.clone(), SopsRef::parse(&r.sops).unwrap_or_default()))
                .collect(),
        }),
        needs: a.needs.clone(),
        egress: a
            .egress
            .iter()
            .map(|e| Egress {
                cidr: e.cidr.clone(),
                ports: e.ports.iter().map(|p| p.get()).collect(),
            })
            .collect(),
        persistence: a.persistence.as_ref().map(|p| Persistence {
            size: p.size.to_string(),
            mount_path: p.mount_path.clone().unwrap_or_else(|| d::DATA_MOUNT_PATH.to_string()),
            storage_class: p.storage_class.clone(),
            access_mode: p.access_mode.unwrap_or(AccessMode::ReadWriteOnce),
        }),
        schedule: a.schedule.clone(),
        writable_paths: a.writable_paths.clone(),
        run_as_user: a.run_as_user.unwrap_or(d::RUN_AS_USER),
        labels: a.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        alerts,
    }
}

fn probe_policy(a: &AppSpec) -> Option<ProbePolicy> {
    if a.kind == AppKind::Cron {
        return None;
    }
    let check = match &a.health {
        Some(h) => {
            let h = &h.0;
            if let Some(cmd) = &h.command {
                ProbeCheck::Exec { command: cmd.clone() }
            } else {
                let port = h.port.or(a.port)?.get();
                match &h.path {
                    Some(path) => ProbeCheck::Http {
                        path: path.clone(),
                        port,
                    },
                    None => ProbeCheck::Tcp { port },
                }
            }
        }
        // A stateful service with a port but no HTTP endpoint (a database) is probed over TCP.
        None if a.kind == AppKind::Statefulset => ProbeCheck::Tcp { port: a.port?.get() },
        None => return None,
    };
    let liveness_check = match (&check, a.health.as_ref().and_then(|h| h.0.liveness.clone())) {
        (ProbeCheck::Http { port, .. }, Some(path)) => Some(ProbeCheck::Http { path, port: *port }),
        _ => None,
    };
    Some(ProbePolicy {
        check,
        liveness_check,
        startup: d::probes::STARTUP,
        readiness: d::probes::READINESS,
        liveness: d::probes::LIVENESS,
    })
}

/// The `app.kubernetes.io/version` value of an image: its tag, or the first 12
/// characters of its digest's hash, when that is a valid label value.
fn version_label(image: &str) -> Option<String> {
    let (_, tag, digest) = crate::spec::names::split_image(image);
    let version = match (tag, digest) {
        (Some(t), _) => t.to_string(),
        // Characters, not bytes: the digest is text the spec has not vetted yet.
        (None, Some(dg)) => dg.split(':').nth(1)?.chars().take(12).collect(),
        (None, None) => return None,
    };
    crate::spec::names::is_label_value(&version).then_some(version)
}

/// Bytes as the largest binary unit that divides them exactly (`268435456` -> `256Mi`).
fn format_bytes(bytes: u128) -> String {
    for (unit, shift) in [("Gi", 30), ("Mi", 20), ("Ki", 10)] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FieldPath, from_node, parse_yaml};

    /// The model of a spec that is only typed, not validated: the model must hold on any typed input.
    fn platform(apps: &str) -> Platform {
        let text = format!(
            "apiVersion: windlass.dev/v1alpha1\nkind: Platform\nplatform: {{name: shop, domain: example.com}}\napps:\n{apps}"
        );
        let node = parse_yaml(&text).expect("yaml");
        let file: PlatformFile = from_node(&node, &FieldPath::root()).expect("typed spec");
        Platform::build(&file, "default")
    }

    #[test]
    fn a_defaulted_request_comes_down_to_an_explicit_lower_limit() {
        let p = platform(
            "  w:\n    kind: worker\n    image: ghcr.io/acme/w:1.0.0\n    resources: {limits: {cpu: 50m, memory: 64Mi}}\n",
        );
        let r = &p.apps[0].resources;
        assert_eq!(
            (
                r.cpu_request.as_str(),
                r.cpu_limit.as_str(),
                r.memory_request.as_str(),
                r.memory_limit.as_str()
            ),
            ("50m", "50m", "64Mi", "64Mi")
        );
        // An explicit request is kept (validation refuses one above its limit).
        let p = platform(
            "  w:\n    kind: worker\n    image: ghcr.io/acme/w:1.0.0\n    resources: {cpu: 20m, limits: {cpu: 50m}}\n",
        );
        assert_eq!(
            (
                p.apps[0].resources.cpu_request.as_str(),
                p.apps[0].resources.cpu_limit.as_str()
            ),
            ("20m", "50m")
        );
    }

    #[test]
    fn formats_binary_units() {
        assert_eq!(super::format_bytes(256 << 20), "256Mi");
        assert_eq!(super::format_bytes(2 << 30), "2Gi");
        assert_eq!(super::format_bytes(1000), "1000");
    }

    #[test]
    fn version_label_never_splits_a_character() {
        assert_eq!(version_label("ghcr.io/acme/web:1.4.2").as_deref(), Some("1.4.2"));
        assert_eq!(
            version_label("ghcr.io/acme/web@sha256:0123456789abcdef0123").as_deref(),
            Some("0123456789ab")
        );
        // Twelve bytes would end inside the fourth `é`.
        assert_eq!(
            version_label("ghcr.io/acme/web@sha256:\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}"),
            None
        );
        assert_eq!(version_label("ghcr.io/acme/web@sha256:12345678901\u{1F600}"), None);
        let p = platform(
            "  web: {image: \"ghcr.io/acme/web@sha256:\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\", port: 80}\n",
        );
        assert_eq!(p.apps[0].version, None);
    }

    fn ports(app: &App) -> Vec<(&'static str, u16, Option<&'static str>)> {
        app.ports().iter().map(|p| (p.name, p.number, p.app_protocol)).collect()
    }

    #[test]
    fn ports_are_named_for_what_they_serve() {
        let p = platform(
            "  web: {image: w:1, port: 3000, health: /healthz, metrics: /metrics}\n\
               \x20 db: {kind: statefulset, image: postgres:17, port: 5432, health: {command: [pg_isready]}}\n\
               \x20 cache: {kind: statefulset, image: redis:7, port: 6379}\n\
               \x20 api: {kind: worker, image: a:1, port: 8080, health: /ready}\n\
               \x20 queue: {kind: worker, image: q:1, port: 5672, metrics: {path: /metrics, port: 9090}}\n\
               \x20 exporter: {kind: statefulset, image: e:1, port: 9187, metrics: /metrics}\n\
               \x20 job: {kind: cron, image: j:1, schedule: '@daily'}\n",
        );
        let app = |n: &str| p.app(n).expect("app");
        assert_eq!(ports(app("web")), vec![("http", 3000, Some("http"))]);
        assert_eq!(app("web").metrics.as_ref().map(|m| m.port_name), Some("http"));
        assert_eq!(ports(app("db")), vec![("tcp", 5432, None)]);
        assert_eq!(ports(app("cache")), vec![("tcp", 6379, None)]);
        assert_eq!(ports(app("api")), vec![("http", 8080, Some("http"))]);
        assert_eq!(
            ports(app("queue")),
            vec![("tcp", 5672, None), ("metrics", 9090, Some("http"))]
        );
        assert_eq!(app("queue").metrics.as_ref().map(|m| m.port_name), Some("metrics"));
        assert_eq!(ports(app("exporter")), vec![("http", 9187, Some("http"))]);
        assert_eq!(ports(app("job")), vec![]);
    }

    #[test]
    fn alert_defaults_and_tuning_are_decided_in_the_model() {
        let p = platform(
            "  web:\n    image: w:1\n    port: 3000\n    alerts:\n      latency: {threshold: 800ms}\n      oomKilled: {enabled: false}\n      errorRate: {for: 5m}\n      logs:\n        fatal: {preset: php-fatal}\n",
        );
        let a = &p.apps[0].alerts;
        let latency = a.latency.expect("latency alert");
        assert!((latency.threshold - 0.8).abs() < 1e-12);
        assert_eq!(latency.for_, crate::content::defaults::LATENCY.for_);
        assert_eq!(a.oom_killed, None);
        let errors = a.error_rate.expect("error-rate alert");
        assert_eq!((errors.threshold, errors.for_.to_string()), (0.05, "5m".to_string()));
        assert_eq!(a.status_label, "code");
        assert_eq!(a.logs.len(), 1);
        assert_eq!(a.logs[0].selector, r#"{namespace="shop", app="web"}"#);
        assert_eq!(a.logs[0].pattern, crate::content::defaults::PRESET_PHP_FATAL);
        assert_eq!(
            (a.logs[0].window.to_string(), a.logs[0].for_.to_string()),
            ("5m".into(), "0s".into())
        );
        let obs = &p.observability;
        assert_eq!(obs.slo_window.to_string(), "30d");
        assert_eq!(obs.uptime.interval.to_string(), "1m");
        assert_eq!(obs.alerting.default_receiver, "null");
    }
}
