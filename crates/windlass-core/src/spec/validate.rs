//! Semantic validation of one environment's merged spec: everything the types
//! cannot say (names, references, cycles, scaling and disruption rules, the
//! incidents DESIGN.md lists). Each finding is located on the merged tree, so it
//! points at the line that set the value, base or overlay.

use std::collections::{BTreeMap, BTreeSet};

use super::names::*;
use super::types::*;
use crate::defaults as d;
use crate::diagnostics::{Diagnostic, did_you_mean};
use crate::source::{FieldPath, Node};

/// The longest app name: CronJob names are limited to 52 characters.
const MAX_APP_NAME: usize = 52;
/// Gateway API allows 64 listeners; one is the plain HTTP listener.
const MAX_GATEWAY_HOSTS: usize = crate::model::GATEWAY_LISTENERS - 1;
/// Gateway API: an HTTPRoute lists at most 16 hostnames, and a rule at most 64 matches.
const MAX_ROUTE_HOSTNAMES: usize = 16;
const MAX_RULE_MATCHES: usize = 64;
/// Gateway API: a path match value is at most 1024 characters.
const MAX_ROUTE_PATH: usize = 1024;
/// Gateway API: a listener name (`https-` and the host with `-` for `.`) is at most 253 characters.
const MAX_LISTENER_NAME: usize = 253;
const LISTENER_PREFIX: &str = "https-";
use crate::components::values::GRAFANA_HOST_PREFIX;
/// Kubernetes counts replicas, UIDs and budgets in signed 32 bits.
const MAX_INT32: i64 = 2_147_483_647;
/// A ConfigMap's keys and values together hold at most 1 MiB.
const MAX_CONFIG_BYTES: usize = 1024 * 1024;
/// Apps listed per dependency cycle before the rest are counted.
const MAX_CYCLE_NAMES: usize = 10;

struct Findings<'a> {
    node: &'a Node,
    diags: Vec<Diagnostic>,
}

impl Findings<'_> {
    fn err(&mut self, path: FieldPath, message: impl Into<String>, help: impl Into<String>) {
        let loc = self.node.locate(&path);
        self.diags.push(Diagnostic::new(path, message).help(help).at(loc));
    }

    /// An error about a mapping key itself (an app or environment name), located at the key.
    fn err_key(&mut self, parent: &FieldPath, key: &str, message: impl Into<String>, help: impl Into<String>) {
        let path = parent.key(key);
        let parent_node = parent_node(self.node, parent);
        let loc = parent_node
            .and_then(|p| p.key_loc(key))
            .unwrap_or_else(|| self.node.locate(&path));
        self.diags.push(Diagnostic::new(path, message).help(help).at(loc));
    }
}

fn parent_node<'a>(root: &'a Node, path: &FieldPath) -> Option<&'a Node> {
    let mut n = root;
    for seg in &path.0 {
        n = match seg {
            crate::source::Segment::Key(k) => n.get(k)?,
            crate::source::Segment::Index(i) => match &n.value {
                crate::source::Value::Seq(items) => items.get(*i)?,
                _ => return None,
            },
        };
    }
    Some(n)
}

/// The fully qualified host for a spec host (`www` means `www.<domain>`).
pub fn qualify_host(host: &str, domain: &str) -> String {
    if host.contains('.') {
        host.to_string()
    } else {
        format!("{host}.{domain}")
    }
}

pub fn validate(spec: &PlatformFile, node: &Node, environments: &[(String, Option<&Node>)]) -> Vec<Diagnostic> {
    let mut f = Findings {
        node,
        diags: Vec::new(),
    };
    let root = FieldPath::root();

    if spec.api_version != API_VERSION {
        f.err(
            root.key("apiVersion"),
            format!("unsupported apiVersion `{}`", spec.api_version),
            format!("this windlass reads `apiVersion: {API_VERSION}`"),
        );
    }
    if spec.kind != "Platform" {
        f.err(
            root.key("kind"),
            format!("unsupported kind `{}`", spec.kind),
            "use `kind: Platform`",
        );
    }
    if let Some(default) = &spec.default_environment {
        let names: Vec<&str> = environments.iter().map(|(n, _)| n.as_str()).collect();
        if !names.contains(&default.as_str()) {
            let help = match did_you_mean(default, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("name one of the environments: {}", names.join(", ")),
            };
            f.err(
                root.key("defaultEnvironment"),
                format!("no environment named `{default}`"),
                help,
            );
        }
    }
    platform(&mut f, &spec.platform);

    let mut hosts_seen: BTreeMap<String, FieldPath> = BTreeMap::new();
    let mut listeners_seen: BTreeMap<String, FieldPath> = BTreeMap::new();
    let gateway = spec.platform.traffic.mode == TrafficMode::Gateway;
    let app_names: Vec<&str> = spec.apps.keys().map(String::as_str).collect();
    for (name, app) in &spec.apps {
        let path = root.key("apps").key(name);
        if !is_dns1035_label(name) || name.len() > MAX_APP_NAME {
            f.err_key(
                &root.key("apps"),
                name,
                format!("app name `{name}` is not a valid name"),
                format!(
                    "use at most {MAX_APP_NAME} lowercase letters, digits and `-`, starting with a letter (it becomes a Service name)"
                ),
            );
        }
        app_checks(&mut f, &spec.platform, &spec.apps, name, app, &path, &app_names);
        for (i, host) in app.hosts.iter().enumerate() {
            let fq = qualify_host(host, &spec.platform.domain);
            let hpath = path.key("hosts").index(i);
            let listener_len = LISTENER_PREFIX.len() + fq.len();
            if is_ip(host) {
                f.err(
                    hpath.clone(),
                    format!("host `{host}` is an IP address"),
                    "use a DNS name that points at the cluster, e.g. `www.example.com` or `www`: certificates and routes need names",
                );
            } else if !is_dns1123_subdomain(&fq) {
                f.err(
                    hpath.clone(),
                    format!("host `{fq}` is not a valid DNS name"),
                    "use lowercase letters, digits, `-` and `.`, e.g. `www.example.com` or `www`",
                );
            } else if gateway && listener_len > MAX_LISTENER_NAME {
                f.err(
                    hpath.clone(),
                    format!(
                        "host `{fq}` is {} characters; its Gateway listener name would be {listener_len}, above the limit of {MAX_LISTENER_NAME}",
                        fq.len()
                    ),
                    format!("use a host of at most {} characters", MAX_LISTENER_NAME - LISTENER_PREFIX.len()),
                );
            } else if let Some(first) = hosts_seen.get(&fq) {
                f.err(
                    hpath.clone(),
                    format!("host `{fq}` is already used by {first}"),
                    "give each host to one app; serve several paths of one host with `routes`",
                );
            } else if let Some(other) = gateway.then(|| listeners_seen.get(&fq.replace('.', "-"))).flatten() {
                f.err(
                    hpath.clone(),
                    format!("host `{fq}` gets the same Gateway listener name as {other}"),
                    "listener names replace `.` with `-`: rename one of the hosts",
                );
            } else {
                listeners_seen.insert(fq.replace('.', "-"), hpath.clone());
                hosts_seen.insert(fq, hpath);
            }
        }
        if gateway && app.hosts.len() > MAX_ROUTE_HOSTNAMES {
            f.err(
                path.key("hosts"),
                format!(
                    "{} hosts on one app; an HTTPRoute holds at most {MAX_ROUTE_HOSTNAMES}",
                    app.hosts.len()
                ),
                "serve the extra hosts from another app, or use `traffic: {mode: ingress}`",
            );
        }
    }
    // A Gateway has at most 64 listeners: one for plain HTTP, one HTTPS listener per host
    // (Grafana's among them when windlass installs the monitoring stack). More hosts go
    // on further Gateways that Envoy Gateway merges onto one address; a controller
    // windlass does not install cannot be told to merge them.
    let grafana = usize::from(crate::components::is_enabled(
        crate::components::ComponentName::KubePrometheusStack,
        &spec.platform,
    ));
    let hosts = hosts_seen.len() + grafana;
    let merges = crate::components::is_enabled(crate::components::ComponentName::EnvoyGateway, &spec.platform);
    if spec.platform.traffic.mode == TrafficMode::Gateway && hosts > MAX_GATEWAY_HOSTS && !merges {
        f.err(
            root.key("platform").key("traffic").key("mode"),
            format!(
                "{hosts} public hosts (Grafana's included) do not fit on one Gateway (at most {MAX_GATEWAY_HOSTS}), \
                 and more Gateways need a controller that merges them onto one address"
            ),
            "switch `platform.components.envoy-gateway` back on (windlass then spreads the hosts over merged \
             Gateways), or use `traffic: {mode: ingress}`",
        );
    }
    dependency_cycles(&mut f, &spec.apps);
    for (path, message, help) in super::observability::validate(spec) {
        f.err(path, message, help);
    }
    f.diags
}

fn platform(f: &mut Findings<'_>, p: &PlatformSpec) {
    vault(f, p);
    secrets_file(f, p);
    let path = FieldPath::root().key("platform");
    if !is_dns1123_label(&p.name) {
        f.err(
            path.key("name"),
            format!("platform name `{}` is not a DNS-1123 label", p.name),
            "use lowercase letters, digits and `-` (at most 63), e.g. `shop`",
        );
    }
    if !is_dns1123_subdomain(&p.domain) || !p.domain.contains('.') || is_ip(&p.domain) {
        f.err(
            path.key("domain"),
            format!("domain `{}` is not a valid DNS domain", p.domain),
            "use a domain you control, e.g. `example.com`",
        );
    }
    // Grafana is served at `grafana.<domain>`, a Gateway listener of its own.
    let grafana_listener = LISTENER_PREFIX.len() + GRAFANA_HOST_PREFIX.len() + p.domain.len();
    if grafana_listener > MAX_LISTENER_NAME {
        f.err(
            path.key("domain"),
            format!(
                "domain `{}` is {} characters; Grafana's host `{GRAFANA_HOST_PREFIX}{}` would make a Gateway listener name of {grafana_listener}, above the limit of {MAX_LISTENER_NAME}",
                p.domain,
                p.domain.len(),
                p.domain
            ),
            format!(
                "use a domain of at most {} characters",
                MAX_LISTENER_NAME - LISTENER_PREFIX.len() - GRAFANA_HOST_PREFIX.len()
            ),
        );
    }
    match (&p.email, p.tls) {
        (None, TlsIssuer::LetsencryptProd | TlsIssuer::LetsencryptStaging) => f.err(
            path.key("email"),
            "Let's Encrypt needs an ACME account e-mail",
            "add `email: ops@your-domain` under `platform`, or use `tls: self-signed`",
        ),
        (Some(e), _) if !is_email(e) => f.err(
            path.key("email"),
            format!("`{e}` is not an e-mail address"),
            "write it as `name@domain` with a DNS domain, e.g. `ops@example.com`",
        ),
        _ => {}
    }
    for (field, ns) in [
        ("namespace", p.namespace.as_deref()),
        ("traffic.namespace", p.traffic.namespace.as_deref()),
        ("monitoring.namespace", p.monitoring.namespace.as_deref()),
    ] {
        if let Some(ns) = ns
            && !is_dns1123_label(ns)
        {
            f.err(
                FieldPath::parse(&format!("platform.{field}")),
                format!("namespace `{ns}` is not a DNS-1123 label"),
                "use lowercase letters, digits and `-` (at most 63)",
            );
        }
    }
    match &p.namespace {
        Some(ns) => {
            if let Some(why) = reserved_namespace(ns, p) {
                f.err(path.key("namespace"), why, RESERVED_NAMESPACE_HELP);
            }
        }
        None => {
            if let Some(why) = reserved_namespace(&p.name, p) {
                f.err(
                    path.key("name"),
                    format!("{why}, and apps run in the namespace named after the platform"),
                    "rename the platform, or set `platform.namespace` to a namespace of its own",
                );
            }
        }
    }
    if let Some(class) = &p.traffic.class
        && !is_dns1123_subdomain(class)
    {
        f.err(
            path.key("traffic").key("class"),
            format!("class `{class}` is not a valid name"),
            "use the name of an existing GatewayClass or IngressClass, e.g. `eg` or `nginx`",
        );
    }
    components(f, p);
    if let Some(release) = &p.monitoring.release
        && !is_label_value(release)
    {
        f.err(
            path.key("monitoring").key("release"),
            format!("release `{release}` is not a valid label value"),
            "use the Helm release name of kube-prometheus-stack",
        );
    }
}

