//! The validated platform with every default decided: what each app is, where
//! it runs, how it is probed, scaled, protected and reached. Rendering reads
//! only this model, never the raw spec.

use std::collections::BTreeMap;

use crate::defaults as d;
use crate::spec::observability::ObservabilitySpec;
use crate::spec::quantity::parse_milli;
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
    /// Alert routing, log alerts, uptime checks and dashboards settings, as written.
    pub observability: ObservabilitySpec,
    /// App name -> position in `apps`.
    index: BTreeMap<String, usize>,
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
    pub port: Option<u16>,
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
    pub secret_env: Vec<(String, SecretRef)>,
    pub config: Option<ConfigFiles>,
    pub needs: Vec<String>,
    pub egress: Vec<Egress>,
    pub persistence: Option<Persistence>,
    pub schedule: Option<String>,
    pub writable_paths: Vec<String>,
    pub run_as_user: i64,
    pub labels: BTreeMap<String, String>,
    /// The app as written, for content (alerts, SLOs) that reads app-level settings.
    pub spec: AppSpec,
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
    pub startup: ProbeTiming,
    pub readiness: ProbeTiming,
    pub liveness: ProbeTiming,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub path: String,
    pub port: u16,
    /// Service/container port name the ServiceMonitor scrapes.
    pub port_name: String,
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

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFiles {
    pub mount_path: String,
    pub files: BTreeMap<String, String>,
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
        Platform {
            name: p.name.clone(),
            environment: environment.to_string(),
            domain: p.domain.clone(),
            email: p.email.clone(),
            tls: p.tls,
            traffic,
            monitoring,
            apps,
            observability: spec.observability.clone(),
            index,
        }
    }

    pub fn app(&self, name: &str) -> Option<&App> {
        self.index.get(name).and_then(|i| self.apps.get(*i))
    }

    /// Apps that `need` the named app.
    pub fn dependents<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a App> + 'a {
        self.apps.iter().filter(move |a| a.needs.iter().any(|n| n == name))
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
    let (_, tag, digest) = crate::spec::names::split_image(&a.image);
    let version = tag
        .or_else(|| digest.and_then(|d| d.split(':').nth(1)).map(|h| &h[..h.len().min(12)]))
        .filter(|v| crate::spec::names::is_label_value(v))
        .map(str::to_string);
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
    let metrics = a.metrics.as_ref().and_then(|m| {
        let port = m.0.port.or(a.port)?;
        let port_name = if Some(port) == a.port { "http" } else { "metrics" };
        Some(Metrics {
            path: m.0.path.clone(),
            port,
            port_name: port_name.to_string(),
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
    let memory_request = a
        .resources
        .memory
        .clone()
        .unwrap_or_else(|| d::MEMORY_REQUEST.to_string());
    let memory_limit = limits.memory.clone().unwrap_or_else(|| {
        parse_milli(&memory_request)
            .map(|m| format_bytes(m / 1000 * d::MEMORY_LIMIT_FACTOR))
            .unwrap_or_else(|| memory_request.clone())
    });
    let cpu_request = a.resources.cpu.clone().unwrap_or_else(|| d::CPU_REQUEST.to_string());
    let cpu_limit = limits.cpu.clone().unwrap_or_else(|| {
        // Never default a limit below an explicit request.
        match (parse_milli(&cpu_request), parse_milli(d::CPU_LIMIT)) {
            (Some(r), Some(l)) if r > l => cpu_request.clone(),
            _ => d::CPU_LIMIT.to_string(),
        }
    });
    App {
        name: name.to_string(),
        namespace: a.namespace.clone().unwrap_or_else(|| default_ns.to_string()),
        kind: a.kind,
        image: a.image.clone(),
        version,
        port: a.port,
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
                (
                    k.clone(),
                    SecretRef {
                        secret: v.0.secret.clone(),
                        key: v.0.key.clone(),
                    },
                )
            })
            .collect(),
        config: a.config.as_ref().map(|c| ConfigFiles {
            mount_path: c.mount_path.clone().unwrap_or_else(|| format!("/etc/{name}")),
            files: c.files.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        }),
        needs: a.needs.clone(),
        egress: a
            .egress
            .iter()
            .map(|e| Egress {
                cidr: e.cidr.clone(),
                ports: e.ports.clone(),
            })
            .collect(),
        persistence: a.persistence.as_ref().map(|p| Persistence {
            size: p.size.clone(),
            mount_path: p.mount_path.clone().unwrap_or_else(|| d::DATA_MOUNT_PATH.to_string()),
            storage_class: p.storage_class.clone(),
            access_mode: p.access_mode.unwrap_or(AccessMode::ReadWriteOnce),
        }),
        schedule: a.schedule.clone(),
        writable_paths: a.writable_paths.clone(),
        run_as_user: a.run_as_user.unwrap_or(d::RUN_AS_USER),
        labels: a.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        spec: a.clone(),
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
                let port = h.port.or(a.port)?;
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
        None if a.kind == AppKind::Statefulset => ProbeCheck::Tcp { port: a.port? },
        None => return None,
    };
    Some(ProbePolicy {
        check,
        startup: d::probes::STARTUP,
        readiness: d::probes::READINESS,
        liveness: d::probes::LIVENESS,
    })
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
    #[test]
    fn formats_binary_units() {
        assert_eq!(super::format_bytes(256 << 20), "256Mi");
        assert_eq!(super::format_bytes(2 << 30), "2Gi");
        assert_eq!(super::format_bytes(1000), "1000");
    }
}