/// `platform.components` names known components with exact versions, usable
/// repositories and values that leave alone what the content pack relies on.
fn components(f: &mut Findings<'_>, p: &PlatformSpec) {
    use crate::components::{self as comp, ComponentName};
    let path = FieldPath::root().key("platform");
    if let Some(mirror) = &p.charts.mirror
        && let Some(why) = comp::repository_problem(mirror)
    {
        f.err(
            path.key("charts").key("mirror"),
            format!("`{mirror}` cannot be a chart mirror: {why}"),
            "e.g. `oci://registry.internal/charts` or `https://charts.internal`",
        );
    }
    let parent = path.key("components");
    for (name, c) in &p.components {
        let Ok(component) = name.parse::<ComponentName>() else {
            let names = ComponentName::ALL.map(ComponentName::as_str);
            let help = match did_you_mean(name, names) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("components are: {}", names.join(", ")),
            };
            f.err_key(&parent, name, format!("unknown component `{name}`"), help);
            continue;
        };
        let here = parent.key(name);
        if let Some(v) = &c.version
            && !comp::is_exact_version(v)
        {
            f.err(
                here.key("version"),
                format!("`{v}` is not an exact chart version"),
                format!(
                    "pin one version, e.g. `{}` (ranges would install whatever is newest)",
                    component.entry().version
                ),
            );
        }
        if let Some(repo) = &c.repository
            && let Some(why) = comp::repository_problem(repo)
        {
            f.err(
                here.key("repository"),
                format!("`{repo}` cannot be a chart repository: {why}"),
                "e.g. `oci://registry.internal/charts` or `https://charts.internal`",
            );
        }
        if let Some(values) = &c.values {
            let values = serde_json::Value::Object(values.clone());
            for (key, why) in comp::protected_values(component) {
                if comp::lookup(&values, key).is_some() {
                    f.err(
                        key.split('.').fold(here.key("values"), |p, k| p.key(k)),
                        format!("windlass sets `{key}` for {name}: {why}"),
                        "remove it from `values`; switch the component off (`enabled: false`) to run your own",
                    );
                }
            }
        }
    }
}

/// Why `ns` cannot hold apps: Kubernetes' own namespaces and the platform's
/// components, which would get app labels, restricted Pod Security and a default-deny policy.
fn reserved_namespace(ns: &str, p: &PlatformSpec) -> Option<String> {
    let traffic = p.traffic.namespace.as_deref().unwrap_or(match p.traffic.mode {
        TrafficMode::Gateway => d::GATEWAY_CONTROLLER_NAMESPACE,
        TrafficMode::Ingress => d::INGRESS_CONTROLLER_NAMESPACE,
    });
    let monitoring = p.monitoring.namespace.as_deref().unwrap_or(d::MONITORING_NAMESPACE);
    if ns == "default" || ns.starts_with("kube-") {
        Some(format!("namespace `{ns}` belongs to Kubernetes"))
    } else if ns == monitoring {
        Some(format!("namespace `{ns}` is the platform's monitoring namespace"))
    } else if ns == d::CERT_MANAGER_NAMESPACE {
        Some(format!("namespace `{ns}` is the platform's cert-manager namespace"))
    } else if ns == traffic {
        Some(format!(
            "namespace `{ns}` is the platform's traffic controller namespace"
        ))
    } else {
        crate::components::namespaces(p)
            .into_iter()
            .find(|(_, home)| home == ns)
            .map(|(c, _)| format!("namespace `{ns}` is where the platform component {c} runs"))
    }
}

const RESERVED_NAMESPACE_HELP: &str = "run apps in a namespace of their own, e.g. `shop`: windlass gives app namespaces restricted Pod Security and a default-deny network policy";

#[allow(clippy::too_many_lines)]
fn app_checks(
    f: &mut Findings<'_>,
    platform: &PlatformSpec,
    apps: &indexmap::IndexMap<String, AppSpec>,
    name: &str,
    app: &AppSpec,
    path: &FieldPath,
    app_names: &[&str],
) {
    // Image: a tag or digest, never a moving `latest` unless the user says so.
    let (repo, tag, digest) = split_image(&app.image);
    if let Some((message, help)) = image_problem(&app.image) {
        f.err(path.key("image"), message, help);
    } else if tag.is_none() && digest.is_none() {
        f.err(
            path.key("image"),
            format!("image `{}` has no tag or digest", app.image),
            format!(
                "pin a version, e.g. `{repo}:1.0.0` or `{repo}@sha256:...`, so rollouts and rollbacks are reproducible"
            ),
        );
    } else if tag == Some("latest") && digest.is_none() && !app.allow_latest {
        f.err(
            path.key("image"),
            format!("image `{}` uses the mutable `latest` tag", app.image),
            "pin a version tag or digest, or set `allowLatest: true` if you accept unreproducible rollouts",
        );
    }

    let scaled = app.kind != AppKind::Cron;
    match app.kind {
        AppKind::Web if app.port.is_none() => f.err(
            path.clone(),
            "a `web` app needs a `port`",
            "add `port: 8080` (the container port serving HTTP), or use `kind: worker`",
        ),
        AppKind::Cron if app.schedule.is_none() => f.err(
            path.clone(),
            "a `cron` app needs a `schedule`",
            "add e.g. `schedule: \"*/15 * * * *\"`",
        ),
        _ => {}
    }
    if app.kind != AppKind::Cron && app.schedule.is_some() {
        f.err(
            path.key("schedule"),
            "`schedule` only applies to `kind: cron`",
            "remove it, or set `kind: cron`",
        );
    }
    if let Some(s) = &app.schedule
        && !valid_cron(s)
    {
        f.err(
            path.key("schedule"),
            format!("`{s}` is not a cron schedule"),
            "use five fields (minute hour day-of-month month day-of-week), e.g. `0 3 * * *`, or a macro like `@daily`",
        );
    }

    // Public traffic.
    if !app.hosts.is_empty() && (app.kind != AppKind::Web) {
        f.err(
            path.key("hosts"),
            "only `web` apps can have public hosts",
            "remove `hosts`, or set `kind: web`",
        );
    }
    if !app.routes.is_empty() && app.hosts.is_empty() {
        f.err(
            path.key("routes"),
            "`routes` need at least one host",
            "add `hosts: [www]`, or remove `routes`",
        );
    }
    let mut paths_seen = BTreeSet::new();
    for (i, r) in app.routes.iter().enumerate() {
        let rpath = path.key("routes").index(i);
        if !r.path.starts_with('/') {
            f.err(
                rpath.key("path"),
                format!("route path `{}` must start with `/`", r.path),
                "write e.g. `/admin`",
            );
        } else if let Some((message, help)) = route_path_problem(&r.path) {
            f.err(rpath.key("path"), message, help);
        } else if !paths_seen.insert(r.path.trim_end_matches('/').to_string()) {
            f.err(
                rpath.key("path"),
                format!("route path `{}` is listed twice", r.path),
                "list each path once",
            );
        }
        for (j, cidr) in r.allow_from.iter().enumerate() {
            if !is_cidr(cidr) {
                f.err(
                    rpath.key("allowFrom").index(j),
                    format!("`{cidr}` is not a CIDR"),
                    "write an address range such as `10.0.0.0/8` or `203.0.113.7/32`",
                );
            }
        }
        if !r.allow_from.is_empty()
            && platform.traffic.mode == TrafficMode::Ingress
            && platform.traffic.class.as_deref().is_some_and(|c| c != "nginx")
        {
            f.err(
                rpath.key("allowFrom"),
                "source-IP allow lists on Ingress are only rendered for the `nginx` class",
                "use `traffic: {mode: gateway}` or `traffic: {mode: ingress, class: nginx}`",
            );
        }
    }

    let open_routes = app.routes.iter().filter(|r| r.allow_from.is_empty()).count();
    if platform.traffic.mode == TrafficMode::Gateway && open_routes > MAX_RULE_MATCHES {
        f.err(
            path.key("routes"),
            format!(
                "{open_routes} routes without `allowFrom` become one HTTPRoute rule, which holds at most {MAX_RULE_MATCHES} paths"
            ),
            "route a common prefix instead of each path (a route matches everything below its path)",
        );
    }

    // Probes always target the pod itself.
    if let Some(h) = &app.health {
        let h = &h.0;
        let hpath = path.key("health");
        let ways = usize::from(h.path.is_some()) + usize::from(h.tcp) + usize::from(h.command.is_some());
        if ways != 1 {
            f.err(
                hpath.clone(),
                "health needs exactly one of `path`, `tcp: true` or `command`",
                "write e.g. `health: /healthz`",
            );
        }
        if let Some(p) = &h.path {
            if p.contains("://") {
                f.err(
                    hpath.clone(),
                    format!("health path `{p}` is a URL"),
                    "give only the path (e.g. `/healthz`): probes always call the pod itself, never a Service",
                );
            } else if !p.starts_with('/') {
                f.err(
                    hpath.clone(),
                    format!("health path `{p}` must start with `/`"),
                    "write e.g. `/healthz`",
                );
            }
        }
        if let Some(l) = &h.liveness {
            if h.path.is_none() {
                f.err(
                    hpath.key("liveness"),
                    "`liveness` is an HTTP path and needs `path` beside it",
                    "remove `liveness`, or give `path` (the readiness endpoint) too",
                );
            } else if !l.starts_with('/') || l.contains("://") {
                f.err(
                    hpath.key("liveness"),
                    format!("liveness path `{l}` must be a path starting with `/`"),
                    "write e.g. `/livez`",
                );
            }
        }
        if (h.path.is_some() || h.tcp) && h.port.or(app.port).is_none() {
            f.err(
                hpath.clone(),
                "an HTTP or TCP health check needs a port",
                "set `port` on the app or `health.port`",
            );
        }
        if let Some(cmd) = &h.command {
            if cmd.is_empty() {
                f.err(
                    hpath.key("command"),
                    "the health command is empty",
                    "write e.g. `[pg_isready, -h, localhost]`",
                );
            }
            // A probe that goes through a Service deadlocks: the Service has no endpoints until the pod is Ready.
            for word in cmd {
                if let Some(target) = app_names.iter().find(|n| mentions_service(word, n, platform)) {
                    f.err(
                        hpath.key("command"),
                        format!("the health command calls the Service `{target}` instead of the pod itself"),
                        "use `localhost` (or 127.0.0.1): through a Service the probe waits for endpoints that appear only once the pod is Ready",
                    );
                    break;
                }
            }
        }
        if app.kind == AppKind::Cron {
            f.err(hpath, "`cron` apps are not probed", "remove `health`");
        }
    } else if app.kind == AppKind::Web {
        f.err(
            path.clone(),
            "a `web` app needs a `health` endpoint for its probes",
            "add e.g. `health: /healthz` (an HTTP path that answers 200 when the app can serve)",
        );
    }
    if let Some(m) = &app.metrics {
        if !m.0.path.starts_with('/') {
            f.err(
                path.key("metrics"),
                format!("metrics path `{}` must start with `/`", m.0.path),
                "write e.g. `/metrics`",
            );
        }
        if m.0.port.or(app.port).is_none() {
            f.err(
                path.key("metrics"),
                "metrics need a port",
                "set `port` on the app or `metrics.port`",
            );
        }
    }

    // Scaling and disruption.
    if !scaled {
        for (field, set) in [
            ("replicas", app.replicas.is_some()),
            ("autoscaling", app.autoscaling.is_some()),
            ("disruption", app.disruption.is_some()),
        ] {
            if set {
                f.err(
                    path.key(field),
                    format!("`{field}` does not apply to `kind: cron`"),
                    "remove it",
                );
            }
        }
    }
    if app.replicas.is_some() && app.autoscaling.is_some() {
        f.err(
            path.key("replicas"),
            "`replicas` and `autoscaling` both set: the HPA and every deploy would fight over the replica count",
            "remove `replicas` (use `autoscaling.min`), or remove `autoscaling` (use `replicas: null` in an environment overlay to drop an inherited one)",
        );
    }
    for (field, value) in [
        ("replicas", app.replicas),
        ("autoscaling.min", app.autoscaling.as_ref().map(|a| a.min)),
        ("autoscaling.max", app.autoscaling.as_ref().map(|a| a.max)),
        (
            "disruption.maxUnavailable",
            app.disruption.as_ref().and_then(|d| d.max_unavailable),
        ),
        (
            "disruption.minAvailable",
            app.disruption.as_ref().and_then(|d| d.min_available),
        ),
    ] {
        if let Some(v) = value
            && i64::from(v) > MAX_INT32
        {
            let at = field.split('.').fold(path.clone(), |p, k| p.key(k));
            f.err(
                at,
                format!("{field} {v} is above {MAX_INT32}, the most Kubernetes accepts"),
                "use a realistic count, at most 2147483647",
            );
        }
    }
    if app.replicas == Some(0) {
        f.err(
            path.key("replicas"),
            "replicas: 0 runs nothing",
            "use at least 1, or remove the app from this environment with `apps: {NAME: null}`",
        );
    }
    if let Some(a) = &app.autoscaling {
        let ap = path.key("autoscaling");
        if a.min == 0 {
            f.err(
                ap.key("min"),
                "autoscaling.min must be at least 1",
                "use `min: 2` or more to stay available during drains",
            );
        }
        if a.min > a.max {
            f.err(
                ap.key("min"),
                format!("autoscaling.min ({}) is above autoscaling.max ({})", a.min, a.max),
                "make `min` at most `max`",
            );
        }
        if let Some(cpu) = a.cpu
            && !(1..=1000).contains(&cpu)
        {
            f.err(
                ap.key("cpu"),
                format!("CPU target {cpu}% is out of range"),
                "use a percentage of the CPU request between 1 and 1000, typically 60-80",
            );
        }
    }
    let min_replicas = app.autoscaling.as_ref().map(|a| a.min).or(app.replicas);
    if let Some(d) = &app.disruption {
        let dp = path.key("disruption");
        match (d.max_unavailable, d.min_available) {
            (Some(_), Some(_)) => f.err(
                dp.clone(),
                "set `maxUnavailable` or `minAvailable`, not both",
                "keep one (maxUnavailable: 1 is the safe default)",
            ),
            (Some(0), None) => f.err(
                dp.key("maxUnavailable"),
                "maxUnavailable: 0 blocks every node drain",
                "use `maxUnavailable: 1` (or more)",
            ),
            (None, Some(m)) => {
                let replicas = min_replicas.unwrap_or_else(|| default_replicas(app.kind));
                if m >= replicas {
                    f.err(
                        dp.key("minAvailable"),
                        format!("minAvailable ({m}) >= replicas ({replicas}) blocks every node drain"),
                        format!(
                            "use `minAvailable: {}` or less, or `maxUnavailable: 1`",
                            replicas.saturating_sub(1)
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    resources(f, &app.resources, &path.key("resources"));

    // Environment.
    for (k, _) in &app.env {
        if !is_env_var_name(k) {
            f.err(
                path.key("env").key(k),
                format!("`{k}` is not a valid environment variable name"),
                "use letters, digits and `_`, not starting with a digit",
            );
        }
    }
    for (k, r) in &app.secret_env {
        let sp = path.key("secretEnv").key(k);
        if !is_env_var_name(k) {
            f.err(
                sp.clone(),
                format!("`{k}` is not a valid environment variable name"),
                "use letters, digits and `_`, not starting with a digit",
            );
        }
        if app.env.contains_key(k) {
            f.err(
                sp.clone(),
                format!("`{k}` is set in both `env` and `secretEnv`"),
                "keep one",
            );
        }
        secret_source(f, platform, &r.0, &sp);
    }
    if let Some(c) = &app.config {
        for (k, _) in &c.files {
            if !is_config_key(k) {
                f.err(
                    path.key("config").key("files").key(k),
                    format!("`{k}` is not a valid file name for a ConfigMap"),
                    "use letters, digits, `-`, `_` and `.` (no directories, not starting with `..`)",
                );
            }
        }
        for (k, r) in &c.secret_files {
            let fp = path.key("config").key("secretFiles").key(k);
            if !is_config_key(k) {
                f.err(
                    fp.clone(),
                    format!("`{k}` is not a valid file name"),
                    "use letters, digits, `-`, `_` and `.` (no directories, not starting with `..`)",
                );
            } else if c.files.contains_key(k) {
                f.err(
                    fp.clone(),
                    format!("`{k}` is also under `config.files`"),
                    "name each file once: in `files` (plain) or in `secretFiles` (from the SOPS file)",
                );
            }
            sops_ref(f, platform, &r.sops, fp.key("sops"));
        }
        if c.files.is_empty() && c.secret_files.is_empty() {
            f.err(
                path.key("config"),
                "`config` has no files",
                "add `files: {NAME: content}` or `secretFiles: {NAME: {sops: SECRET/KEY}}`, or remove `config`",
            );
        }
        if let Some(m) = &c.mount_path {
            absolute(f, m, &path.key("config").key("mountPath"));
        }
        let size: usize = c.files.iter().map(|(k, v)| k.len() + v.len()).sum();
        if size > MAX_CONFIG_BYTES {
            f.err(
                path.key("config").key("files"),
                format!("the config files hold {size} bytes; a ConfigMap holds at most {MAX_CONFIG_BYTES} (1 MiB)"),
                "keep large files in the image or on a volume (`persistence`), and only settings in `config`",
            );
        }
    }

    // Dependencies.
    let mut needs_seen = BTreeSet::new();
    for (i, dep) in app.needs.iter().enumerate() {
        let np = path.key("needs").index(i);
        if dep == name {
            f.err(np, format!("`{name}` needs itself"), "remove it from `needs`");
        } else if !apps.contains_key(dep) {
            let help = match did_you_mean(dep, app_names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("name an app of this spec: {}", app_names.join(", ")),
            };
            f.err(np, format!("unknown app `{dep}` in `needs`"), help);
        } else if !needs_seen.insert(dep) {
            f.err(np, format!("`{dep}` is listed twice in `needs`"), "list it once");
        }
    }
    for (i, e) in app.egress.iter().enumerate() {
        if !is_cidr(&e.cidr) {
            f.err(
                path.key("egress").index(i).key("cidr"),
                format!("`{}` is not a CIDR", e.cidr),
                "write e.g. `0.0.0.0/0` or `10.20.0.0/16`",
            );
        }
    }

    // Storage.
    if let Some(p) = &app.persistence {
        let pp = path.key("persistence");
        if p.size.milli() == 0 {
            f.err(
                pp.key("size"),
                format!("`{}` is not a volume size", p.size),
                "write e.g. `10Gi`",
            );
        }
        if let Some(m) = &p.mount_path {
            absolute(f, m, &pp.key("mountPath"));
        }
        if let Some(sc) = &p.storage_class
            && !is_dns1123_subdomain(sc)
        {
            f.err(
                pp.key("storageClass"),
                format!("`{sc}` is not a valid StorageClass name"),
                "use the name of a StorageClass of the cluster",
            );
        }
        let max = app
            .autoscaling
            .as_ref()
            .map(|a| a.max)
            .or(app.replicas)
            .unwrap_or_else(|| default_replicas(app.kind));
        let mode = p.access_mode.unwrap_or(AccessMode::ReadWriteOnce);
        match app.kind {
            AppKind::Cron => f.err(pp, "`cron` apps cannot have persistence", "remove `persistence`"),
            AppKind::Web | AppKind::Worker if max > 1 && mode != AccessMode::ReadWriteMany => f.err(
                pp,
                format!("{} replicas cannot share one {} volume", max, mode.as_str()),
                "use `kind: statefulset` (a volume per replica), `accessMode: ReadWriteMany`, or one replica",
            ),
            _ => {}
        }
    }
    for (i, w) in app.writable_paths.iter().enumerate() {
        absolute(f, w, &path.key("writablePaths").index(i));
    }
    mount_paths(f, name, app, path);
    if let Some(uid) = app.run_as_user {
        if uid <= 0 {
            f.err(
                path.key("runAsUser"),
                format!("runAsUser {uid} is root or invalid"),
                "use a non-root UID such as 10001 (Pod Security `restricted`)",
            );
        } else if uid > MAX_INT32 {
            f.err(
                path.key("runAsUser"),
                format!("runAsUser {uid} is above {MAX_INT32}, the largest UID Kubernetes accepts"),
                "use a non-root UID such as 10001",
            );
        }
    }
    if let Some(ns) = &app.namespace {
        if !is_dns1123_label(ns) {
            f.err(
                path.key("namespace"),
                format!("namespace `{ns}` is not a DNS-1123 label"),
                "use lowercase letters, digits and `-` (at most 63)",
            );
        } else if let Some(why) = reserved_namespace(ns, platform) {
            f.err(path.key("namespace"), why, RESERVED_NAMESPACE_HELP);
        }
    }
    for (k, v) in &app.labels {
        let lp = path.key("labels").key(k);
        if !is_label_key(k) {
            f.err(
                lp,
                format!("`{k}` is not a valid label key"),
                "use e.g. `tier` or `example.com/team`",
            );
        } else if k.starts_with("app.kubernetes.io/") {
            f.err(
                lp,
                format!("`{k}` is set by windlass"),
                "choose another key, e.g. `tier`",
            );
        } else if !is_label_value(v) {
            f.err(
                lp,
                format!("`{v}` is not a valid label value"),
                "use up to 63 letters, digits, `-`, `_` and `.`",
            );
        }
    }
}

/// The replica count when the spec sets neither `replicas` nor `autoscaling`.
/// One `secretEnv` source: a Secret's key, or a key of a Vault secret.
fn secret_source(f: &mut Findings<'_>, platform: &PlatformSpec, r: &EnvSecretRef, sp: &FieldPath) {
    const FORMS: &str =
        "write `{secret: NAME, key: KEY}` (or `NAME/KEY`), `{sops: SECRET/KEY}` or `{vault: MOUNT/PATH#KEY}`";
    let sources = [
        r.secret.is_some() || r.key.is_some(),
        r.vault.is_some(),
        r.sops.is_some(),
    ];
    if sources.iter().filter(|s| **s).count() > 1 {
        f.err(
            sp.clone(),
            "names more than one source (`secret`/`key`, `sops`, `vault`)",
            "keep one: `{secret: NAME, key: KEY}`, `{sops: SECRET/KEY}` or `{vault: MOUNT/PATH#KEY}`",
        );
        return;
    }
    match (&r.secret, &r.key, &r.vault, &r.sops) {
        (Some(secret), Some(key), None, None) => {
            if !is_dns1123_subdomain(secret) {
                f.err(
                    sp.clone(),
                    format!("`{secret}` is not a valid Secret name"),
                    "use lowercase letters, digits, `-` and `.`",
                );
            }
            if !is_config_key(key) {
                f.err(
                    sp.clone(),
                    format!("`{key}` is not a valid Secret key"),
                    "use letters, digits, `-`, `_` and `.`",
                );
            }
        }
        (None, None, None, Some(sops)) => sops_ref(f, platform, sops, sp.key("sops")),
        (None, None, Some(vault), None) => {
            let vp = sp.key("vault");
            match crate::model::VaultRef::parse(vault) {
                Err(why) => f.err(
                    vp.clone(),
                    format!("`{vault}` {why}"),
                    "write `MOUNT/PATH#KEY`, e.g. `kv/shop/db#password`",
                ),
                Ok(v) if !is_config_key(&v.key) => f.err(
                    vp.clone(),
                    format!("`{}` is not a valid Secret key", v.key),
                    "use letters, digits, `-`, `_` and `.` (the operator writes each Vault key as a Secret key)",
                ),
                Ok(_) => {}
            }
            use crate::components::{ComponentName, is_enabled};
            if !is_enabled(ComponentName::VaultSecretsOperator, platform) {
                f.err(
                    vp.clone(),
                    "a Vault reference needs the Vault Secrets Operator, which is switched off",
                    "add `vault-secrets-operator: {enabled: true}` under `platform.components`",
                );
            } else if platform.vault.address.is_none() && !is_enabled(ComponentName::Vault, platform) {
                f.err(
                    vp,
                    "a Vault reference needs Vault's address: windlass does not install Vault here",
                    "set `platform.vault.address` (e.g. `https://vault.example.com:8200`), or add `vault: {enabled: true}` under `platform.components`",
                );
            }
        }
        (secret, _, None, None) => f.err(
            sp.clone(),
            format!(
                "the reference is missing `{}`",
                if secret.is_none() { "secret" } else { "key" }
            ),
            FORMS,
        ),
        _ => f.err(sp.clone(), "the reference names no source", FORMS),
    }
}

/// `{sops: SECRET/KEY}`: a well-formed reference, and the file it reads is set.
fn sops_ref(f: &mut Findings<'_>, platform: &PlatformSpec, sops: &str, path: FieldPath) {
    if let Err(why) = crate::model::SopsRef::parse(sops) {
        f.err(
            path.clone(),
            format!("`{sops}` {why}"),
            "write `SECRET/KEY`, a Secret of the environment's SOPS file and one of its keys, e.g. `postgres/password`",
        );
    }
    if platform.secrets.file.is_none() {
        f.err(
            path,
            "a SOPS reference needs the environment's secrets file, and `platform.secrets.file` is not set",
            "set `platform.secrets.file`, e.g. `secrets/{env}.sops.yaml` (made with `windlass secrets encrypt`)",
        );
    }
}

/// `platform.secrets.file`: a relative path whose only placeholder is `{env}`.
fn secrets_file(f: &mut Findings<'_>, p: &PlatformSpec) {
    let Some(file) = &p.secrets.file else { return };
    let path = FieldPath::root().key("platform").key("secrets").key("file");
    let rest = file.replace("{env}", "");
    if file.trim().is_empty() {
        f.err(
            path,
            "the secrets file is empty",
            "name a file beside windlass.yaml, e.g. `secrets/{env}.sops.yaml`",
        );
    } else if rest.contains(['{', '}']) {
        f.err(
            path,
            format!("`{file}` has a placeholder other than `{{env}}`"),
            "`{env}` (the environment's name) is the only placeholder, e.g. `secrets/{env}.sops.yaml`",
        );
    } else if rest.contains('\0') || file.ends_with('/') {
        f.err(
            path,
            format!("`{file}` does not name a file"),
            "name a file beside windlass.yaml, e.g. `secrets/{env}.sops.yaml`",
        );
    }
}

/// `platform.vault`: an http(s) address and a refresh interval the operator accepts.
fn vault(f: &mut Findings<'_>, p: &PlatformSpec) {
    let path = FieldPath::root().key("platform").key("vault");
    if let Some(a) = &p.vault.address {
        let rest = a.strip_prefix("https://").or_else(|| a.strip_prefix("http://"));
        if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
            f.err(
                path.key("address"),
                format!("`{a}` is not an http(s) address"),
                "e.g. `https://vault.example.com:8200`",
            );
        }
    }
    if let Some(m) = &p.vault.auth_mount
        && (m.is_empty() || m.starts_with('/') || m.ends_with('/') || m.contains(char::is_whitespace))
    {
        f.err(
            path.key("authMount"),
            format!("`{m}` is not a Vault auth mount path"),
            "e.g. `kubernetes` or `clusters/prod`",
        );
    }
    if let Some(r) = &p.vault.refresh_after
        && !valid_refresh(r)
    {
        f.err(
            path.key("refreshAfter"),
            format!("`{r}` is not a duration the operator accepts"),
            "a number with `s`, `m` or `h`, e.g. `60s` or `1h`",
        );
    }
}

/// The Vault Secrets Operator's `refreshAfter` pattern: `^([0-9]+(\.[0-9]+)?(s|m|h))$`.
fn valid_refresh(s: &str) -> bool {
    let Some(number) = s.strip_suffix(['s', 'm', 'h']) else {
        return false;
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

pub fn default_replicas(kind: AppKind) -> u32 {
    match kind {
        AppKind::Web => 2,
        AppKind::Worker | AppKind::Statefulset | AppKind::Cron => 1,
    }
}

fn mentions_service(word: &str, app: &str, platform: &PlatformSpec) -> bool {
    let host = word
        .split("://")
        .nth(1)
        .unwrap_or(word)
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    host == app || host.starts_with(&format!("{app}.")) && !host.ends_with(&platform.domain)
}

/// Why the Gateway API (and so windlass, in either traffic mode) refuses a path prefix.
fn route_path_problem(p: &str) -> Option<(String, String)> {
    const CHARS: &str = "use letters, digits and `-._~!$&'()*+,;=:@/` only";
    if p.len() > MAX_ROUTE_PATH {
        return Some((
            format!(
                "route path is {} characters long; at most {MAX_ROUTE_PATH} are allowed",
                p.len()
            ),
            "route a shorter prefix: a route matches everything below its path".to_string(),
        ));
    }
    if let Some(c) = p.chars().find(|c| !c.is_ascii()) {
        return Some((
            format!("route path `{p}` contains `{c}`, which is not ASCII"),
            CHARS.to_string(),
        ));
    }
    if p.contains('%') {
        return Some((
            format!("route path `{p}` is percent-encoded"),
            format!("write the path as plain text: {CHARS}"),
        ));
    }
    if let Some(c) = p
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/".contains(*c)))
    {
        let what = match c {
            '?' => " (a query cannot be routed on)".to_string(),
            '#' => " (a fragment never reaches the server)".to_string(),
            _ => String::new(),
        };
        return Some((format!("route path `{p}` contains `{c}`{what}"), CHARS.to_string()));
    }
    if p.contains("//") {
        return Some((
            format!("route path `{p}` contains an empty segment (`//`)"),
            "write single slashes, e.g. `/a/b`".to_string(),
        ));
    }
    if p.split('/').any(|seg| seg == "." || seg == "..") {
        return Some((
            format!("route path `{p}` contains a `.` or `..` segment"),
            "write the path without dot segments, e.g. `/a/b`".to_string(),
        ));
    }
    None
}

/// Every volume mount of the container must have its own path (Kubernetes refuses
/// a Pod with two mounts at one path), including the `/tmp` windlass always mounts.
fn mount_paths(f: &mut Findings<'_>, name: &str, app: &AppSpec, path: &FieldPath) {
    let norm = |p: &str| {
        let t = p.trim_end_matches('/');
        if t.is_empty() { "/".to_string() } else { t.to_string() }
    };
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    seen.insert(
        d::TMP_MOUNT_PATH.to_string(),
        "windlass (it is always writable)".to_string(),
    );
    let mut mounts: Vec<(String, FieldPath, String)> = Vec::new();
    for (i, w) in app.writable_paths.iter().enumerate() {
        mounts.push((
            norm(w),
            path.key("writablePaths").index(i),
            format!("writablePaths[{i}]"),
        ));
    }
    if let Some(c) = &app.config {
        let m = c.mount_path.clone().unwrap_or_else(|| format!("/etc/{name}"));
        let at = if c.mount_path.is_some() {
            path.key("config").key("mountPath")
        } else {
            path.key("config")
        };
        mounts.push((norm(&m), at, "config.mountPath".to_string()));
    }
    if let Some(p) = &app.persistence {
        let m = p.mount_path.clone().unwrap_or_else(|| d::DATA_MOUNT_PATH.to_string());
        let at = if p.mount_path.is_some() {
            path.key("persistence").key("mountPath")
        } else {
            path.key("persistence")
        };
        mounts.push((norm(&m), at, "persistence.mountPath".to_string()));
    }
    for (mount, at, label) in mounts {
        match seen.get(&mount) {
            Some(first) => {
                let help = if mount == d::TMP_MOUNT_PATH && label.starts_with("writablePaths") {
                    format!("remove it: `{}` is always writable", d::TMP_MOUNT_PATH)
                } else if mount == d::TMP_MOUNT_PATH {
                    format!(
                        "use another directory: `{}` is always mounted writable",
                        d::TMP_MOUNT_PATH
                    )
                } else {
                    "give each mount its own directory".to_string()
                };
                f.err(at, format!("`{mount}` is already mounted by {first}"), help);
            }
            None => {
                seen.insert(mount, format!("`{label}`"));
            }
        }
    }
}

fn absolute(f: &mut Findings<'_>, p: &str, path: &FieldPath) {
    if !p.starts_with('/') || p.contains("..") {
        f.err(
            path.clone(),
            format!("`{p}` is not an absolute path"),
            "write e.g. `/var/cache/app`",
        );
    }
}

fn resources(f: &mut Findings<'_>, r: &ResourcesSpec, path: &FieldPath) {
    let limits = r.limits.clone().unwrap_or_default();
    // `m` is thousandths: `256m` of memory is a quarter of a byte, nearly always meant as `256Mi`.
    for (at, q) in [
        (path.key("memory"), &r.memory),
        (path.key("limits").key("memory"), &limits.memory),
    ] {
        if let Some(q) = q
            && q.milli() < 1000
        {
            f.err(
                at,
                format!("memory {q} is less than one byte"),
                "`m` means thousandths: write e.g. `256Mi` (mebibytes) or `256M` (megabytes)",
            );
        }
    }
    for (field, req, lim) in [("cpu", &r.cpu, &limits.cpu), ("memory", &r.memory, &limits.memory)] {
        if let (Some(rq), Some(lq)) = (req, lim)
            && rq.milli() > lq.milli()
        {
            f.err(
                path.key("limits").key(field),
                format!("{field} limit {lq} is below the request {rq}"),
                "raise the limit to at least the request",
            );
        }
    }
}

fn valid_cron(s: &str) -> bool {
    let s = s.trim();
    if s.starts_with('@') {
        return matches!(
            s,
            "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight" | "@hourly"
        );
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    fields.len() == 5
        && fields.iter().all(|f| {
            f.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'/' | b',' | b'-' | b'?'))
        })
}

/// One error per group of apps that need each other (a strongly connected
/// component of `needs`), naming one cycle in it and counting the rest, so 200
/// apps that all need each other give one line, not 19,900.
fn dependency_cycles(f: &mut Findings<'_>, apps: &indexmap::IndexMap<String, AppSpec>) {
    let names: Vec<&str> = apps.keys().map(String::as_str).collect();
    // Edges: (target app, position in the source app's `needs`), self-needs excluded (reported apart).
    let edges: Vec<Vec<(usize, usize)>> = apps
        .iter()
        .enumerate()
        .map(|(me, (_, app))| {
            app.needs
                .iter()
                .enumerate()
                .filter_map(|(i, dep)| apps.get_index_of(dep).filter(|t| *t != me).map(|t| (t, i)))
                .collect()
        })
        .collect();
    for group in strongly_connected(&edges) {
        if group.len() < 2 {
            continue;
        }
        let Some(&start) = group.iter().min() else { continue };
        let (cycle, closing) = shortest_cycle(&edges, &group, start);
        let shown: Vec<&str> = if cycle.len() <= MAX_CYCLE_NAMES {
            cycle.iter().map(|i| names[*i]).collect()
        } else {
            let mut v: Vec<&str> = cycle[..MAX_CYCLE_NAMES - 1].iter().map(|i| names[*i]).collect();
            v.push("...");
            v.push(names[cycle[cycle.len() - 1]]);
            v
        };
        let mut message = format!("dependency cycle: {} -> {}", shown.join(" -> "), names[start]);
        if group.len() > cycle.len() {
            let mut members: Vec<usize> = group.clone();
            members.sort_unstable();
            let listed: Vec<&str> = members.iter().take(MAX_CYCLE_NAMES).map(|i| names[*i]).collect();
            let more = members.len().saturating_sub(MAX_CYCLE_NAMES);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            message.push_str(&format!(
                "; {} apps need each other in cycles: {}{tail}",
                members.len(),
                listed.join(", ")
            ));
        }
        let (from, needs_index) = closing;
        f.err(
            FieldPath::root()
                .key("apps")
                .key(names[from])
                .key("needs")
                .index(needs_index),
            message,
            "remove `needs` until no app needs itself through others, so the apps can be deployed in order",
        );
    }
}

/// Tarjan's algorithm, iterative so a long chain of `needs` cannot overflow the stack.
fn strongly_connected(edges: &[Vec<(usize, usize)>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index: Vec<Option<usize>> = vec![None; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut groups = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if index[root].is_some() {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = Some(next);
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&(v, pos)) = call.last() {
            if let Some(&(w, _)) = edges[v].get(pos) {
                if let Some(top) = call.last_mut() {
                    top.1 += 1;
                }
                match index[w] {
                    None => {
                        index[w] = Some(next);
                        low[w] = next;
                        next += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        call.push((w, 0));
                    }
                    Some(iw) if on_stack[w] => low[v] = low[v].min(iw),
                    Some(_) => {}
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if Some(low[v]) == index[v] {
                    let mut group = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        group.push(w);
                        if w == v {
                            break;
                        }
                    }
                    groups.push(group);
                }
            }
        }
    }
    groups.sort_by_key(|g| g.iter().min().copied());
    groups
}

/// The shortest cycle through `start` within `group` (breadth first), and the
/// `needs` entry that closes it: (app, index in its `needs`).
fn shortest_cycle(edges: &[Vec<(usize, usize)>], group: &[usize], start: usize) -> (Vec<usize>, (usize, usize)) {
    let in_group: BTreeSet<usize> = group.iter().copied().collect();
    let mut parent: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &(w, i) in &edges[v] {
            if w == start {
                let mut path = vec![v];
                let mut at = v;
                while let Some(&p) = parent.get(&at) {
                    path.push(p);
                    at = p;
                }
                path.reverse();
                return (path, (v, i));
            }
            if in_group.contains(&w) && w != start && !parent.contains_key(&w) {
                parent.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    // Unreachable for a strongly connected group; report the start alone rather than panic.
    (vec![start], (start, 0))
}

#[cfg(test)]
mod tests {
    //! One case per rule: the smallest spec that breaks it and the complete report
    //! a user sees (file:line:col, field path, message and fix).

    use crate::spec::load;

    /// A valid spec with `top` and `platform` lines replacing same-named ones (or added) and `apps` as the apps.
    fn spec(top: &str, platform: &str, apps: &str) -> String {
        fn overlay(base: &[&str], over: &str) -> Vec<String> {
            let key = |l: &str| l.split(':').next().unwrap_or("").to_string();
            let mut lines: Vec<String> = base.iter().map(|l| (*l).to_string()).collect();
            for l in over.lines() {
                match lines.iter().position(|b| key(b) == key(l)) {
                    Some(i) => lines[i] = l.to_string(),
                    None => lines.push(l.to_string()),
                }
            }
            lines
        }
        let head = overlay(&["apiVersion: windlass.dev/v1alpha1", "kind: Platform"], top);
        let platform = overlay(
            &["  name: demo", "  domain: example.com", "  email: ops@example.com"],
            platform,
        );
        let (known, extra): (Vec<String>, Vec<String>) = head
            .into_iter()
            .partition(|l| l.starts_with("apiVersion:") || l.starts_with("kind:"));
        format!(
            "{}\nplatform:\n{}\napps:\n{apps}{}",
            known.join("\n"),
            platform.join("\n"),
            extra.iter().map(|l| format!("{l}\n")).collect::<String>()
        )
    }

    fn report(text: &str) -> String {
        match load("windlass.yaml", text) {
            Ok(_) => "ok".to_string(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_base_spec_is_valid() {
        assert_eq!(report(&spec("", "", CASES[0].3)), "ok");
    }

    #[test]
    fn every_rule_reports_its_full_diagnostic() {
        let mut failures = Vec::new();
        for (name, top, platform, apps, expected) in CASES {
            let text = spec(top, platform, apps)
                .replace("{MIB}", &"x".repeat(1024 * 1024))
                .replace("{KIB}", &"a".repeat(1024));
            let got = report(&text);
            if got != *expected {
                failures.push(format!("{name}\t{got:?}"));
            }
        }
        crate::diagnostics::assert_no_differing_cases(&failures);
    }

    /// (name, top-level lines, platform lines, apps, the complete report)
    const CASES: &[(&str, &str, &str, &str, &str)] = &[
        (
            "api_version",
            "apiVersion: windlass.dev/v2\n",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:1:13: apiVersion: unsupported apiVersion `windlass.dev/v2`\n  help: this windlass reads `apiVersion: windlass.dev/v1alpha1`",
        ),
        (
            "kind",
            "kind: Cluster\n",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:2:7: kind: unsupported kind `Cluster`\n  help: use `kind: Platform`",
        ),
        (
            "default_environment_unknown",
            "defaultEnvironment: prod\nenvironments:\n  dev: {}\n",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:12:21: defaultEnvironment: no environment named `prod`\n  help: name one of the environments: dev",
        ),
        (
            "environment_name",
            "environments:\n  Dev: {}\n",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:13:3: environments.Dev: environment name `Dev` is not a DNS-1123 label\n  help: use lowercase letters, digits and `-`, e.g. `production`",
        ),
        (
            "environments_not_a_mapping",
            "environments: [dev]\n",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:12:15: environments: expected a mapping of environment name to overlay\n  help: write e.g. `environments: {development: {}, production: {apps: {...}}}`",
        ),
        (
            "platform_name",
            "",
            "  name: Demo\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:4:9: platform.name: platform name `Demo` is not a DNS-1123 label\n  help: use lowercase letters, digits and `-` (at most 63), e.g. `shop`",
        ),
        (
            "domain_invalid",
            "",
            "  domain: example\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:5:11: platform.domain: domain `example` is not a valid DNS domain\n  help: use a domain you control, e.g. `example.com`",
        ),
        (
            "domain_too_long_for_grafanas_listener",
            "",
            "  domain: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:5:11: platform.domain: domain `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa` is 243 characters; Grafana's host `grafana.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa` would make a Gateway listener name of 257, above the limit of 253\n  help: use a domain of at most 239 characters",
        ),
        (
            "domain_ip",
            "",
            "  domain: 10.0.0.1\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:5:11: platform.domain: domain `10.0.0.1` is not a valid DNS domain\n  help: use a domain you control, e.g. `example.com`",
        ),
        (
            "email_missing",
            "",
            "  email: null\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:6:10: platform.email: Let's Encrypt needs an ACME account e-mail\n  help: add `email: ops@your-domain` under `platform`, or use `tls: self-signed`",
        ),
        (
            "email_invalid",
            "",
            "  email: ops@@example.com\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:6:10: platform.email: `ops@@example.com` is not an e-mail address\n  help: write it as `name@domain` with a DNS domain, e.g. `ops@example.com`",
        ),
        (
            "namespace_invalid",
            "",
            "  namespace: Shop\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:7:14: platform.namespace: namespace `Shop` is not a DNS-1123 label\n  help: use lowercase letters, digits and `-` (at most 63)",
        ),
        (
            "traffic_namespace_invalid",
            "",
            "  traffic: {namespace: Edge_1}\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:7:24: platform.traffic.namespace: namespace `Edge_1` is not a DNS-1123 label\n  help: use lowercase letters, digits and `-` (at most 63)",
        ),
        (
            "monitoring_namespace_invalid",
            "",
            "  monitoring: {namespace: mon.itoring}\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:7:27: platform.monitoring.namespace: namespace `mon.itoring` is not a DNS-1123 label\n  help: use lowercase letters, digits and `-` (at most 63)",
        ),
        (
            "platform_namespace_kube_system",
            "",
            "  namespace: kube-system\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:7:14: platform.namespace: namespace `kube-system` belongs to Kubernetes\n  help: run apps in a namespace of their own, e.g. `shop`: windlass gives app namespaces restricted Pod Security and a default-deny network policy",
        ),
        (
            "platform_named_default",
            "",
            "  name: default\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:4:9: platform.name: namespace `default` belongs to Kubernetes, and apps run in the namespace named after the platform\n  help: rename the platform, or set `platform.namespace` to a namespace of its own",
        ),
        (
            "traffic_class_invalid",
            "",
            "  traffic: {class: Envoy_GW}\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:7:20: platform.traffic.class: class `Envoy_GW` is not a valid name\n  help: use the name of an existing GatewayClass or IngressClass, e.g. `eg` or `nginx`",
        ),
        (
            "monitoring_release_invalid",
            "",
            "  monitoring: {release: -prom}\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:7:25: platform.monitoring.release: release `-prom` is not a valid label value\n  help: use the Helm release name of kube-prometheus-stack",
        ),
        (
            "app_name_invalid",
            "",
            "",
            "  Web_1:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:8:3: apps.Web_1: app name `Web_1` is not a valid name\n  help: use at most 52 lowercase letters, digits and `-`, starting with a letter (it becomes a Service name)",
        ),
        (
            "app_name_too_long",
            "",
            "",
            "  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:8:3: apps.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: app name `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa` is not a valid name\n  help: use at most 52 lowercase letters, digits and `-`, starting with a letter (it becomes a Service name)",
        ),
        (
            "host_invalid",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [Shop_Front]\n",
            "windlass.yaml:12:13: apps.web.hosts[0]: host `Shop_Front.example.com` is not a valid DNS name\n  help: use lowercase letters, digits, `-` and `.`, e.g. `www.example.com` or `www`",
        ),
        (
            "host_ip",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [203.0.113.7]\n",
            "windlass.yaml:12:13: apps.web.hosts[0]: host `203.0.113.7` is an IP address\n  help: use a DNS name that points at the cluster, e.g. `www.example.com` or `www`: certificates and routes need names",
        ),
        (
            "host_listener_too_long",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.io]\n",
            "windlass.yaml:12:13: apps.web.hosts[0]: host `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.io` is 250 characters; its Gateway listener name would be 256, above the limit of 253\n  help: use a host of at most 247 characters",
        ),
        (
            "host_duplicate",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [www, www.example.com]\n",
            "windlass.yaml:12:18: apps.web.hosts[1]: host `www.example.com` is already used by apps.web.hosts[0]\n  help: give each host to one app; serve several paths of one host with `routes`",
        ),
        (
            "host_listener_collision",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [a-b.example.com, a.b.example.com]\n",
            "windlass.yaml:12:30: apps.web.hosts[1]: host `a.b.example.com` gets the same Gateway listener name as apps.web.hosts[0]\n  help: listener names replace `.` with `-`: rename one of the hosts",
        ),
        (
            "hosts_per_route",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [h0, h1, h2, h3, h4, h5, h6, h7, h8, h9, h10, h11, h12, h13, h14, h15, h16]\n",
            "windlass.yaml:12:12: apps.web.hosts: 17 hosts on one app; an HTTPRoute holds at most 16\n  help: serve the extra hosts from another app, or use `traffic: {mode: ingress}`",
        ),
        (
            "image_invalid",
            "",
            "",
            "  web:\n    image: \"ghcr.io/acme/web app:1\"\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:9:12: apps.web.image: `ghcr.io/acme/web app:1` is not an image reference\n  help: write e.g. `ghcr.io/acme/web:1.4.2` or `ghcr.io/acme/web@sha256:<64 hex digits>`",
        ),
        (
            "image_uppercase",
            "",
            "",
            "  web:\n    image: ghcr.io/Acme/Web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:9:12: apps.web.image: repository `ghcr.io/Acme/Web` has upper-case letters\n  help: repository names are lowercase: write `ghcr.io/acme/web:1.0.0`",
        ),
        (
            "image_digest_short",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web@sha256:abc\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:9:12: apps.web.image: `sha256:abc` is not a valid digest: expected 64 lowercase hex digits\n  help: write the digest as `sha256:` and 64 lowercase hex digits (or `sha512:` and 128)",
        ),
        (
            "image_digest_non_ascii",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web@sha256:ä\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:9:12: apps.web.image: image `ghcr.io/acme/web@sha256:ä` contains characters outside ASCII\n  help: image references are plain ASCII: a lowercase repository, a tag of letters, digits, `_`, `.` and `-`, and a hex digest",
        ),
        (
            "image_no_tag",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:9:12: apps.web.image: image `ghcr.io/acme/web` has no tag or digest\n  help: pin a version, e.g. `ghcr.io/acme/web:1.0.0` or `ghcr.io/acme/web@sha256:...`, so rollouts and rollbacks are reproducible",
        ),
        (
            "image_latest",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:latest\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:9:12: apps.web.image: image `ghcr.io/acme/web:latest` uses the mutable `latest` tag\n  help: pin a version tag or digest, or set `allowLatest: true` if you accept unreproducible rollouts",
        ),
        (
            "web_without_port",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    health: {command: [check]}\n",
            "windlass.yaml:9:5: apps.web: a `web` app needs a `port`\n  help: add `port: 8080` (the container port serving HTTP), or use `kind: worker`",
        ),
        (
            "cron_without_schedule",
            "",
            "",
            "  job:\n    kind: cron\n    image: ghcr.io/acme/job:1\n",
            "windlass.yaml:9:5: apps.job: a `cron` app needs a `schedule`\n  help: add e.g. `schedule: \"*/15 * * * *\"`",
        ),
        (
            "schedule_on_worker",
            "",
            "",
            "  job:\n    kind: worker\n    image: ghcr.io/acme/job:1\n    schedule: '@daily'\n",
            "windlass.yaml:11:15: apps.job.schedule: `schedule` only applies to `kind: cron`\n  help: remove it, or set `kind: cron`",
        ),
        (
            "schedule_invalid",
            "",
            "",
            "  job:\n    kind: cron\n    image: ghcr.io/acme/job:1\n    schedule: every day\n",
            "windlass.yaml:11:15: apps.job.schedule: `every day` is not a cron schedule\n  help: use five fields (minute hour day-of-month month day-of-week), e.g. `0 3 * * *`, or a macro like `@daily`",
        ),
        (
            "port_zero",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 0\n    health: /healthz\n",
            "windlass.yaml:10:11: apps.web.port: port 0 is not a valid port\n  help: use a port between 1 and 65535",
        ),
        (
            "hosts_on_worker",
            "",
            "",
            "  job:\n    kind: worker\n    image: ghcr.io/acme/job:1\n    hosts: [www]\n",
            "windlass.yaml:11:12: apps.job.hosts: only `web` apps can have public hosts\n  help: remove `hosts`, or set `kind: web`",
        ),
        (
            "routes_without_hosts",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    routes: [{path: /a}]\n",
            "windlass.yaml:12:13: apps.web.routes: `routes` need at least one host\n  help: add `hosts: [www]`, or remove `routes`",
        ),
        (
            "route_path_relative",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [www]\n    routes: [{path: admin}]\n",
            "windlass.yaml:13:21: apps.web.routes[0].path: route path `admin` must start with `/`\n  help: write e.g. `/admin`",
        ),
        (
            "route_path_double_slash",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [www]\n    routes: [{path: //x}]\n",
            "windlass.yaml:13:21: apps.web.routes[0].path: route path `//x` contains an empty segment (`//`)\n  help: write single slashes, e.g. `/a/b`",
        ),
        (
            "route_path_query",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [www]\n    routes: [{path: /a?b}]\n",
            "windlass.yaml:13:21: apps.web.routes[0].path: route path `/a?b` contains `?` (a query cannot be routed on)\n  help: use letters, digits and `-._~!$&'()*+,;=:@/` only",
        ),
        (
            "route_path_percent",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [www]\n    routes: [{path: /a%2Fb}]\n",
            "windlass.yaml:13:21: apps.web.routes[0].path: route path `/a%2Fb` is percent-encoded\n  help: write the path as plain text: use letters, digits and `-._~!$&'()*+,;=:@/` only",
        ),
        (
            "route_path_non_ascii",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [www]\n    routes: [{path: /café}]\n",
            "windlass.yaml:13:21: apps.web.routes[0].path: route path `/café` contains `é`, which is not ASCII\n  help: use letters, digits and `-._~!$&'()*+,;=:@/` only",
        ),
        (
            "route_path_dot_segment",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [www]\n    routes: [{path: /a/../b}]\n",
            "windlass.yaml:13:21: apps.web.routes[0].path: route path `/a/../b` contains a `.` or `..` segment\n  help: write the path without dot segments, e.g. `/a/b`",
        ),
        (
            "route_path_too_long",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [www]\n    routes: [{path: /{KIB}}]\n",
            "windlass.yaml:13:21: apps.web.routes[0].path: route path is 1025 characters long; at most 1024 are allowed\n  help: route a shorter prefix: a route matches everything below its path",
        ),
        (
            "route_path_twice",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [www]\n    routes: [{path: /a}, {path: /a/}]\n",
            "windlass.yaml:13:33: apps.web.routes[1].path: route path `/a/` is listed twice\n  help: list each path once",
        ),
        (
            "route_allow_from_cidr",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [www]\n    routes: [{path: /a, allowFrom: [10.0.0.0]}]\n",
            "windlass.yaml:13:37: apps.web.routes[0].allowFrom[0]: `10.0.0.0` is not a CIDR\n  help: write an address range such as `10.0.0.0/8` or `203.0.113.7/32`",
        ),
        (
            "route_allow_from_ingress_class",
            "",
            "  traffic: {mode: ingress, class: traefik}\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [www]\n    routes: [{path: /a, allowFrom: [10.0.0.0/8]}]\n",
            "windlass.yaml:14:36: apps.web.routes[0].allowFrom: source-IP allow lists on Ingress are only rendered for the `nginx` class\n  help: use `traffic: {mode: gateway}` or `traffic: {mode: ingress, class: nginx}`",
        ),
        (
            "route_too_many_matches",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    hosts: [www]\n    routes: [{path: /p0}, {path: /p1}, {path: /p2}, {path: /p3}, {path: /p4}, {path: /p5}, {path: /p6}, {path: /p7}, {path: /p8}, {path: /p9}, {path: /p10}, {path: /p11}, {path: /p12}, {path: /p13}, {path: /p14}, {path: /p15}, {path: /p16}, {path: /p17}, {path: /p18}, {path: /p19}, {path: /p20}, {path: /p21}, {path: /p22}, {path: /p23}, {path: /p24}, {path: /p25}, {path: /p26}, {path: /p27}, {path: /p28}, {path: /p29}, {path: /p30}, {path: /p31}, {path: /p32}, {path: /p33}, {path: /p34}, {path: /p35}, {path: /p36}, {path: /p37}, {path: /p38}, {path: /p39}, {path: /p40}, {path: /p41}, {path: /p42}, {path: /p43}, {path: /p44}, {path: /p45}, {path: /p46}, {path: /p47}, {path: /p48}, {path: /p49}, {path: /p50}, {path: /p51}, {path: /p52}, {path: /p53}, {path: /p54}, {path: /p55}, {path: /p56}, {path: /p57}, {path: /p58}, {path: /p59}, {path: /p60}, {path: /p61}, {path: /p62}, {path: /p63}, {path: /p64}]\n",
            "windlass.yaml:13:13: apps.web.routes: 65 routes without `allowFrom` become one HTTPRoute rule, which holds at most 64 paths\n  help: route a common prefix instead of each path (a route matches everything below its path)",
        ),
        (
            "health_two_ways",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: {path: /h, tcp: true}\n",
            "windlass.yaml:11:13: apps.web.health: health needs exactly one of `path`, `tcp: true` or `command`\n  help: write e.g. `health: /healthz`",
        ),
        (
            "health_url",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: http://web/healthz\n",
            "windlass.yaml:11:13: apps.web.health: health path `http://web/healthz` is a URL\n  help: give only the path (e.g. `/healthz`): probes always call the pod itself, never a Service",
        ),
        (
            "health_relative",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: healthz\n",
            "windlass.yaml:11:13: apps.web.health: health path `healthz` must start with `/`\n  help: write e.g. `/healthz`",
        ),
        (
            "health_without_port",
            "",
            "",
            "  job:\n    kind: worker\n    image: ghcr.io/acme/job:1\n    health: {tcp: true}\n",
            "windlass.yaml:11:13: apps.job.health: an HTTP or TCP health check needs a port\n  help: set `port` on the app or `health.port`",
        ),
        (
            "health_command_empty",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: {command: []}\n",
            "windlass.yaml:11:23: apps.web.health.command: the health command is empty\n  help: write e.g. `[pg_isready, -h, localhost]`",
        ),
        (
            "health_command_through_service",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: {command: [curl, http://web:8080/]}\n",
            "windlass.yaml:11:23: apps.web.health.command: the health command calls the Service `web` instead of the pod itself\n  help: use `localhost` (or 127.0.0.1): through a Service the probe waits for endpoints that appear only once the pod is Ready",
        ),
        (
            "health_on_cron",
            "",
            "",
            "  job:\n    kind: cron\n    image: ghcr.io/acme/job:1\n    schedule: '@daily'\n    health: {command: [check]}\n",
            "windlass.yaml:12:13: apps.job.health: `cron` apps are not probed\n  help: remove `health`",
        ),
        (
            "web_without_health",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n",
            "windlass.yaml:9:5: apps.web: a `web` app needs a `health` endpoint for its probes\n  help: add e.g. `health: /healthz` (an HTTP path that answers 200 when the app can serve)",
        ),
        (
            "metrics_relative",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    metrics: metrics\n",
            "windlass.yaml:12:14: apps.web.metrics: metrics path `metrics` must start with `/`\n  help: write e.g. `/metrics`",
        ),
        (
            "metrics_without_port",
            "",
            "",
            "  job:\n    kind: worker\n    image: ghcr.io/acme/job:1\n    metrics: /metrics\n",
            "windlass.yaml:11:14: apps.job.metrics: metrics need a port\n  help: set `port` on the app or `metrics.port`",
        ),
        (
            "cron_with_replicas",
            "",
            "",
            "  job:\n    kind: cron\n    image: ghcr.io/acme/job:1\n    schedule: '@daily'\n    replicas: 2\n",
            "windlass.yaml:12:15: apps.job.replicas: `replicas` does not apply to `kind: cron`\n  help: remove it",
        ),
        (
            "replicas_and_autoscaling",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    replicas: 2\n    autoscaling: {min: 2, max: 3}\n",
            "windlass.yaml:12:15: apps.web.replicas: `replicas` and `autoscaling` both set: the HPA and every deploy would fight over the replica count\n  help: remove `replicas` (use `autoscaling.min`), or remove `autoscaling` (use `replicas: null` in an environment overlay to drop an inherited one)",
        ),
        (
            "replicas_above_int32",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    replicas: 4294967295\n",
            "windlass.yaml:12:15: apps.web.replicas: replicas 4294967295 is above 2147483647, the most Kubernetes accepts\n  help: use a realistic count, at most 2147483647",
        ),
        (
            "vault_ref_shape",
            "",
            "  components: {vault: {enabled: true}, vault-secrets-operator: {enabled: true}}\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    secretEnv: {PW: {vault: 'kv#password'}}\n",
            "windlass.yaml:13:29: apps.web.secretEnv.PW.vault: `kv#password` has no PATH after the mount (`MOUNT/PATH`)\n  help: write `MOUNT/PATH#KEY`, e.g. `kv/shop/db#password`",
        ),
        (
            "vault_ref_key",
            "",
            "  components: {vault: {enabled: true}, vault-secrets-operator: {enabled: true}}\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    secretEnv: {PW: {vault: 'kv/db#pass word'}}\n",
            "windlass.yaml:13:29: apps.web.secretEnv.PW.vault: `pass word` is not a valid Secret key\n  help: use letters, digits, `-`, `_` and `.` (the operator writes each Vault key as a Secret key)",
        ),
        (
            "vault_without_operator",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    secretEnv: {PW: {vault: kv/db#password}}\n",
            "windlass.yaml:12:29: apps.web.secretEnv.PW.vault: a Vault reference needs the Vault Secrets Operator, which is switched off\n  help: add `vault-secrets-operator: {enabled: true}` under `platform.components`",
        ),
        (
            "vault_without_address",
            "",
            "  components: {vault-secrets-operator: {enabled: true}}\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    secretEnv: {PW: {vault: kv/db#password}}\n",
            "windlass.yaml:13:29: apps.web.secretEnv.PW.vault: a Vault reference needs Vault's address: windlass does not install Vault here\n  help: set `platform.vault.address` (e.g. `https://vault.example.com:8200`), or add `vault: {enabled: true}` under `platform.components`",
        ),
        (
            "sops_ref_shape",
            "",
            "  secrets: {file: 'secrets/{env}.sops.yaml'}\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    secretEnv: {PW: {sops: Postgres/password}}\n",
            "windlass.yaml:13:28: apps.web.secretEnv.PW.sops: `Postgres/password` names the Secret `Postgres`, which is not a DNS-1123 label (lowercase letters, digits, `-`; at most 63)\n  help: write `SECRET/KEY`, a Secret of the environment's SOPS file and one of its keys, e.g. `postgres/password`",
        ),
        (
            "sops_without_file",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    secretEnv: {PW: {sops: postgres/password}}\n",
            "windlass.yaml:12:28: apps.web.secretEnv.PW.sops: a SOPS reference needs the environment's secrets file, and `platform.secrets.file` is not set\n  help: set `platform.secrets.file`, e.g. `secrets/{env}.sops.yaml` (made with `windlass secrets encrypt`)",
        ),
        (
            "secrets_file_placeholder",
            "",
            "  secrets: {file: 'secrets/{environment}.sops.yaml'}\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:7:19: platform.secrets.file: `secrets/{environment}.sops.yaml` has a placeholder other than `{env}`\n  help: `{env}` (the environment's name) is the only placeholder, e.g. `secrets/{env}.sops.yaml`",
        ),
        (
            "secret_file_twice",
            "",
            "  secrets: {file: s.yaml}\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    config: {files: {a.pem: x}, secretFiles: {a.pem: {sops: db/pem}}}\n",
            "windlass.yaml:13:54: apps.web.config.secretFiles.a.pem: `a.pem` is also under `config.files`\n  help: name each file once: in `files` (plain) or in `secretFiles` (from the SOPS file)",
        ),
        (
            "config_without_files",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    config: {mountPath: /etc/web}\n",
            "windlass.yaml:12:13: apps.web.config: `config` has no files\n  help: add `files: {NAME: content}` or `secretFiles: {NAME: {sops: SECRET/KEY}}`, or remove `config`",
        ),
        (
            "sops_and_vault",
            "",
            "  secrets: {file: s.yaml}\n  components: {vault: {enabled: true}, vault-secrets-operator: {enabled: true}}\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    secretEnv: {PW: {vault: kv/db#password, sops: db/pw}}\n",
            "windlass.yaml:14:21: apps.web.secretEnv.PW: names more than one source (`secret`/`key`, `sops`, `vault`)\n  help: keep one: `{secret: NAME, key: KEY}`, `{sops: SECRET/KEY}` or `{vault: MOUNT/PATH#KEY}`",
        ),
        (
            "vault_and_secret",
            "",
            "  components: {vault: {enabled: true}, vault-secrets-operator: {enabled: true}}\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    secretEnv: {PW: {vault: kv/db#password, secret: db}}\n",
            "windlass.yaml:13:21: apps.web.secretEnv.PW: names more than one source (`secret`/`key`, `sops`, `vault`)\n  help: keep one: `{secret: NAME, key: KEY}`, `{sops: SECRET/KEY}` or `{vault: MOUNT/PATH#KEY}`",
        ),
        (
            "secret_without_key",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    secretEnv: {PW: {secret: db}}\n",
            "windlass.yaml:12:21: apps.web.secretEnv.PW: the reference is missing `key`\n  help: write `{secret: NAME, key: KEY}` (or `NAME/KEY`), `{sops: SECRET/KEY}` or `{vault: MOUNT/PATH#KEY}`",
        ),
        (
            "vault_settings",
            "",
            "  vault: {address: 'vault:8200', authMount: 'k8s/', refreshAfter: 1d}\n",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n",
            "windlass.yaml:7:20: platform.vault.address: `vault:8200` is not an http(s) address\n  help: e.g. `https://vault.example.com:8200`\nwindlass.yaml:7:45: platform.vault.authMount: `k8s/` is not a Vault auth mount path\n  help: e.g. `kubernetes` or `clusters/prod`\nwindlass.yaml:7:67: platform.vault.refreshAfter: `1d` is not a duration the operator accepts\n  help: a number with `s`, `m` or `h`, e.g. `60s` or `1h`",
        ),
        (
            "memory_below_a_byte",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    resources: {memory: 256m}\n",
            "windlass.yaml:12:25: apps.web.resources.memory: memory 256m is less than one byte\n  help: `m` means thousandths: write e.g. `256Mi` (mebibytes) or `256M` (megabytes)",
        ),
        (
            "replicas_zero",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    replicas: 0\n",
            "windlass.yaml:12:15: apps.web.replicas: replicas: 0 runs nothing\n  help: use at least 1, or remove the app from this environment with `apps: {NAME: null}`",
        ),
        (
            "autoscaling_min_zero",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    autoscaling: {min: 0, max: 3}\n",
            "windlass.yaml:12:24: apps.web.autoscaling.min: autoscaling.min must be at least 1\n  help: use `min: 2` or more to stay available during drains",
        ),
        (
            "autoscaling_min_above_max",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    autoscaling: {min: 4, max: 3}\n",
            "windlass.yaml:12:24: apps.web.autoscaling.min: autoscaling.min (4) is above autoscaling.max (3)\n  help: make `min` at most `max`",
        ),
        (
            "autoscaling_cpu",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    autoscaling: {min: 2, max: 3, cpu: 0}\n",
            "windlass.yaml:12:40: apps.web.autoscaling.cpu: CPU target 0% is out of range\n  help: use a percentage of the CPU request between 1 and 1000, typically 60-80",
        ),
        (
            "disruption_both",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    disruption: {maxUnavailable: 1, minAvailable: 1}\n",
            "windlass.yaml:12:17: apps.web.disruption: set `maxUnavailable` or `minAvailable`, not both\n  help: keep one (maxUnavailable: 1 is the safe default)",
        ),
        (
            "disruption_max_unavailable_zero",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    disruption: {maxUnavailable: 0}\n",
            "windlass.yaml:12:34: apps.web.disruption.maxUnavailable: maxUnavailable: 0 blocks every node drain\n  help: use `maxUnavailable: 1` (or more)",
        ),
        (
            "disruption_min_available",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    disruption: {minAvailable: 2}\n",
            "windlass.yaml:12:32: apps.web.disruption.minAvailable: minAvailable (2) >= replicas (2) blocks every node drain\n  help: use `minAvailable: 1` or less, or `maxUnavailable: 1`",
        ),
        (
            "resources_cpu",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    resources: {cpu: lots}\n",
            "windlass.yaml:12:22: apps.web.resources.cpu: `lots` is not a quantity\n  help: write CPU as cores or millicores (`0.5`, `250m`) and sizes with a unit (`256Mi`, `10Gi`)",
        ),
        (
            "resources_memory_limit",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    resources: {limits: {memory: 1 GB}}\n",
            "windlass.yaml:12:34: apps.web.resources.limits.memory: `1 GB` is not a quantity\n  help: write CPU as cores or millicores (`0.5`, `250m`) and sizes with a unit (`256Mi`, `10Gi`)",
        ),
        (
            "resources_limit_below_request",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    resources: {memory: 1Gi, limits: {memory: 512Mi}}\n",
            "windlass.yaml:12:47: apps.web.resources.limits.memory: memory limit 512Mi is below the request 1Gi\n  help: raise the limit to at least the request",
        ),
        (
            "env_name",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    env: {1X: a}\n",
            "windlass.yaml:12:15: apps.web.env.1X: `1X` is not a valid environment variable name\n  help: use letters, digits and `_`, not starting with a digit",
        ),
        (
            "secret_env_name",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    secretEnv: {'A B': db/password}\n",
            "windlass.yaml:12:24: apps.web.secretEnv.A B: `A B` is not a valid environment variable name\n  help: use letters, digits and `_`, not starting with a digit",
        ),
        (
            "env_and_secret_env",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    env: {PW: a}\n    secretEnv: {PW: db/password}\n",
            "windlass.yaml:13:21: apps.web.secretEnv.PW: `PW` is set in both `env` and `secretEnv`\n  help: keep one",
        ),
        (
            "secret_name",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    secretEnv: {PW: Db_Creds/password}\n",
            "windlass.yaml:12:21: apps.web.secretEnv.PW: `Db_Creds` is not a valid Secret name\n  help: use lowercase letters, digits, `-` and `.`",
        ),
        (
            "secret_key",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    secretEnv: {PW: {secret: db, key: 'pass word'}}\n",
            "windlass.yaml:12:21: apps.web.secretEnv.PW: `pass word` is not a valid Secret key\n  help: use letters, digits, `-`, `_` and `.`",
        ),
        (
            "config_file_name",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    config: {files: {a/b.conf: x}}\n",
            "windlass.yaml:12:32: apps.web.config.files.a/b.conf: `a/b.conf` is not a valid file name for a ConfigMap\n  help: use letters, digits, `-`, `_` and `.` (no directories, not starting with `..`)",
        ),
        (
            "config_file_name_dot_dot",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    config: {files: {..a: x}}\n",
            "windlass.yaml:12:27: apps.web.config.files...a: `..a` is not a valid file name for a ConfigMap\n  help: use letters, digits, `-`, `_` and `.` (no directories, not starting with `..`)",
        ),
        (
            "config_mount_relative",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    config: {mountPath: etc/web, files: {a.conf: x}}\n",
            "windlass.yaml:12:25: apps.web.config.mountPath: `etc/web` is not an absolute path\n  help: write e.g. `/var/cache/app`",
        ),
        (
            "config_too_large",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    config: {files: {a.conf: {MIB}}}\n",
            "windlass.yaml:12:21: apps.web.config.files: the config files hold 1048582 bytes; a ConfigMap holds at most 1048576 (1 MiB)\n  help: keep large files in the image or on a volume (`persistence`), and only settings in `config`",
        ),
        (
            "config_mount_on_writable_path",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    writablePaths: [/etc/web]\n    config: {files: {a.conf: x}}\n",
            "windlass.yaml:13:13: apps.web.config: `/etc/web` is already mounted by `writablePaths[0]`\n  help: give each mount its own directory",
        ),
        (
            "writable_path_tmp",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    writablePaths: [/tmp/]\n",
            "windlass.yaml:12:21: apps.web.writablePaths[0]: `/tmp` is already mounted by windlass (it is always writable)\n  help: remove it: `/tmp` is always writable",
        ),
        (
            "writable_path_twice",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    writablePaths: [/cache, /cache]\n",
            "windlass.yaml:12:29: apps.web.writablePaths[1]: `/cache` is already mounted by `writablePaths[0]`\n  help: give each mount its own directory",
        ),
        (
            "writable_path_relative",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    writablePaths: [cache]\n",
            "windlass.yaml:12:21: apps.web.writablePaths[0]: `cache` is not an absolute path\n  help: write e.g. `/var/cache/app`",
        ),
        (
            "needs_itself",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    needs: [web]\n",
            "windlass.yaml:12:13: apps.web.needs[0]: `web` needs itself\n  help: remove it from `needs`",
        ),
        (
            "needs_unknown",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    needs: [wbe]\n",
            "windlass.yaml:12:13: apps.web.needs[0]: unknown app `wbe` in `needs`\n  help: name an app of this spec: web",
        ),
        (
            "needs_twice",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    needs: [db, db]\n  db:\n    kind: statefulset\n    image: postgres:17\n",
            "windlass.yaml:12:17: apps.web.needs[1]: `db` is listed twice in `needs`\n  help: list it once",
        ),
        (
            "egress_cidr",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    egress: [{cidr: internet}]\n",
            "windlass.yaml:12:21: apps.web.egress[0].cidr: `internet` is not a CIDR\n  help: write e.g. `0.0.0.0/0` or `10.20.0.0/16`",
        ),
        (
            "egress_port_zero",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    egress: [{cidr: 0.0.0.0/0, ports: [0]}]\n",
            "windlass.yaml:12:40: apps.web.egress[0].ports[0]: port 0 is not a valid port\n  help: use a port between 1 and 65535",
        ),
        (
            "persistence_size",
            "",
            "",
            "  db:\n    kind: statefulset\n    image: postgres:17\n    persistence: {size: big}\n",
            "windlass.yaml:11:25: apps.db.persistence.size: `big` is not a quantity\n  help: write CPU as cores or millicores (`0.5`, `250m`) and sizes with a unit (`256Mi`, `10Gi`)",
        ),
        (
            "persistence_mount_relative",
            "",
            "",
            "  db:\n    kind: statefulset\n    image: postgres:17\n    persistence: {size: 1Gi, mountPath: data}\n",
            "windlass.yaml:11:41: apps.db.persistence.mountPath: `data` is not an absolute path\n  help: write e.g. `/var/cache/app`",
        ),
        (
            "persistence_storage_class",
            "",
            "",
            "  db:\n    kind: statefulset\n    image: postgres:17\n    persistence: {size: 1Gi, storageClass: Fast_SSD}\n",
            "windlass.yaml:11:44: apps.db.persistence.storageClass: `Fast_SSD` is not a valid StorageClass name\n  help: use the name of a StorageClass of the cluster",
        ),
        (
            "persistence_on_cron",
            "",
            "",
            "  job:\n    kind: cron\n    image: ghcr.io/acme/job:1\n    schedule: '@daily'\n    persistence: {size: 1Gi}\n",
            "windlass.yaml:12:18: apps.job.persistence: `cron` apps cannot have persistence\n  help: remove `persistence`",
        ),
        (
            "persistence_shared_rwo",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    persistence: {size: 1Gi}\n",
            "windlass.yaml:12:18: apps.web.persistence: 2 replicas cannot share one ReadWriteOnce volume\n  help: use `kind: statefulset` (a volume per replica), `accessMode: ReadWriteMany`, or one replica",
        ),
        (
            "persistence_mount_on_tmp",
            "",
            "",
            "  db:\n    kind: statefulset\n    image: postgres:17\n    persistence: {size: 1Gi, mountPath: /tmp}\n",
            "windlass.yaml:11:41: apps.db.persistence.mountPath: `/tmp` is already mounted by windlass (it is always writable)\n  help: use another directory: `/tmp` is always mounted writable",
        ),
        (
            "run_as_root",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    runAsUser: 0\n",
            "windlass.yaml:12:16: apps.web.runAsUser: runAsUser 0 is root or invalid\n  help: use a non-root UID such as 10001 (Pod Security `restricted`)",
        ),
        (
            "run_as_user_above_int32",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    runAsUser: 2147483648\n",
            "windlass.yaml:12:16: apps.web.runAsUser: runAsUser 2147483648 is above 2147483647, the largest UID Kubernetes accepts\n  help: use a non-root UID such as 10001",
        ),
        (
            "app_namespace_invalid",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    namespace: Shop\n",
            "windlass.yaml:12:16: apps.web.namespace: namespace `Shop` is not a DNS-1123 label\n  help: use lowercase letters, digits and `-` (at most 63)",
        ),
        (
            "app_namespace_default",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    namespace: default\n",
            "windlass.yaml:12:16: apps.web.namespace: namespace `default` belongs to Kubernetes\n  help: run apps in a namespace of their own, e.g. `shop`: windlass gives app namespaces restricted Pod Security and a default-deny network policy",
        ),
        (
            "app_namespace_monitoring",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    namespace: monitoring\n",
            "windlass.yaml:12:16: apps.web.namespace: namespace `monitoring` is the platform's monitoring namespace\n  help: run apps in a namespace of their own, e.g. `shop`: windlass gives app namespaces restricted Pod Security and a default-deny network policy",
        ),
        (
            "app_namespace_cert_manager",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    namespace: cert-manager\n",
            "windlass.yaml:12:16: apps.web.namespace: namespace `cert-manager` is the platform's cert-manager namespace\n  help: run apps in a namespace of their own, e.g. `shop`: windlass gives app namespaces restricted Pod Security and a default-deny network policy",
        ),
        (
            "app_namespace_gateway",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    namespace: envoy-gateway-system\n",
            "windlass.yaml:12:16: apps.web.namespace: namespace `envoy-gateway-system` is the platform's traffic controller namespace\n  help: run apps in a namespace of their own, e.g. `shop`: windlass gives app namespaces restricted Pod Security and a default-deny network policy",
        ),
        (
            "app_namespace_kube_node_lease",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    namespace: kube-node-lease\n",
            "windlass.yaml:12:16: apps.web.namespace: namespace `kube-node-lease` belongs to Kubernetes\n  help: run apps in a namespace of their own, e.g. `shop`: windlass gives app namespaces restricted Pod Security and a default-deny network policy",
        ),
        (
            "label_key",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    labels: {'bad key': x}\n",
            "windlass.yaml:12:25: apps.web.labels.bad key: `bad key` is not a valid label key\n  help: use e.g. `tier` or `example.com/team`",
        ),
        (
            "label_key_reserved",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    labels: {app.kubernetes.io/name: x}\n",
            "windlass.yaml:12:38: apps.web.labels.app.kubernetes.io/name: `app.kubernetes.io/name` is set by windlass\n  help: choose another key, e.g. `tier`",
        ),
        (
            "label_value",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    labels: {tier: -front}\n",
            "windlass.yaml:12:20: apps.web.labels.tier: `-front` is not a valid label value\n  help: use up to 63 letters, digits, `-`, `_` and `.`",
        ),
        (
            "dependency_cycle",
            "",
            "",
            "  web:\n    image: ghcr.io/acme/web:1.0.0\n    port: 8080\n    health: /healthz\n    needs: [api]\n  api:\n    kind: worker\n    image: ghcr.io/acme/api:1\n    needs: [web]\n",
            "windlass.yaml:16:13: apps.api.needs[0]: dependency cycle: web -> api -> web\n  help: remove `needs` until no app needs itself through others, so the apps can be deployed in order",
        ),
    ];
}
